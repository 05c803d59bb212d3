/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * The memevent command: a memory event callback that DMA-maps the memory
 * it is told about into the default VFIO container on ALLOC and unmaps it
 * on FREE, page by page with each memseg's IOVA, as applications that
 * manage their own DMA mappings do on the group path. EAL runs such
 * callbacks under its memory hotplug write lock, so a map that takes the
 * memory lock again never returns: an alarm turns that into a failure.
 */

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_vfio.h>

#include "test_noiommu.h"

#define MEMEVENT_CB_NAME "test-noiommu-memevent"
#define MEMEVENT_ALLOC_LEN (16u << 20)
#define MEMEVENT_TIMEOUT_S 60

static unsigned int mapped, unmapped, map_errors;

static void
memevent_cb(enum rte_mem_event type, const void *addr, size_t len,
		void *arg __rte_unused)
{
	const struct rte_memseg *ms;
	uintptr_t va;

	for (va = (uintptr_t)addr; va < (uintptr_t)addr + len; va += ms->len) {
		ms = rte_mem_virt2memseg((void *)va, NULL);
		if (ms == NULL) {
			map_errors++;
			return;
		}
		if (type == RTE_MEM_EVENT_ALLOC) {
			if (rte_vfio_container_dma_map(RTE_VFIO_DEFAULT_CONTAINER_FD,
					ms->addr_64, ms->iova, ms->len) == 0)
				mapped++;
			else
				map_errors++;
		} else {
			if (rte_vfio_container_dma_unmap(RTE_VFIO_DEFAULT_CONTAINER_FD,
					ms->addr_64, ms->iova, ms->len) == 0)
				unmapped++;
			else
				map_errors++;
		}
	}
}

static void
memevent_timeout(int sig __rte_unused)
{
	static const char msg[] =
		"memevent: FAIL: rte_malloc/rte_free did not return within 60 s: "
		"a DMA map from a memory event callback is blocked\n";

	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

int
memevent_run(int pagemap_fd)
{
	struct iova_report r;
	int64_t pinned;
	void *buf;

	if (rte_mem_event_callback_register(MEMEVENT_CB_NAME, memevent_cb,
			NULL) != 0) {
		printf("memevent: FAIL: cannot register a memory event callback: %s\n",
			rte_strerror(rte_errno));
		return -1;
	}
	signal(SIGALRM, memevent_timeout);
	alarm(MEMEVENT_TIMEOUT_S);
	buf = rte_malloc(NULL, MEMEVENT_ALLOC_LEN, 0);
	if (buf != NULL) {
		memset(buf, 0x5a, MEMEVENT_ALLOC_LEN);
		rte_free(buf);
	}
	alarm(0);
	rte_mem_event_callback_unregister(MEMEVENT_CB_NAME, NULL);
	if (buf == NULL) {
		printf("memevent: FAIL: rte_malloc of %u MiB failed\n",
			MEMEVENT_ALLOC_LEN >> 20);
		return -1;
	}
	printf("memevent: %u pages DMA-mapped from memory event callbacks, %u unmapped, %u errors\n",
		mapped, unmapped, map_errors);
	if (mapped == 0 || mapped != unmapped || map_errors != 0) {
		printf("memevent: FAIL: %s\n", mapped == 0 ?
			"the allocation raised no memory event (no new pages)" :
			"maps and unmaps do not pair up");
		return -1;
	}
	/* Every container map undone: VmPin is the memsegs' again. */
	if (iova_table_check_pinned(&r, pagemap_fd, &pinned) != 0) {
		printf("memevent: FAIL: after the callbacks, VmPin %" PRId64
			" KiB and %" PRIu64 " mismatches\n",
			pinned >> 10, r.mismatches);
		return -1;
	}
	printf("memevent: VmPin %" PRId64 " KiB, the memsegs' %" PRIu64 " KiB, 0 mismatches\n",
		pinned >> 10, r.pinned_bytes >> 10);
	return 0;
}
