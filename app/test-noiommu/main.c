/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The DPDK no-IOMMU cdev authors
 */

/*
 * dpdk-test-noiommu: checks that the IOVA table of a no-IOMMU DPDK process
 * is exact, at start-up and through memory hotplug and external memory.
 *
 *   dpdk-test-noiommu [EAL options] -- [options] [command...]
 *   dpdk-test-noiommu pagemap PID FILE
 *
 * Commands run in order (default: check churn extmem):
 *   check          every memseg: IOVA == GET_PA (rte_mem_virt2phy)
 *   churn          reserve/free memzones for --cycles N (default 10) cycles
 *   pchurn         the same on every lcore at once; after every reserve
 *                  and every free round the table is checked and VmPin
 *                  must equal the memseg total
 *   contig         reserve IOVA-contiguous memzones of 8 KiB to 4 MiB
 *                  (8 of each size) and check every page against GET_PA
 *   pquery         every lcore asks for the IOVA of one anonymous page,
 *                  --cycles x 1000 times at once: every answer must be
 *                  the page's address (run it last: the page stays pinned)
 *   soak           pchurn with the first port's device hot-unplugged and
 *                  re-probed mid-run (the main lcore's share of a cycle)
 *   exhaust        reserve 1 MiB memzones until one is refused (hugepages
 *                  or RLIMIT_MEMLOCK run out): the table stays exact and
 *                  freeing them gives every page back
 *   extmem         external memory through rte_dev_dma_map()
 *   hotplug        remove the first port's device and probe it again
 *                  (rte_dev_remove/rte_dev_probe): memory stays pinned
 *                  and the IOVA table stays exact; with --vfio-cdev and
 *                  another port left, the kernel's unbind of the removed
 *                  device must complete in between
 *   reinit         a second rte_eal_init() fails with EALREADY and leaves
 *                  this instance as it was: its ports, and every memseg
 *                  still pinned at its IOVA (the check above)
 *   ports          every port has received and sent packets (run it in a
 *                  secondary beside a forwarding primary: reading a port's
 *                  counters uses the device fd the primary passed over)
 *   anon-at        map a private anonymous page at a fixed address and
 *                  ask for its IOVA: a primary gets it (and keeps the page
 *                  pinned), a secondary must get none
 *   anon-pool      a pktmbuf pool over anonymous memory (testpmd's
 *                  --mp-alloc=anon): a primary's mbufs must each have
 *                  their page's IOVA, a secondary's populate must fail
 *   remap          memory whose IOVAs were asked for, unmapped and mapped
 *                  anew at the same address, then registered and DMA-mapped:
 *                  no page may keep the old page's IOVA
 *   memevent       a memory event callback DMA-maps each new page into
 *                  the default VFIO container and unmaps it when freed
 *                  (it runs under EAL's memory lock): 16 MiB allocated and
 *                  freed, every map undone, VmPin the memsegs' again
 *   fork           a child forked after init writes a private page the
 *                  parent pinned (its copy is a new page) and asks for its
 *                  IOVA: it must get none, and the parent's pin (VmPin)
 *                  must be what it was once the child is gone
 *   zones          every memzone's IOVA is its first byte's PA; every page
 *                  of every descriptor ring and vring memzone, and of every
 *                  mempool chunk, is at its IOVA (run it as a secondary
 *                  beside a forwarding primary: what its devices use)
 *   rendezvous     a primary waits until a secondary dpdk-test-noiommu
 *                  is attached (at most a minute), a secondary until the
 *                  primary has pinged it (at most 10 minutes)
 *   wait-secondaries
 *                  (primary) wait until no secondary dpdk-test-noiommu is
 *                  attached: the memory they allocate is the primary's
 *   init           print the EAL init time and the number of memsegs
 *   bench          time 2 MiB page alloc/free and PA lookups (run it
 *                  without -m, so that each allocation maps a page)
 *   mapfile        IOMMU_IOAS_MAP_FILE against IOMMU_IOAS_MAP of a
 *                  hugetlbfs file, a 2 MiB memfd and a 4 KiB memfd: map,
 *                  GET_PA of every page, unmap, detach (the unpin) and
 *                  exit (close with the area mapped) timed per method,
 *                  --cycles times (default 3) in alternating order; every
 *                  page's PA must be the same by both. It takes a free
 *                  no-IOMMU device of its own: run EAL with --no-pci (or
 *                  leave a device out)
 *   dump FILE      write "va iova len" per memseg, then stop (SIGSTOP) so a
 *                  privileged "pagemap" run can read this process's pagemap
 * Options:
 *   --pagemap      also compare with this process's /proc/self/pagemap
 *   --cycles N     churn cycles
 *   --mapfile-mb N, --mapfile-4k-mb N
 *                  mapfile's memory of 2 MiB pages (default 1024) and
 *                  of 4 KiB pages (default 256), less when not available
 *   expect-init-failure
 *                  rte_eal_init() must fail; then, while the process is
 *                  still alive, nothing may be pinned (VmPin), no
 *                  /dev/iommu or VFIO fd open, and every -a device bound
 *                  as before; exit status 0 when all holds
 * The second form needs no EAL: it compares a dump with PID's pagemap.
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_string_fns.h>

#include "test_noiommu.h"

static int
cmd_check(int pagemap_fd, int cdev)
{
	struct iova_report r;
	int64_t pinned;
	int ret;

	ret = iova_table_check(&r, pagemap_fd, 0);
	iova_report_print("check", &r);
	pinned = vm_pinned_bytes();
	printf("check: VmPin %" PRId64 " KiB, memsegs %" PRIu64 " KiB\n",
		pinned / 1024, r.pinned_bytes / 1024);
	/*
	 * With --vfio-cdev the primary pins every memseg, and nothing else
	 * (the pins are charged to the process that made them).
	 */
	if (cdev && rte_eal_process_type() == RTE_PROC_PRIMARY &&
			pinned != (int64_t)r.pinned_bytes) {
		printf("check: FAIL pinned memory differs from the memseg total\n");
		ret = -1;
	}
	return ret;
}

