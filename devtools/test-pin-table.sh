#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build and run devtools/test-pin-table.c on the host: the vfio_cdev bus's
# pin table over a mock IOAS, and its scale guard. Needs the DPDK tree and
# build of build-dpdk.sh (for the headers). Prints its result lines.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

build=$NOIOMMU_CACHE/dpdk/build
tree=$NOIOMMU_CACHE/dpdk/tree
[ -f "$build/rte_build_config.h" ] || die "no DPDK build in $build: run devtools/build-dpdk.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
inc=()
for d in config lib/eal/include lib/eal/linux/include lib/eal/x86/include lib/pci; do
	inc+=("-I$tree/$d")
done
gcc -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -march=corei7 \
	-I"$build" "${inc[@]}" -I"$NOIOMMU_TOP/drivers/bus/vfio_cdev" \
	-include rte_config.h -o "$out/test-pin-table" \
	"$NOIOMMU_TOP/devtools/test-pin-table.c" \
	"$NOIOMMU_TOP/drivers/bus/vfio_cdev/vfio_cdev_pin.c" -lpthread
# Up to three processes: where the arrays land decides whether 100k
# pages' tables miss the caches (35 or 75 ns a page here); an O(n^2)
# table costs 10 times as much at 100k (4.5 us against 53 us a page).
for try in 1 2 3; do
	"$out/test-pin-table" && exit 0
	[ $try -lt 3 ] && echo "pin-table: attempt $try of 3 failed, again"
done
exit 1
