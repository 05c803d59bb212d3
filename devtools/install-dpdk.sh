#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install the patched DPDK (shared libraries and driver SDK headers, with
# the EAL patches but without the bus plugin and dpdk-test-noiommu, which
# the root meson.build builds out of tree) into $NOIOMMU_CACHE/dpdk/prefix.
# Prints the PKG_CONFIG_PATH to use.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

# EAL loads no plugin from under a world-writable directory.
d=$NOIOMMU_CACHE
while [ "$d" != / ] && [ -n "$d" ]; do
	[ -d "$d" ] && [ -n "$(find "$d" -maxdepth 0 -perm -0002)" ] &&
		die "$d is world-writable: a DPDK installed under it cannot load plugins; set NOIOMMU_CACHE elsewhere"
	d=$(dirname "$d")
done
build=$(DPDK_LINK=shared "$NOIOMMU_TOP/devtools/build-dpdk.sh")
log "installing DPDK into $NOIOMMU_CACHE/dpdk/prefix"
meson install -C "$build" --quiet > "$build/install.log" 2>&1 ||
	{ tail -20 "$build/install.log" >&2; die "meson install failed (log $build/install.log)"; }
pc=$(find "$NOIOMMU_CACHE/dpdk/prefix" -name libdpdk.pc | head -1)
[ -n "$pc" ] || die "no libdpdk.pc installed"
pc=$(dirname "$pc")
echo "$pc"
