/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include <rte_memory.h>

#include "test_noiommu.h"

struct walk_ctx {
	struct iova_report *r;
	int pagemap_fd;
	int verbose;
	uint64_t next_va;
	uint64_t next_iova;
	FILE *dump;
};

static void
mismatch(struct walk_ctx *w, const char *what, const struct rte_memseg *ms,
		uint64_t other)
{
	if (w->r->mismatches++ < 10 || w->verbose)
		printf("  MISMATCH va %p len 0x%zx iova 0x%" PRIx64 " but %s 0x%" PRIx64 "\n",
			ms->addr, ms->len, ms->iova, what, other);
}

static int
check_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		void *arg)
{
	struct walk_ctx *w = arg;
	struct iova_report *r = w->r;
	uint64_t va = (uintptr_t)ms->addr, pa;

	/* External memory has the IOVAs its owner gave: extmem.c checks it. */
	if (msl->external)
		return 0;
	r->pages++;
	r->bytes += ms->len;
	r->pinned_bytes += ms->len;
	pa = rte_mem_virt2phy(ms->addr);
	if (ms->iova == RTE_BAD_IOVA || pa != ms->iova)
		mismatch(w, "the kernel says", ms, pa);
	if (w->pagemap_fd >= 0) {
		pa = pagemap_pa(w->pagemap_fd, va);
		r->pagemap_checked++;
		if (pa != ms->iova)
			mismatch(w, "pagemap says", ms, pa);
	}
	if (va != w->next_va || ms->iova != w->next_iova)
		r->runs++;
	w->next_va = va + ms->len;
	w->next_iova = ms->iova + ms->len;
	return 0;
}

int
iova_table_check(struct iova_report *r, int pagemap_fd, int verbose)
{
	struct walk_ctx w = {
		.r = r, .pagemap_fd = pagemap_fd, .verbose = verbose,
	};

	memset(r, 0, sizeof(*r));
	rte_memseg_walk(check_seg, &w);
	return r->pages == 0 || r->mismatches != 0 ? -1 : 0;
}

void
iova_report_print(const char *what, const struct iova_report *r)
{
	printf("%s: %" PRIu64 " pages (%" PRIu64 " MiB) checked, %" PRIu64
		" IOVA-contiguous runs, %" PRIu64 " mismatches",
		what, r->pages, r->bytes >> 20, r->runs, r->mismatches);
	if (r->pagemap_checked != 0)
		printf(", %" PRIu64 " also against pagemap",
			r->pagemap_checked);
	printf("\n");
}

static int
dump_seg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		void *arg)
{
	FILE *f = arg;

	if (!msl->external)
		fprintf(f, "%" PRIx64 " %" PRIx64 " %zx\n",
			(uint64_t)(uintptr_t)ms->addr, ms->iova, ms->len);
	return 0;
}

int
iova_table_dump(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		printf("cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	rte_memseg_walk(dump_seg, f);
	return fclose(f);
}

int64_t
vm_pinned_bytes(void)
{
	char line[256];
	int64_t kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmPin: %" SCNd64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

int
iova_table_check_pinned(struct iova_report *r, int pagemap_fd, int64_t *pinned)
{
	int64_t before, after = -1;
	int tries, ret = 0;

	for (tries = 0; tries < 20; tries++) {
		before = vm_pinned_bytes();
		ret = iova_table_check(r, pagemap_fd, 0);
		after = vm_pinned_bytes();
		if (before == after && after == (int64_t)r->pinned_bytes)
			break;
		usleep(1000);
	}
	*pinned = after;
	if (ret == 0 && after != (int64_t)r->pinned_bytes)
		ret = -1;
	return ret;
}
