/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

#ifndef TEST_NOIOMMU_H
#define TEST_NOIOMMU_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Result of one walk over the IOVA table. */
struct iova_report {
	uint64_t pages;          /* memsegs checked */
	uint64_t bytes;          /* their total length */
	uint64_t pinned_bytes;   /* of those, internal memory (pinned by EAL) */
	uint64_t runs;           /* IOVA-contiguous runs of VA-adjacent memsegs */
	uint64_t mismatches;     /* IOVA != GET_PA, or != pagemap */
	uint64_t pagemap_checked;
};

/* Compare every memseg's IOVA with the kernel's answer (GET_PA through
 * rte_mem_virt2phy()) and, with pagemap_fd >= 0, with /proc/PID/pagemap.
 */
int iova_table_check(struct iova_report *r, int pagemap_fd, int verbose);
void iova_report_print(const char *what, const struct iova_report *r);
/* Write "va iova len" of every memseg, for a separate pagemap checker. */
int iova_table_dump(const char *path);

/* Pinned memory of this process (VmPin of /proc/self/status), in bytes. */
int64_t vm_pinned_bytes(void);
/*
 * iova_table_check(), and VmPin (stored in *pinned) must equal the pinned
 * memseg total. A secondary may allocate through this process meanwhile:
 * VmPin is read on both sides of the walk, retried while it moves.
 */
int iova_table_check_pinned(struct iova_report *r, int pagemap_fd,
		int64_t *pinned);

/* /proc/PID/pagemap: open (-errno on failure) and translate a VA. */
int pagemap_open(pid_t pid);
uint64_t pagemap_pa(int fd, uint64_t va);
/* The "pagemap PID FILE" command: check a dump against PID's pagemap. */
int pagemap_check_dump(pid_t pid, const char *path);

int churn_run(unsigned int cycles, int pagemap_fd);
/*
 * churn on every lcore at once (memzones of each size, reserved and freed),
 * the table and VmPin checked after each step; with hotplug, the first
 * port's device is removed and probed again mid-run.
 */
int pchurn_run(unsigned int cycles, int pagemap_fd, int cdev, int hotplug);
/* IOVA-contiguous memzones of 8 KiB to 4 MiB, each page checked. */
int contig_run(void);
/* Every lcore queries one anonymous page cycles x 1000 times at once. */
int pquery_run(unsigned int cycles);
/* Remove the first port's device and probe it again (the hotplug command). */
int hotplug_run(int pagemap_fd, int cdev);
/* Reserve memzones until refused; the table stays exact, all is freed. */
int exhaust_run(int pagemap_fd);
/* cdev: also two devices on one buffer, and a heap from virt2iova. */
int extmem_run(int pagemap_fd, int cdev);
int extmem_remapped_run(void);
/* A pktmbuf pool over anonymous memory: exact IOVAs, or refused. */
int anon_pool_run(void);
/* Container DMA maps from a memory event callback, page by page. */
int memevent_run(int pagemap_fd);
/*
 * Every memzone's IOVA, and every page of every ring and mempool chunk,
 * against the kernel's PA (the zones command).
 */
int zones_run(void);
/* Print EAL init time and memseg count as one "bench:" line. */
int bench_init_report(double eal_init_ms);
/* Time run-time 2 MiB page allocation, free and PA lookup; print one line. */
int bench_run(double eal_init_ms);
/*
 * IOMMU_IOAS_MAP_FILE against IOMMU_IOAS_MAP of a hugetlbfs file, a 2 MiB
 * memfd and a 4 KiB memfd, through an iommufd, IOAS and free no-IOMMU
 * device of its own: map, GET_PA of every page, unmap, detach and close
 * timed per method, and every page's PA compared. 0 for the defaults:
 * 3 cycles, 1024 MiB of 2 MiB pages, 256 MiB of 4 KiB pages (less when
 * not free).
 */
int map_file_run(unsigned int cycles, unsigned int huge_mb, unsigned int small_mb);

#endif /* TEST_NOIOMMU_H */
