/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * Multi-process: a cdev can be bound to one iommufd once, so secondary
 * processes never open it. They receive the primary's iommufd (with the
 * IOAS id) and device fds over the EAL mp channel (SCM_RIGHTS) instead.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_string_fns.h>

#include "private.h"

#define VFIO_CDEV_MP "bus_vfio_cdev_mp"

enum vfio_cdev_mp_req {
	VFIO_CDEV_MP_IOMMUFD,    /* the iommufd and its IOAS id */
	VFIO_CDEV_MP_DEVICE,     /* the fd of the device called name */
};

struct vfio_cdev_mp_param {
	int req;
	int result;              /* 0 or -errno */
	uint32_t ioas_id;
	char name[PCI_PRI_STR_SIZE];
};

/* What the primary serves (set by vfio_cdev_mp_register()). */
static const struct vfio_cdev_iommufd *served_iommufd;
static int (*served_device_fd)(const char *name);

static int
mp_answer(const struct rte_mp_msg *msg, const void *peer)
{
	const struct vfio_cdev_mp_param *req = (const void *)msg->param;
	struct rte_mp_msg reply;
	struct vfio_cdev_mp_param *rep = (void *)reply.param;
	int fd = -ENODEV, ret;

	memset(&reply, 0, sizeof(reply));
	strlcpy(reply.name, VFIO_CDEV_MP, sizeof(reply.name));
	reply.len_param = sizeof(*rep);
	rep->req = req->req;
	switch (req->req) {
	case VFIO_CDEV_MP_IOMMUFD:
		fd = fcntl(served_iommufd->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			fd = -errno;
		rep->ioas_id = served_iommufd->ioas_id;
		break;
	case VFIO_CDEV_MP_DEVICE:
		/* A duplicate: the device may be released while we send. */
		fd = served_device_fd(req->name);
		break;
	}
	if (fd >= 0) {
		reply.num_fds = 1;
		reply.fds[0] = fd;
	} else {
		rep->result = fd;
	}
	ret = rte_mp_reply(&reply, peer);
	if (fd >= 0)
		close(fd);
	return ret;
}

int
vfio_cdev_mp_register(const struct vfio_cdev_iommufd *ctx,
		int (*dup_device_fd)(const char *name))
{
	served_iommufd = ctx;
	served_device_fd = dup_device_fd;
	if (rte_mp_action_register(VFIO_CDEV_MP, mp_answer) != 0 &&
			rte_errno != ENOTSUP) {
		VFIO_CDEV_LOG(ERR, "cannot register the multi-process action: %s",
			rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

void
vfio_cdev_mp_unregister(void)
{
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		rte_mp_action_unregister(VFIO_CDEV_MP);
}

/* Ask the primary; return the received fd or -errno. */
static int
mp_request(enum vfio_cdev_mp_req what, const char *name, uint32_t *ioas_id)
{
	struct timespec ts = { .tv_sec = 5, .tv_nsec = 0 };
	struct rte_mp_reply mp_reply = { 0 };
	struct rte_mp_msg req;
	struct vfio_cdev_mp_param *p = (void *)req.param;
	const struct vfio_cdev_mp_param *rep;
	int fd = -ENODEV;

	memset(&req, 0, sizeof(req));
	strlcpy(req.name, VFIO_CDEV_MP, sizeof(req.name));
	req.len_param = sizeof(*p);
	p->req = what;
	if (name != NULL)
		strlcpy(p->name, name, sizeof(p->name));
	if (rte_mp_request_sync(&req, &mp_reply, &ts) != 0 ||
			mp_reply.nb_received != 1) {
		free(mp_reply.msgs);
		return -EIO;
	}
	rep = (const void *)mp_reply.msgs[0].param;
	if (rep->result == 0 && mp_reply.msgs[0].num_fds == 1) {
		fd = mp_reply.msgs[0].fds[0];
		/* SCM_RIGHTS fds arrive without close-on-exec. */
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		if (ioas_id != NULL)
			*ioas_id = rep->ioas_id;
	} else if (rep->result != 0) {
		fd = rep->result;
	}
	free(mp_reply.msgs);
	return fd;
}

int
vfio_cdev_mp_get_iommufd(struct vfio_cdev_iommufd *ctx)
{
	int fd = mp_request(VFIO_CDEV_MP_IOMMUFD, NULL, &ctx->ioas_id);

	if (fd < 0) {
		VFIO_CDEV_LOG(ERR, "no iommufd from the primary process: start the primary with --vfio-cdev too");
		return fd;
	}
	ctx->fd = fd;
	return 0;
}

int
vfio_cdev_mp_get_device_fd(const char *name)
{
	int fd = mp_request(VFIO_CDEV_MP_DEVICE, name, NULL);

	if (fd < 0 && fd != -ENODEV)
		VFIO_CDEV_LOG(ERR, "%s: no device fd from the primary process: %s",
			name, strerror(-fd));
	return fd;
}
