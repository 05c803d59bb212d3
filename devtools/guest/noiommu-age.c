/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Age the guest's memory before a row runs: a freshly booted kernel hands
 * out pages in physical order, a machine that has run for a while does
 * not. Fills MIB of tmpfs with one-page files (allocated in physical
 * order), then deletes about half of them in runs of 1 to 8 pages, the
 * runs in random order, keeping the runs between them: the freed pages
 * cannot merge back and the next allocations take them in that order.
 * The guest kernels have no compaction or migration to undo it.
 * Usage: noiommu-age MIB [DIR]   (DIR default /tmp/noiommu-age)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096

static char path[4096];

static const char *
file_of(const char *dir, unsigned int i)
{
	snprintf(path, sizeof(path), "%s/%u", dir, i);
	return path;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 2 ? argv[2] : "/tmp/noiommu-age";
	unsigned int n, i, j, len, n_runs = 0, freed = 0, *run_start, *run_len;
	static char page[PAGE];
	int fd;

	if (argc < 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: %s MIB [DIR]\n", argv[0]);
		return 2;
	}
	n = (unsigned int)atoi(argv[1]) * (1024 * 1024 / PAGE);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "noiommu-age: mkdir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	memset(page, 0xa5, sizeof(page));
	for (i = 0; i < n; i++) {
		fd = open(file_of(dir, i), O_CREAT | O_WRONLY | O_TRUNC, 0600);
		if (fd < 0 || write(fd, page, PAGE) != PAGE) {
			fprintf(stderr, "noiommu-age: %s: %s\n", path, strerror(errno));
			return 1;
		}
		close(fd);
	}
	/* Alternate kept and freed runs; record the freed ones. */
	run_start = calloc(n, sizeof(*run_start));
	run_len = calloc(n, sizeof(*run_len));
	if (run_start == NULL || run_len == NULL)
		return 1;
	srand(1);
	for (i = 0; i < n; ) {
		i += 1 + rand() % 8;                   /* kept */
		len = 1 + rand() % 8;
		if (i + len > n)
			break;
		run_start[n_runs] = i;
		run_len[n_runs++] = len;
		i += len;
	}
	/* Free them in random order (Fisher-Yates over the runs). */
	for (i = n_runs; i > 1; i--) {
		j = (unsigned int)rand() % i;
		len = run_start[i - 1];
		run_start[i - 1] = run_start[j];
		run_start[j] = len;
		len = run_len[i - 1];
		run_len[i - 1] = run_len[j];
		run_len[j] = len;
	}
	for (i = 0; i < n_runs; i++)
		for (j = 0; j < run_len[i]; j++, freed++)
			if (unlink(file_of(dir, run_start[i] + j)) != 0) {
				fprintf(stderr, "noiommu-age: unlink %s: %s\n",
					path, strerror(errno));
				return 1;
			}
	printf("noiommu-age: %u pages written, %u freed in %u runs of 1-8 pages in random order\n",
		n, freed, n_runs);
	return 0;
}
