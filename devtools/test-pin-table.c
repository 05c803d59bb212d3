/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * Host unit test of the vfio_cdev bus's pin table
 * (drivers/bus/vfio_cdev/vfio_cdev_pin.c) over a mock IOAS that counts
 * what is mapped: owners' ranges overlap, areas are unmapped whole and
 * only when nobody holds them; then the scale guard: the bookkeeping's
 * cost per pinned page at 100k pages must stay within twice its cost at
 * 10k (pages pinned one by one in address order, as DPDK's page walks
 * do, and dropped in one call, as a heap's free event does).
 * The VM rows test the same code against the real kernel.
 * Built and run by devtools/test-pin-table.sh.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "private.h"

#define PAGE 4096u
#define BASE UINT64_C(0x100000000)

/* The mock IOAS: bytes mapped, and every map and unmap counted. */
static uint64_t mapped;
static unsigned long n_maps;

int
vfio_cdev_ioas_map(const struct vfio_cdev_iommufd *ctx __rte_unused,
		uint64_t va __rte_unused, uint64_t len)
{
	mapped += len;
	n_maps++;
	return 0;
}

int
vfio_cdev_ioas_unmap(const struct vfio_cdev_iommufd *ctx __rte_unused,
		uint64_t va __rte_unused, uint64_t len)
{
	mapped -= len;
	return 0;
}

static const struct vfio_cdev_iommufd ctx = { .fd = -1 };
static int failures;

static void
expect(int ok, const char *what)
{
	if (!ok) {
		printf("pin-table: FAIL %s (mapped %" PRIu64 " pages)\n", what,
			mapped / PAGE);
		failures++;
	}
}

static void
semantics(void)
{
	expect(vfio_cdev_pin(&ctx, "a", BASE, 8 * PAGE) == 0, "a pins 8 pages");
	expect(vfio_cdev_pin(&ctx, "b", BASE + 4 * PAGE, 8 * PAGE) == 0,
		"b pins 8 pages, 4 of them a's");
	expect(mapped == 12 * PAGE, "the overlap is mapped once");
	expect(vfio_cdev_pin(&ctx, "a", BASE + 7 * PAGE, PAGE) == -EEXIST,
		"a's overlapping pin is refused");
	expect(vfio_cdev_pin_holders(BASE, PAGE, "a") == PIN_HELD_BY_OWNER,
		"a alone holds the first page");
	expect(vfio_cdev_pin_holders(BASE + 5 * PAGE, PAGE, "a") ==
		PIN_HELD_BY_OTHERS, "b holds a page of a's too");
	expect(vfio_cdev_unpin(&ctx, "a", BASE, 4 * PAGE) == -ENOENT,
		"only exactly the range pinned unpins");
	expect(vfio_cdev_unpin(&ctx, "a", BASE, 8 * PAGE) == 0, "a unpins");
	/* a's area is unmapped whole, and b still holds part of it. */
	expect(mapped == 12 * PAGE, "a's unpin leaves b's pages pinned");
	expect(vfio_cdev_unpin(&ctx, "b", BASE + 4 * PAGE, 8 * PAGE) == 0,
		"b unpins");
	expect(mapped == 0, "nothing left pinned");

	expect(vfio_cdev_pin(&ctx, "q", BASE + PAGE, PAGE) == 0 &&
		vfio_cdev_pin(&ctx, "q", BASE + 3 * PAGE, PAGE) == 0 &&
		vfio_cdev_pin(&ctx, "d", BASE, 4 * PAGE) == 0,
		"two single pages, then a range over both");
	expect(mapped == 4 * PAGE, "the range maps only the gaps");
	vfio_cdev_unpin_within(&ctx, "q", BASE, 2 * PAGE);
	expect(vfio_cdev_pin_holders(BASE + 3 * PAGE, PAGE, "q") ==
		PIN_HELD_BY_OTHERS, "unpin_within keeps q's page outside it");
	vfio_cdev_unpin_within(&ctx, "q", 0, UINT64_MAX);
	expect(vfio_cdev_pin_holders(BASE + 3 * PAGE, PAGE, "d") ==
		PIN_HELD_BY_OWNER, "d alone holds its range");
	expect(mapped == 4 * PAGE, "d's range stays pinned");
	vfio_cdev_unpin_within(&ctx, "d", 0, UINT64_MAX);
	expect(mapped == 0, "nothing left pinned after unpin_within");
	vfio_cdev_pins_forget();
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ns per page to pin n pages one by one, and to drop them in one call. */
static void
per_page(unsigned int n, double *pin_ns, double *drop_ns)
{
	double t0, t1, t2;
	unsigned int i;

	t0 = now();
	for (i = 0; i < n; i++)
		if (vfio_cdev_pin(&ctx, "pa-query", BASE + (uint64_t)i * PAGE,
				PAGE) != 0)
			failures++;
	t1 = now();
	vfio_cdev_unpin_within(&ctx, "pa-query", 0, UINT64_MAX);
	t2 = now();
	expect(mapped == 0, "every page unpinned");
	*pin_ns = RTE_MIN(*pin_ns, (t1 - t0) * 1e9 / n);
	*drop_ns = RTE_MIN(*drop_ns, (t2 - t1) * 1e9 / n);
}

int
main(void)
{
	double pin_small, drop_small, pin_large, drop_large;
	unsigned int rep;

	semantics();
	/* Best of 7, sizes alternating: a busy host slows single runs. */
	pin_small = drop_small = pin_large = drop_large = 1e30;
	for (rep = 0; rep < 7; rep++) {
		per_page(10000, &pin_small, &drop_small);
		per_page(100000, &pin_large, &drop_large);
	}
	vfio_cdev_pins_forget();
	printf("pin-table: per page, 10k pages: pin %.0f ns, drop %.0f ns; 100k pages: pin %.0f ns (x%.2f), drop %.0f ns (x%.2f)\n",
		pin_small, drop_small, pin_large, pin_large / pin_small,
		drop_large, drop_large / drop_small);
	expect(pin_large <= 2 * pin_small, "pinning 100k pages costs more than twice as much per page as 10k");
	expect(drop_large <= 2 * drop_small, "dropping 100k pages costs more than twice as much per page as 10k");
	printf("pin-table: %s\n", failures ? "FAILED" : "all checks passed");
	return failures ? 1 : 0;
}
