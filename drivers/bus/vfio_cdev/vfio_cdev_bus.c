/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * The vfio_cdev bus opens no-IOMMU VFIO devices through iommufd during the
 * bus scan, before EAL initialises memory: the kernel pins memory and tells
 * its physical addresses only while a device is attached to the IOAS. It
 * probes no driver itself; the PCI bus probes the devices as usual and gets
 * their fds from EAL's rte_vfio_setup_device().
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bus_driver.h>
#include <bus_pci_driver.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_spinlock.h>
#include <rte_string_fns.h>
#include <vfio_cdev_driver.h>

#include "private.h"

struct vfio_cdev_bus {
	struct rte_bus bus;
	struct vfio_cdev_iommufd iommufd;
	struct vfio_cdev_device_list devices;
};

static struct vfio_cdev_bus vfio_cdev_bus;
static struct vfio_cdev_iommufd *const iommufd = &vfio_cdev_bus.iommufd;

/* The device list is shared by the main, mp and hotplug alarm threads. */
static rte_spinlock_t devices_lock = RTE_SPINLOCK_INITIALIZER;

/* Call with devices_lock held. */
static struct vfio_cdev_device *
find_device(const char *name)
{
	struct vfio_cdev_device *dev;

	TAILQ_FOREACH(dev, &vfio_cdev_bus.devices, next)
		if (strcmp(dev->name, name) == 0)
			return dev;
	return NULL;
}

/* A new fd of a device in the list, -ENODEV if none, else -errno. */
static int
dup_device_fd(const char *name)
{
	struct vfio_cdev_device *dev;
	int fd = -ENODEV;

	rte_spinlock_lock(&devices_lock);
	dev = find_device(name);
	if (dev != NULL) {
		fd = fcntl(dev->fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0) {
			fd = -errno;
			VFIO_CDEV_LOG(ERR, "%s: cannot duplicate device fd: %s%s",
				name, strerror(-fd), fd == -EMFILE ?
				": raise the open file limit (ulimit -n)" : "");
		}
	}
	rte_spinlock_unlock(&devices_lock);
	return fd;
}

/* Is a PCI device selected by the PCI bus's allow/block lists? */
static int
pci_selected(const struct rte_pci_addr *addr, int *allowed)
{
	struct rte_bus *pci = rte_bus_find_by_name("pci");
	struct rte_devargs *da;
	struct rte_pci_addr da_addr;

	*allowed = 0;
	RTE_EAL_DEVARGS_FOREACH("pci", da) {
		if (rte_pci_addr_parse(da->name, &da_addr) != 0 ||
				rte_pci_addr_cmp(&da_addr, addr) != 0)
			continue;
		if (da->policy == RTE_DEV_BLOCKED)
			return 0;
		*allowed = 1;
		return 1;
	}
	return pci == NULL || pci->conf.scan_mode != RTE_BUS_SCAN_ALLOWLIST;
}

/* Name the allowed (-a) devices that do not exist: the first, and a count. */
static void
report_missing_allowed(void)
{
	char path[PATH_MAX], first[RTE_DEV_NAME_MAX_LEN] = "";
	struct rte_pci_addr addr;
	struct rte_devargs *da;
	unsigned int missing = 0;

	RTE_EAL_DEVARGS_FOREACH("pci", da) {
		if (da->policy != RTE_DEV_ALLOWED ||
				rte_pci_addr_parse(da->name, &addr) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/" PCI_PRI_FMT,
			rte_pci_get_sysfs_path(), addr.domain, addr.bus,
			addr.devid, addr.function);
		if (access(path, F_OK) == 0)
			continue;
		if (missing++ == 0)
			rte_strscpy(first, da->name, sizeof(first));
	}
	if (missing == 1)
		VFIO_CDEV_LOG(ERR, "%s: no such PCI device: check the -a address with lspci -D",
			first);
	else if (missing > 1)
		VFIO_CDEV_LOG(ERR, "%s and %u more -a devices: no such PCI device: check the addresses with lspci -D",
			first, missing - 1);
}

