/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/* Memory hotplug churn: reserve and free memzones of assorted sizes on
 * every page size in use, so EAL allocates and frees pages at run time,
 * and check after each step that the IOVA table matches the kernel and
 * that the pinned amount returns to its baseline. The parallel variant
 * does the same on every lcore at once; pquery asks every lcore at once
 * for the IOVA of one page; contig checks IOVA-contiguous memzones page
 * by page.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_memory.h>
#include <rte_memzone.h>
#include <rte_pause.h>

#include "test_noiommu.h"

#define MAX_PAGE_SIZES 4
#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
/* Memzones of each size contig reserves. */
#define CONTIG_EACH 8
/* The anonymous page pquery asks about: a system page. */
#define PQUERY_PAGE 4096u

static const uint64_t zone_sizes[] = {
	4 * KiB, 100 * KiB, 1 * MiB + 1, 3 * MiB, 7 * MiB, 17 * MiB,
};

struct page_sizes {
	uint64_t sz[MAX_PAGE_SIZES];
	unsigned int n;
};

static int
collect_page_size(const struct rte_memseg_list *msl, void *arg)
{
	struct page_sizes *ps = arg;
	unsigned int i;

	if (msl->external)
		return 0;
	for (i = 0; i < ps->n; i++)
		if (ps->sz[i] == msl->page_sz)
			return 0;
	if (ps->n < MAX_PAGE_SIZES)
		ps->sz[ps->n++] = msl->page_sz;
	return 0;
}

static unsigned int
memzone_flag(uint64_t page_sz)
{
	switch (page_sz) {
	case 2 * MiB: return RTE_MEMZONE_2MB;
	case 1024 * MiB: return RTE_MEMZONE_1GB;
	default: return 0; /* --no-huge: system pages */
	}
}

/* Every page of a memzone: IOVA of its memseg + offset == GET_PA. */
static uint64_t
check_zone(const struct rte_memzone *mz, uint64_t page_sz)
{
	uint64_t off, bad = 0;
	const struct rte_memseg *ms;
	rte_iova_t want, got;
	char *va;

	for (off = 0; off < mz->len; off += page_sz) {
		va = (char *)mz->addr + off;
		ms = rte_mem_virt2memseg(va, NULL);
		if (ms == NULL)
			return 1;
		want = ms->iova + (va - (char *)ms->addr);
		got = rte_mem_virt2phy(va);
		if (want != got || (off == 0 && mz->iova != want)) {
			printf("  MISMATCH memzone %s page %p: memseg iova 0x%" PRIx64
				", kernel 0x%" PRIx64 ", mz iova 0x%" PRIx64 "\n",
				mz->name, va, want, got, mz->iova);
			bad++;
		}
	}
	return bad;
}

int
churn_run(unsigned int cycles, int pagemap_fd)
{
	const struct rte_memzone *mz[MAX_PAGE_SIZES * RTE_DIM(zone_sizes)];
	struct page_sizes ps = { .n = 0 };
	int64_t baseline, pinned, peak = 0;
	uint64_t bad = 0, checked = 0;
	struct iova_report r;
	unsigned int c, p, s, n;
	char name[RTE_MEMZONE_NAMESIZE];

	rte_memseg_list_walk(collect_page_size, &ps);
	baseline = vm_pinned_bytes();
	printf("churn: %u cycles over %u page size(s), VmPin baseline %" PRId64 " KiB\n",
		cycles, ps.n, baseline / 1024);
	for (c = 1; c <= cycles; c++) {
		n = 0;
		for (p = 0; p < ps.n; p++) {
			for (s = 0; s < RTE_DIM(zone_sizes); s++) {
				/* one or two pages of a 1 GiB size is plenty */
				if (zone_sizes[s] > ps.sz[p] * 8 &&
						ps.sz[p] >= 1024 * MiB)
					continue;
				snprintf(name, sizeof(name), "churn_%u_%u_%u",
					c, p, s);
				mz[n] = rte_memzone_reserve(name, zone_sizes[s],
					SOCKET_ID_ANY, memzone_flag(ps.sz[p]));
				if (mz[n] == NULL) {
					printf("churn: cannot reserve %" PRIu64 " bytes on %" PRIu64
						" KiB pages: %s\n",
						zone_sizes[s], ps.sz[p] / 1024,
						rte_strerror(rte_errno));
					bad++;
					continue;
				}
				bad += check_zone(mz[n], ps.sz[p]);
				n++;
			}
		}
		pinned = vm_pinned_bytes();
		if (pinned > peak)
			peak = pinned;
		if (iova_table_check(&r, pagemap_fd, 0) != 0)
			bad += r.mismatches + (r.pages == 0);
		checked += r.pages;
		while (n > 0)
			rte_memzone_free(mz[--n]);
		/* Freed pages must be unpinned before they go back. */
		pinned = vm_pinned_bytes();
		if (pinned != baseline) {
			printf("churn: VmPin %" PRId64 " KiB after freeing, baseline %" PRId64
				" KiB\n",
				pinned / 1024, baseline / 1024);
			bad++;
		}
		printf("churn cycle %u/%u: %" PRIu64 " pages in table, VmPin peak %" PRId64
			" KiB, after free %" PRId64 " KiB, errors %" PRIu64 "\n",
			c, cycles, r.pages, peak / 1024, pinned / 1024, bad);
		fflush(stdout);
	}
	printf("churn: %u cycles, %" PRIu64 " page checks, VmPin baseline %" PRId64
		" KiB peak %" PRId64 " KiB end %" PRId64 " KiB, %" PRIu64 " errors\n",
		cycles, checked, baseline / 1024, peak / 1024,
		vm_pinned_bytes() / 1024, bad);
	return bad == 0 ? 0 : -1;
}