/* The arguments of the first rte_eal_init(), which may reorder argv. */
static char *init_argv[64];
static int init_argc;

static int
cmd_reinit(int pagemap_fd, int cdev)
{
	uint16_t before = rte_eth_dev_count_avail(), after;
	int ret, err;

	ret = rte_eal_init(init_argc, init_argv);
	err = rte_errno;
	after = rte_eth_dev_count_avail();
	printf("reinit: rte_eal_init() again: %d (%s), ports %u before, %u after\n",
		ret, ret < 0 ? rte_strerror(err) : "success", before, after);
	if (ret >= 0 || err != EALREADY || before == 0 || after != before) {
		printf("reinit: FAIL the running instance changed\n");
		return -1;
	}
	return cmd_check(pagemap_fd, cdev);
}

static int
cmd_dump(const char *path)
{
	if (iova_table_dump(path) != 0)
		return -1;
	printf("dump: %s written, pid %d stopping for the pagemap checker\n",
		path, (int)getpid());
	fflush(stdout);
	raise(SIGSTOP);
	return 0;
}

static int
cmd_ports(void)
{
	struct rte_eth_stats st;
	uint16_t port, n = 0;
	int ret = 0;

	RTE_ETH_FOREACH_DEV(port) {
		n++;
		if (rte_eth_stats_get(port, &st) != 0) {
			printf("ports: cannot read port %u counters\n", port);
			ret = -1;
			continue;
		}
		printf("ports: port %u rx %" PRIu64 " tx %" PRIu64 " rx errors %" PRIu64
			" tx errors %" PRIu64 "\n",
			port, st.ipackets, st.opackets, st.ierrors, st.oerrors);
		if (st.ipackets == 0 || st.opackets == 0 ||
				st.ierrors != 0 || st.oerrors != 0)
			ret = -1;
	}
	if (n == 0) {
		printf("ports: no port\n");
		ret = -1;
	}
	return ret;
}

/*
 * Let the kernel have a removed device: unbind it from vfio-pci and bind
 * it again. The unbind waits until no process holds the device, so it runs
 * in a child that must finish within a few seconds.
 */
