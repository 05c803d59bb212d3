/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_fbarray.h>
#include <rte_malloc.h>
#include <rte_eal_paging.h>
#include <rte_memory.h>
#include <rte_vfio.h>
#include <vfio_cdev_driver.h>

#include "test.h"

/*
 * VFIO cdev no-IOMMU backend (run with --vfio-cdev and a vfio-pci device):
 * memory comes pinned, with IOVAs that are the kernel's physical addresses.
 */

static int
test_vfio_cdev_setup(void)
{
	if (!rte_vfio_cdev_requested()) {
		printf("not in VFIO cdev mode: run with --vfio-cdev\n");
		return TEST_SKIPPED;
	}
	return TEST_SUCCESS;
}

static int
test_iova_mode_is_pa(void)
{
	TEST_ASSERT_EQUAL(rte_eal_iova_mode(), RTE_IOVA_PA,
		"cdev no-IOMMU mode must select IOVA as PA");
	TEST_ASSERT(rte_vfio_is_enabled("vfio_pci"),
		"VFIO must be usable without a container");
	return TEST_SUCCESS;
}

static int
check_memseg(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		void *arg)
{
	unsigned int *n = arg;

	if (msl->external)
		return 0;
	if (ms->iova == RTE_BAD_IOVA || rte_mem_virt2phy(ms->addr) != ms->iova) {
		printf("memseg %p: iova 0x%" PRIx64 ", kernel 0x%" PRIx64 "\n",
			ms->addr, ms->iova, rte_mem_virt2phy(ms->addr));
		return -1;
	}
	(*n)++;
	return 0;
}

static int
test_memseg_iova_is_kernel_pa(void)
{
	unsigned int n = 0;

	TEST_ASSERT_EQUAL(rte_memseg_walk(check_memseg, &n), 0,
		"a memseg IOVA differs from the kernel's PA");
	TEST_ASSERT(n > 0, "no memseg checked");
	return TEST_SUCCESS;
}

static int
test_runtime_alloc_is_pinned(void)
{
	struct rte_memseg_list *msl;
	const struct rte_memseg *ms;
	rte_iova_t iova;
	char *p;

	/*
	 * More than the initial heap holds: EAL must allocate new pages.
	 * Not a whole multiple of the alignment: DPDK 22.11 sizes the heap
	 * expansion without the ASan build's element trailer, so a 6 MiB,
	 * 2 MiB-aligned request fails there before any page is pinned.
	 */
	p = rte_malloc(NULL, 3 * RTE_PGSIZE_2M - RTE_PGSIZE_4K, RTE_PGSIZE_2M);
	TEST_ASSERT_NOT_NULL(p, "rte_malloc failed");
	iova = rte_malloc_virt2iova(p);
	TEST_ASSERT(iova != RTE_BAD_IOVA, "no IOVA for new memory");
	TEST_ASSERT_EQUAL(iova, rte_mem_virt2phy(p),
		"IOVA of new memory differs from the kernel's PA");
	ms = rte_mem_virt2memseg(p + 2 * RTE_PGSIZE_2M, NULL);
	TEST_ASSERT_NOT_NULL(ms, "no memseg for new memory");
	TEST_ASSERT_EQUAL(ms->iova + (p + 2 * RTE_PGSIZE_2M - (char *)ms->addr),
		rte_mem_virt2phy(p + 2 * RTE_PGSIZE_2M),
		"IOVA of the last page differs from the kernel's PA");
	rte_free(p);

	/* A page given back must be unpinned: the kernel forgets its PA. */
	msl = rte_mem_virt2memseg_list(p);
	ms = rte_mem_virt2memseg(p, msl);
	TEST_ASSERT_NOT_NULL(ms, "no memseg slot for freed memory");
	if (rte_fbarray_is_used(&msl->memseg_arr,
			rte_fbarray_find_idx(&msl->memseg_arr, ms)))
		TEST_ASSERT_EQUAL(rte_mem_virt2phy(p), ms->iova,
			"a kept page lost its pin");
	else
		TEST_ASSERT_EQUAL(rte_mem_virt2phy(p), RTE_BAD_IOVA,
			"a freed page is still pinned");
	return TEST_SUCCESS;
}

