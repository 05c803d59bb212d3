#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark: one VM runs the cdev backend and the legacy no-IOMMU group
# path side by side, in alternating order: EAL init (per phase, and the
# teardown at exit) for 256 MiB, 1, 2 and 4 GiB of 2 MiB pages and 1 and
# 2 GiB of 1 GiB pages, 5 times each; run-time 2 MiB alloc/free; ioctl and
# pagemap counts; testpmd forwarding rate and stop time, 7 times each. Then
# prints min/median/max of every figure with cdev/legacy ratios and their
# spread, and writes build/bench/{bench.txt,bench.csv,bench.png}.
# Usage: devtools/bench.sh   (about 30 minutes under TCG)
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"
dev=$NOIOMMU_TOP/devtools

need_pkgs python3-matplotlib
export VM_SCENARIOS=$dev/bench-scenarios.tsv VM_TIMEOUT=${VM_TIMEOUT:-4800}
NOIOMMU_INITRD=$("$dev/vm-prepare.sh" bench) || die "set-up or build failed"
export NOIOMMU_INITRD
"$dev/vm-run.sh" bench || die "benchmark VM run failed (build/vm/bench/console.log)"
# Debian's python3, which python3-matplotlib installs into.
/usr/bin/python3 "$dev/bench.py" "$NOIOMMU_TOP/build/vm/bench/console.log" "$NOIOMMU_TOP/build/bench"
