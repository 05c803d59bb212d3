/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LD_PRELOAD shim for the VM tests: make one ioctl fail as a kernel that
 * lacks it would, to show the error a user of such a kernel gets.
 *     NOIOMMU_FAIL_IOCTL=<request, hex>:<errno>   e.g. 0x3b95:25
 * (0x3b95 is IOMMU_IOAS_NOIOMMU_GET_PA; 25 ENOTTY = kernel older than 7.3,
 * 95 EOPNOTSUPP = kernel without IOMMUFD_NOIOMMU.)
 * Build: gcc -shared -fPIC -O2 -o fail-ioctl.so fail-ioctl.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

int
ioctl(int fd, unsigned long request, ...)
{
	static int (*real_ioctl)(int, unsigned long, void *);
	const char *spec = getenv("NOIOMMU_FAIL_IOCTL");
	char *end;
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (spec != NULL && strtoul(spec, &end, 16) == request && *end == ':') {
		errno = atoi(end + 1);
		return -1;
	}
	if (real_ioctl == NULL)
		real_ioctl = (int (*)(int, unsigned long, void *))
			dlsym(RTLD_NEXT, "ioctl");
	return real_ioctl(fd, request, arg);
}
