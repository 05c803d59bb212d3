/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * FreeBSD has no VFIO: the backend's internal symbols exist for the
 * version map, and say that the mode is never on.
 */

#include <errno.h>

#include <rte_common.h>
#include <vfio_cdev_driver.h>

int
rte_vfio_cdev_requested(void)
{
	return 0;
}

int
rte_vfio_cdev_ops_register(const struct rte_vfio_cdev_ops *ops __rte_unused)
{
	return -ENOTSUP;
}

void
rte_vfio_cdev_ops_unregister(void)
{
}

int
rte_vfio_cdev_dev_dma_map(const char *dev_name __rte_unused,
		uint64_t vaddr __rte_unused, uint64_t iova __rte_unused,
		uint64_t len __rte_unused)
{
	return -ENOTSUP;
}

int
rte_vfio_cdev_dev_dma_unmap(const char *dev_name __rte_unused,
		uint64_t vaddr __rte_unused, uint64_t len __rte_unused)
{
	return -ENOTSUP;
}
