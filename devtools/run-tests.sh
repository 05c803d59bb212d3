#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# THE test command of the project (CI runs it through .ci/run).
# Usage: devtools/run-tests.sh [RE]
#   RE (extended regex) selects the scenarios whose name or a tag matches;
#   default: every row of devtools/vm-scenarios.tsv.
# Steps: host packages, guest kernel(s), DPDK and initramfs (all cached under
# $NOIOMMU_CACHE), fast host checks, then one QEMU VM per scenario. The
# builds only some host checks and rows need (style, docs, build matrix,
# shared build, sanitizer build, overlays) run niced in the background
# while the first rows run; rows needing them run last.
# Prints one PASS/FAIL line per check and scenario, the seconds of each
# phase against its share of the budget, then "N passed, N failed"; exits
# non-zero if anything failed. Per-run files: build/vm/<scenario>/.
# NOIOMMU_VM_JOBS: VMs at once (default: the number of CPUs; a TCG guest
# runs in one host thread, and the background builds take one slot).
set -uo pipefail
source "$(dirname "$0")/noiommu-common.sh"
dev=$NOIOMMU_TOP/devtools
pattern=${1:-.}
slots=${NOIOMMU_VM_JOBS:-$(nproc)}
passed=0 failed=0
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export NOIOMMU_PHASES=$work/phases
: > "$NOIOMMU_PHASES"
t_run=$SECONDS

