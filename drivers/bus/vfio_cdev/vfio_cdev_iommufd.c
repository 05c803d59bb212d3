/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "private.h"
#include "vfio_cdev_uapi.h"

#define IOMMUFD_PATH "/dev/iommu"

/*
 * A child forked after rte_eal_init() shares the iommufd, so the IOAS,
 * with its parent, but has its own copy of the pin records and of every
 * private page: anything it mapped or unmapped would change what the
 * parent's devices use, and a page it copied on write is not the one
 * the IOAS holds. Every IOAS map, unmap and PA lookup refuses there.
 */
static volatile bool forked_child;

static void
mark_forked_child(void)
{
	forked_child = true;
}

/* In such a child: -EPERM, logged once; else 0. */
static int
refuse_in_forked_child(void)
{
	static bool reported;

	if (!forked_child)
		return 0;
	if (!reported) {
		reported = true;
		VFIO_CDEV_LOG(ERR, "this process was forked after rte_eal_init(): its IOAS and pins are the parent's, so it cannot pin, unpin or look up DMA memory; exec() a new DPDK process instead");
	}
	return -EPERM;
}

int
vfio_cdev_iommufd_open(struct vfio_cdev_iommufd *ctx)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	static bool atfork_registered;
	int err;

	if (!atfork_registered && pthread_atfork(NULL, NULL,
			mark_forked_child) == 0)
		atfork_registered = true;

	ctx->fd = open(IOMMUFD_PATH, O_RDWR | O_CLOEXEC);
	if (ctx->fd < 0) {
		err = errno;
		if (err == ENOENT)
			VFIO_CDEV_LOG(ERR, "%s not found: the kernel needs CONFIG_IOMMUFD=y (or modprobe iommufd)",
				IOMMUFD_PATH);
		else if (err == EACCES)
			VFIO_CDEV_LOG(ERR, "cannot open %s: permission denied; give the user read/write access to it",
				IOMMUFD_PATH);
		else
			VFIO_CDEV_LOG(ERR, "cannot open %s: %s",
				IOMMUFD_PATH, strerror(err));
		return -err;
	}
	if (ioctl(ctx->fd, IOMMU_IOAS_ALLOC, &alloc) != 0) {
		err = errno;
		VFIO_CDEV_LOG(ERR, "IOMMU_IOAS_ALLOC failed: %s", strerror(err));
		close(ctx->fd);
		ctx->fd = -1;
		return -err;
	}
	ctx->ioas_id = alloc.out_ioas_id;
	return 0;
}

void
vfio_cdev_iommufd_close(struct vfio_cdev_iommufd *ctx)
{
	/* The last close destroys the IOAS and everything mapped in it. */
	if (ctx->fd >= 0)
		close(ctx->fd);
	ctx->fd = -1;
}

int
vfio_cdev_ioas_map(const struct vfio_cdev_iommufd *ctx, uint64_t va,
		uint64_t len)
{
	/* The IOVA is only a lookup key without an IOMMU: use the VA. */
	return vfio_cdev_ioas_map_at(ctx, va, va, len);
}

int
vfio_cdev_ioas_map_at(const struct vfio_cdev_iommufd *ctx, uint64_t va,
		uint64_t iova, uint64_t len)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ctx->ioas_id,
		.user_va = va,
		.length = len,
		.iova = iova,
	};
	static int memlock_reported;
	struct rlimit rl;
	int err;

	err = refuse_in_forked_child();
	if (err != 0)
		return err;
	if (ioctl(ctx->fd, IOMMU_IOAS_MAP, &map) == 0)
		return 0;
	err = errno;
	if (err == ENOMEM && getrlimit(RLIMIT_MEMLOCK, &rl) == 0 &&
			rl.rlim_cur != RLIM_INFINITY) {
		/* EAL retries allocations: say it once, loudly. */
		if (!memlock_reported++)
			VFIO_CDEV_LOG(ERR, "cannot pin %" PRIu64 " KiB at 0x%" PRIx64
				": RLIMIT_MEMLOCK (%" PRIu64
				" KiB) is too small; raise it (ulimit -l) or grant CAP_IPC_LOCK",
				len >> 10, va, (uint64_t)rl.rlim_cur >> 10);
	} else {
		VFIO_CDEV_LOG(ERR, "IOMMU_IOAS_MAP of %" PRIu64 " KiB at 0x%" PRIx64 " failed: %s",
			len >> 10, va, strerror(err));
	}
	return -err;
}

int
vfio_cdev_ioas_unmap(const struct vfio_cdev_iommufd *ctx, uint64_t va,
		uint64_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ctx->ioas_id,
		.iova = va,
		.length = len,
	};
	int err;

	err = refuse_in_forked_child();
	if (err != 0)
		return err;
	if (ioctl(ctx->fd, IOMMU_IOAS_UNMAP, &unmap) == 0)
		return 0;
	err = errno;
	VFIO_CDEV_LOG(ERR, "IOMMU_IOAS_UNMAP of %" PRIu64 " KiB at 0x%" PRIx64 " failed: %s",
		len >> 10, va, strerror(err));
	return -err;
}

int
vfio_cdev_ioas_get_pa_range(const struct vfio_cdev_iommufd *ctx, uint64_t va,
		uint64_t len, uint64_t *pa, uint64_t *contig)
{
	/*
	 * The kernel walks the queried length page by page: callers that
	 * know a page is contiguous (a hugepage) ask for one byte.
	 */
	struct iommu_ioas_noiommu_get_pa get_pa = {
		.size = sizeof(get_pa),
		.ioas_id = ctx->ioas_id,
		.iova = va,
		.length = len,
	};
	int err;

	err = refuse_in_forked_child();
	if (err != 0)
		return err;
	if (ioctl(ctx->fd, IOMMU_IOAS_NOIOMMU_GET_PA, &get_pa) != 0)
		return -errno;
	*pa = get_pa.out_phys;
	*contig = get_pa.length;
	return 0;
}

int
vfio_cdev_ioas_check_get_pa(const struct vfio_cdev_iommufd *ctx)
{
	size_t len = sysconf(_SC_PAGESIZE);
	uint64_t va, pa, contig;
	void *page;
	int ret;

	page = mmap(NULL, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (page == MAP_FAILED)
		return -errno;
	va = (uintptr_t)page;
	ret = vfio_cdev_ioas_map(ctx, va, len);
	if (ret != 0) {
		/* reported by vfio_cdev_ioas_map() */
		munmap(page, len);
		return ret;
	}
	ret = vfio_cdev_ioas_get_pa_range(ctx, va, 1, &pa, &contig);
	vfio_cdev_ioas_unmap(ctx, va, len);
	munmap(page, len);

	switch (ret) {
	case 0:
		break;
	case -ENOTTY:
		VFIO_CDEV_LOG(ERR, "the kernel has no IOMMU_IOAS_NOIOMMU_GET_PA: Linux 7.3 or newer is needed");
		break;
	case -EOPNOTSUPP:
		VFIO_CDEV_LOG(ERR, "the kernel answers no physical addresses: "
			"it needs CONFIG_VFIO_NOIOMMU=y with CONFIG_VFIO_DEVICE_CDEV=y (IOMMUFD_NOIOMMU)");
		break;
	case -EPERM:
		VFIO_CDEV_LOG(ERR, "IOMMU_IOAS_NOIOMMU_GET_PA needs CAP_SYS_RAWIO: run as root or grant the capability");
		break;
	default:
		VFIO_CDEV_LOG(ERR, "IOMMU_IOAS_NOIOMMU_GET_PA failed: %s",
			strerror(-ret));
	}
	return ret;
}
