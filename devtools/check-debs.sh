#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Host check of the replacement packages (build-debs.sh), without touching
# the host's own packages: in a scratch dpkg root (dpkg --root, an empty
# admin directory),
#  1. Debian's packages of the patched libraries are installed, then ours
#     over them: every library file is ours, versions are ours, the bus
#     plugin is in Debian's PMD directory, dpkg --verify is clean;
#  2. the undo of the guide: the plugin removed, Debian's packages installed
#     again: every file byte-identical to the first install, no plugin;
#  3. rte_build_config.h and rte_config.h of Debian's libdpdk-dev against the
#     build the packages hold (DPDK_LINK=debian): any difference in a define
#     that shapes a structure or names a path (RTE_MAX_*,
#     RTE_PKTMBUF_HEADROOM, RTE_CACHE_LINE_SIZE, RTE_IOVA_AS_PA, RTE_ARCH*,
#     RTE_EAL_PMD_PATH ...) fails; other differences (which drivers and
#     optional libraries were built) are listed.
# NOIOMMU_DEBS=DIR checks the packages in DIR instead of building them.
# One line per step; status 1 on any failure.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

debs=${NOIOMMU_DEBS:-$("$NOIOMMU_TOP/devtools/build-debs.sh")}
build=$(DPDK_LINK=debian "$NOIOMMU_TOP/devtools/build-dpdk.sh")
version=$DPDK_BASE_DEB_VERSION+noiommu1
plugin_pkg=librte-bus-vfio-cdev23
pmd_dir=usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
mapfile -t pkgs < <(patched_packages)
dl=$(debian_base_debs "${pkgs[@]}" libdpdk-dev)
debian=()
for p in "${pkgs[@]}"; do debian+=("$dl/${p}_${DPDK_BASE_DEB_VERSION}_amd64.deb"); done
ours=()
for p in "${pkgs[@]}" "$plugin_pkg"; do
	f=$debs/${p}_${version}_amd64.deb
	[ -f "$f" ] || die "$f missing: run devtools/build-debs.sh"
	ours+=("$f")
done

root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/triggers"
: > "$root/var/lib/dpkg/status"
: > "$root/var/lib/dpkg/available"
failed=0
ok() { echo "debs: ok $*"; }
bad() { echo "debs: FAIL $*"; failed=1; }
# Only the packages under test are in the root: their dependencies on
# the rest of DPDK and on libc are not, hence --force-depends. Scripts
# run chrooted in the root; these packages have none (ldconfig is a trigger
# no package of the root is interested in).
pkg() {
	local rc=0 log
	log=$(dpkg --root="$root" --force-depends --force-not-root "$@" 2>&1) || rc=$?
	[ $rc -eq 0 ] || { printf "  %s\n" "$log" >&2; return 1; }
}
# What the root holds, without dpkg's database: path, type, content or
# link target, mode.
snapshot() {
	(cd "$root" && find . -path ./var/lib/dpkg -prune -o -print | LC_ALL=C sort |
		while read -r f; do
			if [ -L "$f" ]; then echo "$f link $(readlink "$f")"
			elif [ -f "$f" ]; then echo "$f file $(sha256sum < "$f" | cut -c1-64) $(stat -c %a "$f")"
			else echo "$f dir $(stat -c %a "$f")"; fi
		done)
}
status_of() { dpkg-query --root="$root" -W -f='${Version} ${db:Status-Abbrev}' "$1" 2>/dev/null || echo none; }

# 1. Debian's, then ours over them.
pkg -i "${debian[@]}" || die "dpkg --root could not install Debian's ${pkgs[*]}"
before=$(snapshot)
pkg -i "${ours[@]}" || die "dpkg --root could not install the replacement packages over Debian's"
problems=()
for p in "${pkgs[@]}" "$plugin_pkg"; do
	s=$(status_of "$p")
	[ "$s" = "$version ii " ] || problems+=("$p is '$s', want '$version ii'")
done
for lib in $(patched_libraries); do
	f=$(cd "$root" && find usr -name "$(basename "$lib")" -type f)
	if [ -z "$f" ]; then problems+=("no $(basename "$lib") installed"); continue; fi
	orig=$(grep "^\./$f file " <<< "$before" | cut -d' ' -f3)
	now=$(sha256sum < "$root/$f" | cut -c1-64)
	[ "$now" != "$orig" ] || problems+=("$f is still Debian's")
	# Ours: the same code as the build (stripped), compared by its text.
	cmp -s <(objcopy -O binary --only-section=.text "$root/$f" /dev/stdout) \
		<(objcopy -O binary --only-section=.text "$build/$lib" /dev/stdout) ||
		problems+=("$f is not the build's $lib")
done
so=$root/$pmd_dir/librte_bus_vfio_cdev.so.23.0
if [ ! -f "$so" ]; then
	problems+=("no bus plugin $pmd_dir/librte_bus_vfio_cdev.so.23.0 (EAL would not load the vfio_cdev bus)")
