#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# THE test command of the project (CI runs it through .ci/run).
# Usage: devtools/run-tests.sh [RE]
#   RE (extended regex) selects the scenarios whose name or a tag matches;
#   default: every row of devtools/vm-scenarios.tsv.
# Steps: host packages, guest kernel(s), DPDK and initramfs (all cached under
# $NOIOMMU_CACHE), fast host checks, then one QEMU VM per scenario.
# Prints one PASS/FAIL line per check and scenario, then "N passed, N failed";
# exits non-zero if anything failed. Per-run files: build/vm/<scenario>/.
set -uo pipefail
source "$(dirname "$0")/noiommu-common.sh"
dev=$NOIOMMU_TOP/devtools
pattern=${1:-.}
passed=0 failed=0

result() { # PASS|FAIL text...
	echo "$*"
	if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# 1. Scenario table and selection.
if ! out=$("$dev/vm-run.sh" --check 2>&1); then
	result FAIL host:scenario-table -- "$out"
	finish
fi
mapfile -t names < <("$dev/vm-run.sh" --list "$pattern")
if [ ${#names[@]} -eq 0 ]; then
	result FAIL select -- "no scenario matches '$pattern'"
	finish
fi
log "${#names[@]} scenario(s): ${names[*]}"
log "free disk: $(df -h --output=avail "$NOIOMMU_TOP" | tail -1 | tr -d ' ') (tree)," \
	"$(mkdir -p "$NOIOMMU_CACHE" && df -h --output=avail "$NOIOMMU_CACHE" | tail -1 | tr -d ' ') (cache)"

# 2. Prerequisites and builds (cold: kernels ~8 min each, DPDK a few min).
if ! initrd=$("$dev/vm-prepare.sh" "${names[@]}"); then
	result FAIL prepare -- "set-up or build failed (messages above)"
	finish
fi
export NOIOMMU_INITRD=$initrd

# 3. Fast host checks.
log "host checks"
syntax=$(for f in "$dev"/*.sh; do bash -n "$f" 2>&1; done
	busybox sh -n "$dev/guest/init" 2>&1
	for f in "$dev"/*.py; do
		python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$f" 2>&1
	done)
if [ -z "$syntax" ]; then result PASS host:syntax "(bash -n, busybox sh -n, python ast)"
else result FAIL host:syntax -- "$syntax"; fi

out=$(python3 "$dev/check-capture.py" --self-test 2>&1) &&
	result PASS host:check-capture -- "$out" || result FAIL host:check-capture -- "$out"

# The shim on the host: pagemap refused with the one-line notice, rest intact.
tmp=$(mktemp -d)
if gcc -shared -fPIC -O2 -Wall -Werror -o "$tmp/dp.so" "$dev/guest/deny-pagemap.c" -ldl 2>"$tmp/err" &&
	! LD_PRELOAD=$tmp/dp.so cat /proc/self/pagemap > /dev/null 2> "$tmp/err" &&
	grep -qx 'deny-pagemap: /proc/self/pagemap opened' "$tmp/err" &&
	grep -q 'Permission denied' "$tmp/err" &&
	[ "$(grep -c . "$tmp/err")" -eq 2 ] &&
	LD_PRELOAD=$tmp/dp.so cat /proc/self/status > /dev/null 2>&1; then
	result PASS host:deny-pagemap "(EACCES + notice on the host)"
else
	result FAIL host:deny-pagemap -- "$(cat "$tmp/err")"
fi
rm -rf "$tmp"

# The style gate: DPDK's checkpatches.sh and check-git-log.sh.
out=$("$dev/check-style.sh" 2>&1) &&
	result PASS host:style -- "$out" || result FAIL host:style -- "$(tr '\n' ' ' <<< "$out")"

# The guides, with the project's pages, build without a Sphinx warning.
out=$("$dev/build-docs.sh" 2>&1) &&
	result PASS host:docs -- "$out" || result FAIL host:docs -- "$(tr '\n' ' ' <<< "$out")"

# The build matrix: -Werror with gcc (the build above) and clang, the
# Windows cross build with MinGW-w64 (cold: about 5 and 4 minutes), and
# the FreeBSD stubs compiled against FreeBSD's EAL headers.
mapfile -t lines < <("$dev/build-matrix.sh" gcc clang mingw freebsd-stubs)
[ ${#lines[@]} -eq 4 ] || result FAIL host:build-matrix -- "4 targets, ${#lines[@]} results: ${lines[*]}"
for line in "${lines[@]}"; do
	case $line in
	*": OK"*) result PASS "host:build-${line%%:*}" -- "${line#*: }" ;;
	*) result FAIL "host:build-${line%%:*}" -- "${line#*: }" ;;
	esac
done

# The out-of-tree build (root meson.build) against the installed shared
# DPDK: the bus loads as a plugin with -d and runs its scan; without it EAL
# names the missing plugin. (The host has no no-IOMMU devices: both runs
# stop at init, which is what is checked here.)
oot=$NOIOMMU_TOP/build/oot
mkdir -p "$NOIOMMU_TOP/build"
if "$dev/build-oot.sh" > /dev/null 2> "$oot.err"; then
	libdir=$(dirname "$(find "$NOIOMMU_CACHE/dpdk/prefix" -name libdpdk.pc | head -1)")
	libdir=${libdir%/pkgconfig}
	oot_run() {
		LD_LIBRARY_PATH=$libdir timeout 60 "$oot/dpdk-test-noiommu" \
			-l 0 --no-huge -m 64 --vfio-cdev --file-prefix oot "$@" -- check 2>&1
	}
	plugin=$NOIOMMU_CACHE/oot-plugin/librte_bus_vfio_cdev.so
	with=$(oot_run -d "$plugin")
	without=$(oot_run)
	if grep -q '^vfio_cdev: ' <<< "$with" && ! grep -q 'bus is not loaded' <<< "$with" &&
		grep -q 'the vfio_cdev bus is not loaded: with a shared build, load librte_bus_vfio_cdev.so with -d' <<< "$without"; then
		result PASS host:out-of-tree-plugin -- "with -d: $(grep -m1 '^vfio_cdev: ' <<< "$with")"
	else
		result FAIL host:out-of-tree-plugin -- "with -d: $(tail -n 3 <<< "$with" | tr '\n' ' ') without: $(tail -n 2 <<< "$without" | tr '\n' ' ')"
	fi
else
	result FAIL host:out-of-tree-build -- "$(tail -n 3 "$oot.err" | tr '\n' ' ')"
fi

# 4. The VM scenarios, one QEMU run each.
i=0
for n in "${names[@]}"; do
	i=$((i + 1))
	log "scenario $i/${#names[@]}: $n"
	if line=$("$dev/vm-run.sh" "$n"); then
		result PASS "${line#PASS }"
	elif [ -n "$line" ]; then
		result FAIL "${line#FAIL }"
	else
		result FAIL "$n -- vm-run.sh failed (messages above)"
	fi
done
finish
