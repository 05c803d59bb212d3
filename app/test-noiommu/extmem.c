/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/* External memory: register a buffer with rte_extmem_register(), DMA-map
 * it for a port's device with rte_dev_dma_map() and check that every page
 * got the IOVA the kernel reports, that it is pinned while mapped and
 * unpinned after rte_dev_dma_unmap().
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_memory.h>

#include "test_noiommu.h"

#define EXTMEM_ANON_LEN (4u << 20)
#define HUGE_2M (2u << 20)

static uint64_t
check_pages(void *addr, size_t len, size_t pgsz, int pagemap_fd)
{
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(addr);
	const struct rte_memseg *ms;
	uint64_t bad = 0, pa;
	size_t off;

	for (off = 0; off < len; off += pgsz) {
		ms = rte_mem_virt2memseg((char *)addr + off, msl);
		pa = rte_mem_virt2phy((char *)addr + off);
		if (ms == NULL || ms->iova == RTE_BAD_IOVA || ms->iova != pa ||
				(pagemap_fd >= 0 && pagemap_pa(pagemap_fd,
					(uintptr_t)addr + off) != pa)) {
			if (bad++ < 5)
				printf("  MISMATCH extmem page %p: memseg iova 0x%" PRIx64 ", kernel 0x%" PRIx64 "\n",
					(char *)addr + off,
					ms ? ms->iova : RTE_BAD_IOVA, pa);
		}
	}
	return bad;
}

static int
one_buffer(const char *what, struct rte_device *dev, size_t len, size_t pgsz,
		int mmap_flags, int pagemap_fd)
{
	int64_t pin0, pin_mapped, pin_unmapped;
	uint64_t bad = 0;
	void *addr;

	addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | mmap_flags, -1, 0);
	if (addr == MAP_FAILED) {
		printf("extmem %s: mmap of %zu KiB failed: %s%s\n", what,
			len >> 10, strerror(errno),
			mmap_flags ? " (reserve one more 2 MiB hugepage)" : "");
		return -1;
	}
	pin0 = vm_pinned_bytes();
	if (rte_extmem_register(addr, len, NULL, 0, pgsz) != 0) {
		printf("extmem %s: rte_extmem_register failed: %s\n", what,
			rte_strerror(rte_errno));
		munmap(addr, len);
		return -1;
	}
	if (rte_dev_dma_map(dev, addr, RTE_BAD_IOVA, len) != 0) {
		printf("extmem %s: rte_dev_dma_map failed: %s\n", what,
			rte_strerror(rte_errno));
		bad++;
		goto unregister;
	}
	pin_mapped = vm_pinned_bytes();
	bad += check_pages(addr, len, pgsz, pagemap_fd);
	if (rte_dev_dma_unmap(dev, addr, RTE_BAD_IOVA, len) != 0) {
		printf("extmem %s: rte_dev_dma_unmap failed: %s\n", what,
			rte_strerror(rte_errno));
		bad++;
	}
	pin_unmapped = vm_pinned_bytes();
	/* Pinning happens in cdev mode only; then it must match exactly. */
	if (pin_mapped != pin0 && (pin_mapped - pin0 != (int64_t)len ||
			pin_unmapped != pin0)) {
		printf("extmem %s: VmPin %" PRId64 " -> %" PRId64 " -> %" PRId64 " KiB, expected +%zu KiB while mapped\n",
			what, pin0 / 1024, pin_mapped / 1024,
			pin_unmapped / 1024, len >> 10);
		bad++;
	}
	printf("extmem %s: %zu KiB in %zu KiB pages, VmPin +%" PRId64 " KiB mapped, +%" PRId64 " KiB after unmap, %" PRIu64 " errors\n",
		what, len >> 10, pgsz >> 10, (pin_mapped - pin0) / 1024,
		(pin_unmapped - pin0) / 1024, bad);
unregister:
	if (rte_extmem_unregister(addr, len) != 0) {
		printf("extmem %s: rte_extmem_unregister failed: %s\n", what,
			rte_strerror(rte_errno));
		bad++;
	}
	munmap(addr, len);
	return bad == 0 ? 0 : -1;
}

int
extmem_run(int pagemap_fd)
{
	struct rte_eth_dev_info info;
	uint16_t port;
	int ret = 0;

	port = rte_eth_find_next(0);
	if (port >= RTE_MAX_ETHPORTS ||
			rte_eth_dev_info_get(port, &info) != 0) {
		printf("extmem: no port to DMA-map for: allow a PCI device (-a BDF)\n");
		return -1;
	}
	ret |= one_buffer("anonymous", info.device, EXTMEM_ANON_LEN,
		sysconf(_SC_PAGESIZE), 0, pagemap_fd);
	ret |= one_buffer("hugepage", info.device, HUGE_2M, HUGE_2M,
		MAP_HUGETLB, pagemap_fd);
	return ret;
}
