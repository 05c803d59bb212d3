#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The benchmark: VMs run the cdev backend and the legacy no-IOMMU group
# path side by side, in alternating order: EAL init (per phase, and the
# teardown at exit) for 256 MiB, 1, 2 and 4 GiB of 2 MiB pages and 1 and
# 2 GiB of 1 GiB pages, 5 times each; run-time 2 MiB alloc/free; ioctl and
# pagemap counts; testpmd forwarding rate and stop time, 7 times each, on
# e1000e, igb and virtio-net (one VM per NIC model); testpmd start-up and
# exit for --mp-alloc native, anon, xmem and xmemhuge at 8k, 128k and 1M
# mbufs, 3 times each (row bench-startup, e1000e); IOMMU_IOAS_MAP_FILE
# against IOMMU_IOAS_MAP of hugetlbfs and memfd memory, 3 cycles (row
# bench-mapfile, dpdk-test-noiommu mapfile). Then
# prints min/median/max of every figure with cdev/legacy ratios and their
# spread, and writes build/bench/{bench.txt,bench.csv,bench.png} (and
# bench-startup.png when the start-up row ran, bench-mapfile.csv when the
# mapfile row ran).
# Usage: devtools/bench.sh [RE]   (all rows: about 15 minutes under TCG,
#        plus the start-up row's own time)
#   RE: only the rows whose name or a tag matches (vm-run.sh --list RE),
#   e.g. 'startup', 'mapfile', or '^bench(-fwd-.*)?$' for EAL init,
#   allocation and forwarding.
#   BENCH_STARTUP="[-t SECS] REPS MODE[,MODE...] MBUFS...": the start-up
#   row's arguments instead of the table's, e.g. BENCH_STARTUP="1 native
#   8192" for a short run; -t SECS: no (mode, size) group that would end
#   past SECS s of the row (devtools/guest/noiommu-bench).
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"
dev=$NOIOMMU_TOP/devtools

need_pkgs python3-matplotlib
export VM_SCENARIOS=$dev/bench-scenarios.tsv VM_TIMEOUT=${VM_TIMEOUT:-4800}
if [ -n "${BENCH_STARTUP:-}" ]; then
	[[ $BENCH_STARTUP =~ ^(-t\ [0-9]+\ )?[0-9]+\ [a-z,]+(\ [0-9]+)+$ ]] ||
		die "BENCH_STARTUP='$BENCH_STARTUP': want [-t SECS] REPS MODE[,MODE...] MBUFS..."
	mkdir -p "$NOIOMMU_TOP/build/bench"
	tsv=$NOIOMMU_TOP/build/bench/bench-scenarios.tsv
	awk -F'\t' -v OFS='\t' -v a="noiommu-bench startup $BENCH_STARTUP" \
		'$1 == "bench-startup" {$10 = a} {print}' "$VM_SCENARIOS" > "$tsv"
	VM_SCENARIOS=$tsv
fi
mapfile -t rows < <("$dev/vm-run.sh" --list "${1:-.}")
[ ${#rows[@]} -gt 0 ] || die "no benchmark row matches '${1:-.}'"
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
