#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Run ONE scenario of devtools/vm-scenarios.tsv in a QEMU VM and judge it.
#
# Usage: vm-run.sh NAME          run scenario NAME, print one PASS/FAIL line
#                                (a FAIL: and the end of the guest's output)
#        vm-run.sh --prepare NAME  build NAME's kernel and initramfs only
#        vm-run.sh --own-build NAME  status 0 if NAME's image needs a build
#                                beyond the main one (sanitizer build, overlay)
#        vm-run.sh --list [RE]   names of rows whose name or a tag matches RE
#        vm-run.sh --check       validate the scenario table
# Environment: NOIOMMU_INITRD (image from build-initramfs.sh; built from the
# cached DPDK build when unset), VM_TIMEOUT (hard limit, s, default 300),
# VM_BOOT_TIMEOUT (guest must reach /init by then, else one retry; 60),
# VM_FWD_SECS (testpmd forwarding time, default 5), VM_ACCEL (tcg|kvm, default
# probed once and cached), VM_OUT (output dir, default build/vm/NAME),
# VM_SCENARIOS (scenario table, default devtools/vm-scenarios.tsv).
# Output dir: console.log, guest.json (from the guest's ttyS1), capture.pcap (rows whose frames are checked)
# (filter-dump on the first NIC's hub port), result.json.
# The VM: q35, no vIOMMU, 2 vCPUs, two NICs of the row's model on one hub
# (l2fwd and ovs rows: a third, the seeding NIC).
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

SCENARIOS=${VM_SCENARIOS:-$NOIOMMU_TOP/devtools/vm-scenarios.tsv}
NFIELDS=10

# Rows of the table without comments and header, one per line.
rows() { grep -v -e '^#' -e '^name	' -e '^[[:space:]]*$' "$SCENARIOS"; }

check_table() {
	local errs=0 line n name tags kernel nic kind user preload kargs expect args
	declare -A seen=()
	while IFS= read -r line; do
		n=$(awk -F'\t' '{print NF}' <<< "$line")
		if [ "$n" -ne $NFIELDS ]; then
			echo "vm-scenarios.tsv: $n tab-separated fields, want $NFIELDS: $line" >&2
			errs=$((errs + 1)); continue
		fi
		IFS=$'\t' read -r name tags kernel nic kind user preload kargs expect args <<< "$line"
		bad() { echo "vm-scenarios.tsv: row $name: $*" >&2; errs=$((errs + 1)); }
		[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || bad "bad name"
		[ -z "${seen[$name]:-}" ] || bad "duplicate name"
		seen[$name]=1
		[[ $tags =~ ^(-|[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*)$ ]] || bad "bad tags '$tags'"
		[[ $kernel =~ ^(full|nogroup|debian-[a-z]+(-cloud)?)$ ]] || bad "kernel '$kernel'"
		case $nic in e1000e|igb|virtio-net-pci) ;; *) bad "nic '$nic'" ;; esac
		case $kind in testpmd | l2fwd) ;; cmd) [ "$args" != - ] || bad "cmd without args" ;;
		ovs) [[ " $kargs " == *" noiommu.debian=1 "* ]] ||
			bad "kind ovs without noiommu.debian=1 (Open vSwitch comes with the Debian overlay)" ;;
		*) bad "kind '$kind'" ;; esac
		# DPDK 22.11: "Cannot get hugepage information" in a secondary.
		[[ " $kargs " == *" noiommu.zones=1 "* && " $args " == *" --no-huge "* ]] &&
			bad "noiommu.zones=1 with --no-huge: no secondary attaches to a --no-huge primary"
		[[ $user =~ ^(root|dpdk:[a-z_,]*(:[0-9]+)?)$ ]] || bad "user '$user'"
		[ "$preload" = - ] || [ -f "$NOIOMMU_TOP/devtools/guest/$preload.c" ] ||
			bad "preload '$preload' (no devtools/guest/$preload.c)"
		case $expect in
		pass) ;;
		pass:?*|fail:?*|match:?*) python3 -c 'import re, sys; re.compile(sys.argv[1])' \
			"${expect#*:}" 2>/dev/null || bad "bad regex in '$expect'" ;;
		*) bad "expect '$expect'" ;;
		esac
		[ "$(printf '%s' "$args" | base64 -w0 | wc -c)" -lt 1200 ] || bad "args too long"
	done < <(rows)
	[ $errs -eq 0 ] || die "$errs error(s) in $SCENARIOS"
	echo "vm-scenarios.tsv: $(rows | wc -l) rows OK"
}