/* VmPin of /proc/self/status in KiB, -1 if unknown. */
static int64_t
vm_pinned_kb(void)
{
	char line[128];
	int64_t kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmPin: %" SCNd64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int
test_unpinned_memory_pinned_on_demand(void)
{
	size_t pgsz = rte_mem_page_size();
	int64_t pin0, pin1, pin2;
	phys_addr_t pa, pa2, other;
	char *buf;

	/* Memory DPDK did not allocate: the PA query pins its page. */
	buf = mmap(NULL, 2 * pgsz, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	TEST_ASSERT(buf != MAP_FAILED, "mmap failed");
	pin0 = vm_pinned_kb();
	pa = rte_mem_virt2phy(buf + 100);
	pin1 = vm_pinned_kb();
	pa2 = rte_mem_virt2phy(buf + 200);
	pin2 = vm_pinned_kb();
	other = rte_mem_virt2phy(buf + pgsz);
	munmap(buf, 2 * pgsz);
	TEST_ASSERT(pa != RTE_BAD_IOVA, "no PA for anonymous memory");
	TEST_ASSERT_EQUAL(pa % pgsz, 100u, "PA lost the offset in the page");
	TEST_ASSERT_EQUAL(pa2, pa + 100, "two queries of one page disagree");
	TEST_ASSERT_EQUAL(pin1 - pin0, (int64_t)(pgsz >> 10),
		"the queried page was not pinned");
	TEST_ASSERT_EQUAL(pin2, pin1, "a pinned page was pinned again");
	TEST_ASSERT(other != RTE_BAD_IOVA &&
		RTE_ALIGN_FLOOR(other, pgsz) != RTE_ALIGN_FLOOR(pa, pgsz),
		"two pages share a physical address");
	return TEST_SUCCESS;
}

static int
test_remapped_memory_gets_new_pa(void)
{
	size_t pgsz = rte_mem_page_size();
	phys_addr_t before, after;
	int64_t pin0, pin1;
	char *buf, *again;

	/*
	 * The page pinned for a query stays pinned after munmap(): memory
	 * mapped anew at the same address is another physical page, and the
	 * answer must follow it, not the stale pin.
	 */
	buf = mmap(NULL, pgsz, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	TEST_ASSERT(buf != MAP_FAILED, "mmap failed");
	before = rte_mem_virt2phy(buf);
	pin0 = vm_pinned_kb();
	again = mmap(buf, pgsz, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_FIXED, -1, 0);
	TEST_ASSERT(again == buf, "mmap at the same address failed");
	after = rte_mem_virt2phy(buf);
	pin1 = vm_pinned_kb();
	munmap(buf, pgsz);
	TEST_ASSERT(before != RTE_BAD_IOVA && after != RTE_BAD_IOVA,
		"no physical address for anonymous memory");
	TEST_ASSERT(after != before,
		"the answer for remapped memory is the old page's address");
	TEST_ASSERT_EQUAL(pin1, pin0, "the stale pin was not released");
	return TEST_SUCCESS;
}

static int
test_unmapped_memory_has_no_pa(void)
{
	size_t pgsz = rte_mem_page_size();
	char *buf;

	/* Nothing mapped at the address: a clear failure, never an address. */
	buf = mmap(NULL, pgsz, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(buf != MAP_FAILED, "mmap failed");
	munmap(buf, pgsz);
	TEST_ASSERT_EQUAL(rte_mem_virt2phy(buf), RTE_BAD_IOVA,
		"unmapped memory got a physical address");
	return TEST_SUCCESS;
}

static struct unit_test_suite vfio_cdev_testsuite = {
	.suite_name = "VFIO cdev no-IOMMU backend",
	.setup = test_vfio_cdev_setup,
	.unit_test_cases = {
		TEST_CASE(test_iova_mode_is_pa),
		TEST_CASE(test_memseg_iova_is_kernel_pa),
		TEST_CASE(test_runtime_alloc_is_pinned),
		TEST_CASE(test_unpinned_memory_pinned_on_demand),
		TEST_CASE(test_remapped_memory_gets_new_pa),
		TEST_CASE(test_unmapped_memory_has_no_pa),
		TEST_CASES_END()
	}
};

static int
test_vfio_cdev(void)
{
	return unit_test_suite_runner(&vfio_cdev_testsuite);
}

REGISTER_TEST_COMMAND(vfio_cdev_autotest, test_vfio_cdev);
