/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

#include <rte_bus.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_eal_paging.h>
#include <rte_errno.h>
#include <rte_fbarray.h>
#include <rte_log.h>
#include <rte_memory.h>
#include <vfio_cdev_driver.h>

#include "eal_internal_cfg.h"
#include "eal_memalloc.h"
#include "eal_memcfg.h"
#include "eal_private.h"
#include "eal_vfio_cdev.h"

/* Installed by the vfio_cdev bus once a device is attached to its IOAS. */
static const struct rte_vfio_cdev_ops *cdev_ops;

int
rte_vfio_cdev_requested(void)
{
	return eal_get_internal_configuration()->vfio_cdev == EAL_VFIO_CDEV_ON;
}

int
eal_vfio_cdev_parse_arg(struct internal_config *cfg, const char *arg)
{
	if (arg == NULL || strcmp(arg, "on") == 0)
		cfg->vfio_cdev = EAL_VFIO_CDEV_ON;
	else if (strcmp(arg, "off") == 0)
		cfg->vfio_cdev = EAL_VFIO_CDEV_OFF;
	else
		return -1;
	return 0;
}

/* Is there a no-IOMMU cdev node in /dev/vfio/devices? */
static int
noiommu_cdev_present(void)
{
	struct dirent *e;
	int found = 0;
	DIR *dir;

	dir = opendir("/dev/vfio/devices");
	if (dir == NULL)
		return 0;
	while (!found && (e = readdir(dir)) != NULL)
		found = strncmp(e->d_name, "noiommu-vfio", 12) == 0;
	closedir(dir);
	return found;
}

void
eal_vfio_cdev_select(struct internal_config *cfg)
{
	struct rte_mem_config *mcfg = rte_eal_get_configuration()->mem_config;

	if (cfg->vfio_cdev != EAL_VFIO_CDEV_AUTO ||
			rte_eal_process_type() != RTE_PROC_PRIMARY || cfg->no_pci)
		return;
	/* Options the backend refuses keep the group path. */
	if (cfg->iova_mode == RTE_IOVA_VA)
		return;
	if (access("/dev/vfio/vfio", F_OK) == 0 || !noiommu_cdev_present())
		return;
	cfg->vfio_cdev = EAL_VFIO_CDEV_ON;
	mcfg->vfio_cdev = EAL_VFIO_CDEV_ON;
	RTE_LOG(NOTICE, EAL, "using --vfio-cdev: the kernel has no VFIO group interface (/dev/vfio/vfio) but no-IOMMU devices in /dev/vfio/devices; --vfio-cdev=off keeps the group path\n");
}

/*
 * Owners of pins besides devices (named by their PCI address) and PA
 * queries (the backend's own).
 */
#define OWNER_MEMSEG "eal-memseg"
#define OWNER_CONTAINER "vfio-container"

#define MEM_EVENT_NAME "vfio_cdev_pa_query"

/* Heap memory removed: the pins its PA queries took go with it. */
static void
mem_event_release(enum rte_mem_event type, const void *addr, size_t len,
		void *arg __rte_unused)
{
	if (type == RTE_MEM_EVENT_FREE && cdev_ops != NULL)
		cdev_ops->pa_query_release((uintptr_t)addr, len);
}

int
rte_vfio_cdev_ops_register(const struct rte_vfio_cdev_ops *ops)
{
	if (cdev_ops != NULL)
		return -EBUSY;
	/* Legacy memory has no memory events: its pins last until exit. */
	if (rte_eal_process_type() == RTE_PROC_PRIMARY &&
			rte_mem_event_callback_register(MEM_EVENT_NAME,
				mem_event_release, NULL) != 0 &&
			rte_errno != ENOTSUP)
		return -rte_errno;
	cdev_ops = ops;
	return 0;
}

void
rte_vfio_cdev_ops_unregister(void)
{
	if (cdev_ops != NULL && rte_eal_process_type() == RTE_PROC_PRIMARY)
		rte_mem_event_callback_unregister(MEM_EVENT_NAME, NULL);
	cdev_ops = NULL;
}

