#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the patched tree, -Werror, for each target the series must build on:
#   gcc    Linux, Debian's gcc (the build the VM tests run)
#   clang  Linux, Debian's clang
#   mingw  Windows, cross-built with MinGW-w64 and DPDK's
#          config/x86/cross-mingw: the EAL hooks must leave Windows
#          building, and the Linux-only bus and dpdk-test-noiommu must be
#          left out by their meson files
# FreeBSD cannot be built here; lib/eal/freebsd/eal_vfio_cdev.c holds the
# stubs it needs. Builds are incremental (devtools/build-dpdk.sh): a warm
# run takes seconds.
# Usage: build-matrix.sh [gcc|clang|mingw]...   (default: all three)
# Prints one line per target; exits non-zero if one failed.
set -uo pipefail
source "$(dirname "$0")/noiommu-common.sh"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gcc clang mingw)
rc=0
err=$(mktemp); trap 'rm -f "$err"' EXIT
for t in "${targets[@]}"; do
	if ! dir=$(DPDK_TARGET=$t "$NOIOMMU_TOP/devtools/build-dpdk.sh" 2> "$err"); then
		echo "$t: FAILED: $(grep -v '^\[' "$err" | tr '\n' ' ' | cut -c1-600)"
		rc=1
		continue
	fi
	objs=$(find "$dir" -name '*.o' -o -name '*.obj' | wc -l)
	case $t in
	mingw)
		if [ -e "$dir/lib/librte_eal.a" ] && [ -e "$dir/drivers/librte_bus_pci.a" ] &&
			[ ! -e "$dir/drivers/librte_bus_vfio_cdev.a" ] &&
			[ ! -e "$dir/app/dpdk-test-noiommu.exe" ]; then
			echo "$t: OK, -Werror, $objs objects; EAL and bus/pci built, bus/vfio_cdev and dpdk-test-noiommu left out"
		else
			echo "$t: FAILED: want librte_eal.a and librte_bus_pci.a, no bus/vfio_cdev or dpdk-test-noiommu.exe in $dir"
			rc=1
		fi
		;;
	*)
		if [ -x "$dir/app/dpdk-test-noiommu" ] && [ -e "$dir/drivers/librte_bus_vfio_cdev.a" ]; then
			echo "$t: OK, -Werror, $objs objects, bus/vfio_cdev and dpdk-test-noiommu built"
		else
			echo "$t: FAILED: no bus/vfio_cdev or dpdk-test-noiommu in $dir"
			rc=1
		fi
		;;
	esac
done
exit $rc
