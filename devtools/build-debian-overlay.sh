#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Guest overlay for the rows of Debian's own DPDK (kargs noiommu.debian=1):
# Debian's unmodified bookworm packages - dpdk-dev (dpdk-testpmd,
# dpdk-proc-info, dpdk-test), every librte-* package it depends on, the
# PMDs of the rows' NICs (librte-net-e1000-23, librte-net-virtio23) - are
# installed with dpkg into a scratch root (dpkg --root), then this
# project's replacement packages (build-debs.sh) over them, as a user does;
# Open vSwitch with DPDK (openvswitch-switch-dpdk, openvswitch-switch,
# openvswitch-common: ovsdb-server, ovs-vswitchd linked to Debian's DPDK,
# ovs-vsctl, ovs-ofctl, ovs-appctl) is unpacked by the same dpkg (not
# configured: see below); the system libraries they need are unpacked
# beside them from Debian's packages of the same suite. The root, with
# dpkg's database (the guest checks the files against dpkg's md5sums:
# devtools/guest/noiommu-debian) and without documentation, is packed for
# vm-run.sh to append to the main image: its /usr/bin/dpdk-testpmd and
# dpdk-test replace the main image's (the project's static build) in those
# rows.
# NOIOMMU_DEBS=DIR lays the packages in DIR over Debian's instead.
# Cached in $NOIOMMU_CACHE/initramfs/debian-<key>.cpio.gz; prints its path.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

debs=${NOIOMMU_DEBS:-$("$NOIOMMU_TOP/devtools/build-debs.sh")}
ver=$DPDK_BASE_DEB_VERSION
dl=$NOIOMMU_CACHE/debian-dpdk/$ver/guest
roots=(dpdk-dev librte-net-e1000-23 librte-net-virtio23 librte-mempool-ring23
	openvswitch-switch-dpdk)

# The packages: roots and their dependencies, recursively, DPDK's, Open
# vSwitch's and the shared libraries', but not what the guest's main image
# has (libc6, libgcc-s1), development packages, interpreters and what only
# they run (dpdk-dev's python3 and dpdk's scripts, openvswitch-switch's
# python3-openvswitch), the tools of a system with systemd or init
# scripts (kmod, procps, uuid-runtime, init-system-helpers, openssl,
# netbase) nor the meta package of every DPDK library.
wanted() {
	case $1 in
	dpdk-dev|ibverbs-providers) return 0 ;;
	openvswitch-switch-dpdk|openvswitch-switch|openvswitch-common) return 0 ;;
	libdpdk-dev|libc6|libgcc-s1|libc-*|libpython*|libperl*|*-dev) return 1 ;;
	lib*) return 0 ;;
	esac
	return 1
}
if [ ! -f "$dl/.complete" ] || [ "$(cat "$dl/.complete")" != "${roots[*]}" ]; then
	log "resolving and downloading Debian's DPDK $ver packages for the guest"
	declare -A seen=()
	queue=("${roots[@]}")
	for p in "${queue[@]}"; do seen[$p]=1; done
	while [ ${#queue[@]} -gt 0 ]; do
		next=()
		while read -r p; do
			if [ -n "${seen[$p]:-}" ] || ! wanted "$p"; then continue; fi
			seen[$p]=1
			next+=("$p")
		done < <(noiommu_apt bookworm apt-cache depends --no-recommends --no-suggests \
			--no-conflicts --no-breaks --no-replaces --no-enhances "${queue[@]}" |
			awk '$1 ~ /^\|?(Pre)?Depends:$/ && $2 !~ /^</ {print $2}' | sort -u)
		queue=("${next[@]}")
	done
	rm -rf "$dl"; mkdir -p "$dl"
	# DPDK's own at the base version, the rest at bookworm's.
	mapfile -t spec < <(for p in "${!seen[@]}"; do
		case $p in librte-*|dpdk-dev) echo "$p=$ver" ;; *) echo "$p" ;; esac
	done | sort)
	(cd "$dl" && noiommu_apt bookworm apt-get -q download "${spec[@]}" >&2) ||
		die "apt-get download of Debian's packages for the guest failed"
	echo "${roots[*]}" > "$dl/.complete"
fi

key=$( {
	sha256sum "$0" "$debs"/*.deb
	(cd "$dl" && ls)
} | sed 's#  .*/#  #' | sha256sum | cut -c1-16)
out=$NOIOMMU_CACHE/initramfs/debian-$key.cpio.gz
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi
log "building the Debian-packages guest overlay $key"
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/triggers"
: > "$root/var/lib/dpkg/status"
: > "$root/var/lib/dpkg/available"
dpdk_debs=() ovs_debs=() sys_debs=()
for f in "$dl"/*.deb; do
	case ${f##*/} in
	librte-*|dpdk-dev_*) dpdk_debs+=("$f") ;;
	openvswitch-*) ovs_debs+=("$f") ;;
	*) sys_debs+=("$f") ;;
	esac