int
eal_vfio_cdev_check_options(const struct internal_config *cfg)
{
	if (cfg->vfio_cdev != EAL_VFIO_CDEV_ON)
		return 0;
	if (cfg->iova_mode == RTE_IOVA_VA) {
		RTE_LOG(ERR, EAL, "--vfio-cdev cannot use --iova-mode=va: devices without an IOMMU DMA to physical addresses; drop the option or use --iova-mode=pa\n");
		return -1;
	}
	return 0;
}

int
eal_vfio_cdev_ready(void)
{
	return cdev_ops != NULL;
}

const char *
eal_vfio_cdev_not_ready_reason(void)
{
	static const char not_loaded[] =
		"--vfio-cdev: the vfio_cdev bus is not loaded: with a shared build, "
		"load librte_bus_vfio_cdev.so with -d or install it in the plugin directory";
	static const char no_device[] =
		"--vfio-cdev: no device attached to an iommufd, see the bus.vfio_cdev errors above";

	/* In a shared build the bus is a plugin like any driver. */
	return rte_bus_find_by_name("vfio_cdev") == NULL ? not_loaded : no_device;
}

/* Pins of a secondary would outlive it in the primary's IOAS. */
static int
secondary_refuses_pin(const void *addr)
{
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		return 0;
	RTE_LOG(ERR, EAL, "--vfio-cdev: a secondary process cannot pin %p for DMA; pin it in the primary (rte_extmem_register and rte_dev_dma_map there)\n",
		addr);
	return 1;
}

static int
get_pa(uint64_t va, uint64_t *pa)
{
	uint64_t contig;

	return cdev_ops->get_pa(va, 1, pa, &contig);
}

/*
 * Set while the memsegs are pinned by run rather than one by one: while EAL
 * init preallocates memory (-m, --socket-mem), whose pages are never freed
 * and which eal_vfio_cdev_pin_preallocated() pins afterwards one IOAS area
 * per VA-contiguous run, and while a failed init frees those pages again.
 * Meanwhile a memseg is neither pinned nor unpinned on its own.
 */
static bool segs_pinned_by_run;

void
eal_vfio_cdev_batch_seg_pins(bool on)
{
	segs_pinned_by_run = on;
}

rte_iova_t
eal_vfio_cdev_seg_map(void *addr, size_t len)
{
	uint64_t pa;
	int ret;

	if (cdev_ops == NULL)
		return RTE_BAD_IOVA;
	/* The IOVA stays 0 until eal_vfio_cdev_pin_preallocated() sets it. */
	if (segs_pinned_by_run)
		return 0;
	/* Secondaries map pages the primary has already pinned. */
	if (rte_eal_process_type() == RTE_PROC_PRIMARY) {
		ret = cdev_ops->dma_map(OWNER_MEMSEG, (uintptr_t)addr, len);
		if (ret != 0)
			return RTE_BAD_IOVA;
	}
	ret = get_pa((uintptr_t)addr, &pa);
	if (ret != 0) {
		RTE_LOG(ERR, EAL, "no physical address for memseg %p: %s\n",
			addr, strerror(-ret));
		eal_vfio_cdev_seg_unmap(addr, len);
		return RTE_BAD_IOVA;
	}
	return pa;
}

/*
 * Pin n memsegs of a list from index first as one area and set their
 * IOVAs. GET_PA's cost grows with the length it is asked about (under
 * QEMU TCG 14 us for one byte, 270 us for 2 MiB): a hugepage is
 * physically contiguous, so only its first byte is asked about; small
 * pages are asked about by the run, the rest of which the answer covers.
 */
static int
pin_seg_run(struct rte_memseg_list *msl, int first, int n)
{
	uint64_t base = (uintptr_t)msl->base_va + (uint64_t)first * msl->page_sz;
	uint64_t len = (uint64_t)n * msl->page_sz, off = 0, pa, contig;
	bool huge = msl->page_sz > rte_mem_page_size();
	struct rte_memseg *ms;
	int ret;

	if (cdev_ops->dma_map(OWNER_MEMSEG, base, len) != 0)
		return -1;
	while (off < len) {
		ret = cdev_ops->get_pa(base + off, huge ? 1 : len - off,
				&pa, &contig);
		if (ret == 0 && huge)
			contig = msl->page_sz;
		if (ret != 0) {
			RTE_LOG(ERR, EAL, "no physical address for pinned 0x%" PRIx64 ": %s\n",
				base + off, strerror(-ret));
			cdev_ops->dma_unmap(OWNER_MEMSEG, base, len);
			return -1;
		}
		for (contig += off; off < contig; off += msl->page_sz, pa += msl->page_sz) {
			ms = rte_fbarray_get(&msl->memseg_arr, first + off / msl->page_sz);
			ms->iova = pa;
		}
	}
	return 0;
}

