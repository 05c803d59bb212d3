/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LD_PRELOAD shim for the VM tests: refuse every open of /proc/self/pagemap
 * or /proc/<pid>/pagemap with EACCES, as the kernel does for a process
 * without CAP_SYS_ADMIN, and say so on stderr, exactly once per attempt:
 *     deny-pagemap: <path> opened
 * It proves that a code path does (legacy) or does not (cdev) read pagemap.
 * Build: gcc -shared -fPIC -O2 -o deny-pagemap.so deny-pagemap.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
is_pagemap(const char *path)
{
	const char *p;

	if (path == NULL || strncmp(path, "/proc/", 6) != 0)
		return 0;
	p = path + 6;
	if (strncmp(p, "self/", 5) == 0) {
		p += 5;
	} else {
		const char *d = p;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == d || *p != '/')
			return 0;
		p++;
	}
	return strcmp(p, "pagemap") == 0;
}

static int
deny(const char *path)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "deny-pagemap: %s opened\n", path);

	if (n > 0)
		(void)!write(2, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
	errno = EACCES;
	return -1;
}

static mode_t
mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define WRAP_OPEN(name)							\
int name(const char *path, int flags, ...)				\
{									\
	static int (*real)(const char *, int, ...);			\
	va_list ap;							\
	mode_t mode;							\
									\
	if (is_pagemap(path))						\
		return deny(path);					\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap);							\
	if (real == NULL)						\
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name); \
	return real(path, flags, mode);					\
}

#define WRAP_OPENAT(name)						\
int name(int dirfd, const char *path, int flags, ...)			\
{									\
	static int (*real)(int, const char *, int, ...);		\
	va_list ap;							\
	mode_t mode;							\
									\
	if (is_pagemap(path))						\
		return deny(path);					\
	va_start(ap, flags);						\
	mode = mode_arg(flags, ap);					\
	va_end(ap);							\
	if (real == NULL)						\
		real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, #name); \
	return real(dirfd, path, flags, mode);				\
}

#define WRAP_FOPEN(name)						\
FILE *name(const char *path, const char *mode)				\
{									\
	static FILE *(*real)(const char *, const char *);		\
									\
	if (is_pagemap(path)) {						\
		deny(path);						\
		return NULL;						\
	}								\
	if (real == NULL)						\
		real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT, #name); \
	return real(path, mode);					\
}

/* _FORTIFY_SOURCE variants: __open_2(path, flags) never takes a mode. */
#define WRAP_OPEN_2(name)						\
int name(const char *path, int flags)					\
{									\
	static int (*real)(const char *, int);				\
									\
	if (is_pagemap(path))						\
		return deny(path);					\
	if (real == NULL)						\
		real = (int (*)(const char *, int))dlsym(RTLD_NEXT, #name); \
	return real(path, flags);					\
}

WRAP_OPEN(open)
WRAP_OPEN(open64)
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)
WRAP_FOPEN(fopen)
WRAP_FOPEN(fopen64)
WRAP_OPEN_2(__open_2)
WRAP_OPEN_2(__open64_2)
