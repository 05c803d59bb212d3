#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# An application outside the tree, as a user builds one: install the
# static patched DPDK (bus included) into a staging directory, then build
# DPDK's examples/l2fwd from the base source with its own Makefile
# ("make static": pkg-config --static libdpdk) against it, in
# build/example-l2fwd. Then the guest overlay with the binary at
# /opt/examples/dpdk-l2fwd; vm-run.sh appends it to the initramfs.
# Cached in $NOIOMMU_CACHE/initramfs/example-<key>.cpio.gz; prints its path.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

build=$("$NOIOMMU_TOP/devtools/build-dpdk.sh")
src=$NOIOMMU_CACHE/src/dpdk-$DPDK_BASE_VERSION/examples/l2fwd
key=$( {
	sha256sum "$0" "$src"/*
	find "$build/lib" "$build/drivers" -maxdepth 1 -name '*.a' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
} | sed 's#  .*/#  #' | sha256sum | cut -c1-16)
out=$NOIOMMU_CACHE/initramfs/example-$key.cpio.gz
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi

# meson install --destdir: libdpdk.pc keeps the configured prefix and
# pkg-config prepends the staging directory (PKG_CONFIG_SYSROOT_DIR).
stage=$NOIOMMU_CACHE/dpdk/stage-static
log "installing the static DPDK into $stage"
rm -rf "$stage"
meson install -C "$build" --destdir "$stage" --quiet > "$build/install-static.log" 2>&1 ||
	{ tail -20 "$build/install-static.log" >&2; die "meson install failed (log $build/install-static.log)"; }
pc=$(find "$stage" -name libdpdk.pc | head -1)
[ -n "$pc" ] || die "no libdpdk.pc in $stage"
pc=$(dirname "$pc")

ex=$NOIOMMU_TOP/build/example-l2fwd
log "building examples/l2fwd with pkg-config --static libdpdk ($ex)"
rm -rf "$ex"; mkdir -p "$(dirname "$ex")"
cp -r "$src" "$ex"
PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$stage make -C "$ex" static > "$ex.log" 2>&1 ||
	{ tail -20 "$ex.log" >&2; die "examples/l2fwd did not build (log $ex.log)"; }
# The bus must be in the binary, linked by pkg-config's driver list.
nm "$ex/build/l2fwd-static" | grep -w businitfn_vfio_cdev > /dev/null ||
	die "examples/l2fwd built without the vfio_cdev bus: libdpdk.pc in $pc lacks it"

root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$ex/build/l2fwd-static" "$root/opt/examples/dpdk-l2fwd"
overlay_pack "$root" "$out" "examples/l2fwd guest overlay"