int
eal_vfio_cdev_pin_memseg_list(struct rte_memseg_list *msl)
{
	if (cdev_ops == NULL)
		return -1;
	/* One area for the whole list: --no-huge memory is never freed. */
	return pin_seg_run(msl, 0, msl->memseg_arr.count);
}

/* The walk callbacks' memseg list, writable. */
static struct rte_memseg_list *
walked_list(const struct rte_memseg_list *msl)
{
	struct rte_mem_config *mcfg = rte_eal_get_configuration()->mem_config;

	return &mcfg->memsegs[msl - mcfg->memsegs];
}

static int
pin_walked_run(const struct rte_memseg_list *msl,
		const struct rte_memseg *ms, size_t len, void *arg __rte_unused)
{
	struct rte_memseg_list *list = walked_list(msl);

	if (msl->external)
		return 0;
	return pin_seg_run(list, rte_fbarray_find_idx(&list->memseg_arr, ms),
			len / msl->page_sz);
}

int
eal_vfio_cdev_pin_legacy_hugepages(void)
{
	if (cdev_ops == NULL ||
			rte_memseg_contig_walk_thread_unsafe(pin_walked_run, NULL) != 0)
		return -1;
	/*
	 * The queries that gave the sort its physical addresses pinned each
	 * hugepage at the address it had then, so that none moved before the
	 * pins above; these hold the pages now. Nothing else has asked for a
	 * physical address yet: this is EAL init.
	 */
	cdev_ops->pa_query_release(0, UINT64_MAX);
	return 0;
}

/* Free the memsegs of a VA-contiguous run, as a failed allocation does. */
static int
free_preallocated_run(const struct rte_memseg_list *msl,
		const struct rte_memseg *ms, size_t len, void *arg __rte_unused)
{
	struct rte_memseg_list *list = walked_list(msl);
	int first = rte_fbarray_find_idx(&list->memseg_arr, ms);
	int i, n = len / msl->page_sz;
	struct rte_memseg *seg;

	if (msl->external)
		return 0;
	for (i = first; i < first + n; i++) {
		seg = rte_fbarray_get(&list->memseg_arr, i);
		seg->flags &= ~RTE_MEMSEG_FLAG_DO_NOT_FREE;
		eal_memalloc_free_seg(seg);
	}
	return 0;
}

int
eal_vfio_cdev_pin_preallocated(void)
{
	if (cdev_ops == NULL)
		return -1;
	if (rte_memseg_contig_walk_thread_unsafe(pin_walked_run, NULL) == 0)
		return 0;
	/*
	 * EAL init fails: give the preallocated pages back. The runs pinned
	 * so far are unpinned when the failed init closes the iommufd.
	 */
	segs_pinned_by_run = true;
	rte_memseg_contig_walk_thread_unsafe(free_preallocated_run, NULL);
	segs_pinned_by_run = false;
	return -1;
}

void
eal_vfio_cdev_seg_unmap(void *addr, size_t len)
{
	/* Preallocated pages are pinned by run, and unpinned with the iommufd. */
	if (cdev_ops == NULL || segs_pinned_by_run ||
			rte_eal_process_type() != RTE_PROC_PRIMARY)
		return;
	cdev_ops->dma_unmap(OWNER_MEMSEG, (uintptr_t)addr, len);
}

