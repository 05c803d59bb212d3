/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_fbarray.h>
#include <rte_log.h>
#include <rte_memory.h>
#include <vfio_cdev_driver.h>

#include "eal_internal_cfg.h"
#include "eal_private.h"
#include "eal_vfio_cdev.h"

/* Installed by the vfio_cdev bus once a device is attached to its IOAS. */
static const struct rte_vfio_cdev_ops *cdev_ops;

int
rte_vfio_cdev_requested(void)
{
	return eal_get_internal_configuration()->vfio_cdev;
}

int
rte_vfio_cdev_ops_register(const struct rte_vfio_cdev_ops *ops)
{
	if (cdev_ops != NULL)
		return -EBUSY;
	cdev_ops = ops;
	return 0;
}

void
rte_vfio_cdev_ops_unregister(void)
{
	cdev_ops = NULL;
}

int
eal_vfio_cdev_enabled(void)
{
	return rte_vfio_cdev_requested();
}

int
eal_vfio_cdev_check_options(const struct internal_config *cfg)
{
	if (!cfg->vfio_cdev)
		return 0;
	if (cfg->iova_mode == RTE_IOVA_VA) {
		RTE_LOG(ERR, EAL, "--vfio-cdev cannot use --iova-mode=va: devices without an IOMMU DMA to physical addresses; drop the option or use --iova-mode=pa\n");
		return -1;
	}
	/* --no-huge implies legacy memory, and is supported. */
	if (cfg->legacy_mem && !cfg->no_hugetlbfs) {
		RTE_LOG(ERR, EAL, "--vfio-cdev does not support --legacy-mem: drop --legacy-mem (dynamic memory is pinned page by page)\n");
		return -1;
	}
	return 0;
}

int
eal_vfio_cdev_ready(void)
{
	return cdev_ops != NULL;
}

rte_iova_t
eal_vfio_cdev_seg_map(void *addr, size_t len)
{
	uint64_t pa;
	int ret;

	if (cdev_ops == NULL)
		return RTE_BAD_IOVA;
	/* Secondaries map pages the primary has already pinned. */
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		ret = cdev_ops->dma_map((uintptr_t)addr, len, &pa);
	else
		ret = cdev_ops->get_pa((uintptr_t)addr, &pa);
	return ret == 0 ? pa : RTE_BAD_IOVA;
}

int
eal_vfio_cdev_pin_memseg_list(struct rte_memseg_list *msl)
{
	uint64_t len = (uint64_t)msl->memseg_arr.count * msl->page_sz;
	struct rte_memseg *ms;
	uint64_t pa;
	int i;

	if (cdev_ops == NULL)
		return -1;
	/* One area for the whole list: --no-huge memory is never freed. */
	if (cdev_ops->dma_map((uintptr_t)msl->base_va, len, &pa) != 0)
		return -1;
	/* System pages are not contiguous: one PA query per page. */
	for (i = 0; i < msl->memseg_arr.count; i++) {
		ms = rte_fbarray_get(&msl->memseg_arr, i);
		if (cdev_ops->get_pa((uintptr_t)ms->addr, &pa) != 0) {
			RTE_LOG(ERR, EAL, "no physical address for pinned %p\n",
				ms->addr);
			cdev_ops->dma_unmap((uintptr_t)msl->base_va, len);
			return -1;
		}
		ms->iova = pa;
	}
	return 0;
}

void
eal_vfio_cdev_seg_unmap(void *addr, size_t len)
{
	if (cdev_ops == NULL || rte_eal_process_type() != RTE_PROC_PRIMARY)
		return;
	cdev_ops->dma_unmap((uintptr_t)addr, len);
}

phys_addr_t
eal_vfio_cdev_virt2phy(const void *addr)
{
	uint64_t pa;

	if (cdev_ops == NULL || cdev_ops->get_pa((uintptr_t)addr, &pa) != 0)
		return RTE_BAD_IOVA;
	return pa;
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
		return -1;
	}
	*vfio_dev_fd = fd;
	return 0;
}

int
eal_vfio_cdev_release_device(const char *dev_addr, int vfio_dev_fd)
{
	/*
	 * Only the PCI bus's duplicate is closed: the backend keeps the device
	 * bound and attached, so memory stays pinned across a detach/attach.
	 */
	if (close(vfio_dev_fd) != 0) {
		RTE_LOG(ERR, EAL, "%s cannot close VFIO device fd: %s\n",
			dev_addr, strerror(errno));
		return -1;
	}
	return 0;
}

/* Give the memsegs of registered external memory in a range their IOVAs. */
static void
extmem_set_iovas(uint64_t vaddr, uint64_t len, int pinned)
{
	struct rte_memseg_list *msl;
	struct rte_memseg *ms;
	uint64_t va, pa;

	msl = rte_mem_virt2memseg_list((void *)(uintptr_t)vaddr);
	if (msl == NULL || !msl->external)
		return;
	for (va = vaddr; va < vaddr + len; va += msl->page_sz) {
		ms = rte_mem_virt2memseg((void *)(uintptr_t)va, msl);
		if (ms == NULL)
			continue;
		if (pinned && cdev_ops->get_pa(va, &pa) == 0)
			ms->iova = pa;
		else
			ms->iova = RTE_BAD_IOVA;
	}
}

int
eal_vfio_cdev_dma_map(uint64_t vaddr, uint64_t len)
{
	uint64_t pa;
	int ret;

	if (cdev_ops == NULL) {
		rte_errno = ENODEV;
		return -1;
	}
	ret = cdev_ops->dma_map(vaddr, len, &pa);
	if (ret < 0) {
		rte_errno = -ret;
		return -1;
	}
	extmem_set_iovas(vaddr, len, 1);
	return 0;
}

int
eal_vfio_cdev_dma_unmap(uint64_t vaddr, uint64_t len)
{
	int ret;

	if (cdev_ops == NULL) {
		rte_errno = ENODEV;
		return -1;
	}
	extmem_set_iovas(vaddr, len, 0);
	ret = cdev_ops->dma_unmap(vaddr, len);
	if (ret < 0) {
		rte_errno = -ret;
		return -1;
	}
	return 0;
}
