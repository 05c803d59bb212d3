/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * The "mapfile" command: IOMMU_IOAS_MAP_FILE (the kernel pins a memfd's or
 * hugetlbfs file's folios by file offset, memfd_pin_folios()) against
 * IOMMU_IOAS_MAP (pin_user_pages() of the process's mapping of the same
 * memory), for the memory EAL's memsegs can live in: a hugetlbfs file of
 * 2 MiB pages, a memfd of 2 MiB pages (--in-memory,
 * --single-file-segments) and a 4 KiB memfd (shmem). Timed per method:
 * the map, a GET_PA of every page, the unmap, the detach of the device
 * with the area mapped (the last detach unpins: the unpin alone), and
 * "exit": the close of the iommufd and the device with the area still
 * mapped, which is what a process exit pays (the unpin, and the device's
 * reset, the same for both methods).
 *
 * The command has an iommufd, an IOAS and a no-IOMMU device of its own,
 * outside EAL: run it with --no-pci, or with a device left out of -a.
 * Each timed run is one session (open, bind, attach, then the work, then
 * close), so that its exit is a real last close.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/vfs.h>

#include <rte_common.h>
#include <rte_string_fns.h>

#include "test_noiommu.h"
#include "vfio_cdev_uapi.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26) /* log2(2 MiB) << MFD_HUGE_SHIFT */
#endif

#define MF_DEV_DIR "/dev/vfio/devices"
#define MF_DEV_PREFIX "noiommu-vfio"
#define MF_HUGE_DIR "/dev/hugepages"
#define MF_HUGE_FREE "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define MF_HUGE_RSVD "/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages"
#define MF_PAGE_2M (UINT64_C(2) << 20)
#define MF_PAGE_4K (UINT64_C(4) << 10)
#define MF_MB (UINT64_C(1) << 20)
#define MF_DEFAULT_CYCLES 3
#define MF_DEFAULT_HUGE_MB 1024
#define MF_DEFAULT_4K_MB 256
/* Left to the system when sizing the 4 KiB memfd from MemAvailable. */
#define MF_4K_MARGIN_MB 128
/* The cross-check maps the file here, beside the process's VA range. */
#define MF_XCHECK_IOVA (UINT64_C(1) << 48)

enum mf_kind { MF_HUGETLBFS, MF_MEMFD_2M, MF_MEMFD_4K, MF_KINDS };
enum mf_method { MF_MAP, MF_MAP_FILE, MF_METHODS };
enum mf_metric {
	MF_T_MAP, MF_T_GET_PA, MF_T_UNMAP, MF_T_DETACH, MF_T_EXIT, MF_METRICS
};

static const char * const kind_names[MF_KINDS] = {
	"hugetlbfs-2M", "memfd-2M", "memfd-4K",
};
static const char * const method_names[MF_METHODS] = { "MAP", "MAP_FILE" };
static const char * const method_keys[MF_METHODS] = { "map", "map_file" };
static const char * const metric_names[MF_METRICS] = {
	"map", "get_pa", "unmap", "detach", "exit",
};

/* An iommufd with one IOAS and one no-IOMMU device attached to it. */
struct mf_session {
	int iommufd;
	int devfd;
	uint32_t ioas_id;
};

/* The memory: a file (fd), mapped and touched at va. */
struct mf_backing {
	enum mf_kind kind;
	int fd;
	void *va;
	uint64_t len;
	uint64_t pgsz;
	uint64_t npages;
};

/* The device all sessions use, found by the first one. */
static char dev_path[PATH_MAX];
/* Why the last device that was tried could not be taken. */
static char bind_error[PATH_MAX + 64];

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A value of /proc/meminfo ("HugePages_Free", "MemAvailable"), or -1. */
static int64_t
meminfo_value(const char *key)
{
	size_t n = strlen(key);
	char line[256];
	int64_t v = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int64_t
read_number(const char *path)
{
	int64_t v = -1;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%" SCNd64, &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * Free 2 MiB pages not promised to a mapping yet: HugePages_Free less
 * HugePages_Rsvd of /proc/meminfo when 2 MiB is the default size, else
 * the same counts of that size in sysfs.
 */
static int64_t
free_2m_pages(void)
{
	int64_t total, rsvd;

	if (meminfo_value("Hugepagesize") == 2048) {
		total = meminfo_value("HugePages_Free");
		rsvd = meminfo_value("HugePages_Rsvd");
	} else {
		total = read_number(MF_HUGE_FREE);
		rsvd = read_number(MF_HUGE_RSVD);
	}
	if (total < 0)
		return 0;
	if (rsvd > 0)
		total -= rsvd;
	return total > 0 ? total : 0;
}

/*
 * How much of the asked size a backing gets: what is free, in whole
 * pages, said in one line when it is less.
 */
static uint64_t
backing_size(enum mf_kind kind, uint64_t want_mb)
{
	uint64_t have_mb, len;
	int64_t pages, avail_kb;

	if (kind == MF_MEMFD_4K) {
		avail_kb = meminfo_value("MemAvailable");
		have_mb = avail_kb > 0 ? (uint64_t)avail_kb / 1024 : 0;
		have_mb = have_mb > MF_4K_MARGIN_MB ? have_mb - MF_4K_MARGIN_MB : 0;
		if (have_mb < want_mb)
			printf("mapfile: %s: %" PRIu64 " MiB asked, MemAvailable %" PRId64
				" kB less %u MiB left to the system: stopping at %" PRIu64
				" MiB\n", kind_names[kind], want_mb, avail_kb,
				MF_4K_MARGIN_MB, have_mb);
		len = RTE_MIN(want_mb, have_mb) * MF_MB;
		return RTE_ALIGN_FLOOR(len, MF_PAGE_4K);
	}
	pages = free_2m_pages();
	have_mb = (uint64_t)pages * 2;
	if (have_mb < want_mb)
		printf("mapfile: %s: %" PRIu64 " MiB asked, %" PRId64
			" free 2 MiB pages (HugePages_Free less HugePages_Rsvd): stopping at %"
			PRIu64 " MiB\n", kind_names[kind], want_mb, pages, have_mb);
	len = RTE_MIN(want_mb, have_mb) * MF_MB;
	return RTE_ALIGN_FLOOR(len, MF_PAGE_2M);
}

static void
backing_free(struct mf_backing *b)
{
	if (b->va != NULL && b->va != MAP_FAILED)
		munmap(b->va, b->len);
	if (b->fd >= 0)
		close(b->fd);
	b->va = NULL;
	b->fd = -1;
}

/* The file, sized, mapped shared and touched (every page faulted in). */
static int
backing_alloc(struct mf_backing *b, enum mf_kind kind, uint64_t len)
{
	char path[PATH_MAX];
	struct statfs sfs;
	uint64_t off;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->fd = -1;
	b->len = len;
	b->pgsz = kind == MF_MEMFD_4K ? MF_PAGE_4K : MF_PAGE_2M;
	b->npages = len / b->pgsz;
	switch (kind) {
	case MF_HUGETLBFS:
		snprintf(path, sizeof(path), "%s/mapfile.%d", MF_HUGE_DIR,
			(int)getpid());
		b->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (b->fd < 0) {
			printf("mapfile: %s: cannot create %s: %s\n",
				kind_names[kind], path, strerror(errno));
			return -1;
		}
		/* The fd keeps the file; nothing is left behind. */
		unlink(path);
		if (fstatfs(b->fd, &sfs) != 0 || (uint64_t)sfs.f_bsize != MF_PAGE_2M) {
			printf("mapfile: %s: %s is not a hugetlbfs mount of 2 MiB pages\n",
				kind_names[kind], MF_HUGE_DIR);
			backing_free(b);
			return -1;
		}
		break;
	case MF_MEMFD_2M:
		b->fd = memfd_create("mapfile-2M",
			MFD_CLOEXEC | MFD_HUGETLB | MFD_HUGE_2MB);
		break;
	default:
		b->fd = memfd_create("mapfile-4K", MFD_CLOEXEC);
		break;
	}
	if (b->fd < 0) {
		printf("mapfile: %s: memfd_create: %s\n", kind_names[kind],
			strerror(errno));
		return -1;
	}
	if (ftruncate(b->fd, len) != 0) {
		printf("mapfile: %s: ftruncate to %" PRIu64 " MiB: %s\n",
			kind_names[kind], len / MF_MB, strerror(errno));
		backing_free(b);
		return -1;
	}
	b->va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd, 0);
	if (b->va == MAP_FAILED) {
		printf("mapfile: %s: mmap of %" PRIu64 " MiB: %s\n",
			kind_names[kind], len / MF_MB, strerror(errno));
		backing_free(b);
		return -1;
	}
	for (off = 0; off < len; off += b->pgsz)
		*((volatile char *)b->va + off) = 1;
	return 0;
}

static void
session_close(struct mf_session *s)
{
	/*
	 * The device's binding holds the iommufd: its close does the work
	 * (detach, which unpins everything, then the IOAS's destruction).
	 * This is also the order of a process exit: the lower fd first.
	 */
	if (s->iommufd >= 0)
		close(s->iommufd);
	if (s->devfd >= 0)
		close(s->devfd);
	s->iommufd = s->devfd = -1;
}

/* Attach the session's device to its IOAS (again: by the IOAS's id). */
static int
session_attach(const struct mf_session *s)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = s->ioas_id,
	};

	return ioctl(s->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
}

/*
 * Bind the device at path to the session's iommufd and attach it: 0, or
 * -1 with the reason in bind_error.
 */
static int
session_bind(struct mf_session *s, const char *path)
{
	struct vfio_cdev_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = s->iommufd,
	};
	const char *step = "open";

	s->devfd = open(path, O_RDWR | O_CLOEXEC);
	if (s->devfd < 0)
		goto fail;
	step = "bind";
	if (ioctl(s->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind) != 0)
		goto fail;
	/* Without a device attached nothing is pinned and GET_PA refuses. */
	step = "attach";
	if (session_attach(s) != 0)
		goto fail;
	return 0;
fail:
	snprintf(bind_error, sizeof(bind_error), "cannot %s %s: %s", step, path,
		strerror(errno));
	if (s->devfd >= 0)
		close(s->devfd);
	s->devfd = -1;
	return -1;
}

