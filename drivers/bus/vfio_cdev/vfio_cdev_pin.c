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


/* One IOMMU_IOAS_MAP call, and how many users overlap it. */
struct pin_area {
	uint64_t va;
	uint64_t len;
	uint32_t refs;  /* 0 only when the kernel refused to unmap it */
};

/* One user's range, exactly as pinned. */
struct pin_user {
	uint64_t va;
	uint64_t len;
	char owner[VFIO_CDEV_OWNER_LEN];
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
	struct pin_user *users;  /* in no order */
	unsigned int n_users;
	unsigned int max_users;
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

/* Index of the first area ending after va. */
static unsigned int
first_area_after(uint64_t va)
{
	unsigned int lo = 0, hi = pins.n_areas, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (pins.areas[mid].va + pins.areas[mid].len <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct pin_user *
find_user(const char *owner, uint64_t va, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < pins.n_users; i++)
		if (pins.users[i].va == va && pins.users[i].len == len &&
				strcmp(pins.users[i].owner, owner) == 0)
			return &pins.users[i];
	return NULL;
}

static int
owner_overlaps(const char *owner, uint64_t va, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < pins.n_users; i++)
		if (pins.users[i].va < va + len &&
				va < pins.users[i].va + pins.users[i].len &&
				strcmp(pins.users[i].owner, owner) == 0)
			return 1;
	return 0;
}

static void
insert_area(unsigned int at, uint64_t va, uint64_t len)
{
	memmove(&pins.areas[at + 1], &pins.areas[at],
		(pins.n_areas - at) * sizeof(pins.areas[0]));
	pins.areas[at] = (struct pin_area){ .va = va, .len = len };
	pins.n_areas++;
}

/* Drop one reference on every area overlapping [va, va + len). */
static void
release_areas(const struct vfio_cdev_iommufd *ctx, uint64_t va, uint64_t len)
{
	unsigned int i = first_area_after(va);
	struct pin_area *a;

	while (i < pins.n_areas && pins.areas[i].va < va + len) {
		a = &pins.areas[i];
		if (a->refs > 0)
			a->refs--;
		/* A refused unmap keeps the area: the next pin reuses it. */
		if (a->refs == 0 && vfio_cdev_ioas_unmap(ctx, a->va, a->len) == 0) {
			memmove(a, a + 1,
				(pins.n_areas - i - 1) * sizeof(*a));
			pins.n_areas--;
			continue;
		}
		i++;
	}
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
	unsigned int i;
	struct pin_user *u;
	int ret = 0;

	if (len == 0 || ((va | len) & (vfio_cdev_page_size() - 1)) != 0 ||
			end < va)
		return -EINVAL;
	/* Owners are told apart by name: a cut one could be another's. */
	if (strlen(owner) >= VFIO_CDEV_OWNER_LEN)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&pins.lock);
	if (owner_overlaps(owner, va, len)) {
		ret = -EEXIST;
		goto unlock;
	}
	/* Room for the user and for every gap (at most one per area + 1). */
	if (grow((void **)&pins.users, &pins.max_users, pins.n_users + 1,
			sizeof(*pins.users)) != 0 ||
			grow((void **)&pins.areas, &pins.max_areas,
			2 * pins.n_areas + 1, sizeof(*pins.areas)) != 0) {
		ret = -ENOMEM;
		goto unlock;
	}
	/* Map the gaps between the areas already there. */
	i = first_area_after(va);
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
	for (i = first_area_after(va);
			i < pins.n_areas && pins.areas[i].va < end; i++)
		pins.areas[i].refs++;
	u = &pins.users[pins.n_users++];
	u->va = va;
	u->len = len;
	strlcpy(u->owner, owner, sizeof(u->owner));
unlock:
	pthread_mutex_unlock(&pins.lock);
	return ret;
}

int
vfio_cdev_unpin(const struct vfio_cdev_iommufd *ctx, const char *owner,
		uint64_t va, uint64_t len)
{
	struct pin_user *u;

	pthread_mutex_lock(&pins.lock);
	u = find_user(owner, va, len);
	if (u == NULL) {
		pthread_mutex_unlock(&pins.lock);
		return -ENOENT;
	}
	*u = pins.users[--pins.n_users];
	release_areas(ctx, va, len);
	pthread_mutex_unlock(&pins.lock);
	return 0;
}

void
vfio_cdev_unpin_within(const struct vfio_cdev_iommufd *ctx, const char *owner,
		uint64_t va, uint64_t len)
{
	unsigned int i = 0;
	struct pin_user u;

	pthread_mutex_lock(&pins.lock);
	while (i < pins.n_users) {
		u = pins.users[i];
		if (u.va >= va && u.va + u.len <= va + len &&
				strcmp(u.owner, owner) == 0) {
			pins.users[i] = pins.users[--pins.n_users];
			release_areas(ctx, u.va, u.len);
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&pins.lock);
}

int
vfio_cdev_pins_within(const char *owner, uint64_t va, uint64_t len,
		uint64_t **starts)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&pins.lock);
	*starts = malloc(sizeof(**starts) * RTE_MAX(pins.n_users, 1u));
	if (*starts == NULL) {
		pthread_mutex_unlock(&pins.lock);
		return -ENOMEM;
	}
	for (i = 0; i < pins.n_users; i++)
		if (pins.users[i].va >= va &&
				pins.users[i].va + pins.users[i].len <= va + len &&
				strcmp(pins.users[i].owner, owner) == 0)
			(*starts)[n++] = pins.users[i].va;
	pthread_mutex_unlock(&pins.lock);
	return n;
}

enum vfio_cdev_pin_holders
vfio_cdev_pin_holders(uint64_t va, uint64_t len, const char *owner)
{
	enum vfio_cdev_pin_holders h = PIN_HELD_BY_NONE;
	unsigned int i;

	pthread_mutex_lock(&pins.lock);
	for (i = 0; i < pins.n_users; i++) {
		if (pins.users[i].va >= va + len ||
				va >= pins.users[i].va + pins.users[i].len)
			continue;
		if (strcmp(pins.users[i].owner, owner) != 0) {
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
	/* Closing the iommufd unpins everything: only forget the records. */
	pthread_mutex_lock(&pins.lock);
	free(pins.areas);
	free(pins.users);
	pins.areas = NULL;
	pins.users = NULL;
	pins.n_areas = pins.max_areas = 0;
	pins.n_users = pins.max_users = 0;
	pthread_mutex_unlock(&pins.lock);
}
