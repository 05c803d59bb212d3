#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the patched tree, -Werror, for each target the series must build on:
#   gcc    Linux, Debian's gcc (the build the VM tests run)
#   clang  Linux, Debian's clang: what the project changes or adds
#   mingw  Windows, cross-built with MinGW-w64 and DPDK's
#          config/x86/cross-mingw, the same part: the EAL hooks must leave
#          Windows building, and the Linux-only bus and dpdk-test-noiommu
#          must be left out by their meson files
#   freebsd-stubs  FreeBSD cannot be built here: its stubs
#          (lib/eal/freebsd/eal_vfio_cdev.c) are compiled -Werror against
#          the FreeBSD EAL headers and must define every rte_vfio_cdev_*
#          symbol of lib/eal/version.map
# Builds are incremental (devtools/build-dpdk.sh): a warm run takes seconds.
# Usage: build-matrix.sh [gcc|clang|mingw|freebsd-stubs]...   (default: all)
# Prints one line per target; exits non-zero if one failed.
set -uo pipefail
source "$(dirname "$0")/noiommu-common.sh"

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gcc clang mingw freebsd-stubs)
rc=0
err=$(mktemp); obj=$(mktemp); trap 'rm -rf "$err" "$obj" "$obj.inc"' EXIT

# freebsd_stubs GCC_BUILD_DIR: one line, status 0 if the stubs hold.
freebsd_stubs() {
	local tree=$1/../tree want have missing
	tree=$(cd "$tree" && pwd)
	# FreeBSD's rte_os.h wants its libc's <pthread_np.h> and cpuset_t.
	mkdir -p "$obj.inc"
	printf '#define _GNU_SOURCE\n#include <sched.h>\ntypedef cpu_set_t cpuset_t;\n' > "$obj.inc/pthread_np.h"
	gcc -c -Wall -Wextra -Werror -include rte_config.h -I"$1" -I"$tree/config" -I"$obj.inc" \
		-I"$tree/lib/eal/include" -I"$tree/lib/eal/freebsd/include" \
		-I"$tree/lib/eal/x86/include" -I"$tree/lib/kvargs" \
		-o "$obj" "$tree/lib/eal/freebsd/eal_vfio_cdev.c" 2> "$err" ||
		{ echo "freebsd-stubs: FAILED: $(tr '\n' ' ' < "$err" | cut -c1-600)"; return 1; }
	want=$(grep -o 'rte_vfio_cdev_[a-z_]*' "$tree/lib/eal/version.map" | sort -u)
	have=$(nm -g --defined-only "$obj" | awk '{print $3}' | sort -u)
	[ -n "$want" ] || { echo "freebsd-stubs: FAILED: no rte_vfio_cdev_* symbol in lib/eal/version.map"; return 1; }
	missing=$(comm -23 <(echo "$want") <(echo "$have") | tr '\n' ' ')
	if [ -n "$missing" ]; then
		echo "freebsd-stubs: FAILED: version.map symbols without a FreeBSD stub: $missing"
		return 1
	fi
	echo "freebsd-stubs: OK, -Werror against the FreeBSD EAL headers, all $(echo "$want" | wc -l) rte_vfio_cdev_* symbols of version.map defined"
}

for t in "${targets[@]}"; do
	if [ "$t" = freebsd-stubs ]; then
		freebsd_stubs "$(DPDK_TARGET=gcc "$NOIOMMU_TOP/devtools/build-dpdk.sh" 2> /dev/null)" || rc=1
		continue
	fi
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
	gcc)
		if [ -x "$dir/app/dpdk-test-noiommu" ] && [ -e "$dir/drivers/librte_bus_vfio_cdev.a" ]; then
			echo "$t: OK, -Werror, $objs objects, bus/vfio_cdev and dpdk-test-noiommu built"
		else
			echo "$t: FAILED: no bus/vfio_cdev or dpdk-test-noiommu in $dir"
			rc=1
		fi
		;;
	*)
		if ls "$dir"/app/dpdk-test-noiommu.p/*.o > /dev/null 2>&1 &&
			[ -e "$dir/drivers/librte_bus_vfio_cdev.a" ]; then
			echo "$t: OK, -Werror, $objs objects: the project's C files, EAL, bus/pci and bus/vfio_cdev"
		else
			echo "$t: FAILED: no bus/vfio_cdev or dpdk-test-noiommu objects in $dir"
			rc=1
		fi
		;;
	esac
done
exit $rc
