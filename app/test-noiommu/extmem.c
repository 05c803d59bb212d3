/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/* External memory: register a buffer with rte_extmem_register(), DMA-map
 * it for a port's device with rte_dev_dma_map() and check that every page
 * got the IOVA the kernel reports, that it is pinned while mapped and
 * unpinned after rte_dev_dma_unmap(); that two devices mapping one buffer
 * hold it until both unmapped it, in either order; and that a heap built
 * from rte_mem_virt2iova() answers (testpmd's --mp-alloc=xmem) gets exact
 * IOVAs, pinned until the memory leaves the heap; and that memory
 * registered with a page size larger than the pages backing it is refused.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "test_noiommu.h"

#define EXTMEM_ANON_LEN (4u << 20)

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
				printf("  MISMATCH extmem page %p: memseg iova 0x%" PRIx64
					", kernel 0x%" PRIx64 "\n",
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
		printf("extmem %s: VmPin %" PRId64 " -> %" PRId64 " -> %" PRId64
			" KiB, expected +%zu KiB while mapped\n",
			what, pin0 / 1024, pin_mapped / 1024,
			pin_unmapped / 1024, len >> 10);
		bad++;
	}
	printf("extmem %s: %zu KiB in %zu KiB pages, VmPin +%" PRId64 " KiB mapped, +%" PRId64
		" KiB after unmap, %" PRIu64 " errors\n",
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

/* Two devices map one buffer; unmap for first, then for second. */
static int
two_devices(struct rte_device *first, struct rte_device *second,
		int pagemap_fd)
{
	size_t len = EXTMEM_ANON_LEN, pgsz = sysconf(_SC_PAGESIZE);
	int64_t pin0, pin_both, pin_one, pin_none;
	uint64_t bad = 0;
	void *addr;

	addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (addr == MAP_FAILED ||
			rte_extmem_register(addr, len, NULL, 0, pgsz) != 0) {
		printf("extmem two devices: cannot set up the buffer\n");
		return -1;
	}
	pin0 = vm_pinned_bytes();
	if (rte_dev_dma_map(first, addr, RTE_BAD_IOVA, len) != 0 ||
			rte_dev_dma_map(second, addr, RTE_BAD_IOVA, len) != 0) {
		printf("extmem two devices: rte_dev_dma_map failed: %s\n",
			rte_strerror(rte_errno));
		bad++;
	}
	pin_both = vm_pinned_bytes();
	/* The same range again for one device is refused. */
	if (rte_dev_dma_map(first, addr, RTE_BAD_IOVA, len) == 0) {
		printf("extmem two devices: a second map for %s succeeded\n",
			rte_dev_name(first));
		bad++;
	}
	if (rte_dev_dma_unmap(first, addr, RTE_BAD_IOVA, len) != 0)
		bad++;
	pin_one = vm_pinned_bytes();
	/* Still mapped for the second device: pinned, IOVAs intact. */
	bad += check_pages(addr, len, pgsz, pagemap_fd);
	if (rte_dev_dma_unmap(second, addr, RTE_BAD_IOVA, len) != 0)
		bad++;
	pin_none = vm_pinned_bytes();
	if (pin_both - pin0 != (int64_t)len || pin_one != pin_both ||
			pin_none != pin0) {
		printf("extmem two devices: VmPin +%" PRId64 " KiB both, +%" PRId64
			" KiB one, +%" PRId64 " KiB none; expected +%zu, +%zu, +0\n",
			(pin_both - pin0) / 1024, (pin_one - pin0) / 1024,
			(pin_none - pin0) / 1024, len >> 10, len >> 10);
		bad++;
	}
	printf("extmem two devices (%s then %s unmapped): VmPin +%" PRId64 " -> +%" PRId64
		" -> +%" PRId64 " KiB, %" PRIu64 " errors\n",
		rte_dev_name(first), rte_dev_name(second),
		(pin_both - pin0) / 1024, (pin_one - pin0) / 1024,
		(pin_none - pin0) / 1024, bad);
	rte_extmem_unregister(addr, len);
	munmap(addr, len);
	return bad == 0 ? 0 : -1;
}

static int
cmp_iova(const void *a, const void *b)
{
	rte_iova_t x = *(const rte_iova_t *)a, y = *(const rte_iova_t *)b;

	return x < y ? -1 : x > y;
}