/*
 * pchurn: every lcore reserves and frees memzones of every size at once.
 * Each cycle: all lcores reserve (the main lcore, once, hot-unplugs and
 * re-probes a device instead), then the main lcore checks the table and
 * VmPin while the others wait; then all free, and it checks again.
 */
struct pchurn {
	unsigned int cycles;
	unsigned int hotplug_cycle;     /* 0: none */
	unsigned int nlcores;
	int pagemap_fd;
	int cdev;
	uint32_t arrived;
	uint32_t generation;
	struct {
		const struct rte_memzone *mz[RTE_DIM(zone_sizes)];
		uint64_t zones;
		uint64_t retries;
		uint64_t bad;
	} l[RTE_MAX_LCORE];
	/* Main lcore's findings. */
	uint64_t checks, mismatches, pinned_kib, unpinned_kib, bad;
	int64_t prev_pinned;
};

/* All lcores meet here; reusable (the generation tells rounds apart). */
static void
pchurn_barrier(struct pchurn *p)
{
	uint32_t gen = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&p->arrived, 1, __ATOMIC_ACQ_REL) == p->nlcores) {
		__atomic_store_n(&p->arrived, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&p->generation, gen + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&p->generation, __ATOMIC_ACQUIRE) == gen)
		rte_pause();
}

/* The table against the kernel, and (cdev) VmPin against the memsegs. */
static void
pchurn_check(struct pchurn *p, unsigned int cycle)
{
	struct iova_report r;
	int64_t pinned;

	p->checks++;
	if (p->cdev) {
		if (iova_table_check_pinned(&r, p->pagemap_fd, &pinned) != 0 &&
				r.mismatches == 0) {
			printf("pchurn: cycle %u: VmPin %" PRId64 " KiB, memsegs %" PRIu64 " KiB\n",
				cycle, pinned / 1024, r.pinned_bytes / 1024);
			p->bad++;
		}
	} else {
		iova_table_check(&r, p->pagemap_fd, 0);
		pinned = vm_pinned_bytes();
	}
	p->mismatches += r.mismatches;
	p->bad += r.mismatches + (r.pages == 0);
	if (pinned > p->prev_pinned)
		p->pinned_kib += (pinned - p->prev_pinned) / 1024;
	else
		p->unpinned_kib += (p->prev_pinned - pinned) / 1024;
	p->prev_pinned = pinned;
}

/* One lcore's reserve round: a memzone of every size, each checked. */
static void
pchurn_reserve(struct pchurn *p, unsigned int me)
{
	const struct rte_memzone **mz = p->l[me].mz;
	char name[RTE_MEMZONE_NAMESIZE];
	unsigned int s, try;

	for (s = 0; s < RTE_DIM(zone_sizes); s++) {
		snprintf(name, sizeof(name), "pchurn_%u_%u", me, s);
		/* A secondary slow to answer the primary's memory sync
		 * fails an allocation: retry.
		 */
		for (try = 0; try < 3; try++) {
			mz[s] = rte_memzone_reserve(name, zone_sizes[s],
				SOCKET_ID_ANY, 0);
			if (mz[s] != NULL)
				break;
			printf("pchurn: lcore %u cannot reserve %" PRIu64 " bytes: %s%s\n",
				me, zone_sizes[s], rte_strerror(rte_errno),
				try < 2 ? ", retrying" : "");
			p->l[me].retries++;
			usleep(100000);
		}
		if (mz[s] == NULL) {
			p->l[me].bad++;
			continue;
		}
		p->l[me].bad += check_zone(mz[s],
			rte_mem_virt2memseg_list(mz[s]->addr)->page_sz);
		p->l[me].zones++;
	}
}