static void
release_devices(void)
{
	struct vfio_cdev_device *dev;

	rte_vfio_cdev_ops_unregister();
	vfio_cdev_mp_unregister();
	rte_spinlock_lock(&devices_lock);
	while ((dev = TAILQ_FIRST(&vfio_cdev_bus.devices)) != NULL) {
		TAILQ_REMOVE(&vfio_cdev_bus.devices, dev, next);
		vfio_cdev_device_close(dev);
		free(dev);
	}
	rte_spinlock_unlock(&devices_lock);
	vfio_cdev_pins_forget();
	vfio_cdev_iommufd_close(iommufd);
}

/*
 * Make a device usable: the primary opens, binds and attaches it, a
 * secondary receives the primary's fd. 0, or -errno (logged; -ENODEV:
 * not bound to vfio-pci).
 */
static int
add_device(const struct rte_pci_addr *addr, int report)
{
	struct vfio_cdev_device *dev;
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (dev == NULL)
		return -ENOMEM;
	rte_pci_device_name(addr, dev->name, sizeof(dev->name));
	if (rte_eal_process_type() == RTE_PROC_PRIMARY) {
		ret = vfio_cdev_device_lookup(dev, report);
		if (ret == 0)
			ret = vfio_cdev_device_open(dev, iommufd);
	} else {
		dev->fd = vfio_cdev_mp_get_device_fd(dev->name);
		ret = dev->fd < 0 ? dev->fd : 0;
	}
	if (ret != 0) {
		free(dev);
		return ret;
	}
	rte_spinlock_lock(&devices_lock);
	TAILQ_INSERT_TAIL(&vfio_cdev_bus.devices, dev, next);
	rte_spinlock_unlock(&devices_lock);
	return 0;
}

/* Pins that physical address queries take, one system page each. */
#define PA_QUERY_OWNER "pa-query"
#define PA_QUERY_PAGE vfio_cdev_page_size()
/* IOVA keys of the check below: above every user space address. */
#define PA_QUERY_CHECK_KEY (UINT64_C(1) << 62)

/*
 * Is the page pinned for a query earlier still the one mapped at its
 * address? The memory may have been unmapped and mapped anew since:
 * pin what is there now under another key and compare. 1 if it is, 0 if
 * not, a negative errno when that cannot be told (the check's own pin
 * failed, e.g. over RLIMIT_MEMLOCK): then the pin stays as it is.
 * *pinned is the pinned page's physical address.
 */
static int
pa_query_pin_current(uint64_t page, uint64_t *pinned)
{
	uint64_t now, contig;
	int ret;

	if (vfio_cdev_ioas_get_pa_range(iommufd, page, 1, pinned,
			&contig) != 0)
		return 0;
	ret = vfio_cdev_ioas_map_at(iommufd, page, page | PA_QUERY_CHECK_KEY,
			PA_QUERY_PAGE);
	if (ret != 0)
		return ret;
	ret = vfio_cdev_ioas_get_pa_range(iommufd, page | PA_QUERY_CHECK_KEY, 1,
			&now, &contig);
	vfio_cdev_ioas_unmap(iommufd, page | PA_QUERY_CHECK_KEY, PA_QUERY_PAGE);
	if (ret != 0)
		return ret;
	return now == *pinned;
}

/*
 * Queries run one at a time: the check, the unpin of a stale pin and the
 * new pin are one step. (Two lcores asking about one page at once used to
 * see each other's check key as a stale pin and unpin a live one.)
 */
static pthread_mutex_t pa_query_lock = PTHREAD_MUTEX_INITIALIZER;

static int
cdev_pa_query(uint64_t va, uint64_t *pa)
{
	uint64_t page = RTE_ALIGN_FLOOR(va, (uint64_t)PA_QUERY_PAGE), contig;
	uint64_t pinned;
	int ret = 0;

	pthread_mutex_lock(&pa_query_lock);
	switch (vfio_cdev_pin_holders(page, PA_QUERY_PAGE, PA_QUERY_OWNER)) {
	case PIN_HELD_BY_OTHERS:
		/* DPDK memory or a DMA map: its owner keeps the pin current. */
		break;
	case PIN_HELD_BY_OWNER:
		ret = pa_query_pin_current(page, &pinned);
		if (ret != 0)
			break;
		vfio_cdev_unpin(iommufd, PA_QUERY_OWNER, page, PA_QUERY_PAGE);
		/* fall through */
	case PIN_HELD_BY_NONE:
		ret = vfio_cdev_pin(iommufd, PA_QUERY_OWNER, page,
				PA_QUERY_PAGE);
		break;
	}
	pthread_mutex_unlock(&pa_query_lock);
	if (ret < 0)
		return ret;
	/* A current pin's address was read by its check: 4 ioctls, not 5. */
	if (ret > 0) {
		*pa = pinned + (va - page);
		return 0;
	}
	return vfio_cdev_ioas_get_pa_range(iommufd, va, 1, pa, &contig);
}