/* testpmd's --mp-alloc=xmem: IOVAs from rte_mem_virt2iova(), then a heap. */
static int
heap_from_virt2iova(int pagemap_fd)
{
	size_t len = EXTMEM_ANON_LEN, pgsz = sysconf(_SC_PAGESIZE);
	unsigned int n = len / pgsz, i;
	int64_t pin0, pin_added, pin_removed;
	rte_iova_t iovas[EXTMEM_ANON_LEN / 4096], sorted[RTE_DIM(iovas)];
	uint64_t bad = 0;
	void *addr, *obj;

	if (n > RTE_DIM(iovas))
		return -1;
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (addr == MAP_FAILED ||
			rte_malloc_heap_create("noiommu_xmem") != 0) {
		printf("extmem heap: cannot set up the heap\n");
		return -1;
	}
	pin0 = vm_pinned_bytes();
	for (i = 0; i < n; i++) {
		iovas[i] = rte_mem_virt2iova((char *)addr + i * pgsz);
		if (iovas[i] == RTE_BAD_IOVA) {
			printf("extmem heap: no IOVA for page %u\n", i);
			bad++;
			break;
		}
	}
	/* Distinct pages have distinct physical addresses. */
	memcpy(sorted, iovas, sizeof(sorted));
	qsort(sorted, n, sizeof(sorted[0]), cmp_iova);
	for (i = 1; bad == 0 && i < n; i++)
		if (sorted[i] == sorted[i - 1]) {
			printf("extmem heap: two pages share PA 0x%" PRIx64 "\n",
				sorted[i]);
			bad++;
		}
	if (bad == 0 && rte_malloc_heap_memory_add("noiommu_xmem", addr, len,
			iovas, n, pgsz) != 0) {
		printf("extmem heap: rte_malloc_heap_memory_add failed: %s\n",
			rte_strerror(rte_errno));
		bad++;
	}
	pin_added = vm_pinned_bytes();
	if (bad == 0) {
		bad += check_pages(addr, len, pgsz, pagemap_fd);
		obj = rte_malloc_socket(NULL, 4096, 0,
			rte_malloc_heap_get_socket("noiommu_xmem"));
		if (obj == NULL || rte_malloc_virt2iova(obj) !=
				rte_mem_virt2phy(obj))
			bad++;
		rte_free(obj);
		if (rte_malloc_heap_memory_remove("noiommu_xmem", addr,
				len) != 0)
			bad++;
	}
	pin_removed = vm_pinned_bytes();
	/* Pinned on demand, released when the memory leaves the heap. */
	if (pin_added - pin0 != (int64_t)len || pin_removed != pin0) {
		printf("extmem heap: VmPin +%" PRId64 " KiB in the heap, +%" PRId64
			" KiB after removal; expected +%zu and +0\n",
			(pin_added - pin0) / 1024, (pin_removed - pin0) / 1024,
			len >> 10);
		bad++;
	}
	printf("extmem heap from rte_mem_virt2iova: %u pages, VmPin +%" PRId64 " KiB -> +%" PRId64
		" KiB after removal, %" PRIu64 " errors\n",
		n, (pin_added - pin0) / 1024, (pin_removed - pin0) / 1024, bad);
	rte_malloc_heap_destroy("noiommu_xmem");
	munmap(addr, len);
	return bad == 0 ? 0 : -1;
}

/*
 * 4 MiB of anonymous memory registered with a 2 MiB page size, its 4 KiB
 * pages touched last to first so that their physical addresses run the
 * other way: no 2 MiB of it is physically contiguous, so no 2 MiB memseg
 * has one IOVA, and the DMA map must be refused. Nothing may stay pinned.
 */
