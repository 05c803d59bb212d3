#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Fetch one of Debian's own kernels, as users run them, for the VM rows
# that show what --vfio-cdev says on it.
# Usage: debian-kernel.sh SUITE FLAVOUR   (FLAVOUR: amd64 | cloud-amd64)
# The package is what the suite's linux-image-FLAVOUR metapackage depends on
# today (found at run time, never pinned). Prints a directory holding
#   vmlinuz       the kernel
#   modules.cpio.gz  the VFIO/iommufd modules and their dependencies,
#                 decompressed, with lib/modules/load-order (insmod order)
#   config.txt    the VFIO and IOMMUFD options of its build config
#   package       the package name and version
# Cached in $NOIOMMU_CACHE/debian-kernel/<package>_<version>.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

[ $# -eq 2 ] || die "usage: $0 SUITE amd64|cloud-amd64"
suite=$1 flavour=$2
need_pkgs kmod xz-utils zstd cpio
# What the guest's init needs to load: the vfio-pci driver and iommufd
# (each absent from some kernels; the rows show what that means).
WANT_MODULES="vfio_pci iommufd"

# Follow metapackages (linux-image-amd64 -> linux-image-7.3-amd64 -> ...)
# down to the package that holds the kernel.
pkg=linux-image-$flavour
while next=$(noiommu_apt "$suite" apt-cache depends "$pkg" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1) &&
		[ -n "$next" ]; do
	pkg=$next
done
[ "$pkg" != "linux-image-$flavour" ] || die "no linux-image-$flavour in $suite"
ver=$(noiommu_apt "$suite" apt-cache show "$pkg" | sed -n 's/^Version: //p' | head -1)
out=$NOIOMMU_CACHE/debian-kernel/${pkg}_$ver
if [ -f "$out/package" ]; then
	echo "$out"
	exit 0
fi
log "debian kernel: $pkg $ver ($suite)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# From 7.3 on, the kernel and its modules come in packages of their own.
parts=$(noiommu_apt "$suite" apt-cache depends "$pkg" |
	sed -n 's/^ *Depends: \(linux-\(binary\|modules\)-[^ ]*\)$/\1/p')
# shellcheck disable=SC2086
(cd "$tmp" && noiommu_apt "$suite" apt-get -q download "$pkg=$ver" $parts >&2) ||
	die "apt-get download $pkg=$ver $parts failed"
for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/x"; done
kver=$(ls "$tmp/x/lib/modules" 2>/dev/null || ls "$tmp/x/usr/lib/modules")
mods=$tmp/x/lib/modules/$kver
[ -d "$mods" ] || mods=$tmp/x/usr/lib/modules/$kver
# The package leaves modules.dep to its postinst: make it here.
/sbin/depmod -b "${mods%/lib/modules/*}" "$kver" || die "depmod of $pkg failed"

# Dependency closure of the wanted modules, dependencies first.
closure() {
	local name=$1 path dep
	path=$(awk -F: -v n="$name" '{ m = $1; sub(/.*\//, "", m); sub(/\.ko.*/, "", m);
		gsub(/-/, "_", m); if (m == n) { print $0; exit } }' "$mods/modules.dep")
	[ -n "$path" ] || return 0
	for dep in ${path#*:}; do
		dep=${dep##*/}; dep=${dep%%.ko*}
		closure "${dep//-/_}"
	done
	echo "${path%%:*}"
}
root=$tmp/root
mkdir -p "$root/lib/modules"
: > "$root/lib/modules/load-order"
for m in $WANT_MODULES; do closure "$m"; done | awk '!seen[$0]++' | while read -r rel; do
	base=${rel##*/}
	case $base in
	*.ko.xz) xz -dc "$mods/$rel" > "$root/lib/modules/${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$mods/$rel" > "$root/lib/modules/${base%.zst}" ;;
	*.ko) cp "$mods/$rel" "$root/lib/modules/$base" ;;
	esac
	echo "/lib/modules/${base%.ko*}.ko" >> "$root/lib/modules/load-order"
done

mkdir -p "$out"
# /boot up to 7.2, beside the modules from 7.3 on.
cp $(ls "$tmp"/x/boot/vmlinuz-* "$mods/vmlinuz" 2>/dev/null | head -1) "$out/vmlinuz"
grep -hE '^(# )?CONFIG_(IOMMUFD|VFIO|VFIO_NOIOMMU|VFIO_DEVICE_CDEV|VFIO_GROUP|VFIO_CONTAINER|VFIO_PCI|IOMMUFD_NOIOMMU)[ =]' \
	$(ls "$tmp"/x/boot/config-* "$mods/config" 2>/dev/null) > "$out/config.txt" || true
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 > "$out/modules.cpio.gz"
echo "$pkg $ver ($suite, kernel $kver)" > "$out/package"
log "debian kernel: $(cat "$out/package"), modules: $(tr '\n' ' ' < "$root/lib/modules/load-order")"
echo "$out"