/*
 * Before an owner pins a range, the query pins in it whose page is no
 * longer the one mapped there (the memory was unmapped and mapped anew
 * since the query) go: the owner must pin the pages there now, not
 * share a pin of the old ones. 0, or -errno when a pin cannot be told
 * current.
 */
static int
pa_query_renew_within(uint64_t va, uint64_t len)
{
	uint64_t *pages, pinned;
	int n, i, ret = 0;

	pthread_mutex_lock(&pa_query_lock);
	n = vfio_cdev_pins_within(PA_QUERY_OWNER, va, len, &pages);
	if (n < 0) {
		pthread_mutex_unlock(&pa_query_lock);
		return n;
	}
	for (i = 0; i < n && ret >= 0; i++) {
		ret = pa_query_pin_current(pages[i], &pinned);
		if (ret == 0)
			vfio_cdev_unpin(iommufd, PA_QUERY_OWNER, pages[i],
				PA_QUERY_PAGE);
	}
	pthread_mutex_unlock(&pa_query_lock);
	free(pages);
	return ret < 0 ? ret : 0;
}

static int
cdev_dma_map(const char *owner, uint64_t va, uint64_t len)
{
	int ret;

	ret = pa_query_renew_within(va, len);
	return ret != 0 ? ret : vfio_cdev_pin(iommufd, owner, va, len);
}

static int
cdev_dma_unmap(const char *owner, uint64_t va, uint64_t len)
{
	return vfio_cdev_unpin(iommufd, owner, va, len);
}

static void
cdev_pa_query_release(uint64_t va, uint64_t len)
{
	vfio_cdev_unpin_within(iommufd, PA_QUERY_OWNER, va, len);
}

static int
cdev_get_pa(uint64_t va, uint64_t len, uint64_t *pa, uint64_t *contig)
{
	return vfio_cdev_ioas_get_pa_range(iommufd, va, len, pa, contig);
}

static int
cdev_device_fd(const char *pci_addr)
{
	struct rte_pci_addr addr;
	int fd, ret;

	/* The PCI bus owns (and closes) a duplicate: the device stays ours. */
	fd = dup_device_fd(pci_addr);
	if (fd != -ENODEV)
		return fd;
	/*
	 * A device plugged after start-up, or probed again after removal,
	 * joins the IOAS now; a secondary gets the primary's fd on first use.
	 */
	if (rte_pci_addr_parse(pci_addr, &addr) != 0)
		return -ENODEV;
	ret = add_device(&addr, 1);
	return ret != 0 ? ret : dup_device_fd(pci_addr);
}

static void
cdev_device_release(const char *pci_addr)
{
	struct vfio_cdev_device *dev;
	int primary = rte_eal_process_type() == RTE_PROC_PRIMARY;

	rte_spinlock_lock(&devices_lock);
	dev = find_device(pci_addr);
	/* Pages stay pinned only while some device is attached. */
	if (dev != NULL && primary && TAILQ_NEXT(dev, next) == NULL &&
			TAILQ_FIRST(&vfio_cdev_bus.devices) == dev) {
		VFIO_CDEV_LOG(NOTICE, "%s stays open: it is the last device attached and keeps DPDK memory pinned; the kernel can unbind it once this process exits",
			pci_addr);
		dev = NULL;
	} else if (dev != NULL) {
		TAILQ_REMOVE(&vfio_cdev_bus.devices, dev, next);
	}
	rte_spinlock_unlock(&devices_lock);
	if (dev == NULL)
		return;
	if (primary)
		vfio_cdev_unpin_within(iommufd, dev->name, 0, UINT64_MAX);
	vfio_cdev_device_close(dev);
	free(dev);
	VFIO_CDEV_LOG(INFO, "%s released", pci_addr);
}

