/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Print CLOCK_MONOTONIC in nanoseconds (busybox's date has no %N): the
 * benchmark's timestamps around process exit.
 * Build: gcc -O2 -o clock-ns clock-ns.c
 */
#include <stdio.h>
#include <time.h>

int
main(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	printf("%lld\n", (long long)t.tv_sec * 1000000000 + t.tv_nsec);
	return 0;
}