static int
pchurn_lcore(void *arg)
{
	struct pchurn *p = arg;
	unsigned int me = rte_lcore_id(), c, s;
	int main_lcore = me == rte_get_main_lcore();

	for (c = 1; c <= p->cycles; c++) {
		pchurn_reserve(p, me);
		pchurn_barrier(p);
		if (main_lcore) {
			pchurn_check(p, c);
			/* While every lcore holds its memzones. */
			if (c == p->hotplug_cycle &&
					hotplug_run(p->pagemap_fd, p->cdev) != 0)
				p->bad++;
		}
		pchurn_barrier(p);
		for (s = 0; s < RTE_DIM(zone_sizes); s++) {
			rte_memzone_free(p->l[me].mz[s]);
			p->l[me].mz[s] = NULL;
		}
		pchurn_barrier(p);
		if (main_lcore) {
			pchurn_check(p, c);
			if (c % (p->cycles / 10 + 1) == 0 || c == p->cycles) {
				printf("pchurn cycle %u/%u: %" PRIu64 " KiB pinned and %" PRIu64
					" KiB unpinned so far, %" PRIu64 " mismatches\n",
					c, p->cycles, p->pinned_kib,
					p->unpinned_kib, p->mismatches);
				fflush(stdout);
			}
		}
		pchurn_barrier(p);
	}
	return 0;
}

