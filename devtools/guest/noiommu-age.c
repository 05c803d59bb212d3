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
 * The free 2 MiB hugepages are shuffled too: a booted kernel reserves its
 * pool in physical order and hands pages out last freed first, so all of
 * them are taken and freed again in random order (hugetlbfs file holes);
 * a fresh hugetlbfs mapping then shows in how many runs they come.
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
#define HUGE (2u << 20)
/* Pages of the mapping that proves the memory is scattered. */
#define PROBE_PAGES 4096u
#define HUGE_PROBE_PAGES 64u
#define HUGE_DIR "/dev/hugepages"
#define HUGE_FREE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

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
 * In how many physically contiguous runs the n pages of pgsz bytes at p
 * are (pagemap; the guest runs this as root), touching them first. -1 if
 * that cannot be read.
 */
static long
physical_runs(char *p, unsigned int n, size_t pgsz)
{
	uint64_t e, prev = 0, step = pgsz / PAGE;
	long runs = 0;
	unsigned int i;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	for (i = 0; i < n; i++)
		p[(size_t)i * pgsz] = 1;
	for (i = 0; i < n; i++) {
		if (pread(fd, &e, sizeof(e), ((uintptr_t)p / PAGE + i * step) * 8) != 8 ||
				!(e >> 63) || (e & ((1ULL << 55) - 1)) == 0) {
			runs = -1;
			break;
		}
		e &= (1ULL << 55) - 1;
		if (i == 0 || e != prev + step)
			runs++;
		prev = e;
	}
	close(fd);
	return runs;
}

/* The proof for 4 KiB pages: the runs of a fresh anonymous mapping. */
static long
runs_of_fresh_mapping(unsigned int n)
{
	long runs;
	char *p;

	p = mmap(NULL, (size_t)n * PAGE, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	runs = physical_runs(p, n, PAGE);
	munmap(p, (size_t)n * PAGE);
	return runs;
}

/* A hugetlbfs file of n 2 MiB pages mapped, unlinked already; or NULL. */
static char *
huge_map(const char *name, unsigned int n, int *fd)
{
	char path[256];
	char *p;

	snprintf(path, sizeof(path), HUGE_DIR "/%s", name);
	*fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (*fd < 0)
		return NULL;
	unlink(path);
	p = mmap(NULL, (size_t)n * HUGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		*fd, 0);
	if (p == MAP_FAILED) {
		close(*fd);
		return NULL;
	}
	return p;
}

static void
shuffle(unsigned int *v, unsigned int n)
{
	unsigned int i, j, t;

	for (i = n; i > 1; i--) {
		j = (unsigned int)rand() % i;
		t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * Take every free 2 MiB hugepage and free them again in random order;
 * then count the runs of a fresh mapping. 0 when done (or there is no
 * pool to shuffle), 1 when the pages still come in physical order.
 */
static int
age_hugepages(void)
{
	unsigned int n = 0, probe, i, *order;
	long runs;
	char *p;
	FILE *f;
	int fd;

	f = fopen(HUGE_FREE, "r");
	if (f == NULL || fscanf(f, "%u", &n) != 1)
		n = 0;
	if (f != NULL)
		fclose(f);
	if (n < 2) {
		printf("noiommu-age: no free 2 MiB hugepages to shuffle\n");
		return 0;
	}
	order = calloc(n, sizeof(*order));
	p = huge_map("noiommu-age", n, &fd);
	if (order == NULL || p == NULL) {
		printf("noiommu-age: FAIL cannot map %u hugepages in " HUGE_DIR "\n", n);
		return 1;
	}
	for (i = 0; i < n; i++) {
		p[(size_t)i * HUGE] = 1;
		order[i] = i;
	}
	munmap(p, (size_t)n * HUGE);
	shuffle(order, n);
	for (i = 0; i < n; i++)
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)order[i] * HUGE, HUGE) != 0) {
			printf("noiommu-age: FAIL punching a hugepage: %s\n", strerror(errno));
			return 1;
		}
	close(fd);
	free(order);
	probe = n < HUGE_PROBE_PAGES ? n : HUGE_PROBE_PAGES;
	p = huge_map("noiommu-age-probe", probe, &fd);
	runs = p != NULL ? physical_runs(p, probe, HUGE) : -1;
	if (p != NULL) {
		munmap(p, (size_t)probe * HUGE);
		close(fd);
	}
	printf("noiommu-age: %u free 2 MiB hugepages freed again in random order; a fresh hugetlbfs mapping of %u now comes in %ld physically contiguous runs\n",
		n, probe, runs);
	if (runs < probe / 4) {
		printf("noiommu-age: FAIL want at least %u runs of hugepages\n", probe / 4);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *file = argc > 2 ? argv[2] : "/tmp/noiommu-age";
	unsigned long reserve_kib = (argc > 1 ? atol(argv[1]) : 24) * 1024;
	unsigned int n = 0, i, j, len, n_runs = 0, freed = 0;
	unsigned int *run_start, *run_len, *order;
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
	order = calloc(n, sizeof(*order));
	if (run_start == NULL || run_len == NULL || order == NULL)
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
	/* Free them in random order. */
	for (i = 0; i < n_runs; i++)
		order[i] = i;
	shuffle(order, n_runs);
	for (i = 0; i < n_runs; i++) {
		j = order[i];
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)run_start[j] * PAGE,
				(off_t)run_len[j] * PAGE) != 0) {
			fprintf(stderr, "noiommu-age: punching %s: %s\n", file,
				strerror(errno));
			return 1;
		}
		freed += run_len[j];
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
	return age_hugepages();
}