static int
kernel_rebind(const char *name)
{
	const char *unbind = "/sys/bus/pci/drivers/vfio-pci/unbind";
	const char *probe = "/sys/bus/pci/drivers_probe";
	struct timespec t0, t1;
	int status = -1, waited_ms;
	FILE *f;
	pid_t pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		f = fopen(unbind, "w");
		_exit(f == NULL || fputs(name, f) < 0 || fclose(f) != 0);
	}
	for (waited_ms = 0; pid > 0 && waited_ms < 10000; waited_ms += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(10000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (pid < 0 || waited_ms >= 10000 || status != 0) {
		printf("hotplug: FAIL kernel unbind of %s %s\n", name,
			waited_ms >= 10000 ? "still blocked after 10 s" : "failed");
		return -1;
	}
	printf("hotplug: kernel unbind of %s completed in %.1f ms\n", name,
		(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	/* driver_override still names vfio-pci. */
	f = fopen(probe, "w");
	if (f == NULL || fputs(name, f) < 0 || fclose(f) != 0) {
		printf("hotplug: cannot bind %s to vfio-pci again\n", name);
		return -1;
	}
	return 0;
}

int
hotplug_run(int pagemap_fd, int cdev)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	struct rte_eth_dev_info info;
	struct iova_report r;
	int64_t pin0, pin_removed, pin_back;
	uint16_t port = rte_eth_find_next(0);
	int probed, ret = 0;

	if (port >= RTE_MAX_ETHPORTS || rte_eth_dev_info_get(port, &info) != 0) {
		printf("hotplug: no port: allow a PCI device (-a BDF)\n");
		return -1;
	}
	strlcpy(name, rte_dev_name(info.device), sizeof(name));
	pin0 = vm_pinned_bytes();
	ret = rte_eth_dev_close(port);
	if (ret == 0)
		ret = rte_dev_remove(info.device);
	if (ret != 0) {
		printf("hotplug: cannot remove %s: %s\n", name, strerror(-ret));
		return -1;
	}
	/* Unpinning while pages stay in use would leave stale IOVAs. */
	if (cdev) {
		if (iova_table_check_pinned(&r, pagemap_fd, &pin_removed) != 0 &&
				r.mismatches == 0)
			printf("hotplug: FAIL VmPin %" PRId64
				" KiB after the remove, memsegs %" PRIu64 " KiB\n",
				pin_removed / 1024, r.pinned_bytes / 1024);
		ret |= pin_removed != (int64_t)r.pinned_bytes || r.mismatches;
	} else {
		pin_removed = vm_pinned_bytes();
		ret |= iova_table_check(&r, pagemap_fd, 0);
	}
	iova_report_print("hotplug: after remove", &r);
	/* The backend keeps only the last attached device. */
	if (cdev && rte_eth_dev_count_avail() > 0)
		ret |= kernel_rebind(name);
	probed = rte_dev_probe(name);
	if (probed != 0 || rte_eth_dev_get_port_by_name(name, &port) != 0) {
		printf("hotplug: cannot probe %s again: %s\n", name,
			probed != 0 ? strerror(-probed) : "no port");
		return -1;
	}
	pin_back = vm_pinned_bytes();
	ret |= iova_table_check(&r, pagemap_fd, 0);
	iova_report_print("hotplug: after probe", &r);
	printf("hotplug: %s removed and probed again as port %u, VmPin %" PRId64 " -> %" PRId64
		" -> %" PRId64 " KiB\n",
		name, port, pin0 / 1024, pin_removed / 1024, pin_back / 1024);
	return ret;
}

/* Every test-noiommu process answers this, so a primary can count them. */
#define PING_ACTION "test_noiommu_ping"

/* In a secondary: the primary's ping has reached it. */
static volatile bool pinged;

static int
ping_reply(const struct rte_mp_msg *msg, const void *peer)
{
	struct rte_mp_msg reply = { 0 };

	pinged = true;
	strlcpy(reply.name, msg->name, sizeof(reply.name));
	return rte_mp_reply(&reply, peer);
}

/* Secondary dpdk-test-noiommu processes answering a ping, or -1. */
static int
count_secondaries(void)
{
	struct timespec ts = { .tv_sec = 1 };
	struct rte_mp_msg msg = { 0 };
	struct rte_mp_reply reply;
	int n;

	strlcpy(msg.name, PING_ACTION, sizeof(msg.name));
	if (rte_mp_request_sync(&msg, &reply, &ts) != 0)
		return -1;
	n = reply.nb_received;
	free(reply.msgs);
	return n;
}

/*
 * Ping the secondaries once a second, at most secs times, until some are
 * attached (attached true) or none is: 0, or -1 on timeout or error.
 */
static int
poll_secondaries(bool attached, unsigned int secs)
{
	unsigned int waited;
	int n;

	for (waited = 0; waited < secs; waited++) {
		n = count_secondaries();
		if (n < 0)
			return -1;
		if ((n > 0) == attached)
			return 0;
		sleep(1);
	}
	return -1;
}

/*
 * Keep the primary (and the memory it serves) alive until no secondary
 * test-noiommu is attached any more, at most 10 minutes.
 */
static int
cmd_wait_secondaries(void)
{
	if (rte_eal_process_type() != RTE_PROC_PRIMARY ||
			poll_secondaries(false, 600) == 0)
		return 0;
	printf("wait-secondaries: FAIL secondaries still attached after 10 minutes\n");
	return -1;
}

/*
 * The primary waits until a secondary is attached, the secondary until
 * the primary has seen it (pinged it): however fast either runs, each
 * side's earlier commands are done when both go on.
 */
static int
cmd_rendezvous(void)
{
	int primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	unsigned int waited;

	if (primary && poll_secondaries(true, 60) == 0)
		return 0;
	/* The primary pings once its own commands are done: it may be long. */
	for (waited = 0; !primary && !pinged && waited < 6000; waited++)
		usleep(100 * 1000);
	if (!primary && pinged)
		return 0;
	printf("rendezvous: FAIL %s\n", primary ?
		"no secondary attached within a minute" :
		"no ping from the primary within 10 minutes");
	return -1;
}

/*
 * A private page of this process at one fixed address, the same in a
 * primary and its secondary. The primary gets its IOVA (and keeps it
 * pinned); a secondary must get none: its IOVA queries go to the
 * primary's IOAS, where this address is the primary's page.
 */
#define ANON_AT_VA UINT64_C(0x500000000000)
#define ANON_AT_LEN 4096u

static int
cmd_anon_at(void)
{
	int primary = rte_eal_process_type() == RTE_PROC_PRIMARY;
	void *want = (void *)(uintptr_t)ANON_AT_VA, *p;
	rte_iova_t iova;

	p = mmap(want, ANON_AT_LEN, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != want) {
		printf("anon-at: FAIL cannot map %p: %s\n", want,
			p == MAP_FAILED ? strerror(errno) : "mapped elsewhere");
		if (p != MAP_FAILED)
			munmap(p, ANON_AT_LEN);
		return -1;
	}
	memset(p, primary ? 1 : 2, ANON_AT_LEN);
	iova = rte_mem_virt2iova(p);
	if (primary) {
		printf("anon-at: primary's private page at %p has IOVA 0x%" PRIx64 "\n",
			p, iova);
		return iova == RTE_BAD_IOVA ? -1 : 0;
	}
	if (iova == RTE_BAD_IOVA)
		printf("anon-at: secondary's private page at %p: no IOVA\n", p);
	else
		printf("anon-at: FAIL secondary's private page at %p has IOVA 0x%" PRIx64 "\n",
			p, iova);
	munmap(p, ANON_AT_LEN);
	return iova == RTE_BAD_IOVA ? 0 : -1;
}

/*
 * A child forked after rte_eal_init() shares the IOAS with its parent
 * but not its private pages: the parent pins a page by asking for its
 * IOVA, the child writes it (copy on write) and asks too.
 */
static int
cmd_fork(void)
{
	const size_t len = (size_t)sysconf(_SC_PAGESIZE);
	rte_iova_t iova, again;
	int64_t pin_before, pin_after;
	int status, child_ok;
	pid_t child;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("fork: FAIL mmap: %s\n", strerror(errno));
		return -1;
	}
	memset(p, 1, len);
	iova = rte_mem_virt2iova(p);
	pin_before = vm_pinned_bytes();
	fflush(stdout);
	child = fork();
	if (child == 0) {
		memset(p, 2, len);
		iova = rte_mem_virt2iova(p);
		if (iova == RTE_BAD_IOVA)
			printf("fork: the child's copy of the parent's pinned page: no IOVA\n");
		else
			printf("fork: FAIL the child's copy of the parent's pinned page has IOVA 0x%"
				PRIx64 "\n", iova);
		fflush(stdout);
		_exit(iova == RTE_BAD_IOVA ? 0 : 1);
	}
	child_ok = child > 0 && waitpid(child, &status, 0) == child &&
		WIFEXITED(status) && WEXITSTATUS(status) == 0;
	pin_after = vm_pinned_bytes();
	again = rte_mem_virt2iova(p);
	munmap(p, len);
	printf("fork: parent's page IOVA 0x%" PRIx64 " (0x%" PRIx64
		" after the child), VmPin %" PRId64 " KiB before the child, %"
		PRId64 " KiB after\n",
		iova, again, pin_before / 1024, pin_after / 1024);
	if (iova == RTE_BAD_IOVA || again != iova || pin_after != pin_before) {
		printf("fork: FAIL the child changed the parent's pins\n");
		return -1;
	}
	return child_ok ? 0 : -1;
}

/* Open fds of this process on /dev/iommu, and on VFIO nodes or devices. */
static void
count_vfio_fds(unsigned int *iommu, unsigned int *vfio)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct dirent *e;
	ssize_t n;
	DIR *dir;

	*iommu = *vfio = 0;
	dir = opendir("/proc/self/fd");
	if (dir == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, "/dev/iommu") == 0)
			(*iommu)++;
		else if (strncmp(target, "/dev/vfio/", 10) == 0 ||
				strstr(target, "[vfio") != NULL)
			(*vfio)++;
	}
	closedir(dir);
}

