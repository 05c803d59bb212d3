/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * The zones command: what a running application handed its devices,
 * checked page by page against the kernel (GET_PA, rte_mem_virt2phy()).
 * Run as a secondary beside a forwarding primary, it sees the primary's
 * memzones and mempools:
 *  - every memzone's IOVA is the address of its first byte;
 *  - the descriptor rings of the ethdev PMDs ("eth_p*", reserved by
 *    rte_eth_dma_zone_reserve()) and virtio's vrings ("port*_vq*") are
 *    IOVA-contiguous: mz->iova + off == PA(mz->addr + off) on every page;
 *  - every mempool chunk has an IOVA, and it holds on every page;
 *  - every segment of external memory that has an IOVA holds it on
 *    every page.
 * DPDK does not record which other memzones were reserved IOVA-contiguous:
 * those are counted, not judged, past their first byte.
 */

#include <fnmatch.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_fbarray.h>
#include <rte_memory.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#include "test_noiommu.h"

struct zones_report {
	unsigned int zones, rings, split_zones;
	unsigned int chunks, private_chunks, private_pools;
	unsigned int ext_segs, ext_no_iova, ext_huge_skipped;
	uint64_t pages, mismatches;
	int failed;
};

/* Mismatches printed in full; the rest are only counted. */
#define ZONES_PRINT_MAX 10

static bool
is_ring(const char *name)
{
	return fnmatch("eth_p*_q*", name, 0) == 0 ||
		fnmatch("port*_vq*", name, 0) == 0;
}

/* The page size of the memory at va: its memseg list's, or the system's. */
static uint64_t
page_size_at(const void *va)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(va);

	return msl != NULL ? msl->page_sz : (uint64_t)sysconf(_SC_PAGESIZE);
}

/*
 * Compare iova + off with the kernel's PA of va + off for every page of
 * [va, va + len), then for its last byte. Returns 0, or the first offset
 * that differs plus one; stores the kernel's answer there in *pa.
 */
static uint64_t
check_range(struct zones_report *r, const char *va, rte_iova_t iova,
		size_t len, rte_iova_t *pa)
{
	uint64_t pgsz = page_size_at(va), off;

	/* The first byte, then the start of every page after it. */
	for (off = 0; off < len; off = RTE_ALIGN_FLOOR((uintptr_t)va + off +
			pgsz, pgsz) - (uintptr_t)va) {
		r->pages++;
		*pa = rte_mem_virt2phy(va + off);
		if (*pa != iova + off)
			return off + 1;
	}
	off = len - 1;
	*pa = rte_mem_virt2phy(va + off);
	return len == 0 || *pa == iova + off ? 0 : off + 1;
}

static void
report_mismatch(struct zones_report *r, const char *what, const char *name,
		const char *va, rte_iova_t iova, uint64_t off, rte_iova_t pa)
{
	r->failed = 1;
	if (r->mismatches++ < ZONES_PRINT_MAX)
		printf("zones: %s %s at %p+0x%" PRIx64 ": IOVA 0x%" PRIx64
			", kernel PA 0x%" PRIx64 "\n", what, name, va, off,
			iova + off, pa);
}

/*
 * External hugepages, seen from a secondary: the primary's IOVA queries
 * (testpmd's --mp-alloc=xmemhuge builds its table with them) pin the
 * first 4 KiB of each page, which holds the whole hugepage in place but
 * maps only those 4 KiB in the IOAS, so a secondary can ask about the
 * start of each page only. A hugepage is physically contiguous: its
 * start (check_external_seg()) vouches for the rest.
 */
static bool
asks_only_page_starts(const void *va)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(va);

	return rte_eal_process_type() != RTE_PROC_PRIMARY && msl != NULL &&
		msl->external && msl->page_sz > (uint64_t)sysconf(_SC_PAGESIZE);
}

static void
check_memzone(const struct rte_memzone *mz, void *arg)
{
	struct zones_report *r = arg;
	bool ring = is_ring(mz->name);
	uint64_t bad;
	rte_iova_t pa;

	r->zones++;
	r->rings += ring;
	if (asks_only_page_starts(mz->addr)) {
		r->ext_huge_skipped++;
		return;
	}
	bad = check_range(r, mz->addr, mz->iova, mz->len, &pa);
	if (bad == 0)
		return;
	/* Past its first page, only a ring must be IOVA-contiguous. */
	if (ring || bad == 1)
		report_mismatch(r, ring ? "ring" : "memzone", mz->name,
			mz->addr, mz->iova, bad - 1, pa);
	else
		r->split_zones++;
}

static void
check_chunk(struct rte_mempool *mp, void *arg,
		struct rte_mempool_memhdr *memhdr, unsigned int idx)
{
	struct zones_report *r = arg;
	uint64_t bad;
	rte_iova_t pa;