case ${1:-} in
--check) check_table; exit 0 ;;
--list)
	rows | awk -F'\t' -v re="${2:-.}" '{
		if ($1 ~ re) { print $1; next }
		n = split($2, t, ","); for (i = 1; i <= n; i++) if (t[i] ~ "^(" re ")$") { print $1; next } }'
	exit 0 ;;
--prepare|--own-build) mode=$1; shift ;;
''|-*) sed -n '3,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
*) mode=run ;;
esac

name=${1:-}
line=$(rows | awk -F'\t' -v n="$name" '$1 == n && !done {print; done = 1}')
[ -n "$line" ] || die "no scenario '$name' in $SCENARIOS"
IFS=$'\t' read -r name tags kernel nic kind user preload kargs expect args <<< "$line"
[ "$kargs" = - ] && kargs=
[ "$args" = - ] && args=
sanitized=false installed=false devbind=false debian=false
[[ " $kargs " == *" noiommu.sanitized=1 "* ]] && sanitized=true
[[ " $kargs " == *" noiommu.debian=1 "* ]] && debian=true
[[ " $kargs " == *" noiommu.installed=1 "* ]] && installed=true
[[ " $kargs " == *" noiommu.devbind=1 "* ]] && devbind=true
if [ "$mode" = --own-build ]; then
	$sanitized || $installed || $devbind || $debian || [ "$kind" = l2fwd ]
	exit
fi

timeout_s=${VM_TIMEOUT:-300}
boot_timeout=${VM_BOOT_TIMEOUT:-60}
fwd_secs=${VM_FWD_SECS:-5}
initrd=${NOIOMMU_INITRD:-}
if [ -z "$initrd" ]; then
	initrd=$("$NOIOMMU_TOP/devtools/build-initramfs.sh" "$NOIOMMU_CACHE/dpdk/build")
fi
[ -f "$initrd" ] || die "initramfs $initrd missing"
# Rows of the ASan + UBSan build: its own image.
if $sanitized; then
	initrd=$("$NOIOMMU_TOP/devtools/build-initramfs.sh" \
		"$(DPDK_SANITIZE=1 "$NOIOMMU_TOP/devtools/build-dpdk.sh")")
fi
# concat_once OUT IN...: OUT is the archives IN in order, written once
# (rows run side by side: a reader never sees a half-written file).
concat_once() {
	local out=$1; shift
	[ -f "$out" ] && return 0
	cat "$@" > "$out.$$" && mv "$out.$$" "$out"
}
case $kernel in
debian-*)
	# Debian's own kernel: its modules go in a second cpio archive,
	# which the kernel unpacks after the first.
	kdir=$(noiommu_debian_kernel "$kernel")
	bzimage=$kdir/vmlinuz
	combined=$NOIOMMU_CACHE/initramfs/$(basename "$initrd" .cpio.gz)+$(basename "$kdir").cpio.gz
	concat_once "$combined" "$initrd" "$kdir/modules.cpio.gz"
	initrd=$combined
	;;
*) bzimage=$(noiommu_kernel_image "$kernel") ;;
esac
# Rows of the installed DPDK, of the example built against it and of
# dpdk-devbind.py: their overlay after the main archive.
overlay=
$installed && overlay=$("$NOIOMMU_TOP/devtools/build-oot.sh")
$devbind && overlay=$("$NOIOMMU_TOP/devtools/build-devbind.sh")
# Debian's own DPDK packages with the replacement packages over them.
$debian && overlay=$("$NOIOMMU_TOP/devtools/build-debian-overlay.sh")
[ "$kind" = l2fwd ] && overlay=$("$NOIOMMU_TOP/devtools/build-example.sh")
if [ -n "$overlay" ]; then
	combined=$NOIOMMU_CACHE/initramfs/$(basename "$initrd" .cpio.gz)+$(basename "$overlay")
	concat_once "$combined" "$initrd" "$overlay"
	initrd=$combined
fi
if [ "$mode" = --prepare ]; then
	echo "$initrd"
	exit 0
fi
out=${VM_OUT:-$NOIOMMU_TOP/build/vm/$name}
rm -rf "$out"; mkdir -p "$out"