phys_addr_t
eal_vfio_cdev_virt2phy(const void *addr)
{
	uint64_t va = (uintptr_t)addr, pa;
	int ret;

	if (cdev_ops == NULL)
		return RTE_BAD_IOVA;
	/*
	 * A secondary reads what the primary pinned, and pins nothing. The
	 * IOAS maps the primary's address space: only memory the two share
	 * at one address (memsegs, attached external memory) has its answer
	 * there; a private buffer of this process at an address the primary
	 * pinned would get the primary's page.
	 */
	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		if (rte_mem_virt2memseg(addr, NULL) == NULL) {
			secondary_refuses_pin(addr);
			return RTE_BAD_IOVA;
		}
		ret = get_pa(va, &pa);
		if (ret == -ENOENT)
			secondary_refuses_pin(addr);
		return ret == 0 ? pa : RTE_BAD_IOVA;
	}
	/*
	 * Memory nobody pinned is pinned now, so that the answer stays true
	 * for as long as a device may use it (until the memory leaves its
	 * malloc heap, or the process exits).
	 */
	ret = cdev_ops->pa_query(va, &pa);
	return ret == 0 ? pa : RTE_BAD_IOVA;
}

int
eal_vfio_cdev_setup_device(const char *dev_addr, int *vfio_dev_fd,
		struct vfio_device_info *device_info)
{
	int fd;

	fd = cdev_ops != NULL ? cdev_ops->device_fd(dev_addr) : -ENODEV;
	if (fd == -ENODEV) {
		RTE_LOG(NOTICE, EAL, "%s not managed by the VFIO cdev backend, skipping\n",
			dev_addr);
		return 1;
	}
	if (fd < 0)
		return -1;
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, device_info) != 0) {
		RTE_LOG(ERR, EAL, "%s cannot get device info: %s\n",
			dev_addr, strerror(errno));
		close(fd);
		cdev_ops->device_release(dev_addr);
		return -1;
	}
	*vfio_dev_fd = fd;
	return 0;
}

int
eal_vfio_cdev_release_device(const char *dev_addr, int vfio_dev_fd)
{
	int ret = 0;

	if (close(vfio_dev_fd) != 0) {
		RTE_LOG(ERR, EAL, "%s cannot close VFIO device fd: %s\n",
			dev_addr, strerror(errno));
		ret = -1;
	}
	if (cdev_ops != NULL)
		cdev_ops->device_release(dev_addr);
	return ret;
}

/*
 * The physical address of [va, va + len) when all of it is pinned and
 * physically contiguous (0), -EFAULT when it is not contiguous, another
 * negative errno when it is not pinned. The kernel's contiguous length
 * stops at the end of each IOAS_MAP area: go on from there.
 */
static int
get_pa_contig(uint64_t va, uint64_t len, uint64_t *pa)
{
	uint64_t done = 0, next, contig;
	int ret;

	while (done < len) {
		ret = cdev_ops->get_pa(va + done, len - done, &next, &contig);
		if (ret != 0)
			return ret;
		if (done == 0)
			*pa = next;
		else if (next != *pa + done)
			return -EFAULT;
		done += contig;
	}
	return 0;
}

/*
 * Give every external memseg in a range the physical address it starts
 * at, or RTE_BAD_IOVA when it is no longer pinned or not physically
 * contiguous (memory registered with a page size larger than the pages
 * backing it). With must_pin, such a memseg fails the call instead.
 * No memory lock: the range is the caller's while it maps it, and the
 * group path lets memory event callbacks, which run under the memory
 * hotplug write lock, map memory; taking the lock there never returns.
 */
static int
extmem_set_iovas(uint64_t vaddr, uint64_t len, int must_pin)
{
	struct rte_memseg_list *msl;
	struct rte_memseg *ms;
	uint64_t va = vaddr, pa;
	int ret = 0, err;

	while (va < vaddr + len) {
		msl = rte_mem_virt2memseg_list((void *)(uintptr_t)va);
		ms = msl != NULL ? rte_mem_virt2memseg((void *)(uintptr_t)va, msl) : NULL;
		if (ms == NULL || !msl->external) {
			va = RTE_ALIGN_FLOOR(va + rte_mem_page_size(),
				(uint64_t)rte_mem_page_size());
			continue;
		}
		err = get_pa_contig(ms->addr_64, ms->len, &pa);
		if (err != 0 && must_pin) {
			if (err == -EFAULT)
				RTE_LOG(ERR, EAL, "--vfio-cdev: external memseg %p of %zu KiB is not physically contiguous: register the memory with the page size that backs it\n",
					ms->addr, ms->len / 1024);
			else
				RTE_LOG(ERR, EAL, "--vfio-cdev: no physical address for external memseg %p\n",
					ms->addr);
			ret = -1;
			break;
		}
		if (err != 0)
			pa = RTE_BAD_IOVA;
		ms->iova = pa;
		va = ms->addr_64 + ms->len;
	}
	return ret;
}

