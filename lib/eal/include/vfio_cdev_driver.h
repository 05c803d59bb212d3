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

/** Operations of a VFIO cdev no-IOMMU DMA backend. */
struct rte_vfio_cdev_ops {
	/**
	 * Pin [va, va + len) for device DMA and store the physical address
	 * of va in *pa. Return 0 or a negative errno.
	 */
	int (*dma_map)(uint64_t va, uint64_t len, uint64_t *pa);
	/** Unpin a range exactly as given to dma_map. Return 0 or -errno. */
	int (*dma_unmap)(uint64_t va, uint64_t len);
	/**
	 * Store in *pa the physical address of va, which lies in a pinned
	 * range. Return 0 or a negative errno (-ENOENT when not pinned).
	 */
	int (*get_pa)(uint64_t va, uint64_t *pa);
	/**
	 * Return a new file descriptor (the caller closes it) for the bound
	 * and attached VFIO device with this PCI address, or -ENODEV when the
	 * backend does not manage it.
	 */
	int (*device_fd)(const char *pci_addr);
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

#ifdef __cplusplus
}
#endif

#endif /* VFIO_CDEV_DRIVER_H */
