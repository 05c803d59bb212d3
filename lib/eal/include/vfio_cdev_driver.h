/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#ifndef VFIO_CDEV_DRIVER_H
#define VFIO_CDEV_DRIVER_H

/**
 * @file
 * Interface between EAL and the VFIO cdev no-IOMMU backend (--vfio-cdev).
 *
 * The backend (drivers/bus/vfio_cdev) owns the iommufd, its IOAS and the
 * device files. EAL sees it only through the operations below: it pins
 * every memseg it allocates and takes the memseg IOVA (a physical address)
 * from the backend, and hands the backend's device fds to the PCI bus.
 */

#include <stdint.h>

#include <rte_compat.h>
#include <rte_common.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Operations of a VFIO cdev no-IOMMU DMA backend.
 *
 * Pins are held per owner: EAL's memory, the default VFIO container, a
 * device (its PCI name), physical address queries. Owners may pin
 * overlapping ranges; memory stays pinned while any owner holds it.
 */
struct rte_vfio_cdev_ops {
	/**
	 * Pin [va, va + len) (4 KiB aligned) for owner. Return 0, -EEXIST
	 * when it overlaps a range this owner pinned already, -EINVAL when
	 * not aligned, or another negative errno (logged).
	 */
	int (*dma_map)(const char *owner, uint64_t va, uint64_t len);
	/**
	 * Drop owner's pin of a range exactly as given to dma_map. Return 0
	 * or -ENOENT when owner pinned no such range.
	 */
	int (*dma_unmap)(const char *owner, uint64_t va, uint64_t len);
	/**
	 * Store in *pa the physical address of va, pinning its page first if
	 * nobody holds it (or if the memory pinned for an earlier query is no
	 * longer the one mapped there). Return 0 or a negative errno (logged
	 * when the kernel refuses the pin).
	 */
	int (*pa_query)(uint64_t va, uint64_t *pa);
	/** Drop the pins that pa_query took within [va, va + len). */
	void (*pa_query_release)(uint64_t va, uint64_t len);
	/**
	 * Store in *pa the physical address of pinned va, and in *contig the
	 * physically contiguous length from va, at most len (len > 0).
	 * Return 0 or a negative errno (-ENOENT when not pinned).
	 */
	int (*get_pa)(uint64_t va, uint64_t len, uint64_t *pa,
			uint64_t *contig);
	/**
	 * Return a new file descriptor (the caller closes it) for the bound
	 * and attached VFIO device with this PCI address, -ENODEV when the
	 * device is not bound to vfio-pci, or another negative errno (logged).
	 */
	int (*device_fd)(const char *pci_addr);
	/** The PCI bus is done with the device: let the kernel have it back. */
	void (*device_release)(const char *pci_addr);
};

/**
 * Tell whether the application asked for the VFIO cdev backend.
 *
 * @return
 *   Non-zero when --vfio-cdev was given.
 */
__rte_internal
int rte_vfio_cdev_requested(void);

/**
 * Install the backend. Called once its iommufd has at least one device
 * attached, so that pinning and physical address queries work, and before
 * EAL initialises memory.
 *
 * @return
 *   0 on success, -EBUSY if a backend is installed already.
 */
__rte_internal
int rte_vfio_cdev_ops_register(const struct rte_vfio_cdev_ops *ops);

/** Remove the backend installed by rte_vfio_cdev_ops_register(). */
__rte_internal
void rte_vfio_cdev_ops_unregister(void);

/**
 * rte_dev_dma_map() of a PCI device in VFIO cdev mode: pin the range for
 * that device. iova must be 0, RTE_BAD_IOVA or the physical address of
 * vaddr; external memsegs in the range get their physical addresses
 * (under the memory lock: not from a memory event callback).
 *
 * @return
 *   0 on success, -1 with rte_errno set (logged).
 */
__rte_internal
int rte_vfio_cdev_dev_dma_map(const char *dev_name, uint64_t vaddr,
		uint64_t iova, uint64_t len);

/** rte_dev_dma_unmap() of a PCI device in VFIO cdev mode. */
__rte_internal
int rte_vfio_cdev_dev_dma_unmap(const char *dev_name, uint64_t vaddr,
		uint64_t len);

#ifdef __cplusplus
}
#endif

#endif /* VFIO_CDEV_DRIVER_H */
