# SPDX-License-Identifier: BSD-3-Clause
# Shared settings and helpers of the devtools scripts; sourced, never run.

NOIOMMU_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Expensive artefacts (sources, kernels, builds) live outside the work tree.
NOIOMMU_CACHE=${NOIOMMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dpdk-noiommu}
NOIOMMU_APT=$NOIOMMU_CACHE/apt
# The one place the DPDK base version is recorded.
DPDK_BASE_VERSION=22.11.11
DPDK_BASE_DEB_VERSION=22.11.11-0+deb12u1
# Oldest kernel with IOMMU_IOAS_NOIOMMU_GET_PA.
KERNEL_MIN_SERIES=7.3

# phase_done NAME START: "NAME SECONDS-since-START" into $NOIOMMU_PHASES,
# the test command's phase summary, when it is set.
phase_done() {
	[ -z "${NOIOMMU_PHASES:-}" ] || echo "$1 $((SECONDS - $2))" >> "$NOIOMMU_PHASES"
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Main Debian archive URL, read from the machine's own apt sources.
debian_archive_url() {
	local url
	url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security |
		head -1 | tr -d ' ')
	[ -n "$url" ] || die "no Debian archive found in /etc/apt sources; add one"
	echo "${url%/}"
}

# Private apt configuration reaching bookworm, bookworm-backports and
# experimental without touching the system's sources. $1 selects the suites.
noiommu_apt() {
	local suites=$1; shift
	local dir=$NOIOMMU_APT/$suites url s
	if [ ! -f "$dir/apt.conf" ]; then
		url=$(debian_archive_url)
		mkdir -p "$dir/lists/partial" "$dir/archives/partial"
		: > "$dir/sources.list"
		for s in ${suites//+/ }; do
			echo "deb $url $s main" >> "$dir/sources.list"
			echo "deb-src $url $s main" >> "$dir/sources.list"
		done
		cat > "$dir/apt.conf" <<CONF
Dir::Etc::sourcelist "$dir/sources.list";
Dir::Etc::sourceparts "-";
Dir::State::Lists "$dir/lists";
Dir::Cache::Archives "$dir/archives";
APT::Get::List-Cleanup "0";
APT::Sandbox::User "root";
CONF
	fi
	if [ ! -f "$dir/updated" ] || [ -n "$(find "$dir/updated" -mmin +1440)" ]; then
		log "apt update ($suites)"
		APT_CONFIG=$dir/apt.conf apt-get -q update >&2 || die "apt-get update failed for $suites"
		touch "$dir/updated"
	fi
	APT_CONFIG=$dir/apt.conf "$@"
}

# Install bookworm packages that are missing.
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	noiommu_apt bookworm+bookworm-backports \
		env DEBIAN_FRONTEND=noninteractive apt-get -y -q install \
		--no-install-recommends "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} failed"
}

# Config fragments of a guest kernel variant (as build-kernel.sh uses them).
noiommu_kernel_frags() {
	echo "$NOIOMMU_TOP/devtools/kernel/noiommu-guest.config"
	case $1 in
	full) ;;
	nogroup) echo "$NOIOMMU_TOP/devtools/kernel/noiommu-guest-nogroup.config" ;;
	*) die "unknown kernel variant '$1' (full, nogroup)" ;;
	esac
}

# Path of the cached bzImage of variant $1 built from the current config
# fragments, without rebuilding or asking apt; fails if there is none.
noiommu_kernel_image() {
	local d key frags
	frags=$(noiommu_kernel_frags "$1") || return 1
	for d in $(ls -td "$NOIOMMU_CACHE/kernel/$1"-* 2>/dev/null); do
		[ -f "$d/bzImage" ] && [ -f "$d/source" ] || continue
		# shellcheck disable=SC2086
		key=$( (cat "$d/source"; cat $frags) | sha256sum | cut -c1-12)
		[ "$d" = "$NOIOMMU_CACHE/kernel/$1-$key" ] && { echo "$d/bzImage"; return 0; }
	done
	die "no cached '$1' kernel for the current config: run devtools/build-kernel.sh $1"
}

# Directory of Debian's own kernel for a row's kernel field debian-SUITE[-cloud].
noiommu_debian_kernel() {
	local spec=${1#debian-} flavour=amd64
	[[ $spec == *-cloud ]] && flavour=cloud-amd64
	"$NOIOMMU_TOP/devtools/debian-kernel.sh" "${spec%-cloud}" "$flavour"
}

# The shared libraries patches/series changes, as paths in a DPDK build
# directory (lib/librte_eal.so.23.0 ...): what a user of Debian's DPDK
# replaces, and what devtools/check-abi.sh compares.
patched_libraries() {
	local abi p
	abi=$(cat "$NOIOMMU_CACHE/src/dpdk-$DPDK_BASE_VERSION/ABI_VERSION")
	grep -v '^#' "$NOIOMMU_TOP/patches/series" | while read -r p; do
		[ -n "$p" ] && sed -n 's#^+++ b/##p' "$NOIOMMU_TOP/patches/$p"
	done | sed -n "s#^lib/\([^/]*\)/.*#lib/librte_\1.so.$abi#p
		s#^drivers/\([^/]*\)/\([^/]*\)/.*#drivers/librte_\1_\2.so.$abi#p" | sort -u
}

# Debian's packages of the patched libraries (librte-eal23 ...), one name a
# line.
patched_packages() {
	patched_libraries | sed 's#.*/librte_\(.*\)\.so\.\([0-9]*\).*#librte-\1\2#; s#_#-#g'
}

# debian_base_debs PKG...: Debian's own .deb of each PKG at the base version,
# downloaded once into the cache; prints their directory.
debian_base_debs() {
	local dir=$NOIOMMU_CACHE/debian-dpdk/$DPDK_BASE_DEB_VERSION/debs p want=()
	for p in "$@"; do
		[ -f "$dir/${p}_${DPDK_BASE_DEB_VERSION}_amd64.deb" ] || want+=("$p=$DPDK_BASE_DEB_VERSION")
	done
	if [ ${#want[@]} -gt 0 ]; then
		mkdir -p "$dir"
		(cd "$dir" && noiommu_apt bookworm apt-get -q download "${want[@]}" >&2) ||
			die "apt-get download of Debian's ${want[*]} failed"
	fi
	echo "$dir"
}

# Guest overlays: cpio archives vm-run.sh appends to the initramfs.
# overlay_libs ROOT: copies the libraries whose paths stdin lists into ROOT,
# at their real directories.
overlay_libs() {
	local lib dir
	while read -r lib; do
		dir=$(realpath "$(dirname "$lib")")
		mkdir -p "$1$dir"
		cp -L "$lib" "$1$dir/"
	done
}
# overlay_pack ROOT OUT WHAT: packs ROOT into OUT (.../KIND-KEY.cpio.gz),
# keeps the two newest archives of that kind, prints OUT.
overlay_pack() {
	mkdir -p "$(dirname "$2")"
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 > "$2.$$"
	mv "$2.$$" "$2"
	ls -t "${2%-*}"-*.cpio.gz | tail -n +3 | xargs -r rm -f
	log "$3: $2 ($(du -h "$2" | cut -f1))"
	echo "$2"
}
