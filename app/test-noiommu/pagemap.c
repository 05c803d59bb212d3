/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/* Reading physical addresses from /proc/PID/pagemap: the independent
 * witness the backend's IOVAs are compared with (needs CAP_SYS_ADMIN).
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_memory.h>

#include "test_noiommu.h"

#define PM_PRESENT (1ULL << 63)
#define PM_PFN_MASK ((1ULL << 55) - 1)

int
pagemap_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY);
	return fd < 0 ? -errno : fd;
}

uint64_t
pagemap_pa(int fd, uint64_t va)
{
	uint64_t pgsz = sysconf(_SC_PAGESIZE), entry;

	if (pread(fd, &entry, sizeof(entry), va / pgsz * sizeof(entry)) !=
			sizeof(entry))
		return RTE_BAD_IOVA;
	if (!(entry & PM_PRESENT) || (entry & PM_PFN_MASK) == 0)
		return RTE_BAD_IOVA;
	return (entry & PM_PFN_MASK) * pgsz + va % pgsz;
}

int
pagemap_check_dump(pid_t pid, const char *path)
{
	uint64_t va, iova, len, pa, pages = 0, bad = 0, no_pfn = 0;
	FILE *f;
	int fd;

	fd = pagemap_open(pid);
	if (fd < 0) {
		fprintf(stderr, "pagemap: cannot open /proc/%d/pagemap: %s\n",
			(int)pid, strerror(-fd));
		return 1;
	}
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "pagemap: cannot open %s: %s\n",
			path, strerror(errno));
		close(fd);
		return 1;
	}
	while (fscanf(f, "%" SCNx64 " %" SCNx64 " %" SCNx64,
			&va, &iova, &len) == 3) {
		pages++;
		pa = pagemap_pa(fd, va);
		if (pa == RTE_BAD_IOVA) {
			no_pfn++;
		} else if (pa != iova) {
			if (bad++ < 10)
				printf("pagemap: va 0x%" PRIx64 " iova 0x%" PRIx64
					" but pagemap pa 0x%" PRIx64 "\n",
					va, iova, pa);
		}
	}
	fclose(f);
	close(fd);
	printf("pagemap check of pid %d: %" PRIu64 " pages, %" PRIu64 " mismatches, %" PRIu64
		" without PFN\n",
		(int)pid, pages, bad, no_pfn);
	if (no_pfn != 0)
		fprintf(stderr, "pagemap: PFNs missing: the checker needs CAP_SYS_ADMIN\n");
	return pages == 0 || bad != 0 || no_pfn != 0;
}
