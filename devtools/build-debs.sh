#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Replacement .deb packages for a user of Debian's own DPDK (bookworm,
# $DPDK_BASE_DEB_VERSION): for each library the patches change
# (patched_libraries: librte-eal23, librte-bus-pci23, librte-mempool23),
# Debian's own package with its library file replaced by this project's
# build of it with Debian's paths (build-dpdk.sh, DPDK_LINK=debian), its
# md5sums and Installed-Size updated, its version raised to
# $DPDK_BASE_DEB_VERSION+noiommu1 (above Debian's, below Debian's next
# update); plus a new package librte-bus-vfio-cdev23 holding the bus plugin
# (build-oot.sh) in Debian's PMD directory, where Debian's EAL loads every
# librte_*.so.23.0 at start, so no -d is needed. Built with
# dpkg-deb --root-owner-group (no fakeroot).
# Output: $NOIOMMU_CACHE/debs/<key>/*.deb, keyed by every input; prints the
# directory. doc/guides/linux_gsg/noiommu_debian_packages.rst: install, undo.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

need_pkgs patchelf dpkg-dev
DEB_VERSION=$DPDK_BASE_DEB_VERSION+noiommu1
dpkg --compare-versions "$DEB_VERSION" gt "$DPDK_BASE_DEB_VERSION" ||
	die "version $DEB_VERSION does not sort above Debian's $DPDK_BASE_DEB_VERSION: change DEB_VERSION in $0"
MULTIARCH=x86_64-linux-gnu
PMD_DIR=usr/lib/$MULTIARCH/dpdk/pmds-23.0
PLUGIN_PKG=librte-bus-vfio-cdev23

# One at a time (the VM rows of these packages run side by side).
mkdir -p "$NOIOMMU_CACHE/debs"
exec 7> "$NOIOMMU_CACHE/debs/.lock"
flock 7
build=$(DPDK_LINK=debian "$NOIOMMU_TOP/devtools/build-dpdk.sh")
grep -q "RTE_EAL_PMD_PATH \"/$PMD_DIR\"" "$build/rte_build_config.h" ||
	die "$build is not built with Debian's plugin directory /$PMD_DIR: remove it and run again"
"$NOIOMMU_TOP/devtools/build-oot.sh" > /dev/null
plugin=$NOIOMMU_CACHE/oot-plugin/librte_bus_vfio_cdev.so
[ -f "$plugin" ] || die "$plugin missing after devtools/build-oot.sh"

# Debian's packages of the patched libraries (the same download as
# check-abi.sh's): librte_eal.so.23.0 is in librte-eal23.
mapfile -t pkgs < <(patched_packages)
debian_debs=$(debian_base_debs "${pkgs[@]}")

key=$( {
	sha256sum "$0" "$plugin"
	patched_libraries | sed "s#^#$build/#" | xargs sha256sum
	for p in "${pkgs[@]}"; do sha256sum "$debian_debs/${p}_${DPDK_BASE_DEB_VERSION}_amd64.deb"; done
} | sed 's#  .*/#  #' | sha256sum | cut -c1-16)
out=$NOIOMMU_CACHE/debs/$key
if [ -f "$out/.done" ]; then
	echo "$out"
	exit 0
fi
log "building the replacement packages $key (version $DEB_VERSION)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
rm -rf "$out"; mkdir -p "$out"

# As Debian's dh_strip does; the debug information stays in the build.
strip_lib() {
	strip --remove-section=.comment --remove-section=.note --strip-unneeded -o "$2" "$1"
	chmod 0644 "$2"
}
# finish_pkg DIR: md5sums and Installed-Size as dpkg-gencontrol would
# write them, then the .deb into $out.
finish_pkg() {
	local d=$1 size
	(cd "$d" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
		xargs -0 md5sum) > "$d/DEBIAN/md5sums"
	size=$(du -sk --exclude=DEBIAN "$d" | cut -f1)
	sed -i "s/^Installed-Size: .*/Installed-Size: $size/" "$d/DEBIAN/control"
	dpkg-deb --root-owner-group -Zxz -b "$d" "$out" > /dev/null ||
		die "dpkg-deb --build of $(sed -n 's/^Package: //p' "$d/DEBIAN/control") failed"
}
# changelog PKG DIR: this version's entry above Debian's in the package's
# changelog.Debian.gz.
changelog() {
	local f=$2/usr/share/doc/$1/changelog.Debian.gz
	mkdir -p "$(dirname "$f")"
	{
		printf 'dpdk (%s) bookworm; urgency=medium\n\n' "$DEB_VERSION"
		printf '  * %s\n    %s\n    %s\n' \
			"Replacement built by the DPDK no-IOMMU project (devtools/build-debs.sh):" \
			"the patched libraries of Debian's $DPDK_BASE_DEB_VERSION, with the VFIO cdev" \
			"no-IOMMU backend (--vfio-cdev) and the librte-bus-vfio-cdev23 plugin."
		printf '\n -- DPDK no-IOMMU project <maintainers@localhost>  %s\n\n' "$(date -R -u)"
		[ -f "$f" ] && zcat "$f"
	} > "$work/changelog"
	gzip -9n < "$work/changelog" > "$f"
	chmod 0644 "$f"
}

