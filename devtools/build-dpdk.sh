#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build Debian's DPDK source with this project laid over it.
#
# The base tree is Debian's dpdk source package. Project files under app/,
# drivers/, lib/ and doc/ are symlinked into it at the same paths, and
# patches/series is applied to the few existing files the project hooks.
# Only files whose content changed are touched, so ninja rebuilds in seconds.
# Prints the build directory on stdout. DPDK_LINK=shared builds shared
# libraries with the driver SDK headers, for an installed DPDK;
# DPDK_SANITIZE=1 the static build with ASan and UBSan; DPDK_TARGET=clang
# (Debian's clang) or mingw (Windows, cross-built with MinGW-w64) a static
# build for devtools/build-matrix.sh. Static builds use -Werror.
# DPDK_LINK=pristine builds, as the shared build but from the unpatched
# source, only the libraries the patches change (devtools/check-abi.sh).
# DPDK_LINK=debian builds, as the shared build but with Debian's paths
# (prefix /usr, so EAL's plugin directory is Debian's pmds-23.0), only the
# libraries the patches change, to replace Debian's (devtools/build-debs.sh).
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

need_pkgs build-essential dpkg-dev meson ninja-build pkg-config \
	python3-pyelftools libnuma-dev patch ccache

pristine=$NOIOMMU_CACHE/src/dpdk-$DPDK_BASE_VERSION
tree=$NOIOMMU_CACHE/dpdk/tree
# DPDK_LINK=shared: a shared-library build with the driver SDK headers,
# to install (devtools/install-dpdk.sh) and build plugins against.
link=${DPDK_LINK:-static}
case $link in
static) build=$NOIOMMU_CACHE/dpdk/build ;;
shared) build=$NOIOMMU_CACHE/dpdk/build-shared ;;
pristine) build=$NOIOMMU_CACHE/dpdk/build-pristine ;;
debian) build=$NOIOMMU_CACHE/dpdk/build-debian ;;
*) die "DPDK_LINK=$link: static, shared, pristine or debian" ;;
esac

# One build at a time: the tree is shared by every build directory, and
# the test command builds in the background while VMs run.
mkdir -p "$NOIOMMU_CACHE/dpdk"
exec 9> "$NOIOMMU_CACHE/dpdk/.lock"
flock 9

if [ ! -f "$pristine/.extracted" ]; then
	dl=$NOIOMMU_CACHE/dl/dpdk
	rm -rf "$dl" "$pristine"; mkdir -p "$dl" "$(dirname "$pristine")"
	log "downloading Debian dpdk $DPDK_BASE_DEB_VERSION source"
	(cd "$dl" && noiommu_apt bookworm apt-get -q source --download-only \
		"dpdk=$DPDK_BASE_DEB_VERSION" >&2)
	dpkg-source -x "$dl"/dpdk_*.dsc "$pristine" >/dev/null
	rm -rf "$dl"
	touch "$pristine/.extracted"
fi
if [ ! -d "$tree" ]; then
	log "creating DPDK work tree $tree"
	mkdir -p "$(dirname "$tree")"
	cp -a "$pristine" "$tree"
fi

# Put $2 at $1 in the tree unless it is already identical.
install_if_changed() {
	cmp -s "$2" "$tree/$1" && return 0
	rm -f "$tree/$1"
	mkdir -p "$(dirname "$tree/$1")"
	cp "$2" "$tree/$1"
}

# 1. Patches: apply the series to copies of the pristine files.
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
patched=()
while read -r p; do
	case $p in ''|'#'*) continue ;; esac
	for f in $(sed -n 's#^+++ b/\([^[:space:]]*\).*#\1#p' "$NOIOMMU_TOP/patches/$p"); do
		[ -e "$stage/$f" ] && continue
		mkdir -p "$(dirname "$stage/$f")"
		cp "$pristine/$f" "$stage/$f"
		patched+=("$f")
	done
	patch -s -p1 -d "$stage" --no-backup-if-mismatch < "$NOIOMMU_TOP/patches/$p" ||
		die "patch $p does not apply to DPDK $DPDK_BASE_VERSION"
done < "$NOIOMMU_TOP/patches/series"

# 2. Overlay: project files, symlinked so edits need no re-run of this step.
overlay=()
while IFS= read -r f; do
	overlay+=("$f")
	[ "$(readlink "$tree/$f" 2>/dev/null)" = "$NOIOMMU_TOP/$f" ] && continue
	mkdir -p "$(dirname "$tree/$f")"
	ln -sfn "$NOIOMMU_TOP/$f" "$tree/$f"
done < <(cd "$NOIOMMU_TOP" && find app drivers lib doc -type f 2>/dev/null | sort)

# Files patched or overlaid by an earlier run but not now go back to pristine.
# (A lookup table, not "printf | grep -q": under pipefail, printf killed by
# SIGPIPE when grep stops early made a kept file look stale, and it was
# deleted.)
declare -A kept=()
for f in "${patched[@]}" "${overlay[@]}"; do kept[$f]=1; done
state=$tree/.noiommu-files
if [ -f "$state" ]; then
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		[ -n "${kept[$f]:-}" ] && continue
		if [ -e "$pristine/$f" ]; then install_if_changed "$f" "$pristine/$f"
		else rm -f "$tree/$f"; fi
	done < "$state"
fi
for f in "${patched[@]}"; do install_if_changed "$f" "$stage/$f"; done
printf '%s\n' "${patched[@]}" "${overlay[@]}" > "$state"

