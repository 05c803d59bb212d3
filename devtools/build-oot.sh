#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The out-of-tree build, as a user with an installed DPDK does it: install
# the patched DPDK (install-dpdk.sh), then build the project root
# (meson.build: the bus plugin and dpdk-test-noiommu) against it with
# pkg-config, in build/oot. Then the guest overlay for the rows that run
# the installed DPDK: a cpio archive holding the installed binaries and
# libraries at their install path (so EAL finds its PMD directory), the
# out-of-tree plugin and tool in /opt/noiommu, /opt/dpdk -> the prefix,
# and every library they need. vm-run.sh appends it to the initramfs.
# Cached in $NOIOMMU_CACHE/initramfs/installed-<key>.cpio.gz; prints its path.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

# One at a time: rows running side by side reach here through vm-run.sh
# and build-debs.sh, and each run rebuilds build/oot from scratch.
mkdir -p "$NOIOMMU_CACHE"
exec 8> "$NOIOMMU_CACHE/oot.lock"
flock 8

pc=$("$NOIOMMU_TOP/devtools/install-dpdk.sh")
prefix=$NOIOMMU_CACHE/dpdk/prefix
oot=$NOIOMMU_TOP/build/oot
log "out-of-tree build of the bus plugin and dpdk-test-noiommu (build/oot)"
rm -rf "$oot"
mkdir -p "$oot"
PKG_CONFIG_PATH=$pc meson setup "$oot" "$NOIOMMU_TOP" > "$oot.log" 2>&1 &&
	ninja -C "$oot" >> "$oot.log" 2>&1 ||
	{ tail -20 "$oot.log" >&2; die "out-of-tree build failed (log $oot.log)"; }
# EAL loads no plugin from under a world-writable directory (a clone in
# /tmp): the host check takes it from the cache, as from a plugin dir.
install -D -m 0644 "$oot/librte_bus_vfio_cdev.so" "$NOIOMMU_CACHE/oot-plugin/librte_bus_vfio_cdev.so"

files=$(cd "$prefix" && find bin lib -type f,l ! -name '*.a' ! -path '*/pkgconfig/*' | LC_ALL=C sort)
key=$( {
	sha256sum "$0" "$oot/librte_bus_vfio_cdev.so" "$oot/dpdk-test-noiommu"
	(cd "$prefix" && echo "$files" | xargs sha256sum 2>/dev/null)
} | sed 's#  .*/#  #' | sha256sum | cut -c1-16)
out=$NOIOMMU_CACHE/initramfs/installed-$key.cpio.gz
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi
log "building the installed-DPDK guest overlay $key"
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
mkdir -p "$root$prefix" "$root/opt/noiommu"
(cd "$prefix" && echo "$files" | cpio -pdm --quiet "$root$prefix")
ln -s "$prefix" "$root/opt/dpdk"
install -m 0644 "$oot/librte_bus_vfio_cdev.so" "$root/opt/noiommu/"
install -m 0755 "$oot/dpdk-test-noiommu" "$root/opt/noiommu/"
# System libraries the installed DPDK needs beyond what the main image has.
find "$root$prefix" "$root/opt/noiommu" -type f \( -name '*.so*' -o -perm -0100 \) -print0 |
	{ LD_LIBRARY_PATH=$(dirname "$pc") xargs -0 ldd 2>/dev/null || true; } |
	awk '$2 == "=>" && $3 ~ /^\// {print $3}' | grep -v "^$prefix" | sort -u | overlay_libs "$root"
overlay_pack "$root" "$out" "installed-DPDK overlay"