else
	readelf -d "$so" | grep -q RUNPATH && problems+=("the plugin keeps a RUNPATH")
	readelf -d "$so" | grep -q 'NEEDED.*librte_eal.so.23' || problems+=("the plugin does not link librte_eal.so.23")
fi
verify=$(dpkg --root="$root" --verify "${pkgs[@]}" "$plugin_pkg" 2>&1 || true)
[ -z "$verify" ] || problems+=("dpkg --verify: $verify")
if [ ${#problems[@]} -eq 0 ]; then
	ok "install over Debian's: ${#ours[@]} packages at $version, $(patched_libraries | wc -l) libraries replaced, plugin in /$pmd_dir, dpkg --verify clean"
else
	bad "install over Debian's: $(printf '%s; ' "${problems[@]}")"
fi

# 2. The undo of doc/guides/linux_gsg/noiommu_debian_packages.rst.
if pkg -r "$plugin_pkg" && pkg -i "${debian[@]}"; then
	after=$(snapshot)
	problems=()
	for p in "${pkgs[@]}"; do
		s=$(status_of "$p")
		[ "$s" = "$DPDK_BASE_DEB_VERSION ii " ] || problems+=("$p is '$s'")
	done
	s=$(status_of "$plugin_pkg")
	case $s in none|*" rc "*|*" un "*|*" pn "*) ;; *) problems+=("$plugin_pkg is '$s'") ;; esac
	[ ! -e "$so" ] || problems+=("the plugin stayed")
	if [ "$after" != "$before" ]; then
		problems+=("files differ from Debian's install: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -5 | tr '\n' ' ')")
	fi
	if [ ${#problems[@]} -eq 0 ]; then
		ok "undo: plugin removed, Debian's $DPDK_BASE_DEB_VERSION back, $(grep -c ' file ' <<< "$after") files byte-identical to Debian's install"
	else
		bad "undo: $(printf '%s; ' "${problems[@]}")"
	fi
else
	bad "undo: dpkg --root could not remove $plugin_pkg or install Debian's packages again"
fi

# 3. Build configuration against Debian's.
hdr=$(mktemp -d); trap 'rm -rf "$root" "$hdr"' EXIT
dpkg-deb --fsys-tarfile "$dl/libdpdk-dev_${DPDK_BASE_DEB_VERSION}_amd64.deb" |
	tar -x -C "$hdr" --wildcards './usr/include/*/dpdk/rte_build_config.h' './usr/include/*/dpdk/rte_config.h'
# defines FILE: "NAME VALUE" (VALUE "#undef" for an #undef) per line.
defines() {
	awk '$1 == "#define" { n = $2; $1 = $2 = ""; sub(/^ +/, ""); print n, ($0 == "" ? "1" : $0) }
		$1 == "#undef" { print $2, "#undef" }' "$1" | LC_ALL=C sort -u
}
shaping='^RTE_(MAX_[A-Z0-9_]+|PKTMBUF_HEADROOM|CACHE_LINE_SIZE|IOVA_AS_PA|ARCH[A-Z0-9_]*|EAL_PMD_PATH|ENABLE_TRACE_FP|LIBEAL_USE_HPET|EAL_NUMA_AWARE_HUGEPAGES|MEMPOOL_CACHE_MAX_SIZE|MBUF_[A-Z_]+|ETHDEV_[A-Z_]+|VER_[A-Z]+)$'
problems=() others=() n=0
for h in rte_build_config.h rte_config.h; do
	theirs=$(defines "$(find "$hdr" -name "$h")")
	mine_h=$build/$h
	[ "$h" = rte_config.h ] && mine_h=$NOIOMMU_CACHE/dpdk/tree/config/rte_config.h
	mine=$(defines "$mine_h")
	while read -r name; do
		a=$(awk -v n="$name" '$1 == n { $1 = ""; print substr($0, 2) }' <<< "$theirs")
		b=$(awk -v n="$name" '$1 == n { $1 = ""; print substr($0, 2) }' <<< "$mine")
		if [[ $name =~ $shaping ]]; then
			n=$((n + 1))
			[ "$a" = "$b" ] || problems+=("$h: $name is '${a:-absent}' in Debian's, '${b:-absent}' in ours")
		elif [ "$a" != "$b" ]; then
			others+=("$name")
		fi
	done < <(cut -d' ' -f1 <<< "$theirs"$'\n'"$mine" | LC_ALL=C sort -u)
done
[ "$n" -ge 20 ] || problems+=("only $n structure-shaping defines found: did the headers move?")
if [ ${#problems[@]} -eq 0 ]; then
	ok "build config: $n defines that shape structures or name paths equal Debian's (RTE_MAX_LCORE $(awk '$2 == "RTE_MAX_LCORE" {print $3}' "$build/rte_build_config.h"), RTE_EAL_PMD_PATH $(awk '$2 == "RTE_EAL_PMD_PATH" {print $3}' "$build/rte_build_config.h")); ${#others[@]} others differ (drivers and optional libraries built: $(printf '%s ' "${others[@]:0:4}")...)"
else
	bad "build config: $(printf '%s; ' "${problems[@]}")"
fi
exit $failed
