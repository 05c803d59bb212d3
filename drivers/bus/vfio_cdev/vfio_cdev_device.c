/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bus_pci_driver.h>
#include <rte_eal.h>
#include <rte_uuid.h>

#include "private.h"
#include "vfio_cdev_uapi.h"

#define NOIOMMU_PARAM "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
#define NOIOMMU_PREFIX "noiommu-vfio"
#define DEVBIND_HINT "bind it with: dpdk-devbind.py -b vfio-pci"

int
vfio_cdev_noiommu_mode(void)
{
	char c = 0;
	FILE *f;

	f = fopen(NOIOMMU_PARAM, "r");
	if (f == NULL) {
		if (access("/sys/module/vfio", F_OK) != 0)
			VFIO_CDEV_LOG(ERR, "the vfio module is not loaded: modprobe vfio-pci");
		else
			VFIO_CDEV_LOG(ERR, "this kernel is built without CONFIG_VFIO_NOIOMMU (no %s): --vfio-cdev needs Linux 7.3 or newer with VFIO_NOIOMMU, VFIO_DEVICE_CDEV and IOMMUFD",
				NOIOMMU_PARAM);
		return -1;
	}
	if (fread(&c, 1, 1, f) != 1)
		c = 0;
	fclose(f);
	return c == 'Y' || c == '1';
}

/* The device number of a cdev node, as sysfs gives it ("MAJOR:MINOR"). */
static int
read_rdev(const char *dir, const char *node, dev_t *rdev)
{
	char path[PATH_MAX];
	unsigned int major, minor;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/%s/dev", dir, node);
	f = fopen(path, "r");
	if (f == NULL)
		return -errno;
	n = fscanf(f, "%u:%u", &major, &minor);
	fclose(f);
	if (n != 2)
		return -EIO;
	*rdev = makedev(major, minor);
	return 0;
}

int
vfio_cdev_device_lookup(struct vfio_cdev_device *dev, int report)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct dirent *e;
	ssize_t n;
	DIR *dir;
	int ret;

	snprintf(path, sizeof(path), "%s/%s/driver",
		rte_pci_get_sysfs_path(), dev->name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (report)
			VFIO_CDEV_LOG(WARNING, "%s is not bound to a driver: %s %s",
				dev->name, DEVBIND_HINT, dev->name);
		return -ENODEV;
	}
	link[n] = '\0';
	if (strcmp(basename(link), "vfio-pci") != 0) {
		if (report)
			VFIO_CDEV_LOG(WARNING, "%s is bound to %s, not vfio-pci: %s %s",
				dev->name, basename(link), DEVBIND_HINT,
				dev->name);
		return -ENODEV;
	}

	/* From here on the admin meant the device for VFIO: always report. */
	snprintf(path, sizeof(path), "%s/%s/vfio-dev",
		rte_pci_get_sysfs_path(), dev->name);
	dir = opendir(path);
	if (dir == NULL) {
		VFIO_CDEV_LOG(WARNING, "%s has no VFIO cdev node: the kernel needs CONFIG_VFIO_DEVICE_CDEV=y",
			dev->name);
		return -ENOENT;
	}
	ret = -ENOENT;
	while ((e = readdir(dir)) != NULL) {
		if (strncmp(e->d_name, NOIOMMU_PREFIX,
				strlen(NOIOMMU_PREFIX)) == 0) {
			snprintf(dev->node, sizeof(dev->node),
				"/dev/vfio/devices/%s", e->d_name);
			ret = read_rdev(path, e->d_name, &dev->rdev);
			break;
		}
		if (strncmp(e->d_name, "vfio", 4) == 0)
			ret = -EINVAL;
	}
	closedir(dir);
	if (ret == -EINVAL)
		VFIO_CDEV_LOG(WARNING, "%s is behind an IOMMU, --vfio-cdev is for devices without one: run without --vfio-cdev",
			dev->name);
	else if (ret != 0)
		VFIO_CDEV_LOG(WARNING, "%s has no no-IOMMU cdev node: the kernel needs CONFIG_VFIO_NOIOMMU=y",
			dev->name);
	return ret;
}