/* " BDF=driver" for every -a BDF of the EAL arguments. */
static void
device_bindings(int argc, char **argv, char *buf, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	int i;

	buf[0] = '\0';
	for (i = 1; i + 1 < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-a") != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver",
			argv[i + 1]);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		snprintf(buf + strlen(buf), size - strlen(buf), " %s=%s",
			argv[i + 1], n > 0 ? basename(link) : "none");
	}
}

/* After a failed rte_eal_init(): what did the failure leave behind? */
static int
init_failure_report(int argc, char **argv, const char *bound_before)
{
	char bound[512];
	unsigned int iommu, vfio;
	int64_t pinned = vm_pinned_bytes();

	count_vfio_fds(&iommu, &vfio);
	device_bindings(argc, argv, bound, sizeof(bound));
	printf("init-failure: VmPin %" PRId64 " KiB, %u /dev/iommu fds, %u VFIO fds, devices:%s\n",
		pinned / 1024, iommu, vfio, bound);
	rte_eal_cleanup();
	if (pinned != 0 || iommu != 0 || vfio != 0 ||
			strcmp(bound, bound_before) != 0) {
		printf("init-failure: FAIL the failed init left something pinned or open, or changed a binding (before:%s)\n",
			bound_before);
		return 1;
	}
	printf("init-failure: nothing left pinned or open, device bindings unchanged\n");
	return 0;
}

