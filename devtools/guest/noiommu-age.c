/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Age the guest's memory before a row runs: a freshly booted kernel hands
 * out pages in physical order, a machine that has run for a while does
 * not. Fills the free memory, down to RESERVE_MIB, with a tmpfs file,
 * then punches holes in about half of it, in runs of 1 to 8 pages, the
 * runs in random order, keeping the runs between them: the freed pages
 * cannot merge back into large blocks, and the next small allocations
 * take them in that order; large ones (memfd folios, as DPDK's --no-huge
 * memory) too once the reserve is gone. The guest kernels have no
 * compaction or migration to undo it. Prints in how many physically
 * contiguous runs a fresh anonymous mapping then comes, as the proof.
 * Usage: noiommu-age [RESERVE_MIB [FILE]]  (default 24, /tmp/noiommu-age)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096
/* Pages of the mapping that proves the memory is scattered. */
#define PROBE_PAGES 4096u

/* MemFree of /proc/meminfo in KiB, or 0. */
static unsigned long
mem_free_kib(void)
{
	unsigned long kib = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemFree: %lu kB", &kib) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kib;
}

/*
 * The proof it worked: in how many physically contiguous runs a fresh
 * anonymous mapping of n pages comes now (pagemap; the guest runs this as
 * root). -1 if that cannot be read.
 */
static long
runs_of_fresh_mapping(unsigned int n)
{
	uint64_t e, prev = 0;
	long runs = 0;
	unsigned int i;
	char *p;
	int fd;

	p = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (p == MAP_FAILED || fd < 0)
		return -1;
	for (i = 0; i < n; i++)
		p[(size_t)i * PAGE] = 1;
	for (i = 0; i < n; i++) {
		if (pread(fd, &e, sizeof(e), ((uintptr_t)p / PAGE + i) * 8) != 8 ||
				!(e >> 63) || (e & ((1ULL << 55) - 1)) == 0) {
			runs = -1;
			break;
		}
		e &= (1ULL << 55) - 1;
		if (i == 0 || e != prev + 1)
			runs++;
		prev = e;
	}
	close(fd);
	munmap(p, (size_t)n * PAGE);
	return runs;
}

int
main(int argc, char **argv)
{
	const char *file = argc > 2 ? argv[2] : "/tmp/noiommu-age";
	unsigned long reserve_kib = (argc > 1 ? atol(argv[1]) : 24) * 1024;
	unsigned int n = 0, i, j, len, n_runs = 0, freed = 0;
	unsigned int *run_start, *run_len;
	static char chunk[256 * PAGE];
	long runs;
	int fd;

	fd = open(file, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd < 0) {
		fprintf(stderr, "noiommu-age: %s: %s\n", file, strerror(errno));
		return 1;
	}
	memset(chunk, 0xa5, sizeof(chunk));
	/* 1 MiB at a time, to just above the reserve or tmpfs' size limit. */
	while (mem_free_kib() > reserve_kib + 1024) {
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk)) {
			if (errno == ENOSPC)
				break;
			fprintf(stderr, "noiommu-age: %s: %s\n", file, strerror(errno));
			return 1;
		}
		n += sizeof(chunk) / PAGE;
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
	for (i = 0; i < n_runs; i++) {
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)run_start[i] * PAGE,
				(off_t)run_len[i] * PAGE) != 0) {
			fprintf(stderr, "noiommu-age: punching %s: %s\n", file,
				strerror(errno));
			return 1;
		}
		freed += run_len[i];
	}
	close(fd);
	printf("noiommu-age: %u pages written, %u freed in %u runs of 1-8 pages in random order\n",
		n, freed, n_runs);
	runs = runs_of_fresh_mapping(PROBE_PAGES);
	printf("noiommu-age: a fresh anonymous mapping of %u pages now comes in %ld physically contiguous runs\n",
		PROBE_PAGES, runs);
	if (runs < 0) {
		printf("noiommu-age: FAIL cannot read this process's pagemap\n");
		return 1;
	}
	/* Fewer than a quarter of the pages starting a run is not aged. */
	if (runs < PROBE_PAGES / 4) {
		printf("noiommu-age: FAIL want at least %u runs: the memory is still in physical order\n",
			PROBE_PAGES / 4);
		return 1;
	}
	return 0;
}