static const struct rte_vfio_cdev_ops vfio_cdev_ops = {
	.dma_map = cdev_dma_map,
	.dma_unmap = cdev_dma_unmap,
	.pa_query = cdev_pa_query,
	.pa_query_release = cdev_pa_query_release,
	.get_pa = cdev_get_pa,
	.device_fd = cdev_device_fd,
	.device_release = cdev_device_release,
};

static int
scan_primary(void)
{
	struct rte_pci_addr addr;
	struct dirent **names;
	int allowed, mode, n, i, err = 0;

	mode = vfio_cdev_noiommu_mode();
	if (mode <= 0) {
		if (mode == 0)
			VFIO_CDEV_LOG(ERR, "VFIO no-IOMMU mode is off: boot with vfio.enable_unsafe_noiommu_mode=1 (or write Y to /sys/module/vfio/parameters/enable_unsafe_noiommu_mode), then bind the devices to vfio-pci again");
		return -1;
	}
	if (vfio_cdev_iommufd_open(iommufd) != 0)
		return -1;

	n = scandir(rte_pci_get_sysfs_path(), &names, NULL, alphasort);
	if (n < 0) {
		VFIO_CDEV_LOG(ERR, "cannot read %s: %s",
			rte_pci_get_sysfs_path(), strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		/* Missing privileges hold for every device: stop at the first. */
		if (err != -EPERM && err != -EACCES &&
				rte_pci_addr_parse(names[i]->d_name, &addr) == 0 &&
				pci_selected(&addr, &allowed))
			err = add_device(&addr, allowed);
		free(names[i]);
	}
	free(names);
	if (err == -EPERM || err == -EACCES)
		goto fail;
	report_missing_allowed();
	if (TAILQ_EMPTY(&vfio_cdev_bus.devices)) {
		VFIO_CDEV_LOG(ERR, "no vfio-pci device with a no-IOMMU cdev node found: bind one with dpdk-devbind.py -b vfio-pci <BDF>");
		goto fail;
	}
	if (vfio_cdev_ioas_check_get_pa(iommufd) != 0 ||
			vfio_cdev_mp_register(iommufd, dup_device_fd) != 0 ||
			rte_vfio_cdev_ops_register(&vfio_cdev_ops) != 0)
		goto fail;
	return 0;

fail:
	release_devices();
	return -1;
}

static int
vfio_cdev_scan(void)
{
	if (!rte_vfio_cdev_requested())
		return 0;
	if (rte_eal_process_type() == RTE_PROC_PRIMARY) {
		/* Memory is pinned only while a device is attached. */
		if (!rte_eal_has_pci()) {
			VFIO_CDEV_LOG(ERR, "--vfio-cdev needs a PCI device to pin memory: drop --no-pci");
			return -1;
		}
		return scan_primary();
	}
	/* A secondary with --no-pci takes no device, only the IOAS. */
	if (vfio_cdev_mp_get_iommufd(iommufd) != 0)
		return -1;
	return rte_vfio_cdev_ops_register(&vfio_cdev_ops);
}

static int
vfio_cdev_probe(void)
{
	/* Drivers bind through the PCI bus. */
	return 0;
}

static struct rte_device *
vfio_cdev_find_device(const struct rte_device *start __rte_unused,
		rte_dev_cmp_t cmp __rte_unused, const void *data __rte_unused)
{
	/* The devices are the PCI bus's; this bus lists none of its own. */
	return NULL;
}

static enum rte_iova_mode
vfio_cdev_get_iommu_class(void)
{
	/* Without an IOMMU, devices DMA to physical addresses. */
	return iommufd->fd >= 0 ? RTE_IOVA_PA : RTE_IOVA_DC;
}

static int
vfio_cdev_cleanup(void)
{
	release_devices();
	return 0;
}

static struct vfio_cdev_bus vfio_cdev_bus = {
	.bus = {
		.scan = vfio_cdev_scan,
		.probe = vfio_cdev_probe,
		.find_device = vfio_cdev_find_device,
		.get_iommu_class = vfio_cdev_get_iommu_class,
		.cleanup = vfio_cdev_cleanup,
	},
	.iommufd = { .fd = -1 },
	.devices = TAILQ_HEAD_INITIALIZER(vfio_cdev_bus.devices),
};

RTE_REGISTER_BUS(vfio_cdev, vfio_cdev_bus.bus);
RTE_LOG_REGISTER_DEFAULT(vfio_cdev_logtype, NOTICE);