static int
misdeclared_page_size(struct rte_device *dev)
{
	size_t len = EXTMEM_ANON_LEN, pgsz = RTE_PGSIZE_2M;
	size_t sys = sysconf(_SC_PAGESIZE), off;
	int64_t before = vm_pinned_bytes(), after;
	char *map, *addr, *other;
	int mapped, ret = 0;

	map = mmap(NULL, len + pgsz, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	other = mmap(NULL, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || other == MAP_FAILED)
		return -1;
	addr = RTE_PTR_ALIGN_CEIL(map, pgsz);
	/*
	 * Touch the pages alternately with another mapping's: whatever order
	 * the kernel hands pages out in, two VA-adjacent pages of addr do
	 * not get adjacent physical pages.
	 */
	for (off = 0; off < len; off += sys) {
		addr[off] = 1;
		other[off] = 1;
	}
	if (rte_extmem_register(addr, len, NULL, 0, pgsz) != 0) {
		printf("extmem misdeclared page size: rte_extmem_register failed: %s\n",
			rte_strerror(rte_errno));
		munmap(map, len + pgsz);
		return -1;
	}
	mapped = rte_dev_dma_map(dev, addr, RTE_BAD_IOVA, len) == 0;
	if (mapped)
		rte_dev_dma_unmap(dev, addr, RTE_BAD_IOVA, len);
	after = vm_pinned_bytes();
	rte_extmem_unregister(addr, len);
	munmap(map, len + pgsz);
	munmap(other, len);
	if (mapped || after != before) {
		printf("extmem misdeclared page size: FAIL DMA map %s, VmPin %+" PRId64 " KiB\n",
			mapped ? "accepted" : "refused", (after - before) / 1024);
		ret = -1;
	} else {
		printf("extmem misdeclared page size: 4 KiB pages registered as 2 MiB, DMA map refused, nothing left pinned\n");
	}
	return ret;
}

/*
 * Memory whose IOVAs were asked for (which pins each page), then unmapped
 * and mapped anew at the same address: registered and DMA-mapped, it must
 * get its new pages' addresses. The old pages are still pinned by the
 * queries, so the new pages differ: an old IOVA in a memseg is stale.
 */
#define REMAP_PAGES 16u

int
extmem_remapped_run(void)
{
	const size_t pgsz = sysconf(_SC_PAGESIZE), len = REMAP_PAGES * pgsz;
	struct rte_eth_dev_info info;
	rte_iova_t old[REMAP_PAGES];
	const struct rte_memseg *ms;
	unsigned int i, stale = 0;
	uint64_t bad = 0;
	void *addr, *again;

	if (rte_eth_dev_info_get(rte_eth_find_next(0), &info) != 0) {
		printf("extmem remapped: no port to DMA-map for: allow a PCI device (-a BDF)\n");
		return -1;
	}
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (addr == MAP_FAILED) {
		printf("extmem remapped: mmap failed: %s\n", strerror(errno));
		return -1;
	}
	for (i = 0; i < REMAP_PAGES; i++)
		old[i] = rte_mem_virt2iova((char *)addr + i * pgsz);
	munmap(addr, len);
	again = mmap(addr, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_FIXED, -1, 0);
	if (again != addr) {
		printf("extmem remapped: FAIL cannot map %p again\n", addr);
		return -1;
	}
	if (rte_extmem_register(addr, len, NULL, 0, pgsz) != 0) {
		printf("extmem remapped: rte_extmem_register failed: %s\n",
			rte_strerror(rte_errno));
		munmap(addr, len);
		return -1;
	}
	if (rte_dev_dma_map(info.device, addr, RTE_BAD_IOVA, len) != 0) {
		printf("extmem remapped: rte_dev_dma_map failed: %s\n",
			rte_strerror(rte_errno));
		bad++;
		goto unregister;
	}
	for (i = 0; i < REMAP_PAGES; i++) {
		ms = rte_mem_virt2memseg((char *)addr + i * pgsz, NULL);
		if (ms != NULL && old[i] != RTE_BAD_IOVA && ms->iova == old[i])
			stale++;
	}
	bad += check_pages(addr, len, pgsz, -1);
	if (rte_dev_dma_unmap(info.device, addr, RTE_BAD_IOVA, len) != 0)
		bad++;
	printf("extmem remapped: %u pages queried, unmapped and mapped anew at the same address, then DMA-mapped: %u with the old page's IOVA, %"
		PRIu64 " errors\n", REMAP_PAGES, stale, bad);
unregister:
	if (rte_extmem_unregister(addr, len) != 0)
		bad++;
	munmap(addr, len);
	return bad == 0 && stale == 0 ? 0 : -1;
}

int
extmem_run(int pagemap_fd, int cdev)
{
	struct rte_eth_dev_info info, info2;
	uint16_t port, port2;
	int ret = 0;

	port = rte_eth_find_next(0);
	if (port >= RTE_MAX_ETHPORTS ||
			rte_eth_dev_info_get(port, &info) != 0) {
		printf("extmem: no port to DMA-map for: allow a PCI device (-a BDF)\n");
		return -1;
	}
	ret |= one_buffer("anonymous", info.device, EXTMEM_ANON_LEN,
		sysconf(_SC_PAGESIZE), 0, pagemap_fd);
	ret |= one_buffer("hugepage", info.device, RTE_PGSIZE_2M, RTE_PGSIZE_2M,
		MAP_HUGETLB, pagemap_fd);
	/* Pin accounting is what the cdev backend adds; legacy pins nothing. */
	if (!cdev)
		return ret;
	ret |= heap_from_virt2iova(pagemap_fd);
	port2 = rte_eth_find_next(port + 1);
	if (port2 >= RTE_MAX_ETHPORTS ||
			rte_eth_dev_info_get(port2, &info2) != 0) {
		printf("extmem two devices: FAIL, a second port is needed (-a BDF0 -a BDF1)\n");
		return -1;
	}
	ret |= two_devices(info.device, info2.device, pagemap_fd);
	ret |= two_devices(info2.device, info.device, pagemap_fd);
	ret |= misdeclared_page_size(info.device);
	return ret;
}
