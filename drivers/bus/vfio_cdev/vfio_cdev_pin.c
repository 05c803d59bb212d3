/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * Who holds which part of the IOAS.
 *
 * The kernel pins in units of IOMMU_IOAS_MAP calls ("areas"): areas never
 * overlap and each must be unmapped whole. DPDK's users of pinned memory
 * overlap freely: EAL's memsegs, each device's rte_dev_dma_map(), the
 * default container's DMA maps, physical address queries of memory nobody
 * had pinned. So every user's range is recorded exactly; pinning maps only
 * the parts no area covers yet and takes a reference on every area the
 * range overlaps; unpinning drops those references and unmaps the areas
 * nobody holds any more. One user's unmap never unpins another's memory.
 *
 * While a user holds a range, the areas it overlaps stay, and no new area
 * can appear inside it, so its unpin drops exactly what its pin took.
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_string_fns.h>

#include "private.h"

/* One IOMMU_IOAS_MAP call, and how many owners' ranges overlap it. */
struct pin_area {
	uint64_t va;
	uint64_t len;
	uint32_t refs;  /* 0 only when the kernel refused to unmap it */
};

struct pin_range {
	uint64_t va;
	uint64_t len;
};

/*
 * One user of pinned memory and its ranges, exactly as pinned. An owner's
 * ranges never overlap, so sorted by address they are found by binary
 * search: no operation walks all pins, and owners (a handful: memsegs,
 * PA queries, the container, each device) are compared by name once per
 * call, not once per range.
 */
struct pin_owner {
	char name[VFIO_CDEV_OWNER_LEN];
	struct pin_range *ranges;  /* sorted by va */
	unsigned int n;
	unsigned int max;
};

/*
 * A mutex, not a spinlock: it is held across IOMMU_IOAS_MAP and UNMAP,
 * which take milliseconds per GiB (about 140 ms to unmap 1 GiB under
 * emulation), and a datapath lcore asking for an IOVA must not spin that
 * long.
 */
static struct {
	pthread_mutex_t lock;
	struct pin_area *areas;  /* sorted by va */
	unsigned int n_areas;
	unsigned int max_areas;
	struct pin_owner *owners;
	unsigned int n_owners;
	unsigned int max_owners;
} pins = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int
grow(void **arr, unsigned int *max, unsigned int need, size_t elt)
{
	unsigned int n = *max ? *max : 64;
	void *p;

	if (need <= *max)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*arr, (size_t)n * elt);
	if (p == NULL)
		return -ENOMEM;
	*arr = p;
	*max = n;
	return 0;
}

/* End of [va, va + len), saturated (callers pass 0, UINT64_MAX for all). */
static uint64_t
range_end(uint64_t va, uint64_t len)
{
	return len > UINT64_MAX - va ? UINT64_MAX : va + len;
}

/*
 * Index of the first area ending after va. Pages are mostly pinned in
 * address order (DPDK walks its pages): past the last area is asked first.
 */