/*
 * A new iommufd and IOAS with the device attached: the first session
 * takes the first no-IOMMU device that binds (one a DPDK process holds
 * does not), later sessions the same one.
 */
static int
session_open(struct mf_session *s)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dir;

	s->devfd = -1;
	s->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (s->iommufd < 0) {
		printf("mapfile: cannot open /dev/iommu: %s\n", strerror(errno));
		return -1;
	}
	if (ioctl(s->iommufd, IOMMU_IOAS_ALLOC, &alloc) != 0) {
		printf("mapfile: IOMMU_IOAS_ALLOC: %s\n", strerror(errno));
		session_close(s);
		return -1;
	}
	s->ioas_id = alloc.out_ioas_id;
	if (dev_path[0] != '\0') {
		if (session_bind(s, dev_path) == 0)
			return 0;
		printf("mapfile: %s\n", bind_error);
		session_close(s);
		return -1;
	}
	dir = opendir(MF_DEV_DIR);
	while (dir != NULL && (e = readdir(dir)) != NULL) {
		if (strncmp(e->d_name, MF_DEV_PREFIX, strlen(MF_DEV_PREFIX)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", MF_DEV_DIR, e->d_name);
		if (session_bind(s, path) == 0) {
			strlcpy(dev_path, path, sizeof(dev_path));
			printf("mapfile: %s bound and attached to an IOAS of its own\n",
				dev_path);
			break;
		}
	}
	if (dir != NULL)
		closedir(dir);
	if (s->devfd < 0) {
		printf("mapfile: no free no-IOMMU device in %s (bound to vfio-pci, not held by a DPDK process; last: %s): run with --no-pci or leave one device out of -a\n",
			MF_DEV_DIR, bind_error[0] != '\0' ? bind_error : "none there");
		session_close(s);
		return -1;
	}
	return 0;
}

static const char *
map_error(int err)
{
	if (err == ENOTTY)
		return "not known to this kernel (IOMMU_IOAS_MAP_FILE: Linux 6.13 or newer)";
	return strerror(err);
}

/* Map all of b at iova, by its VA or by its file: 0 or -1, said. */
static int
area_map(const struct mf_session *s, const struct mf_backing *b,
		enum mf_method m, uint64_t iova)
{
	const uint32_t flags = IOMMU_IOAS_MAP_FIXED_IOVA |
		IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = flags,
		.ioas_id = s->ioas_id,
		.user_va = (uintptr_t)b->va,
		.length = b->len,
		.iova = iova,
	};
	struct iommu_ioas_map_file map_file = {
		.size = sizeof(map_file),
		.flags = flags,
		.ioas_id = s->ioas_id,
		.fd = b->fd,
		.start = 0,
		.length = b->len,
		.iova = iova,
	};
	int ret;

	if (m == MF_MAP)
		ret = ioctl(s->iommufd, IOMMU_IOAS_MAP, &map);
	else
		ret = ioctl(s->iommufd, IOMMU_IOAS_MAP_FILE, &map_file);
	if (ret == 0)
		return 0;
	printf("mapfile: %s: IOMMU_IOAS_%s of %" PRIu64 " MiB: %s\n",
		kind_names[b->kind], method_names[m], b->len / MF_MB,
		map_error(errno));
	return -1;
}