done
[ ${#ovs_debs[@]} -eq 3 ] || die "want openvswitch-common, -switch and -switch-dpdk in $dl, found ${#ovs_debs[@]}"
# The system libraries: unpacked (their maintainer scripts need a shell
# and tools the scratch root has not; nothing of them is under test).
for f in "${sys_debs[@]}"; do dpkg-deb -x "$f" "$root"; done
# DPDK: Debian's packages, then ours over them, by dpkg as on a machine
# (--force-depends: python3 and libc6 are not in the root).
dpkgr() {
	local log rc=0
	log=$(dpkg --root="$root" --force-depends --force-not-root "$@" 2>&1) || rc=$?
	[ $rc -eq 0 ] || { printf '%s\n' "$log" | tail -n 20 >&2; return 1; }
}
dpkgr -i "${dpdk_debs[@]}" || die "dpkg --root could not install Debian's DPDK packages"
dpkgr -i "$debs"/*.deb || die "dpkg --root could not install the replacement packages over Debian's"
for p in librte-eal23 librte-bus-pci23 librte-mempool23 librte-bus-vfio-cdev23; do
	v=$(dpkg-query --root="$root" -W -f='${Version}' "$p")
	[ "$v" = "$ver+noiommu1" ] || die "$p is at '$v' in the overlay, not $ver+noiommu1"
done
[ "$(dpkg-query --root="$root" -W -f='${Version}' dpdk-dev)" = "$ver" ] ||
	die "dpdk-dev is not Debian's $ver in the overlay"
# Open vSwitch: unpacked (dpkg --unpack), not configured. dpkg runs the
# maintainer scripts chrooted into the root, which has no shell nor
# update-alternatives: openvswitch-switch's preinst (it only looks for an
# old conffile) gets the host's static busybox as /bin/sh for the time of
# the unpack; the postinsts are not run. What of them a user of
# openvswitch-switch-dpdk needs is done here with the host's
# update-alternatives on the root: the two alternatives the postinsts
# register, then the switch to the DPDK one, which a user makes by hand
# too (openvswitch-switch's ovs-vswitchd has priority 100, the DPDK one 50,
# so automatic mode picks the one without DPDK). The rest of the
# postinsts - systemd units, init scripts, /etc/openvswitch/conf.db - is
# for a system with systemd; the guest's devtools/guest/noiommu-ovs starts
# the daemons itself.
busybox=/bin/busybox
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static: install busybox-static"
mkdir -p "$root/bin"
cp "$busybox" "$root/bin/sh"
dpkgr --unpack "${ovs_debs[@]}" || die "dpkg --root could not unpack Debian's Open vSwitch packages"
rm -f "$root/bin/sh"
rmdir "$root/bin" 2>/dev/null || true
ua() { update-alternatives --root "$root" --quiet "$@"; }
ua --install /usr/sbin/ovs-vswitchd ovs-vswitchd /usr/lib/openvswitch-switch/ovs-vswitchd 100 &&
	ua --install /usr/sbin/ovs-vswitchd ovs-vswitchd /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk 50 &&
	ua --set ovs-vswitchd /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ||
	die "update-alternatives --root could not select ovs-vswitchd-dpdk"
[ "$(readlink "$root/etc/alternatives/ovs-vswitchd")" = /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] ||
	die "ovs-vswitchd is not the DPDK one in the overlay"

# Every library the programs and PMDs need, from the root or else from the
# host (libc6, as in the main image): nothing may be missing.
libpath=$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
mapfile -t elfs < <(find "$root/usr/bin" "$root/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0" \
	-name 'dpdk-*' ! -name '*.py' -type f -o -name '*.so.23.0' -type f)
elfs+=("$root"/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk "$root"/usr/sbin/ovsdb-server
	"$root"/usr/bin/{ovsdb-tool,ovs-vsctl,ovs-ofctl,ovs-appctl})
unresolved=$(LD_LIBRARY_PATH=$libpath ldd "${elfs[@]}" 2>/dev/null | grep 'not found' | sort -u | tr -s ' \t' ' ' || true)
[ -z "$unresolved" ] || die "libraries missing in the Debian overlay: $unresolved (add their packages to wanted() in $0)"
LD_LIBRARY_PATH=$libpath ldd "${elfs[@]}" 2>/dev/null |
	awk '$2 == "=>" && $3 ~ /^\// {print $3}' | grep -v "^$root" | sort -u | overlay_libs "$root"

# As the main image: merged /usr (its /lib and /bin are links), no
# documentation, nothing that could shadow the guest's tools but DPDK's.
for d in lib lib64 bin sbin; do
	if [ ! -d "$root/$d" ] || [ -L "$root/$d" ]; then continue; fi
	mkdir -p "$root/usr/$d"
	cp -a "$root/$d/." "$root/usr/$d/"
	rm -rf "${root:?}/$d"
done
# Of /etc, only the ovs-vswitchd alternative (/usr/sbin/ovs-vswitchd
# points there).
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/lintian" \
	"$root/usr/share/bug" "$root/usr/share/doc-base"
find "$root/etc" -mindepth 1 -maxdepth 1 ! -name alternatives -exec rm -rf {} +
find "$root/usr/bin" "$root/usr/sbin" -mindepth 1 ! -name 'dpdk-*' ! -name 'ovs*' -delete 2>/dev/null || true
overlay_pack "$root" "$out" "Debian-packages overlay"