/*
 * Bind the open device to the iommufd; 0 or a logged errno. --vfio-vf-token
 * goes with every bind, as on the group path: the kernel refuses a token
 * only for a device that is no PF or VF of vfio-pci (EINVAL), which then
 * binds without it.
 */
static int
bind_iommufd(const struct vfio_cdev_device *dev, int iommufd)
{
	struct vfio_cdev_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	rte_uuid_t vf_token;
	int err;

	rte_eal_vfio_get_vf_token(vf_token);
	if (!rte_uuid_is_null(vf_token)) {
		bind.flags = VFIO_DEVICE_BIND_FLAG_TOKEN;
		bind.token_uuid_ptr = (uintptr_t)vf_token;
		if (ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) == 0)
			return 0;
		err = errno;
		if (err == EACCES) {
			VFIO_CDEV_LOG(ERR, "%s: the kernel refused the VF token: pass the one the PF was given with --vfio-vf-token (dmesg has the kernel's reason)",
				dev->name);
			return err;
		}
		bind.flags = 0;
		bind.token_uuid_ptr = 0;
	}
	if (ioctl(dev->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) == 0)
		return 0;
	err = errno;
	if (err == EACCES)
		VFIO_CDEV_LOG(ERR, "%s: the kernel wants a VF token (a VF of a PF bound to vfio-pci, or a PF whose VFs are in use): pass it with --vfio-vf-token",
			dev->name);
	else if (err == EBUSY)
		VFIO_CDEV_LOG(ERR, "%s is in use: another process or its VFIO group holds it; close that first",
			dev->name);
	else
		VFIO_CDEV_LOG(ERR, "%s: VFIO_DEVICE_BIND_IOMMUFD failed: %s",
			dev->name, strerror(err));
	return err;
}

int
vfio_cdev_device_open(struct vfio_cdev_device *dev,
		const struct vfio_cdev_iommufd *ctx)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = ctx->ioas_id,
	};
	struct stat st;
	int err;

	dev->fd = open(dev->node, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		err = errno;
		if (err == EPERM)
			VFIO_CDEV_LOG(ERR, "%s: opening %s needs CAP_SYS_RAWIO: run as root or grant the capability",
				dev->name, dev->node);
		else if (err == EACCES)
			VFIO_CDEV_LOG(ERR, "%s: permission denied on %s: give the user read/write access to it",
				dev->name, dev->node);
		else if (err == ENOENT)
			VFIO_CDEV_LOG(ERR, "%s: %s is gone: the device was unbound from vfio-pci after the scan",
				dev->name, dev->node);
		else
			VFIO_CDEV_LOG(ERR, "%s: cannot open %s: %s",
				dev->name, dev->node, strerror(err));
		return -err;
	}
	/* No VFIO ioctl goes to a node that is not this device's cdev. */
	if (fstat(dev->fd, &st) != 0 || !S_ISCHR(st.st_mode) ||
			st.st_rdev != dev->rdev) {
		VFIO_CDEV_LOG(ERR, "%s: %s is not the device's VFIO cdev (sysfs says char %u:%u): recreate the node or fix the udev rule that made it",
			dev->name, dev->node, major(dev->rdev),
			minor(dev->rdev));
		err = ENODEV;
		goto close_fd;
	}
	err = bind_iommufd(dev, ctx->fd);
	if (err != 0)
		goto close_fd;
	if (ioctl(dev->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) != 0) {
		err = errno;
		VFIO_CDEV_LOG(ERR, "%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT failed: %s",
			dev->name, strerror(err));
		goto close_fd;
	}
	VFIO_CDEV_LOG(INFO, "%s: %s attached to IOAS %u",
		dev->name, dev->node, ctx->ioas_id);
	return 0;

close_fd:
	/* Closing the cdev unbinds it from the iommufd. */
	close(dev->fd);
	dev->fd = -1;
	return -err;
}

void
vfio_cdev_device_close(struct vfio_cdev_device *dev)
{
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}
