#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The long reliability runs, whose short forms are in the test command:
# 1000 cycles of two-lcore memory churn with a secondary allocating and a
# device hot-unplugged mid-run, 200 SIGKILLs of testpmd and 100 of a
# primary with a secondary attached, and 3000 vfio-pci resets of a device
# on one vCPU while the other idles (the load that exposed QEMU's
# multi-threaded TCG losing a timer EOI; see vm-run.sh), and 40 starts of
# testpmd after a SIGKILL, 20 per path, counting stalled forwarding (see
# noiommu-killloop) - the rows of devtools/vm-soak.tsv. The 1000 cycles alone took 40 minutes here beside
# a DPDK build, the 200 kills 8 minutes; allow 80 per row.
# Usage: devtools/soak.sh [RE]; output as run-tests.sh.
set -euo pipefail
dev=$(cd "$(dirname "$0")" && pwd)
export VM_SCENARIOS=$dev/vm-soak.tsv
export VM_TIMEOUT=${VM_TIMEOUT:-7200}
exec "$dev/run-tests.sh" "$@"
