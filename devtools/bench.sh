#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark: one VM runs the cdev backend and the legacy no-IOMMU group
# path side by side (EAL init for 256 MiB, 1 GiB, 2 GiB of 2 MiB pages and
# one 1 GiB page; run-time 2 MiB alloc/free; ioctl and pagemap counts;
# testpmd forwarding rate), then prints a table of medians with
# cdev/legacy ratios and writes build/bench/{bench.txt,bench.csv,bench.png}.
# Usage: devtools/bench.sh   (about 15 minutes under TCG)
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"
dev=$NOIOMMU_TOP/devtools

need_pkgs python3-matplotlib
export VM_SCENARIOS=$dev/bench-scenarios.tsv VM_TIMEOUT=${VM_TIMEOUT:-2400}
NOIOMMU_INITRD=$("$dev/vm-prepare.sh" bench) || die "set-up or build failed"
export NOIOMMU_INITRD
"$dev/vm-run.sh" bench || die "benchmark VM run failed (build/vm/bench/console.log)"
# Debian's python3, which python3-matplotlib installs into.
/usr/bin/python3 "$dev/bench.py" "$NOIOMMU_TOP/build/vm/bench/console.log" "$NOIOMMU_TOP/build/bench"