# Memory: 2 MiB hugepages (256 unless kargs asks for another count) plus
# 512 MiB of room, plus any 1 GiB pages asked for.
huge2m=256
if [[ " $kargs " =~ \ hugepagesz=2M\ hugepages=([0-9]+)\  ]]; then
	huge2m=${BASH_REMATCH[1]}
	kargs=${kargs/hugepagesz=2M hugepages=$huge2m/}
fi
mem=$((512 + 2 * huge2m))
# A 1 GiB page needs 1 GiB-aligned RAM that early boot allocations (top
# down) leave free: give two more GiB.
if [[ " $kargs " =~ \ hugepagesz=1G\ hugepages=([0-9]+)\  ]]; then
	mem=$((mem + 1024 * (BASH_REMATCH[1] + 2)))
fi
# The sanitizer image unpacks to about 500 MiB, and ASan needs its shadow.
$sanitized && mem=$((mem + 2048))
cmdline="console=ttyS0 panic=-1 tsc=reliable"
cmdline+=" default_hugepagesz=2M hugepagesz=2M hugepages=$huge2m"
[[ $kargs == *vfio.enable_unsafe_noiommu_mode=* ]] ||
	cmdline+=" vfio.enable_unsafe_noiommu_mode=1"
cmdline+=" $kargs noiommu.scenario=$name noiommu.kind=$kind noiommu.user=$user"
cmdline+=" noiommu.preload=$preload noiommu.secs=$fwd_secs"
cmdline+=" noiommu.timeout=$((timeout_s * 2 / 3))"
# Rows of the cdev backend run under the guest's file-access tracer.
trace=0
[[ ",$tags," == *,cdev,* && " $kargs " != *" noiommu.trace=0 "* ]] && trace=1
cmdline+=" noiommu.trace=$trace"
[ -n "$args" ] && cmdline+=" noiommu.args64=$(printf '%s' "$args" | base64 -w0)"

# Fixed MACs, so the capture check knows which port sent each frame.
# l2fwd and Open vSwitch have no --tx-first: a third NIC is the traffic
# source.
nic_macs=(52:54:00:00:00:01 52:54:00:00:00:02)
source_mac=
if [ "$kind" = l2fwd ] || [ "$kind" = ovs ]; then
	source_mac=52:54:00:00:00:03
	nic_macs+=("$source_mac")
fi
# Only rows whose frames are checked capture: the wire grows by ~15 MB/s,
# and a kill loop's unchecked capture reached 7 GB and filled CI's disk.
capture=false
case $kind in testpmd | l2fwd | ovs) [ "${expect%%:*}" = pass ] && capture=true ;; esac

# QEMU command line for this VM; $1 = accel, $2 = output dir, $3 = cmdline.
qemu_cmd() {
	local i
	# TCG runs both vCPUs in one thread: with a thread per vCPU, QEMU 10.0
	# now and then lost a guest's x2APIC EOI (the timer vector stayed in
	# service: no more timer interrupts on that CPU, a task in
	# usleep_range() for good) or aborted in iotlb_to_section() while a
	# device reset remapped its BARs. A loop of 3000 vfio-pci resets hit
	# one of the two in 7 of 9 runs, and in none of 6 in one thread.
	local accel=$1
	[ "$accel" = tcg ] && accel=tcg,thread=single
	qemu=(qemu-system-x86_64 -machine q35 -accel "$accel" -cpu max -smp 2 -m "$mem"
		-nodefaults -nographic -no-reboot
		-kernel "$bzimage" -initrd "$initrd" -append "$3"
		-serial "file:$2/console.log" -serial "file:$2/guest.json")
	# Slots 4 and 6: igb reserves the slot after it for its VFs.
	for i in "${!nic_macs[@]}"; do
		qemu+=(-netdev "hubport,id=hp$i,hubid=0"
			-device "$nic,netdev=hp$i,addr=$((4 + 2 * i)),romfile=,mac=${nic_macs[i]}")
	done
	# Bounded capture: 64 bytes per frame (all of testpmd's); cut to 1000 frames after the check.
	$capture && qemu+=(-object "filter-dump,id=cap0,netdev=hp0,file=$2/capture.pcap,maxlen=64")
	return 0
}