static int
area_unmap(const struct mf_session *s, const struct mf_backing *b,
		uint64_t iova)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = s->ioas_id,
		.iova = iova,
		.length = b->len,
	};

	if (ioctl(s->iommufd, IOMMU_IOAS_UNMAP, &unmap) == 0)
		return 0;
	printf("mapfile: %s: IOMMU_IOAS_UNMAP: %s\n", kind_names[b->kind],
		strerror(errno));
	return -1;
}

/*
 * GET_PA of every page of the area at iova, one byte each (a page is
 * contiguous), into pa[]: the number of pages without an answer.
 */
static uint64_t
area_walk(const struct mf_session *s, const struct mf_backing *b,
		uint64_t iova, uint64_t *pa)
{
	struct iommu_ioas_noiommu_get_pa q = {
		.size = sizeof(q),
		.ioas_id = s->ioas_id,
	};
	uint64_t i, at, errors = 0;

	for (i = 0; i < b->npages; i++) {
		at = iova + i * b->pgsz;
		q.iova = at;
		q.length = 1;
		if (ioctl(s->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA, &q) == 0) {
			pa[i] = q.out_phys;
			continue;
		}
		if (errors++ == 0)
			printf("mapfile: %s: GET_PA of IOVA 0x%" PRIx64 ": %s\n",
				kind_names[b->kind], at, strerror(errno));
		pa[i] = 0;
	}
	return errors;
}

