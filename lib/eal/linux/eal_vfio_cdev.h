/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#ifndef EAL_VFIO_CDEV_H
#define EAL_VFIO_CDEV_H

/*
 * EAL side of the VFIO cdev no-IOMMU backend (--vfio-cdev): each function is
 * what one hook in an existing EAL file calls when rte_vfio_cdev_requested().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_memory.h>
#include <vfio_cdev_driver.h>

struct internal_config;
struct vfio_device_info;

/* Reject options the backend cannot honour; -1 after logging why. */
int eal_vfio_cdev_check_options(const struct internal_config *cfg);
/* --vfio-cdev[=on|off]: 0, or -1 for another argument. */
int eal_vfio_cdev_parse_arg(struct internal_config *cfg, const char *arg);
/*
 * Without --vfio-cdev (auto), a primary uses the backend when the kernel has
 * no VFIO group interface but no-IOMMU cdev nodes (the group path cannot
 * start there), saying so in one line. Called once the process type is
 * known, before the bus scan.
 */
void eal_vfio_cdev_select(struct internal_config *cfg);

/* Non-zero once the vfio_cdev bus installed its backend (bus scan). */
int eal_vfio_cdev_ready(void);
/* Why the backend is not ready after the bus scan, as one alert line. */
const char *eal_vfio_cdev_not_ready_reason(void);

/*
 * On while EAL init preallocates memory: eal_vfio_cdev_seg_map() leaves
 * the pages to eal_vfio_cdev_pin_preallocated(), which pins them one area
 * per VA-contiguous run; 0 or -1, with the pages given back.
 */
void eal_vfio_cdev_batch_seg_pins(bool on);
int eal_vfio_cdev_pin_preallocated(void);

/*
 * Pin a newly mapped memseg (primary) and return its physical address;
 * 0 while the pins are batched.
 */
rte_iova_t eal_vfio_cdev_seg_map(void *addr, size_t len);

/* Pin the populated --no-huge memseg list; 0 or -1 (logged). */
struct rte_memseg_list;
int eal_vfio_cdev_pin_memseg_list(struct rte_memseg_list *msl);

/*
 * --legacy-mem: pin the hugepages at their final addresses, one area per
 * segment, with IOVAs from the kernel, and drop the pins the sort's
 * physical address queries took; 0 or -1 (logged).
 */
int eal_vfio_cdev_pin_legacy_hugepages(void);

/* Unpin a memseg before its page is given back (primary only). */
void eal_vfio_cdev_seg_unmap(void *addr, size_t len);

/*
 * Physical address of a virtual address; memory nobody pinned is pinned on
 * demand (primary only). RTE_BAD_IOVA, logged, when that fails.
 */
phys_addr_t eal_vfio_cdev_virt2phy(const void *addr);

/* rte_vfio_setup_device() and rte_vfio_release_device() in cdev mode. */
int eal_vfio_cdev_setup_device(const char *dev_addr, int *vfio_dev_fd,
		struct vfio_device_info *device_info);
int eal_vfio_cdev_release_device(const char *dev_addr, int vfio_dev_fd);

/* rte_vfio_container_dma_map()/unmap() of the default container. */
int eal_vfio_cdev_dma_map(uint64_t vaddr, uint64_t iova, uint64_t len);
int eal_vfio_cdev_dma_unmap(uint64_t vaddr, uint64_t len);

#endif /* EAL_VFIO_CDEV_H */
