#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the guest kernel(s) from Debian's newest linux-source >= 7.3.
# Usage: build-kernel.sh [full|nogroup]...   (default: both)
# Prints nothing on stdout; images land in $NOIOMMU_CACHE/kernel/<variant>-<key>/.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(full nogroup)

need_pkgs build-essential bc flex bison libelf-dev libssl-dev xz-utils cpio

# Newest linux-source-X.Y in the archive with X.Y >= KERNEL_MIN_SERIES.
find_kernel_source_pkg() {
	noiommu_apt bookworm+experimental apt-cache search --names-only \
		'^linux-source-[0-9]+\.[0-9]+$' | awk '{print $1}' |
		sed 's/^linux-source-//' | sort -V |
		awk -v min="$KERNEL_MIN_SERIES" '{
			split($0, a, "."); split(min, m, ".");
			if (a[1] > m[1] || (a[1] == m[1] && a[2] >= m[2])) v = $0 }
			END { if (v) print "linux-source-" v }'
}

pkg=$(find_kernel_source_pkg)
[ -n "$pkg" ] || die "no linux-source >= $KERNEL_MIN_SERIES in the Debian archive (experimental)"
ver=$(noiommu_apt bookworm+experimental apt-cache show "$pkg" |
	awk '/^Version:/ {print $2; exit}')
src=$NOIOMMU_CACHE/src/$pkg-$ver
if [ ! -f "$src/.extracted" ]; then
	dl=$NOIOMMU_CACHE/dl
	mkdir -p "$dl"
	log "downloading $pkg $ver (about 170 MB)"
	(cd "$dl" && noiommu_apt bookworm+experimental apt-get -q download "$pkg=$ver" >&2)
	rm -rf "$src" "$src.deb"; mkdir -p "$src.deb"
	dpkg-deb -x "$dl/${pkg}_${ver//:/%3a}_all.deb" "$src.deb"
	tarball=$(ls "$src.deb"/usr/src/"$pkg".tar.*)
	log "extracting $(basename "$tarball")"
	mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	rm -rf "$src.deb" "$dl/${pkg}_"*.deb
	touch "$src/.extracted"
fi

# One object directory for every variant of this source, kept: the variants
# differ in a few options, so after the first build the next one recompiles
# only what those options touch (Kbuild tracks each file's CONFIG_ uses),
# about a minute instead of a whole build.
obj=$NOIOMMU_CACHE/kbuild/$pkg-$ver
for variant in "${variants[@]}"; do
	frags=$(noiommu_kernel_frags "$variant") || exit 1
	mapfile -t frags <<< "$frags"
	key=$( (echo "$pkg $ver"; cat "${frags[@]}") | sha256sum | cut -c1-12)
	out=$NOIOMMU_CACHE/kernel/$variant-$key
	if [ -f "$out/bzImage" ]; then
		log "kernel $variant: cached ($out)"
		continue
	fi
	# Object directories of other sources are stale.
	find "$NOIOMMU_CACHE/kbuild" -mindepth 1 -maxdepth 1 ! -path "$obj" -exec rm -rf {} + 2>/dev/null || true
	mkdir -p "$obj"
	log "kernel $variant: configuring $pkg $ver"
	make -s -C "$src" O="$obj" tinyconfig >&2
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${frags[@]}" >/dev/null
	make -s -C "$src" O="$obj" olddefconfig >&2
	# merge_config silently drops options whose dependencies are unmet.
	# Later fragments override earlier ones: check each option's last value.
	cat "${frags[@]}" | grep -E '^CONFIG_' | awk -F= '!($1 in v) {o[++n] = $1} {v[$1] = $0}
		END {for (i = 1; i <= n; i++) print v[o[i]]}' | while IFS= read -r want; do
		opt=${want%%=*}
		case $want in
		*=n) ! grep -q "^$opt=" "$obj/.config" || die "kernel $variant: $opt should be off" ;;
		*) grep -qx "$want" "$obj/.config" || die "kernel $variant: $want did not stick (missing dependency?)" ;;
		esac
	done
	log "kernel $variant: building (first variant about 8 min on 2 cores, then about 1; log $obj/build.log)"
	if ! make -C "$src" O="$obj" -j"$(nproc)" bzImage > "$obj/build.log" 2>&1; then
		tail -30 "$obj/build.log" >&2
		die "kernel $variant build failed (log $obj/build.log)"
	fi
	mkdir -p "$out"
	cp "$obj/arch/x86/boot/bzImage" "$obj/.config" "$out/"
	echo "$pkg $ver" > "$out/source"
	log "kernel $variant: done ($out)"
done