static int
has_arg(int argc, char **argv, const char *arg)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], arg) == 0)
			return 1;
	return 0;
}

static double eal_init_ms;
/* --cycles given (else each command's default), mapfile's sizes. */
static bool cycles_given;
static unsigned int mapfile_mb, mapfile_4k_mb;

static int
run_command(const char *cmd, const char *dump_path, unsigned int cycles,
		int pagemap_fd, int cdev)
{
	if (strcmp(cmd, "init") == 0)
		return bench_init_report(eal_init_ms);
	if (strcmp(cmd, "bench") == 0)
		return bench_run(eal_init_ms);
	if (strcmp(cmd, "mapfile") == 0)
		return map_file_run(cycles_given ? cycles : 0, mapfile_mb,
				mapfile_4k_mb);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(pagemap_fd, cdev);
	if (strcmp(cmd, "churn") == 0)
		return churn_run(cycles, pagemap_fd);
	if (strcmp(cmd, "pchurn") == 0)
		return pchurn_run(cycles, pagemap_fd, cdev, 0);
	if (strcmp(cmd, "contig") == 0)
		return contig_run();
	if (strcmp(cmd, "pquery") == 0)
		return pquery_run(cycles);
	if (strcmp(cmd, "soak") == 0)
		return pchurn_run(cycles, pagemap_fd, cdev, 1);
	if (strcmp(cmd, "exhaust") == 0)
		return exhaust_run(pagemap_fd);
	if (strcmp(cmd, "extmem") == 0)
		return extmem_run(pagemap_fd, cdev);
	if (strcmp(cmd, "remap") == 0)
		return extmem_remapped_run();
	if (strcmp(cmd, "memevent") == 0)
		return memevent_run(pagemap_fd);
	if (strcmp(cmd, "hotplug") == 0)
		return hotplug_run(pagemap_fd, cdev);
	if (strcmp(cmd, "reinit") == 0)
		return cmd_reinit(pagemap_fd, cdev);
	if (strcmp(cmd, "ports") == 0)
		return cmd_ports();
	if (strcmp(cmd, "wait-secondaries") == 0)
		return cmd_wait_secondaries();
	if (strcmp(cmd, "rendezvous") == 0)
		return cmd_rendezvous();
	if (strcmp(cmd, "anon-at") == 0)
		return cmd_anon_at();
	if (strcmp(cmd, "anon-pool") == 0)
		return anon_pool_run();
	if (strcmp(cmd, "fork") == 0)
		return cmd_fork();
	if (strcmp(cmd, "zones") == 0)
		return zones_run();
	if (strcmp(cmd, "dump") == 0 && dump_path != NULL)
		return cmd_dump(dump_path);
	printf("unknown command '%s' (check, churn, pchurn, contig, pquery, soak, exhaust, extmem, remap, memevent, hotplug, reinit, ports, anon-at, anon-pool, fork, zones, rendezvous, wait-secondaries, init, bench, mapfile, dump FILE)\n",
		cmd);
	return -1;
}