	RTE_SET_USED(idx);
	r->chunks++;
	if (memhdr->iova == RTE_BAD_IOVA) {
		printf("zones: mempool %s chunk %p (%zu bytes) has no IOVA\n",
			mp->name, memhdr->addr, memhdr->len);
		r->failed = 1;
		return;
	}
	/*
	 * A secondary can ask only for memory it shares with the primary at
	 * one address (memsegs, external memory); --mp-alloc=anon chunks are
	 * the primary's own.
	 */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY &&
			rte_mem_virt2memseg(memhdr->addr, NULL) == NULL) {
		r->private_chunks++;
		return;
	}
	if (asks_only_page_starts(memhdr->addr)) {
		r->ext_huge_skipped++;
		return;
	}
	bad = check_range(r, memhdr->addr, memhdr->iova, memhdr->len, &pa);
	if (bad != 0)
		report_mismatch(r, "mempool", mp->name, memhdr->addr,
			memhdr->iova, bad - 1, pa);
}

/*
 * External memory (rte_malloc_heap_memory_add, rte_extmem_register):
 * its segments' IOVAs, which buffers carved from it take.
 */
static void
check_external_seg(struct zones_report *r, const struct rte_memseg *ms)
{
	uint64_t bad;
	rte_iova_t pa;

	r->ext_segs++;
	if (ms->iova == RTE_BAD_IOVA) {
		r->ext_no_iova++;
		return;
	}
	bad = check_range(r, ms->addr, ms->iova,
			asks_only_page_starts(ms->addr) ? 1 : ms->len, &pa);
	if (bad != 0)
		report_mismatch(r, "external memseg", "", ms->addr, ms->iova,
			bad - 1, pa);
}

struct ext_lists {
	struct rte_memseg_list *msl[RTE_MAX_MEMSEG_LISTS];
	unsigned int n;
};

static int
collect_external(const struct rte_memseg_list *msl, void *arg)
{
	struct ext_lists *e = arg;

	if (msl->external)
		e->msl[e->n++] = (struct rte_memseg_list *)(uintptr_t)msl;
	return 0;
}

/*
 * The segment table of external memory lives in a file the process that
 * added the memory maps: a secondary attaches it (rte_extmem_attach) to
 * read the table, not the memory, which may be the primary's own.
 */
static void
check_external_memory(struct zones_report *r)
{
	bool secondary = rte_eal_process_type() != RTE_PROC_PRIMARY;
	struct rte_memseg_list *msl;
	struct ext_lists e = { .n = 0 };
	unsigned int i;
	int idx;

	rte_memseg_list_walk(collect_external, &e);
	for (i = 0; i < e.n; i++) {
		msl = e.msl[i];
		if (secondary && rte_extmem_attach(msl->base_va, msl->len) != 0) {
			printf("zones: FAIL cannot attach external memory %p: %s\n",
				msl->base_va, rte_strerror(rte_errno));
			r->failed = 1;
			continue;
		}
		for (idx = rte_fbarray_find_next_used(&msl->memseg_arr, 0);
				idx >= 0;
				idx = rte_fbarray_find_next_used(&msl->memseg_arr, idx + 1))
			check_external_seg(r, rte_fbarray_get(&msl->memseg_arr, idx));
		if (secondary)
			rte_extmem_detach(msl->base_va, msl->len);
	}
}

static void
check_mempool(struct rte_mempool *mp, void *arg)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(mp);
	struct zones_report *r = arg;

	/*
	 * A pool in a heap of external memory (testpmd's --mp-alloc=xmem) has
	 * its header and chunk list there too: the primary's own mapping,
	 * which a secondary cannot read. The memsegs of that memory are
	 * shared: check_external_memory() compares their IOVAs.
	 */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY && msl != NULL &&
			msl->external) {
		r->private_pools++;
		return;
	}
	rte_mempool_mem_iter(mp, check_chunk, arg);
}

int
zones_run(void)
{
	struct zones_report r = { 0 };

	rte_memzone_walk(check_memzone, &r);
	rte_mempool_walk(check_mempool, &r);
	check_external_memory(&r);
	printf("zones: %u memzones (%u rings), %u mempool chunks, %u external memsegs (%u without IOVA); not checked: %u chunks private to the primary, %u pools in external memory, %u zones or chunks in external hugepages (their memsegs are); %"
		PRIu64 " pages checked, %" PRIu64 " mismatches, %u memzones not IOVA-contiguous\n",
		r.zones, r.rings, r.chunks, r.ext_segs, r.ext_no_iova,
		r.private_chunks, r.private_pools, r.ext_huge_skipped, r.pages,
		r.mismatches, r.split_zones);
	if (r.rings == 0) {
		printf("zones: FAIL no descriptor ring memzone: is a primary with ports running?\n");
		r.failed = 1;
	}
	if (r.failed)
		printf("zones: FAIL an address handed to a device is not the kernel's PA\n");
	return r.failed ? -1 : 0;
}
