/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LD_PRELOAD shim for the benchmark: count the kernel calls that give a
 * no-IOMMU process its physical addresses, time them and the populating
 * mmap() of hugepage files (page fault and zeroing), and print it at exit:
 *     count-calls: ioas_map=N ioas_unmap=N get_pa=N pagemap_opens=N
 *     pagemap_reads=N populate_ms=T ioas_map_ms=T get_pa_ms=T pagemap_ms=T
 * (one line). Build: gcc -shared -fPIC -O2 -o count-calls.so count-calls.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/types.h>
#include <unistd.h>

/* _IO(';', nr) of linux/iommufd.h */
#define IOMMU_IOAS_MAP 0x3b85UL
#define IOMMU_IOAS_UNMAP 0x3b86UL
#define IOMMU_IOAS_NOIOMMU_GET_PA 0x3b95UL
#define MAX_FD 4096

static unsigned long n_map, n_unmap, n_get_pa, n_pm_open, n_pm_read;
static char pagemap_fd[MAX_FD];
/* Nanoseconds spent in each timed call. */
static unsigned long long ns_populate, ns_map, ns_get_pa, ns_pm_read;

static unsigned long long
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)t.tv_sec * 1000000000 + t.tv_nsec;
}

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (real_##name == NULL) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static void
note_open(const char *path, int fd)
{
	/* Any path naming a pagemap file, relative ones included. */
	const char *s = path != NULL ? strrchr(path, '/') : NULL;
	const char *base = s != NULL ? s + 1 : path;

	if (fd >= 0 && fd < MAX_FD && base != NULL &&
			strcmp(base, "pagemap") == 0) {
		pagemap_fd[fd] = 1;
		n_pm_open++;
	} else if (fd >= 0 && fd < MAX_FD) {
		pagemap_fd[fd] = 0;
	}
}

/* The mode argument of the open family: present with these flags only. */
#define OPEN_MODE(last, flags, mode) do { \
	va_list ap; \
	va_start(ap, last); \
	mode = (flags) & (O_CREAT | O_TMPFILE) ? va_arg(ap, mode_t) : 0; \
	va_end(ap); \
} while (0)

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode;
	int fd;
	REAL(openat);

	OPEN_MODE(flags, flags, mode);
	fd = real_openat(dirfd, path, flags, mode);
	note_open(path, fd);
	return fd;
}

int
open(const char *path, int flags, ...)
{
	mode_t mode;

	OPEN_MODE(flags, flags, mode);
	return openat(AT_FDCWD, path, flags, mode);
}

/* Same ABI on 64-bit: one wrapper serves both names. */
int open64(const char *path, int flags, ...) __attribute__((alias("open")));
int openat64(int dirfd, const char *path, int flags, ...)
	__attribute__((alias("openat")));

FILE *
fopen(const char *path, const char *mode)
{
	FILE *f;
	REAL(fopen);

	f = real_fopen(path, mode);
	note_open(path, f != NULL ? fileno(f) : -1);
	return f;
}

FILE *fopen64(const char *path, const char *mode) __attribute__((alias("fopen")));

ssize_t
read(int fd, void *buf, size_t n)
{
	unsigned long long t;
	ssize_t ret;
	REAL(read);

	if (fd < 0 || fd >= MAX_FD || !pagemap_fd[fd])
		return real_read(fd, buf, n);
	n_pm_read++;
	t = now_ns();
	ret = real_read(fd, buf, n);
	ns_pm_read += now_ns() - t;
	return ret;
}

ssize_t pread64(int fd, void *buf, size_t n, off_t off)
	__attribute__((alias("pread")));

ssize_t
pread(int fd, void *buf, size_t n, off_t off)
{
	unsigned long long t;
	ssize_t ret;
	REAL(pread);

	if (fd < 0 || fd >= MAX_FD || !pagemap_fd[fd])
		return real_pread(fd, buf, n, off);
	n_pm_read++;
	t = now_ns();
	ret = real_pread(fd, buf, n, off);
	ns_pm_read += now_ns() - t;
	return ret;
}

/* EAL maps each hugepage file with MAP_POPULATE: the fault and zeroing. */
void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	unsigned long long t;
	void *ret;
	REAL(mmap);

	if (fd < 0 || !(flags & MAP_POPULATE))
		return real_mmap(addr, len, prot, flags, fd, off);
	t = now_ns();
	ret = real_mmap(addr, len, prot, flags, fd, off);
	ns_populate += now_ns() - t;
	return ret;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

int
ioctl(int fd, unsigned long request, ...)
{
	unsigned long long t;
	va_list ap;
	void *arg;
	int ret;
	REAL(ioctl);

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (request == IOMMU_IOAS_UNMAP)
		n_unmap++;
	if (request != IOMMU_IOAS_MAP && request != IOMMU_IOAS_NOIOMMU_GET_PA)
		return real_ioctl(fd, request, arg);
	t = now_ns();
	ret = real_ioctl(fd, request, arg);
	t = now_ns() - t;
	if (request == IOMMU_IOAS_MAP) {
		n_map++;
		ns_map += t;
	} else {
		n_get_pa++;
		ns_get_pa += t;
	}
	return ret;
}

__attribute__((destructor)) static void
report(void)
{
	fprintf(stderr, "count-calls: ioas_map=%lu ioas_unmap=%lu get_pa=%lu pagemap_opens=%lu pagemap_reads=%lu populate_ms=%.1f ioas_map_ms=%.1f get_pa_ms=%.1f pagemap_ms=%.1f\n",
		n_map, n_unmap, n_get_pa, n_pm_open, n_pm_read,
		ns_populate / 1e6, ns_map / 1e6, ns_get_pa / 1e6,
		ns_pm_read / 1e6);
}
