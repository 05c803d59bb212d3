/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/* Costs that differ between the cdev backend and the legacy pagemap path:
 * run-time page allocation and free (pin/unpin vs pagemap read) and the
 * PA lookup itself. Printed as one "bench:" line of key=value pairs for
 * devtools/bench.sh; EAL init time is measured by main().
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_memory.h>
#include <rte_memzone.h>

#include "test_noiommu.h"

#define BENCH_CYCLES 32

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
median_us(uint64_t *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[n / 2] * 1e6 / rte_get_tsc_hz();
}

/*
 * The memsegs, and the IOAS areas the cdev backend pinned them in: one per
 * virtually contiguous run of the memory reserved at start-up (never
 * freed), one per page allocated at run time.
 */
struct seg_runs {
	unsigned int segs;
	unsigned int areas;
	const struct rte_memseg_list *prev_msl;
	const struct rte_memseg *prev;
};

static int
count_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		void *arg)
{
	struct seg_runs *r = arg;
	const struct rte_memseg *p = r->prev;
	bool prealloc, run_next;

	if (msl->external)
		return 0;
	prealloc = (ms->flags & RTE_MEMSEG_FLAG_DO_NOT_FREE) != 0;
	run_next = prealloc && msl == r->prev_msl &&
		(p->flags & RTE_MEMSEG_FLAG_DO_NOT_FREE) != 0 &&
		RTE_PTR_ADD(p->addr, p->len) == ms->addr;
	r->segs++;
	if (!run_next)
		r->areas++;
	r->prev_msl = msl;
	r->prev = ms;
	return 0;
}

/* Up to 4096 memsegs, for the rte_mem_virt2phy() timing. */
struct seg_list {
	const struct rte_memseg *segs[4096];
	unsigned int n;
};

static int
collect_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		void *arg)
{
	struct seg_list *l = arg;

	if (!msl->external && l->n < RTE_DIM(l->segs))
		l->segs[l->n++] = ms;
	return 0;
}

static struct seg_runs
count_memsegs(void)
{
	struct seg_runs r = { 0 };

	rte_memseg_walk(count_seg, &r);
	return r;
}

/*
 * end_ns (CLOCK_MONOTONIC) marks the end of the work: devtools' clock-ns
 * read by the parent after the process is reaped gives the teardown time
 * (port close, EAL cleanup, exit, and the unpin of every page).
 */
int
bench_init_report(double eal_init_ms)
{
	struct seg_runs r = count_memsegs();
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	printf("bench: eal_init_ms=%.1f memsegs=%u pin_areas=%u end_ns=%" PRIu64 "\n",
		eal_init_ms, r.segs, r.areas,
		(uint64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	fflush(stdout);
	return 0;
}

int
bench_run(double eal_init_ms)
{
	static struct seg_list l;
	uint64_t alloc[BENCH_CYCLES], release[BENCH_CYCLES], lookup[4096];
	const struct rte_memzone *mz;
	unsigned int i, n, base, pages = 0;
	uint64_t t;

	/*
	 * Run without -m, the heap holds little more than its first page: a
	 * 2 MiB zone (plus its header) needs new pages each time, and its
	 * free gives them back. Time per page is reported.
	 */
	base = count_memsegs().segs;
	for (i = 0; i < BENCH_CYCLES; i++) {
		t = rte_rdtsc_precise();
		mz = rte_memzone_reserve("bench", RTE_PGSIZE_2M, SOCKET_ID_ANY,
			RTE_MEMZONE_2MB);
		alloc[i] = rte_rdtsc_precise() - t;
		if (mz == NULL) {
			printf("bench: cannot reserve 2 MiB: %s\n",
				rte_strerror(rte_errno));
			return -1;
		}
		if (i == 0)
			pages = count_memsegs().segs - base;
		t = rte_rdtsc_precise();
		rte_memzone_free(mz);
		release[i] = rte_rdtsc_precise() - t;
	}
	if (pages == 0 || count_memsegs().segs != base) {
		printf("bench: the heap did not grow and shrink by whole pages (%u new pages, %u -> %u memsegs): run without -m\n",
			pages, base, count_memsegs().segs);
		return -1;
	}

	l.n = 0;
	rte_memseg_walk(collect_seg, &l);
	for (n = 0; n < l.n; n++) {
		t = rte_rdtsc_precise();
		if (rte_mem_virt2phy(l.segs[n]->addr) == RTE_BAD_IOVA)
			printf("bench: no PA for %p\n", l.segs[n]->addr);
		lookup[n] = rte_rdtsc_precise() - t;
	}

	printf("bench: eal_init_ms=%.1f memsegs=%u pages_per_alloc=%u alloc_page_us=%.1f free_page_us=%.1f virt2phy_us=%.2f\n",
		eal_init_ms, n, pages,
		median_us(alloc, BENCH_CYCLES) / pages,
		median_us(release, BENCH_CYCLES) / pages,
		n ? median_us(lookup, n) : 0.0);
	return 0;
}