int
main(int argc, char **argv)
{
	static const char * const default_cmds[] = { "check", "churn", "extmem" };
	const char *cmds[16], *dump_path = NULL;
	char bound_before[512];
	unsigned int cycles = 10, ncmds = 0, c;
	int pagemap_fd = -1, cdev, expect_failure, failed = 0, i, n;
	struct timespec t0, t1;
	uint16_t port;

	if (argc == 4 && strcmp(argv[1], "pagemap") == 0)
		return pagemap_check_dump(atoi(argv[2]), argv[3]);

	/* Scripts wait for a line before starting a secondary: flush each. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	cdev = has_arg(argc, argv, "--vfio-cdev");
	expect_failure = strcmp(argv[argc - 1], "expect-init-failure") == 0;
	device_bindings(argc, argv, bound_before, sizeof(bound_before));
	for (init_argc = 0; init_argc < argc &&
			init_argc < (int)RTE_DIM(init_argv); init_argc++)
		init_argv[init_argc] = argv[init_argc];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = rte_eal_init(argc, argv);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	eal_init_ms = (t1.tv_sec - t0.tv_sec) * 1e3 +
		(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (expect_failure) {
		if (n >= 0) {
			printf("init-failure: FAIL EAL init succeeded\n");
			rte_eal_cleanup();
			return 1;
		}
		return init_failure_report(argc, argv, bound_before);
	}
	if (n < 0) {
		fprintf(stderr, "test-noiommu: EAL init failed\n");
		return 1;
	}
	argc -= n;
	argv += n;
	if (rte_mp_action_register(PING_ACTION, ping_reply) != 0 &&
			rte_errno != ENOTSUP)
		failed++;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pagemap") == 0) {
			pagemap_fd = pagemap_open(getpid());
			if (pagemap_fd < 0) {
				printf("cannot open pagemap: %s\n",
					strerror(-pagemap_fd));
				failed++;
			}
		} else if (strcmp(argv[i], "--cycles") == 0 && i + 1 < argc) {
			cycles = strtoul(argv[++i], NULL, 0);
			cycles_given = true;
		} else if (strcmp(argv[i], "--mapfile-mb") == 0 && i + 1 < argc) {
			mapfile_mb = strtoul(argv[++i], NULL, 0);
		} else if (strcmp(argv[i], "--mapfile-4k-mb") == 0 &&
				i + 1 < argc) {
			mapfile_4k_mb = strtoul(argv[++i], NULL, 0);
		} else if (ncmds < RTE_DIM(cmds)) {
			cmds[ncmds++] = argv[i];
			if (strcmp(argv[i], "dump") == 0 && i + 1 < argc)
				dump_path = argv[++i];
		}
	}
	if (ncmds == 0)
		for (c = 0; c < RTE_DIM(default_cmds); c++)
			cmds[ncmds++] = default_cmds[c];
	for (c = 0; c < ncmds; c++)
		failed += run_command(cmds[c], dump_path, cycles, pagemap_fd,
				cdev) != 0;

	/* Ports belong to the primary: a secondary leaves them running. */
	if (rte_eal_process_type() == RTE_PROC_PRIMARY)
		RTE_ETH_FOREACH_DEV(port)
			rte_eth_dev_close(port);
	rte_eal_cleanup();
	printf("test-noiommu: %s\n", failed ? "FAILED" : "all checks passed");
	return failed ? 1 : 0;
}