/*
 * One timed session of method m: map, GET_PA walk, unmap; map again and
 * detach the device (the last detach unpins the IOAS's memory), attach
 * again (which pins it again), close. The close pays the same unpin and
 * the device's reset on top, the same for both methods: the detach is
 * the unpin alone. t[] gets the times (ms); pinned[0] is what VmPin grew
 * by with the area mapped, pinned[1] what was left after the detach.
 * 0, or -1 when a step failed.
 */
static int
timed_run(const struct mf_backing *b, enum mf_method m, uint64_t *pa,
		double t[MF_METRICS], int64_t pinned[2])
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};
	const uint64_t iova = (uintptr_t)b->va;
	struct mf_session s;
	int64_t pin0;
	double t0;

	if (session_open(&s) != 0)
		return -1;
	pin0 = vm_pinned_bytes();
	t0 = now_ms();
	if (area_map(&s, b, m, iova) != 0)
		goto out;
	t[MF_T_MAP] = now_ms() - t0;
	pinned[0] = vm_pinned_bytes() - pin0;
	t0 = now_ms();
	if (area_walk(&s, b, iova, pa) != 0)
		goto out;
	t[MF_T_GET_PA] = now_ms() - t0;
	t0 = now_ms();
	if (area_unmap(&s, b, iova) != 0)
		goto out;
	t[MF_T_UNMAP] = now_ms() - t0;
	if (area_map(&s, b, m, iova) != 0)
		goto out;
	t0 = now_ms();
	if (ioctl(s.devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach) != 0) {
		printf("mapfile: VFIO_DEVICE_DETACH_IOMMUFD_PT: %s\n",
			strerror(errno));
		goto out;
	}
	t[MF_T_DETACH] = now_ms() - t0;
	pinned[1] = vm_pinned_bytes() - pin0;
	if (session_attach(&s) != 0) {
		printf("mapfile: cannot attach %s again: %s\n", dev_path,
			strerror(errno));
		goto out;
	}
	t0 = now_ms();
	session_close(&s);
	t[MF_T_EXIT] = now_ms() - t0;
	return 0;
