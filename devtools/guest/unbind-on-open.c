/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LD_PRELOAD shim for the VM tests: a device vanishes between the bus scan
 * and its open, as when another process unbinds it from vfio-pci at that
 * moment. The first open of a /dev/vfio/devices/noiommu-vfioN node first
 * unbinds that node's PCI device (through sysfs), then opens.
 * Build: gcc -shared -fPIC -O2 -o unbind-on-open.so unbind-on-open.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NODE_PREFIX "/dev/vfio/devices/noiommu-vfio"

static void
unbind_first(const char *node)
{
	static int done;
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	FILE *f;

	if (done || strncmp(node, NODE_PREFIX, strlen(NODE_PREFIX)) != 0)
		return;
	done = 1;
	snprintf(path, sizeof(path), "/sys/class/vfio-dev/%s/device",
		node + strlen("/dev/vfio/devices/"));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return;
	link[n] = '\0';
	f = fopen("/sys/bus/pci/drivers/vfio-pci/unbind", "w");
	if (f == NULL)
		return;
	fprintf(f, "%s", basename(link));
	fclose(f);
	fprintf(stderr, "unbind-on-open: %s unbound before opening %s\n",
		basename(link), node);
}

int
open(const char *path, int flags, ...)
{
	static int (*real_open)(const char *, int, ...);
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	unbind_first(path);
	if (real_open == NULL)
		real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));