# 3. Configure once, then build incrementally.
meson_opts=(
	-Dplatform=generic
	-Ddefault_library=$([ "$link" = static ] && echo static || echo shared)
	-Dbuildtype=debugoptimized
	-Dtests=true
	-Denable_docs=false
	-Denable_kmods=false
	-Denable_apps=test-pmd,test-noiommu
	-Denable_drivers=bus/pci,bus/vdev,bus/vfio_cdev,net/e1000,net/virtio,mempool/ring,mempool/stack
)
# The optional libraries that neither testpmd, the project nor the
# autotests the rows run use: left out of the builds that serve only those
# (shared, sanitizer), a fifth less to compile.
unused_libs=cfgfile,flow_classify,gpudev,jobstats,kni,node,pipeline,port,table,vhost
# The shared build is the base the root meson.build builds the bus plugin
# and dpdk-test-noiommu against: it has the EAL patches, not those two.
if [ "$link" != static ]; then
	meson_opts=("${meson_opts[@]/,bus\/vfio_cdev/}")
	meson_opts=("${meson_opts[@]/,test-noiommu/}")
	meson_opts=("${meson_opts[@]/-Dtests=true/-Dtests=false}")
	meson_opts+=(-Denable_driver_sdk=true "--prefix=$NOIOMMU_CACHE/dpdk/prefix"
		-Ddisable_libs=$unused_libs)
fi
# Debian's layout (debian/rules): its libdir, and EAL's default plugin
# directory under it (RTE_EAL_PMD_PATH), where Debian's PMDs are.
if [ "$link" = debian ]; then
	meson_opts=("${meson_opts[@]/--prefix=*/--prefix=/usr}")
	meson_opts+=(--libdir=lib/x86_64-linux-gnu)
fi
# DPDK_SANITIZE=1: the static build with ASan and UBSan, in its own
# directory, for the sanitizer rows (noiommu.sanitized=1).
if [ "${DPDK_SANITIZE:-0}" = 1 ]; then
	[ "$link" = static ] || die "DPDK_SANITIZE=1 is for the static build"
	build=$NOIOMMU_CACHE/dpdk/build-sanitize
	# -O0: a quarter of -O2's compile time (the build is on the cold
	# path of the test command); its rows check correctness, not speed.
	meson_opts+=(-Db_sanitize=address,undefined -Db_lundef=false -Doptimization=0
		-Ddisable_libs=$unused_libs)
elif [ "$link" = static ]; then
	meson_opts+=(-Dwerror=true)
fi
# DPDK_TARGET: the other compilers the series must build with, each in its
# own directory.
target=${DPDK_TARGET:-gcc}
case $target in
gcc) ;;
clang)
	need_pkgs clang
	build=$NOIOMMU_CACHE/dpdk/build-clang
	export CC=clang
	;;
mingw)
	# DPDK's cross file names ccache and MinGW's binutils.
	need_pkgs gcc-mingw-w64-x86-64
	build=$NOIOMMU_CACHE/dpdk/build-mingw
	meson_opts+=(--cross-file "$tree/config/x86/cross-mingw")
	;;
*) die "DPDK_TARGET=$target: gcc, clang or mingw" ;;
esac
[ "$target" = gcc ] || [ "$link" = static ] || die "DPDK_TARGET=$target is a static build"
# The compiler cache lives with the other build artefacts.
export CCACHE_DIR=$NOIOMMU_CACHE/ccache
opts_key=$(printf '%s\n' "${meson_opts[@]}" | sha256sum | cut -c1-12)
if [ "$(cat "$build/.noiommu-opts" 2>/dev/null)" != "$opts_key" ]; then
	rm -rf "$build"
	log "configuring DPDK (meson)"
	src=$tree
	[ "$link" = pristine ] && src=$pristine
	meson setup "${meson_opts[@]}" "$build" "$src" > "$NOIOMMU_CACHE/dpdk/meson.log" 2>&1 ||
		{ tail -30 "$NOIOMMU_CACHE/dpdk/meson.log" >&2; die "meson setup failed"; }
	echo "$opts_key" > "$build/.noiommu-opts"
fi
# The VM rows run the gcc build (all of it) and the sanitizer build (the
# three programs they start). The other compilers build what the project
# changes or adds, with -Werror: its C files, all of EAL (whose internal
# headers it patches), bus/pci and the bus it adds (the gcc build links).
targets=()
if [ "$link" = pristine ] || [ "$link" = debian ]; then
	mapfile -t targets < <(patched_libraries)
elif [ "${DPDK_SANITIZE:-0}" = 1 ]; then
	targets=(app/dpdk-testpmd app/test/dpdk-test app/dpdk-test-noiommu)
elif [ "$target" != gcc ]; then
	mapfile -t targets < <(python3 - "$build/compile_commands.json" "$tree" \
			"${patched[@]}" "${overlay[@]}" <<'PY'
import json, os, sys
tree = sys.argv[2]
ours = {os.path.join(tree, f) for f in sys.argv[3:] if f.endswith(".c")}
for e in json.load(open(sys.argv[1])):
    if os.path.normpath(os.path.join(e["directory"], e["file"])) in ours:
        print(e["output"])
PY
	)
	[ ${#targets[@]} -gt 0 ] || die "no C file of the project in $build/compile_commands.json"
	targets+=(lib/librte_eal.a drivers/librte_bus_pci.a)
	[ "$target" = mingw ] || targets+=(drivers/librte_bus_vfio_cdev.a)
fi
log "building DPDK ${targets[*]:+(${#targets[@]} targets) }(first build about 3-5 min on 2 cores; log $build/ninja.log.txt)"
if ! ninja -C "$build" "${targets[@]}" > "$build/ninja.log.txt" 2>&1; then
	grep -E 'error|FAILED' -A5 "$build/ninja.log.txt" | head -60 >&2
	die "DPDK build failed (log $build/ninja.log.txt)"
fi
echo "$build"