out:
	session_close(&s);
	return -1;
}

/*
 * Both methods' areas in one IOAS at once, so that no page can move
 * between the two answers: every page's PA must be the same. The number
 * of mismatches in *mismatches; -1 when a step failed.
 */
static int
cross_check(const struct mf_backing *b, uint64_t *pa_map, uint64_t *pa_file,
		uint64_t *mismatches)
{
	const uint64_t va = (uintptr_t)b->va;
	struct mf_session s;
	uint64_t i, errors;
	int ret = -1;

	*mismatches = 0;
	if (session_open(&s) != 0)
		return -1;
	if (area_map(&s, b, MF_MAP, va) != 0 ||
			area_map(&s, b, MF_MAP_FILE, MF_XCHECK_IOVA) != 0)
		goto out;
	errors = area_walk(&s, b, va, pa_map);
	errors += area_walk(&s, b, MF_XCHECK_IOVA, pa_file);
	for (i = 0; i < b->npages; i++) {
		if (pa_map[i] == pa_file[i])
			continue;
		if ((*mismatches)++ < 10)
			printf("mapfile: %s: MISMATCH page %" PRIu64 " (va 0x%" PRIx64
				"): MAP gives PA 0x%" PRIx64 ", MAP_FILE 0x%" PRIx64 "\n",
				kind_names[b->kind], i, va + i * b->pgsz,
				pa_map[i], pa_file[i]);
	}
	ret = errors == 0 ? 0 : -1;
out:
	session_close(&s);
	return ret;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max of n values (sorted in place). */
static void
spread(double *v, unsigned int n, double *med, double *min, double *max)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*min = v[0];
	*max = v[n - 1];
	*med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * One line per method: median [min-max] of each time over the cycles,
 * and on MAP_FILE's line the ratio of the medians MAP_FILE/MAP.
 */
static void
print_summary(const struct mf_backing *b, double *t, unsigned int cycles)
{
	double v[MF_METRICS][MF_METHODS][3];
	double *col;
	unsigned int m, k, c;
	char line[512];
	int n;

	col = malloc(cycles * sizeof(*col));
	if (col == NULL)
		return;
	for (m = 0; m < MF_METHODS; m++)
		for (k = 0; k < MF_METRICS; k++) {
			for (c = 0; c < cycles; c++)
				col[c] = t[(m * cycles + c) * MF_METRICS + k];
			spread(col, cycles, &v[k][m][0], &v[k][m][1], &v[k][m][2]);
		}
	free(col);
	for (m = 0; m < MF_METHODS; m++) {
		n = snprintf(line, sizeof(line), "mapfile: %s %" PRIu64 " MiB, %-8s ms:",
			kind_names[b->kind], b->len / MF_MB, method_names[m]);
		for (k = 0; k < MF_METRICS; k++)
			n += snprintf(line + n, sizeof(line) - n, " %s %.2f [%.2f-%.2f]%s",
				metric_names[k], v[k][m][0], v[k][m][1], v[k][m][2],
				k + 1 < MF_METRICS ? "," : "");
		if (m == MF_MAP_FILE) {
			n += snprintf(line + n, sizeof(line) - n, "; MAP_FILE/MAP:");
			for (k = 0; k < MF_METRICS; k++)
				n += snprintf(line + n, sizeof(line) - n, " %s %.2f",
					metric_names[k], v[k][MF_MAP][0] > 0 ?
					v[k][MF_MAP_FILE][0] / v[k][MF_MAP][0] : 0.0);
		}
		printf("%s (median [min-max] of %u)\n", line, cycles);
	}
}

/*
 * All cycles of one backing: 0, or -1 when something failed (a step, a
 * pin count other than the area's size); mismatches added to *mismatches.
 */
static int
run_backing(enum mf_kind kind, uint64_t want_mb, unsigned int cycles,
		uint64_t *mismatches)
{
	uint64_t len = backing_size(kind, want_mb);
	uint64_t *pa = NULL, *pa_file = NULL, bad;
	enum mf_method order[MF_METHODS], m;
	struct mf_backing b;
	int64_t pinned[2] = { 0, 0 };
	unsigned int c, i;
	double *t = NULL;
	int ret = -1;

	if (len == 0) {
		printf("mapfile: %s: FAIL no memory to measure\n", kind_names[kind]);
		return -1;
	}
	if (backing_alloc(&b, kind, len) != 0)
		return -1;
	pa = calloc(b.npages, sizeof(*pa));
	pa_file = calloc(b.npages, sizeof(*pa_file));
	t = calloc((size_t)MF_METHODS * cycles * MF_METRICS, sizeof(*t));
	if (pa == NULL || pa_file == NULL || t == NULL) {
		printf("mapfile: %s: out of memory\n", kind_names[kind]);
		goto out;
	}
	printf("mapfile: %s: %" PRIu64 " MiB, %" PRIu64 " pages of %" PRIu64
		" KiB, %u cycles\n", kind_names[kind], b.len / MF_MB, b.npages,
		b.pgsz >> 10, cycles);
	for (c = 0; c < cycles; c++) {
		/* Odd cycles (1, 3, ...) MAP first, even ones MAP_FILE. */
		order[0] = c % 2 ? MF_MAP_FILE : MF_MAP;
		order[1] = c % 2 ? MF_MAP : MF_MAP_FILE;
		for (i = 0; i < MF_METHODS; i++) {
			double *r = &t[(order[i] * cycles + c) * MF_METRICS];

			m = order[i];
			if (timed_run(&b, m, pa, r, pinned) != 0)
				goto out;
			printf("mapfile: run backing=%s size_mb=%" PRIu64
				" method=%s cycle=%u map_ms=%.2f get_pa_ms=%.2f unmap_ms=%.2f detach_ms=%.2f exit_ms=%.2f pinned_mb=%.1f detached_mb=%.1f\n",
				kind_names[kind], b.len / MF_MB, method_keys[m], c + 1,
				r[MF_T_MAP], r[MF_T_GET_PA], r[MF_T_UNMAP], r[MF_T_DETACH],
				r[MF_T_EXIT], (double)pinned[0] / MF_MB,
				(double)pinned[1] / MF_MB);
			/*
			 * A lazy map (no device attached) would pin nothing,
			 * and a detach that left pins would time no unpin.
			 */
			if (pinned[0] != (int64_t)b.len || pinned[1] != 0) {
				printf("mapfile: %s: FAIL VmPin grew by %" PRId64
					" KiB with the %s area mapped (not %" PRIu64
					" KiB), %" PRId64 " KiB after the detach (not 0)\n",
					kind_names[kind], pinned[0] >> 10, method_names[m],
					b.len >> 10, pinned[1] >> 10);
				goto out;
			}
		}
		if (cross_check(&b, pa, pa_file, &bad) != 0)
			goto out;
		printf("mapfile: %s: cycle %u: both areas mapped at once, %" PRIu64
			" pages, %" PRIu64 " mismatches\n",
			kind_names[kind], c + 1, b.npages, bad);
		*mismatches += bad;
	}
	print_summary(&b, t, cycles);
	ret = 0;
out:
	free(t);
	free(pa_file);
	free(pa);
	backing_free(&b);
	return ret;
}

int
map_file_run(unsigned int cycles, unsigned int huge_mb, unsigned int small_mb)
{
	uint64_t mismatches = 0;
	unsigned int kind, failed = 0;

	if (cycles == 0)
		cycles = MF_DEFAULT_CYCLES;
	if (huge_mb == 0)
		huge_mb = MF_DEFAULT_HUGE_MB;
	if (small_mb == 0)
		small_mb = MF_DEFAULT_4K_MB;
	for (kind = 0; kind < MF_KINDS; kind++)
		failed += run_backing(kind, kind == MF_MEMFD_4K ? small_mb : huge_mb,
			cycles, &mismatches) != 0;
	printf("mapfile: done, %" PRIu64 " mismatches%s\n", mismatches,
		failed ? ", some backings failed" : "");
	return failed || mismatches ? -1 : 0;
}