# 1. Debian's packages with the project's libraries.
for lib in $(patched_libraries); do
	name=$(basename "$lib")
	p=$(sed 's#librte_\(.*\)\.so\.\([0-9]*\).*#librte-\1\2#; s#_#-#g' <<< "$name")
	d=$work/$p
	dpkg-deb -R "$debian_debs/${p}_${DPDK_BASE_DEB_VERSION}_amd64.deb" "$d"
	target=$(cd "$d" && find usr -name "$name" -type f)
	if [ -z "$target" ] || [ "$(wc -l <<< "$target")" -ne 1 ]; then
		die "Debian's $p holds no single file $name: is $DPDK_BASE_DEB_VERSION still the base?"
	fi
	strip_lib "$build/$lib" "$d/$target"
	# The patched libraries call each other's new symbols: one version of
	# all of them (apt installs them together).
	sed -i "s/^Version: .*/Version: $DEB_VERSION/" "$d/DEBIAN/control"
	sed -i "/^Depends: /s/librte-eal23 ([^)]*)/librte-eal23 (= $DEB_VERSION)/" "$d/DEBIAN/control"
	changelog "$p" "$d"
	finish_pkg "$d"
done

# 2. The bus plugin, laid out as Debian lays out a PMD (librte-net-e1000-23):
# the file in the PMD directory, links to it beside the other libraries.
d=$work/$PLUGIN_PKG
mkdir -p "$d/DEBIAN" "$d/$PMD_DIR" "$d/usr/share/doc/$PLUGIN_PKG"
so=librte_bus_vfio_cdev.so.23.0
strip_lib "$plugin" "$d/$PMD_DIR/$so"
# The out-of-tree build's RUNPATH names the build machine's prefix; the
# soname follows Debian's PMDs (librte_net_e1000.so.23).
patchelf --remove-rpath --set-soname librte_bus_vfio_cdev.so.23 "$d/$PMD_DIR/$so"
ln -s "$so" "$d/$PMD_DIR/librte_bus_vfio_cdev.so.23"
ln -s "dpdk/pmds-23.0/librte_bus_vfio_cdev.so.23" "$d/usr/lib/$MULTIARCH/librte_bus_vfio_cdev.so.23"
ln -s "dpdk/pmds-23.0/$so" "$d/usr/lib/$MULTIARCH/$so"
dpkg-deb --fsys-tarfile "$debian_debs/librte-eal23_${DPDK_BASE_DEB_VERSION}_amd64.deb" |
	tar -xO ./usr/share/doc/librte-eal23/copyright > "$d/usr/share/doc/$PLUGIN_PKG/copyright"
chmod 0644 "$d/usr/share/doc/$PLUGIN_PKG/copyright"
changelog "$PLUGIN_PKG" "$d"
cat > "$d/DEBIAN/control" <<EOF
Package: $PLUGIN_PKG
Source: dpdk
Version: $DEB_VERSION
Architecture: amd64
Maintainer: DPDK no-IOMMU project <maintainers@localhost>
Installed-Size: 0
Depends: librte-eal23 (= $DEB_VERSION), librte-bus-pci23 (= $DEB_VERSION), librte-pci23 (>= 22.11), libc6 (>= 2.34)
Section: libs
Priority: optional
Description: Data Plane Development Kit (VFIO cdev no-IOMMU bus plugin)
 The vfio_cdev bus of the DPDK no-IOMMU project: with EAL's --vfio-cdev,
 PCI devices are opened through Linux's per-device no-IOMMU VFIO nodes
 (/dev/vfio/devices/noiommu-vfioN) and iommufd (/dev/iommu), DMA addresses
 coming from the kernel instead of /proc/self/pagemap.
 .
 EAL loads it from its plugin directory at start. It needs the replacement
 librte-eal23 and librte-bus-pci23 of the same version.
EOF
finish_pkg "$d"

for f in "$out"/*.deb; do dpkg-deb -I "$f" > /dev/null || die "$f is not a valid package"; done
touch "$out/.done"
# Keep the two newest sets.
find "$NOIOMMU_CACHE/debs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' |
	sort -rn | tail -n +3 | cut -d' ' -f2- | xargs -r rm -rf
log "replacement packages: $(cd "$out" && echo *.deb)"
echo "$out"