static unsigned int
first_area_after(uint64_t va)
{
	unsigned int lo = 0, hi = pins.n_areas, mid;

	if (hi == 0 || pins.areas[hi - 1].va + pins.areas[hi - 1].len <= va)
		return hi;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (pins.areas[mid].va + pins.areas[mid].len <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of the first of o's ranges ending after va (the same way). */
static unsigned int
first_range_after(const struct pin_owner *o, uint64_t va)
{
	unsigned int lo = 0, hi = o->n, mid;

	if (hi == 0 || o->ranges[hi - 1].va + o->ranges[hi - 1].len <= va)
		return hi;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (o->ranges[mid].va + o->ranges[mid].len <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* o's ranges lying wholly within [va, end): [*first, return value). */
static unsigned int
ranges_within(const struct pin_owner *o, uint64_t va, uint64_t end,
		unsigned int *first)
{
	unsigned int i = first_range_after(o, va), j;

	/* Disjoint: only the first can start before va. */
	if (i < o->n && o->ranges[i].va < va)
		i++;
	for (j = i; j < o->n && o->ranges[j].va + o->ranges[j].len <= end; j++)
		;
	*first = i;
	return j;
}

static struct pin_owner *
find_owner(const char *name)
{
	unsigned int i;

	for (i = 0; i < pins.n_owners; i++)
		if (strcmp(pins.owners[i].name, name) == 0)
			return &pins.owners[i];
	return NULL;
}

static struct pin_owner *
add_owner(const char *name)
{
	struct pin_owner *o;

	if (grow((void **)&pins.owners, &pins.max_owners, pins.n_owners + 1,
			sizeof(*pins.owners)) != 0)
		return NULL;
	o = &pins.owners[pins.n_owners++];
	memset(o, 0, sizeof(*o));
	strlcpy(o->name, name, sizeof(o->name));
	return o;
}

static void
insert_area(unsigned int at, uint64_t va, uint64_t len)
{
	memmove(&pins.areas[at + 1], &pins.areas[at],
		(pins.n_areas - at) * sizeof(pins.areas[0]));
	pins.areas[at] = (struct pin_area){ .va = va, .len = len };
	pins.n_areas++;
}

/*
 * Drop one reference per range (n of them, sorted, disjoint) on every
 * area the range overlaps, and unmap the areas nobody holds any more. One
 * pass over the areas concerned, however many ranges go at once.
 */
static void
release_ranges(const struct vfio_cdev_iommufd *ctx, const struct pin_range *r,
		unsigned int n)
{
	unsigned int k, w, j = 0, m;
	struct pin_area a;
	uint32_t drop;

	if (n == 0)
		return;
	k = w = first_area_after(r[0].va);
	for (; k < pins.n_areas && j < n; k++) {
		a = pins.areas[k];
		while (j < n && r[j].va + r[j].len <= a.va)
			j++;
		drop = 0;
		for (m = j; m < n && r[m].va < a.va + a.len; m++)
			drop++;
		a.refs -= RTE_MIN(drop, a.refs);
		/* A refused unmap keeps the area: the next pin reuses it. */
		if (drop > 0 && a.refs == 0 &&
				vfio_cdev_ioas_unmap(ctx, a.va, a.len) == 0)
			continue;
		pins.areas[w++] = a;
	}
	memmove(&pins.areas[w], &pins.areas[k],
		(pins.n_areas - k) * sizeof(pins.areas[0]));
	pins.n_areas -= k - w;
}

uint64_t
vfio_cdev_page_size(void)
{
	static uint64_t size;

	if (size == 0)
		size = (uint64_t)sysconf(_SC_PAGESIZE);
	return size;
}

int
vfio_cdev_pin(const struct vfio_cdev_iommufd *ctx, const char *owner,
		uint64_t va, uint64_t len)
{
	uint64_t end = va + len, cur = va, gap_end;
	unsigned int i, first, last, at;
	struct pin_owner *o;
	int ret = 0;

	if (len == 0 || ((va | len) & (vfio_cdev_page_size() - 1)) != 0 ||
			end < va)
		return -EINVAL;
	/* Owners are told apart by name: a cut one could be another's. */
	if (strlen(owner) >= VFIO_CDEV_OWNER_LEN)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&pins.lock);
	o = find_owner(owner);
	if (o == NULL)
		o = add_owner(owner);
	if (o == NULL) {
		ret = -ENOMEM;
		goto unlock;
	}
	at = first_range_after(o, va);
	if (at < o->n && o->ranges[at].va < end) {
		ret = -EEXIST;
		goto unlock;
	}
	/* Room for the range and for every gap (one per area + 1). */
	first = first_area_after(va);
	last = first_area_after(end);
	if (grow((void **)&o->ranges, &o->max, o->n + 1,
			sizeof(*o->ranges)) != 0 ||
			grow((void **)&pins.areas, &pins.max_areas,
			pins.n_areas + last - first + 2,
			sizeof(*pins.areas)) != 0) {
		ret = -ENOMEM;
		goto unlock;
	}
	/* Map the gaps between the areas already there. */
	i = first;
	while (cur < end) {
		gap_end = i < pins.n_areas ? RTE_MIN(pins.areas[i].va, end) : end;
		if (cur < gap_end) {
			ret = vfio_cdev_ioas_map(ctx, cur, gap_end - cur);
			if (ret != 0)
				break;
			insert_area(i++, cur, gap_end - cur);
			cur = gap_end;
			continue;
		}
		cur = pins.areas[i].va + pins.areas[i].len;
		i++;
	}
	if (ret != 0) {
		/* Undo this call's new areas: the only ones nobody holds. */
		i = first_area_after(va);
		while (i < pins.n_areas && pins.areas[i].va < end) {
			if (pins.areas[i].refs == 0 &&
					vfio_cdev_ioas_unmap(ctx, pins.areas[i].va,
						pins.areas[i].len) == 0) {
				memmove(&pins.areas[i], &pins.areas[i + 1],
					(pins.n_areas - i - 1) *
					sizeof(pins.areas[0]));
				pins.n_areas--;
				continue;
			}
			i++;
		}
		goto unlock;
	}
	for (i = first; i < pins.n_areas && pins.areas[i].va < end; i++)
		pins.areas[i].refs++;
	memmove(&o->ranges[at + 1], &o->ranges[at],
		(o->n - at) * sizeof(o->ranges[0]));
	o->ranges[at] = (struct pin_range){ .va = va, .len = len };
	o->n++;
unlock:
	pthread_mutex_unlock(&pins.lock);
	return ret;
}

int
vfio_cdev_unpin(const struct vfio_cdev_iommufd *ctx, const char *owner,
		uint64_t va, uint64_t len)
{
	struct pin_owner *o;
	struct pin_range r;
	unsigned int i;

	pthread_mutex_lock(&pins.lock);
	o = find_owner(owner);
	i = o != NULL ? first_range_after(o, va) : 0;
	if (o == NULL || i >= o->n || o->ranges[i].va != va ||
			o->ranges[i].len != len) {
		pthread_mutex_unlock(&pins.lock);
		return -ENOENT;
	}
	r = o->ranges[i];
	memmove(&o->ranges[i], &o->ranges[i + 1],
		(o->n - i - 1) * sizeof(o->ranges[0]));
	o->n--;
	release_ranges(ctx, &r, 1);
	pthread_mutex_unlock(&pins.lock);
	return 0;
}

void
vfio_cdev_unpin_within(const struct vfio_cdev_iommufd *ctx, const char *owner,
		uint64_t va, uint64_t len)
{
	struct pin_owner *o;
	unsigned int i, j;

	pthread_mutex_lock(&pins.lock);
	o = find_owner(owner);
	j = i = 0;
	if (o != NULL)
		j = ranges_within(o, va, range_end(va, len), &i);
	if (j > i) {
		release_ranges(ctx, &o->ranges[i], j - i);
		memmove(&o->ranges[i], &o->ranges[j],
			(o->n - j) * sizeof(o->ranges[0]));
		o->n -= j - i;
	}
	pthread_mutex_unlock(&pins.lock);
}

int
vfio_cdev_pins_within(const char *owner, uint64_t va, uint64_t len,
		uint64_t **starts)
{
	struct pin_owner *o;
	unsigned int i, j, k;

	pthread_mutex_lock(&pins.lock);
	o = find_owner(owner);
	i = j = 0;
	if (o != NULL)
		j = ranges_within(o, va, range_end(va, len), &i);
	/* Most calls (a memseg pinned at allocation) find none. */
	*starts = j > i ? malloc(sizeof(**starts) * (j - i)) : NULL;
	if (j > i && *starts == NULL) {
		pthread_mutex_unlock(&pins.lock);
		return -ENOMEM;
	}
	for (k = i; k < j; k++)
		(*starts)[k - i] = o->ranges[k].va;
	pthread_mutex_unlock(&pins.lock);
	return j - i;
}

enum vfio_cdev_pin_holders
vfio_cdev_pin_holders(uint64_t va, uint64_t len, const char *owner)
{
	enum vfio_cdev_pin_holders h = PIN_HELD_BY_NONE;
	uint64_t end = range_end(va, len);
	struct pin_owner *o;
	unsigned int i;

	pthread_mutex_lock(&pins.lock);
	for (o = pins.owners; o < pins.owners + pins.n_owners; o++) {
		i = first_range_after(o, va);
		if (i >= o->n || o->ranges[i].va >= end)
			continue;
		if (strcmp(o->name, owner) != 0) {
			h = PIN_HELD_BY_OTHERS;
			break;
		}
		h = PIN_HELD_BY_OWNER;
	}
	pthread_mutex_unlock(&pins.lock);
	return h;
}

void
vfio_cdev_pins_forget(void)
{
	unsigned int i;

	/* Closing the iommufd unpins everything: only forget the records. */
	pthread_mutex_lock(&pins.lock);
	for (i = 0; i < pins.n_owners; i++)
		free(pins.owners[i].ranges);
	free(pins.owners);
	free(pins.areas);
	pins.owners = NULL;
	pins.areas = NULL;
	pins.n_owners = pins.max_owners = 0;
	pins.n_areas = pins.max_areas = 0;
	pthread_mutex_unlock(&pins.lock);
}