result() { # PASS|FAIL text...
	echo "$*"
	if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

# Budget of the whole run and each phase's share, in seconds, on this
# project's 2-core machine: cold (empty cache) and warm. A run over its
# budget or a phase over its share says so in one line.
# The totals are the developers' guide's: cold well under CI's 90 minutes
# (75), warm under 30.
declare -A cold_share=([total]=4500 [host-packages]=240 [debian-kernels]=120
	[kernels]=900 [dpdk-gcc]=600 [initramfs]=60 [host-checks]=60
	[rows]=2100 [background]=2100 [rows-own-build]=480)
declare -A warm_share=([total]=1800 [host-packages]=30 [debian-kernels]=30
	[kernels]=30 [dpdk-gcc]=60 [initramfs]=60 [host-checks]=60
	[rows]=1320 [background]=300 [rows-own-build]=360)
finish() {
	local name s share total=$((SECONDS - t_run)) budget
	local -n shares=${temp}_share
	echo "phases ($temp run, seconds; the background builds ran beside the rows):"
	while read -r name s; do
		share=${shares[$name]:-}
		printf '  %-48s %5d%s\n' "$name" "$s" \
			"${share:+ of $share}$([ -n "$share" ] && [ "$s" -gt "$share" ] && echo '  OVER ITS SHARE')"
	done < "$NOIOMMU_PHASES"
	budget=${shares[total]}
	printf '  %-48s %5d of %d%s\n' total "$total" "$budget" \
		"$([ "$total" -gt "$budget" ] && echo "  OVER THE $temp BUDGET of $((budget / 60)) min")"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# 1. Scenario table and selection.
temp=warm
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
# Cold: no guest kernel of the current configuration in the cache.
(noiommu_kernel_image full) > /dev/null 2>&1 || temp=cold
log "$temp cache ($NOIOMMU_CACHE), $slots VM(s) at once"

# 2. Prerequisites and builds the rows share (cold: the first kernel
# ~8 min, the second ~1, DPDK ~4).
if ! initrd=$("$dev/vm-prepare.sh" "${names[@]}"); then
	result FAIL prepare -- "set-up or build failed (messages above)"
	finish
fi
export NOIOMMU_INITRD=$initrd
# 3 s of forwarding give every wire check hundreds of thousands of
# frames; the main job and single runs keep vm-run.sh's 5.
export VM_FWD_SECS=${VM_FWD_SECS:-3}

# 3. Fast host checks.
log "host checks"
t=$SECONDS
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

# The bus's pin table over a mock IOAS, and its O(n^2) guard.
out=$("$dev/test-pin-table.sh" 2>&1) &&
	result PASS host:pin-table -- "$(grep 'per page' <<< "$out" | tail -n 1)" ||
	result FAIL host:pin-table -- "$(tr '\n' ' ' <<< "$out")"
phase_done host-checks $t

# 4. Background: host checks that build, and the images of the rows that
# need a build of their own. Each check writes its PASS/FAIL line to
# $work/bg-results; the rows needing these builds wait for them.
own=() main_rows=()
for n in "${names[@]}"; do
	if "$dev/vm-run.sh" --own-build "$n"; then own+=("$n"); else main_rows+=("$n"); fi
done
# One line per check: a multi-line message (apt's output on a fresh
# machine) read back line by line would count each line as a failure.
bg_result() { printf '%s\n' "$(tr '\n' ' ' <<< "$*" | sed 's/ *$//')" >> "$work/bg-results"; }
background() {
	local out line lines t t0=$SECONDS libdir plugin with without oot n

	# The style gate: DPDK's checkpatches.sh and check-git-log.sh.
	t=$SECONDS
	out=$("$dev/check-style.sh" 2>&1) &&
		bg_result PASS host:style -- "$(tail -n 1 <<< "$out")" || bg_result FAIL host:style -- "$(tr '\n' ' ' <<< "$out")"
	phase_done background:style $t

	# The guides, with the project's pages, build without a Sphinx warning.
	t=$SECONDS
	out=$("$dev/build-docs.sh" 2>&1) &&
		bg_result PASS host:docs -- "$(tail -n 1 <<< "$out")" || bg_result FAIL host:docs -- "$(tr '\n' ' ' <<< "$out")"
	phase_done background:docs $t

	# The build matrix: -Werror with gcc (the build above) and clang (what
	# the project changes or adds), the same with MinGW-w64 for Windows,
	# and the FreeBSD stubs compiled against FreeBSD's EAL headers.
	t=$SECONDS
	mapfile -t lines < <("$dev/build-matrix.sh" gcc clang mingw freebsd-stubs)
	[ ${#lines[@]} -eq 4 ] ||
		bg_result FAIL host:build-matrix -- "4 targets, ${#lines[@]} results: ${lines[*]}"
	for line in "${lines[@]}"; do
		case $line in
		*": OK"*) bg_result PASS "host:build-${line%%:*}" -- "${line#*: }" ;;
		*) bg_result FAIL "host:build-${line%%:*}" -- "${line#*: }" ;;
		esac
	done
	phase_done background:build-matrix $t

	# The out-of-tree build (root meson.build) against the installed shared
	# DPDK: the bus loads as a plugin with -d and runs its scan; without it
	# EAL names the missing plugin. (The host has no no-IOMMU devices: both
	# runs stop at init, which is what is checked here.)
	t=$SECONDS
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
			bg_result PASS host:out-of-tree-plugin -- "with -d: $(grep -m1 '^vfio_cdev: ' <<< "$with")"
		else
			bg_result FAIL host:out-of-tree-plugin -- "with -d: $(tail -n 3 <<< "$with" | tr '\n' ' ') without: $(tail -n 2 <<< "$without" | tr '\n' ' ')"
		fi
	else
		bg_result FAIL host:out-of-tree-build -- "$(tail -n 3 "$oot.err" | tr '\n' ' ')"
	fi
	phase_done background:shared-dpdk-oot $t

	# What a user of Debian's DPDK replaces keeps its ABI: each patched
	# library against Debian's package and the unpatched build.
	t=$SECONDS
	if out=$("$dev/check-abi.sh" 2>&1); then
		bg_result PASS host:abi -- "$(grep -c '^ABI: ok' <<< "$out") comparisons, none removed or changed; $(grep -m1 'librte_eal.*Debian' <<< "$out")"
	else
		bg_result FAIL host:abi -- "$(grep -v '^\[' <<< "$out" | tail -n 20 | tr '\n' ' ')"
	fi
	phase_done background:abi $t

	# The replacement packages for Debian's DPDK (build-debs.sh): installed
	# over Debian's and undone in a scratch dpkg root, build configuration
	# against Debian's headers.
	t=$SECONDS
	if out=$("$dev/check-debs.sh" 2>&1); then
		bg_result PASS host:debian-packages -- "$(grep -c '^debs: ok' <<< "$out") checks (install, undo, build config); $(grep -m1 '^debs: ok undo' <<< "$out" | cut -c10-)"
	else
		bg_result FAIL host:debian-packages -- "$(grep -v '^\[' <<< "$out" | tail -n 20 | tr '\n' ' ')"
	fi
	phase_done background:debian-packages $t

	# The images of the rows with a build of their own (a failure shows
	# in the row itself); the first sanitizer row's includes that build.
	for n in "${own[@]}"; do
		t=$SECONDS
		"$dev/vm-run.sh" --prepare "$n" > /dev/null || log "preparing $n failed"
		phase_done "background:image:$n" $t
	done
	phase_done background $t0
}
: > "$work/bg-results"
log "background builds: style, docs, build matrix, shared DPDK, images of ${#own[@]} row(s) (log $work/bg.log)"
(renice -n 19 -p $BASHPID > /dev/null; background) > "$work/bg.log" 2>&1 &
bgpid=$!

# 5. The VM scenarios, one QEMU run each, up to $slots at once (the
# background builds hold one slot while they run). Lines appear as rows end.
i=0 total=${#names[@]}
rowdir=$work/rows
mkdir -p "$rowdir"
declare -A running=()
report_done() {
	local n rc line
	for n in "${!running[@]}"; do
		[ -f "$rowdir/$n.rc" ] || continue
		unset "running[$n]"
		rc=$(cat "$rowdir/$n.rc")
		line=$(cat "$rowdir/$n.line")
		cat "$rowdir/$n.err" >&2
		if [ "$rc" -eq 0 ]; then result PASS "${line#PASS }"
		elif [ -n "$line" ]; then result FAIL "${line#FAIL }"
		else result FAIL "$n -- vm-run.sh failed (messages above)"; fi
	done
}
run_rows() { # NAME...
	local n
	for n in "$@"; do
		while [ "$(jobs -rp | wc -l)" -ge "$slots" ]; do
			wait -n
			report_done
		done
		i=$((i + 1))
		log "scenario $i/$total: $n"
		running[$n]=1
		( "$dev/vm-run.sh" "$n" > "$rowdir/$n.line" 2> "$rowdir/$n.err"
		  echo $? > "$rowdir/$n.rc" ) &
	done
	while [ ${#running[@]} -gt 0 ]; do
		wait -n
		report_done
	done
}
t=$SECONDS
run_rows "${main_rows[@]}"
phase_done rows $t
t=$SECONDS
wait $bgpid
phase_done wait-for-background $t
cat "$work/bg.log" >&2
while IFS= read -r line; do
	result ${line%% *} "${line#* }"
done < "$work/bg-results"
t=$SECONDS
run_rows "${own[@]}"
phase_done rows-own-build $t
finish
