/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * The anon-pool command: a pktmbuf pool over anonymous memory, built as
 * testpmd's --mp-alloc=anon builds it (rte_mempool_populate_anon(), whose
 * pages get their IOVAs from rte_mem_virt2iova()). A primary pins each
 * page on demand: every buffer's IOVA must be its page's physical address.
 * A secondary cannot pin: the populate must fail rather than give the
 * buffers RTE_BAD_IOVA plus an offset, an address near 0 that a device
 * would read and write.
 */

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include "test_noiommu.h"

#define ANON_POOL_MBUFS 512

static void
count_bad_buf_iova(struct rte_mempool *mp __rte_unused, void *arg, void *obj,
		unsigned int idx __rte_unused)
{
	const struct rte_mbuf *m = obj;
	unsigned int *bad = arg;
	rte_iova_t pa = rte_mem_virt2iova(m->buf_addr);

	if (pa == RTE_BAD_IOVA || m->buf_iova != pa)
		(*bad)++;
}

int
anon_pool_run(void)
{
	int primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;
	unsigned int bad = 0;
	int n, ret;

	snprintf(name, sizeof(name), "anon_pool_%d", (int)getpid());
	mp = rte_mempool_create_empty(name, ANON_POOL_MBUFS,
		sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE, 0,
		sizeof(struct rte_pktmbuf_pool_private), SOCKET_ID_ANY, 0);
	if (mp == NULL || rte_mempool_set_ops_byname(mp,
			rte_mbuf_best_mempool_ops(), NULL) != 0) {
		printf("anon-pool: FAIL cannot create an empty pool: %s\n",
			rte_strerror(rte_errno));
		rte_mempool_free(mp);
		return -1;
	}
	n = rte_mempool_populate_anon(mp);
	if (n > 0) {
		rte_pktmbuf_pool_init(mp, NULL);
		rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
		rte_mempool_obj_iter(mp, count_bad_buf_iova, &bad);
		printf("anon-pool: %s: %d mbufs over anonymous memory, %u without their page's IOVA\n",
			primary ? "primary" : "secondary", n, bad);
	} else {
		printf("anon-pool: %s: populate refused: %s\n",
			primary ? "primary" : "secondary",
			rte_strerror(rte_errno));
	}
	/* A primary pins on demand; a secondary must refuse. */
	if (primary)
		ret = n == ANON_POOL_MBUFS && bad == 0 ? 0 : -1;
	else
		ret = n == 0 ? 0 : -1;
	if (ret != 0)
		printf("anon-pool: FAIL a %s must %s\n",
			primary ? "primary" : "secondary",
			primary ? "populate every mbuf at its page's IOVA" :
			"refuse memory it cannot pin");
	rte_mempool_free(mp);
	return ret;
}
