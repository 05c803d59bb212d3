#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark: VMs run the cdev backend and the legacy no-IOMMU group
# path side by side, in alternating order: EAL init (per phase, and the
# teardown at exit) for 256 MiB, 1, 2 and 4 GiB of 2 MiB pages and 1 and
# 2 GiB of 1 GiB pages, 5 times each; run-time 2 MiB alloc/free; ioctl and
# pagemap counts; testpmd forwarding rate and stop time, 7 times each, on
# e1000e, igb and virtio-net (one VM per NIC model). Then
# prints min/median/max of every figure with cdev/legacy ratios and their
# spread, and writes build/bench/{bench.txt,bench.csv,bench.png}.
# Usage: devtools/bench.sh   (about 15 minutes under TCG)
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"
dev=$NOIOMMU_TOP/devtools

need_pkgs python3-matplotlib
export VM_SCENARIOS=$dev/bench-scenarios.tsv VM_TIMEOUT=${VM_TIMEOUT:-4800}
mapfile -t rows < <("$dev/vm-run.sh" --list)
NOIOMMU_INITRD=$("$dev/vm-prepare.sh" "${rows[@]}") || die "set-up or build failed"
export NOIOMMU_INITRD
logs=()
for row in "${rows[@]}"; do
	"$dev/vm-run.sh" "$row" || die "benchmark VM run $row failed (build/vm/$row/console.log)"
	nic=$(awk -F'\t' -v n="$row" '$1 == n {print $4}' "$VM_SCENARIOS")
	logs+=("$nic=$NOIOMMU_TOP/build/vm/$row/console.log")
done
# Debian's python3, which python3-matplotlib installs into.
/usr/bin/python3 "$dev/bench.py" "$NOIOMMU_TOP/build/bench" "${logs[@]}"
