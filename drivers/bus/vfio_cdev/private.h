/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#ifndef VFIO_CDEV_PRIVATE_H
#define VFIO_CDEV_PRIVATE_H

#include <limits.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <rte_log.h>
#include <rte_pci.h>

extern int vfio_cdev_logtype;
#define VFIO_CDEV_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vfio_cdev_logtype, \
		"vfio_cdev: " fmt "\n", ## __VA_ARGS__)

/* An iommufd with the one IOAS that holds all DPDK memory. */
struct vfio_cdev_iommufd {
	int fd;
	uint32_t ioas_id;
};

/*
 * In a child forked after this, the IOAS functions below fail with
 * -EPERM (logged once): the IOAS and its pins are the parent's.
 */
int vfio_cdev_iommufd_open(struct vfio_cdev_iommufd *ctx);
void vfio_cdev_iommufd_close(struct vfio_cdev_iommufd *ctx);
/* Pin [va, va + len) at IOVA va. 0 or -errno, logged. */
int vfio_cdev_ioas_map(const struct vfio_cdev_iommufd *ctx,
		uint64_t va, uint64_t len);
/* The same at another IOVA (a key outside the VA space). */
int vfio_cdev_ioas_map_at(const struct vfio_cdev_iommufd *ctx,
		uint64_t va, uint64_t iova, uint64_t len);
int vfio_cdev_ioas_unmap(const struct vfio_cdev_iommufd *ctx,
		uint64_t va, uint64_t len);
/*
 * Physical address of pinned va and the physically contiguous length from
 * there, at most len. 0 or -errno, not logged (but for -EPERM in a
 * forked child).
 */
int vfio_cdev_ioas_get_pa_range(const struct vfio_cdev_iommufd *ctx,
		uint64_t va, uint64_t len, uint64_t *pa, uint64_t *contig);
/* Check once a device is attached that the kernel answers PA queries. */
int vfio_cdev_ioas_check_get_pa(const struct vfio_cdev_iommufd *ctx);

/*
 * Pins by owner (vfio_cdev_pin.c): ranges of several owners may overlap;
 * memory stays pinned while any owner holds it. -EEXIST when the owner
 * already holds an overlapping range, -EINVAL when not page aligned,
 * else -errno of the kernel (logged).
 */
#define VFIO_CDEV_OWNER_LEN 32
/*
 * The system page size. Not rte_mem_page_size(): its header is internal to
 * EAL and not installed, and the bus also builds as an out-of-tree plugin.
 */
uint64_t vfio_cdev_page_size(void);
int vfio_cdev_pin(const struct vfio_cdev_iommufd *ctx, const char *owner,
		uint64_t va, uint64_t len);
/* Drop owner's pin of exactly [va, va + len); -ENOENT if it has none. */
int vfio_cdev_unpin(const struct vfio_cdev_iommufd *ctx, const char *owner,
		uint64_t va, uint64_t len);
/* Drop every pin of owner within [va, va + len). */
void vfio_cdev_unpin_within(const struct vfio_cdev_iommufd *ctx,
		const char *owner, uint64_t va, uint64_t len);
/*
 * Where the ranges owner holds within [va, va + len) start: their count,
 * and a new array in *starts (free() it); or -ENOMEM.
 */
int vfio_cdev_pins_within(const char *owner, uint64_t va, uint64_t len,
		uint64_t **starts);
/* Who holds pins overlapping [va, va + len): nobody, only owner, others. */
enum vfio_cdev_pin_holders {
	PIN_HELD_BY_NONE,
	PIN_HELD_BY_OWNER,
	PIN_HELD_BY_OTHERS,
};
enum vfio_cdev_pin_holders vfio_cdev_pin_holders(uint64_t va, uint64_t len,
		const char *owner);
/* Forget all pins (the iommufd is being closed, which unpins them). */
void vfio_cdev_pins_forget(void);

/* A vfio-pci device used through its no-IOMMU cdev. */
struct vfio_cdev_device {
	TAILQ_ENTRY(vfio_cdev_device) next;
	char name[PCI_PRI_STR_SIZE];
	char node[sizeof("/dev/vfio/devices/") + NAME_MAX]; /* noiommu-vfioN */
	dev_t rdev;              /* the node's device number, from sysfs */
	int fd;                  /* bound to the iommufd, attached to the IOAS */
};
TAILQ_HEAD(vfio_cdev_device_list, vfio_cdev_device);

/* Is no-IOMMU mode on in the vfio module? 1, 0, or -1 (logged) if unknown. */
int vfio_cdev_noiommu_mode(void);
/*
 * Find the cdev node of a PCI device: 0 when it is usable, else -errno.
 * With report set, a device that cannot be used gets a warning with the
 * cause and the fix.
 */
int vfio_cdev_device_lookup(struct vfio_cdev_device *dev, int report);
/* Open, bind and attach a device. 0 or -errno, logged. */
int vfio_cdev_device_open(struct vfio_cdev_device *dev,
		const struct vfio_cdev_iommufd *ctx);
void vfio_cdev_device_close(struct vfio_cdev_device *dev);

/*
 * Multi-process (vfio_cdev_mp.c): the primary answers, secondaries ask.
 * The primary serves ctx and the fds that dup_device_fd (a new fd for a
 * device name, or -errno) gives.
 */
int vfio_cdev_mp_register(const struct vfio_cdev_iommufd *ctx,
		int (*dup_device_fd)(const char *name));
void vfio_cdev_mp_unregister(void);
int vfio_cdev_mp_get_iommufd(struct vfio_cdev_iommufd *ctx);
/* A received device fd, or -errno (-ENODEV: the primary has no such device). */
int vfio_cdev_mp_get_device_fd(const char *name);

#endif /* VFIO_CDEV_PRIVATE_H */