int
pchurn_run(unsigned int cycles, int pagemap_fd, int cdev, int hotplug)
{
	static struct pchurn p;
	uint64_t zones = 0, retries = 0, bad;
	unsigned int lcore;
	int64_t baseline;

	memset(&p, 0, sizeof(p));
	p.cycles = cycles;
	p.hotplug_cycle = hotplug ? (cycles + 1) / 2 : 0;
	p.nlcores = rte_lcore_count();
	p.pagemap_fd = pagemap_fd;
	p.cdev = cdev;
	baseline = p.prev_pinned = vm_pinned_bytes();
	rte_eal_mp_remote_launch(pchurn_lcore, &p, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	bad = p.bad;
	RTE_LCORE_FOREACH(lcore) {
		zones += p.l[lcore].zones;
		retries += p.l[lcore].retries;
		bad += p.l[lcore].bad;
	}
	printf("pchurn: %u lcores x %u cycles, %" PRIu64 " memzones reserved and freed (%" PRIu64
		" retried), %" PRIu64 " KiB pinned and %" PRIu64 " KiB unpinned, %" PRIu64
		" table checks, %" PRIu64 " mismatches%s, VmPin baseline %" PRId64
		" KiB end %" PRId64 " KiB, %" PRIu64 " errors\n",
		p.nlcores, cycles, zones, retries, p.pinned_kib, p.unpinned_kib,
		p.checks, p.mismatches,
		hotplug ? ", a device hot-unplugged and re-probed mid-run" : "",
		baseline / 1024, vm_pinned_bytes() / 1024, bad);
	return bad == 0 ? 0 : -1;
}

/*
 * Reserve 1 MiB memzones until the allocator refuses one (hugepages or the
 * pinning process's RLIMIT_MEMLOCK run out): the refusal must leave the
 * IOVA table exact and nothing half-pinned, and freeing must give all back.
 */
int
exhaust_run(int pagemap_fd)
{
	static const struct rte_memzone *mz[8192];
	char name[RTE_MEMZONE_NAMESIZE];
	struct iova_report r;
	unsigned int n = 0;
	int ret = 0;

	for (n = 0; n < RTE_DIM(mz); n++) {
		snprintf(name, sizeof(name), "exhaust_%u", n);
		mz[n] = rte_memzone_reserve(name, MiB, SOCKET_ID_ANY, 0);
		if (mz[n] == NULL)
			break;
	}
	if (n == RTE_DIM(mz)) {
		printf("exhaust: FAIL %u memzones reserved, none refused\n", n);
		ret = -1;
	} else {
		printf("exhaust: %u memzones of 1 MiB reserved, the next one refused: %s\n",
			n, rte_strerror(rte_errno));
	}
	if (iova_table_check(&r, pagemap_fd, 0) != 0)
		ret = -1;
	iova_report_print("exhaust: at the limit", &r);
	while (n > 0)
		rte_memzone_free(mz[--n]);
	if (iova_table_check(&r, pagemap_fd, 0) != 0)
		ret = -1;
	iova_report_print("exhaust: freed", &r);
	printf("exhaust: memsegs after freeing %" PRIu64 " KiB\n",
		r.pinned_bytes / 1024);
	return ret;
}

/*
 * pquery: every lcore asks for the IOVA of one anonymous page at once,
 * over and over. The first query pins the page; every answer must be
 * that page's address: never RTE_BAD_IOVA, never another.
 */
struct pquery {
	char *page;
	rte_iova_t want;
	unsigned int queries;
	unsigned int no_iova[RTE_MAX_LCORE];
	unsigned int other_iova[RTE_MAX_LCORE];
};

static int
pquery_lcore(void *arg)
{
	struct pquery *q = arg;
	unsigned int me = rte_lcore_id(), i, off;
	rte_iova_t iova;

	for (i = 0; i < q->queries; i++) {
		off = (i * RTE_CACHE_LINE_SIZE) % PQUERY_PAGE;
		iova = rte_mem_virt2iova(q->page + off);
		if (iova == RTE_BAD_IOVA)
			q->no_iova[me]++;
		else if (iova != q->want + off)
			q->other_iova[me]++;
	}
	return 0;
}

int
pquery_run(unsigned int cycles)
{
	unsigned int lcore, no_iova = 0, other_iova = 0;
	struct pquery *q;
	int ret = 0;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -1;
	q->page = mmap(NULL, PQUERY_PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->page == MAP_FAILED) {
		free(q);
		return -1;
	}
	memset(q->page, 1, PQUERY_PAGE);
	q->want = rte_mem_virt2iova(q->page);
	q->queries = cycles * 1000;
	if (q->want == RTE_BAD_IOVA) {
		printf("pquery: FAIL no IOVA for an anonymous page\n");
		ret = -1;
	} else {
		rte_eal_mp_remote_launch(pquery_lcore, q, CALL_MAIN);
		rte_eal_mp_wait_lcore();
		RTE_LCORE_FOREACH(lcore) {
			no_iova += q->no_iova[lcore];
			other_iova += q->other_iova[lcore];
		}
		printf("pquery: %u lcores x %u queries of one page: %u without IOVA, %u with another IOVA\n",
			rte_lcore_count(), q->queries, no_iova, other_iova);
		if (no_iova != 0 || other_iova != 0)
			ret = -1;
	}
	munmap(q->page, PQUERY_PAGE);
	free(q);
	return ret;
}

/*
 * contig: memzones reserved IOVA-contiguous (as NIC rings and vrings are),
 * of sizes from two pages to 4 MiB: every page of each must be at the
 * memzone's IOVA plus its offset, as the kernel reports it. A reservation
 * that finds no contiguous run may fail; one that succeeds must hold.
 */
int
contig_run(void)
{
	static const uint64_t sizes[] = {
		8 * KiB, 64 * KiB, 256 * KiB, 1 * MiB, 4 * MiB,
	};
	const struct rte_memzone *mz[RTE_DIM(sizes) * CONTIG_EACH];
	char name[RTE_MEMZONE_NAMESIZE];
	unsigned int i, n = 0, refused = 0;
	uint64_t off, pages = 0, bad = 0, sys = sysconf(_SC_PAGESIZE);
	rte_iova_t got;
	char *va;

	for (i = 0; i < RTE_DIM(mz); i++) {
		snprintf(name, sizeof(name), "contig_%u", i);
		mz[n] = rte_memzone_reserve(name, sizes[i % RTE_DIM(sizes)],
			SOCKET_ID_ANY, RTE_MEMZONE_IOVA_CONTIG);
		if (mz[n] == NULL) {
			refused++;
			continue;
		}
		for (off = 0; off < mz[n]->len; off += sys) {
			va = (char *)mz[n]->addr + off;
			got = rte_mem_virt2phy(va);
			pages++;
			if (got != mz[n]->iova + off && bad++ < 10)
				printf("  MISMATCH memzone %s page %p: iova 0x%" PRIx64
					" + 0x%" PRIx64 ", kernel 0x%" PRIx64 "\n",
					mz[n]->name, va, mz[n]->iova, off, got);
		}
		n++;
	}
	printf("contig: %u IOVA-contiguous memzones of 8 KiB to 4 MiB reserved, %u refused, ",
		n, refused);
	printf("%" PRIu64 " pages checked, %" PRIu64 " mismatches\n", pages, bad);
	while (n > 0)
		rte_memzone_free(mz[--n]);
	return bad == 0 ? 0 : -1;
}