# TCG unless a guest really boots with KVM here; probed once per host setup.
probe_accel() {
	local key f d
	[ -w /dev/kvm ] || { echo tcg; return; }
	key=$( (uname -r; qemu-system-x86_64 --version; grep 'model name' /proc/cpuinfo) |
		sha256sum | cut -c1-12)
	f=$NOIOMMU_CACHE/accel-$key
	if [ ! -f "$f" ]; then
		log "probing KVM (a guest boot, at most 30 s)"
		d=$(mktemp -d)
		qemu_cmd kvm "$d" "console=ttyS0 panic=-1 noiommu.kind=probe noiommu.scenario=probe"
		timeout -k 5 30 "${qemu[@]}" < /dev/null > "$d/qemu.log" 2>&1 || true
		if grep -q 'noiommu-init: probe ok' "$d/console.log" 2>/dev/null; then
			echo kvm > "$f"
		else
			echo tcg > "$f"
			log "KVM cannot boot a guest here ($(grep -m1 -i error "$d/qemu.log" || echo 'no boot')): using TCG"
		fi
		rm -rf "$d"
	fi
	cat "$f"
}
accel=${VM_ACCEL:-$(probe_accel)}

qemu_cmd "$accel" "$out" "$cmdline"
printf '%q ' "${qemu[@]}" > "$out/qemu.cmd"

# Run QEMU once; returns its exit status, 124 when killed at $timeout_s,
# 125 when the guest did not reach /init within $boot_timeout.
qpid=
trap '[ -n "$qpid" ] && kill -9 $qpid 2>/dev/null' EXIT
run_vm() {
	local start=$SECONDS booted=false rc=0
	rm -f "$out"/{console.log,guest.json,capture.pcap,qemu.log}
	"${qemu[@]}" < /dev/null > "$out/qemu.log" 2>&1 &
	qpid=$!
	while kill -0 $qpid 2>/dev/null; do
		$booted || ! grep -q 'noiommu-init: up' "$out/console.log" 2>/dev/null || booted=true
		if ! $booted && [ $((SECONDS - start)) -ge "$boot_timeout" ]; then rc=125; break; fi
		if [ $((SECONDS - start)) -ge "$timeout_s" ]; then rc=124; break; fi
		sleep 1
	done
	if [ $rc -ne 0 ]; then
		kill $qpid 2>/dev/null; sleep 2; kill -9 $qpid 2>/dev/null
		wait $qpid 2>/dev/null
	else
		wait $qpid || rc=$?
	fi
	qpid=
	return $rc
}

t0=$(date +%s%N)
rc=0 retried=
run_vm || rc=$?
# A second run only for faults outside what is tested, named in the verdict:
# the guest kernel stalled before /init (seen once under heavy host load), or
# QEMU aborted on an assertion of its own (TCG's iotlb_to_section with two
# vCPUs, once in about 250 runs). The first run's logs stay in first-run/.
if [ $rc -eq 125 ]; then
	retried="guest did not reach /init in ${boot_timeout}s"
elif [ $rc -ge 128 ] && a=$(grep -m1 -o 'Assertion .* failed' "$out/qemu.log"); then
	retried="QEMU aborted: $a"
fi
if [ -n "$retried" ]; then
	echo "--- $name: $retried; running the VM again. Tails of the first run:" >&2
	tail -n 5 "$out/console.log" "$out/qemu.log" >&2 2>/dev/null || true
	rm -rf "$out/first-run"; mkdir "$out/first-run"
	cp "$out/console.log" "$out/qemu.log" "$out/first-run/" 2>/dev/null || true
	rc=0
	run_vm || rc=$?
fi
wall_ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc -eq 124 ] || [ $rc -eq 125 ]; then
	echo "--- $name: VM killed ($([ $rc -eq 124 ] && echo "after ${timeout_s}s" ||
		echo "no /init after ${boot_timeout}s")); console tail:" >&2
	tail -n 40 "$out/console.log" >&2
elif [ $rc -ne 0 ]; then
	echo "--- $name: qemu exited with $rc:" >&2
	tail -n 20 "$out/qemu.log" >&2
fi

capjson=
if $capture; then
	python3 "$NOIOMMU_TOP/devtools/check-capture.py" --json "$out/capture.json" --keep 1000 \
		--ports "${nic_macs[0]},${nic_macs[1]}" ${source_mac:+--source "$source_mac"} \
		"$out/capture.pcap" > "$out/capture.txt" || true
	capjson=$out/capture.json
fi
exec python3 "$NOIOMMU_TOP/devtools/vm-verdict.py" \
	--name "$name" --nic "$nic" --kind "$kind" --expect "$expect" \
	--qemu-rc "$rc" --accel "$accel" --wall-ms "$wall_ms" --out "$out" --trace "$trace" \
	${capjson:+--capture "$capjson"} ${retried:+--retried "$retried"}