static int
dma_map(const char *owner, uint64_t vaddr, uint64_t iova, uint64_t len)
{
	uint64_t pa;
	int ret;

	if (cdev_ops == NULL) {
		rte_errno = ENODEV;
		return -1;
	}
	if (secondary_refuses_pin((void *)(uintptr_t)vaddr)) {
		rte_errno = ENOTSUP;
		return -1;
	}
	ret = cdev_ops->dma_map(owner, vaddr, len);
	if (ret == -EEXIST)
		RTE_LOG(ERR, EAL, "--vfio-cdev: DMA map of 0x%" PRIx64 " (%" PRIu64
			" bytes) for %s overlaps one made before: unmap that first\n",
			vaddr, len, owner);
	else if (ret == -EINVAL)
		RTE_LOG(ERR, EAL, "--vfio-cdev: DMA map of 0x%" PRIx64 " (%" PRIu64
			" bytes) for %s is not 4 KiB aligned\n",
			vaddr, len, owner);
	else if (ret == -ENOMEM)
		RTE_LOG(ERR, EAL, "--vfio-cdev: DMA map of 0x%" PRIx64 " (%" PRIu64
			" bytes) for %s: cannot pin more memory (RLIMIT_MEMLOCK or a cgroup limit)\n",
			vaddr, len, owner);
	if (ret != 0) {
		rte_errno = -ret;
		return -1;
	}
	/*
	 * Without an IOMMU the device sees physical addresses only: an IOVA
	 * given for the range must be the physical address of all of it.
	 */
	if (iova != 0 && iova != RTE_BAD_IOVA &&
			(get_pa_contig(vaddr, len, &pa) != 0 || pa != iova)) {
		RTE_LOG(ERR, EAL, "--vfio-cdev: IOVA 0x%" PRIx64 " given for 0x%" PRIx64
			" (%" PRIu64 " bytes) is not the physical address of that range: pass RTE_BAD_IOVA and take IOVAs from rte_mem_virt2iova()\n",
			iova, vaddr, len);
		rte_errno = EINVAL;
		goto unmap;
	}
	if (extmem_set_iovas(vaddr, len, 1) != 0) {
		rte_errno = EFAULT;
		goto unmap;
	}
	return 0;
unmap:
	cdev_ops->dma_unmap(owner, vaddr, len);
	extmem_set_iovas(vaddr, len, 0);
	return -1;
}

static int
dma_unmap(const char *owner, uint64_t vaddr, uint64_t len)
{
	int ret;

	if (cdev_ops == NULL) {
		rte_errno = ENODEV;
		return -1;
	}
	ret = cdev_ops->dma_unmap(owner, vaddr, len);
	if (ret != 0) {
		RTE_LOG(ERR, EAL, "--vfio-cdev: no DMA map of 0x%" PRIx64 " (%" PRIu64
			" bytes) for %s: unmap exactly a range that was mapped\n",
			vaddr, len, owner);
		rte_errno = -ret;
		return -1;
	}
	/* Memory another owner still holds keeps its IOVAs. */
	extmem_set_iovas(vaddr, len, 0);
	return 0;
}

int
eal_vfio_cdev_dma_map(uint64_t vaddr, uint64_t iova, uint64_t len)
{
	return dma_map(OWNER_CONTAINER, vaddr, iova, len);
}

int
eal_vfio_cdev_dma_unmap(uint64_t vaddr, uint64_t len)
{
	return dma_unmap(OWNER_CONTAINER, vaddr, len);
}

int
rte_vfio_cdev_dev_dma_map(const char *dev_name, uint64_t vaddr,
		uint64_t iova, uint64_t len)
{
	return dma_map(dev_name, vaddr, iova, len);
}

int
rte_vfio_cdev_dev_dma_unmap(const char *dev_name, uint64_t vaddr,
		uint64_t len)
{
	return dma_unmap(dev_name, vaddr, len);
}
