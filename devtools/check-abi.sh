#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ABI check of the libraries the patches change (patched_libraries), for
# users who put them in place of Debian's and keep Debian's applications:
#  1. against Debian's own packages of DPDK $DPDK_BASE_DEB_VERSION (bookworm,
#     librte-eal23 ...): exported symbols and their versions. Debian's
#     libraries are stripped and its debug archive is out of reach here,
#     so abidiff compares symbols only;
#  2. against the same libraries built from the unpatched source with the
#     same options (build-dpdk.sh, DPDK_LINK=pristine): every type an
#     exported function or variable reaches, from both builds' DWARF.
# Either way nothing may be removed or changed; additions are allowed.
# Prints one line per comparison; status 1 on any break.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

need_pkgs abigail-tools
patched=$(DPDK_LINK=shared "$NOIOMMU_TOP/devtools/build-dpdk.sh")
pristine=$(DPDK_LINK=pristine "$NOIOMMU_TOP/devtools/build-dpdk.sh")

deb=$NOIOMMU_CACHE/debian-dpdk/$DPDK_BASE_DEB_VERSION
if [ ! -f "$deb/.extracted" ]; then
	rm -rf "$deb"; mkdir -p "$deb/debs"
	# librte_eal.so.23.0 is in package librte-eal23.
	pkgs=$(patched_packages)
	# shellcheck disable=SC2086
	(cd "$deb/debs" && noiommu_apt bookworm apt-get -q download \
		$(printf "%s=$DPDK_BASE_DEB_VERSION " $pkgs) >&2) ||
		die "apt-get download of Debian's DPDK $DPDK_BASE_DEB_VERSION libraries failed"
	for d in "$deb"/debs/*.deb; do dpkg-deb -x "$d" "$deb/root"; done
	touch "$deb/.extracted"
fi

# compare WHAT OLD NEW: abidiff, then one verdict line.
failed=0
compare() {
	local out rc=0
	out=$(abidiff "$2" "$3") || rc=$?
	# Bits of abidiff's status: 1 error, 2 usage, 4 change, 8 incompatible.
	if [ $((rc & 11)) -ne 0 ] ||
			echo "$out" | grep -qE 'summary: ([1-9][0-9]* Removed|[0-9]+ Removed, [1-9][0-9]* Changed)'; then
		echo "ABI: FAIL $1 (abidiff status $rc):"
		echo "$out" | sed 's/^/  /'
		failed=1
		return
	fi
	echo "ABI: ok $1: $(echo "$out" | grep -m1 'Functions changes summary' ||
		echo 'no change')"
}
for lib in $(patched_libraries); do
	name=$(basename "$lib")
	debian=$(find "$deb/root" -name "$name" -path '*/lib/x86_64-linux-gnu/*' | head -1)
	[ -n "$debian" ] || die "$name not in Debian's packages ($deb/root)"
	compare "$name against Debian's package" "$debian" "$patched/$lib"
	compare "$name against the unpatched build" "$pristine/$lib" "$patched/$lib"
done
exit $failed
