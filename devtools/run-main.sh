#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The main job: set up the host, build what is missing (kernel, DPDK,
# initramfs; cached under $NOIOMMU_CACHE), then run testpmd io forwarding
# between two NICs in a no-vIOMMU QEMU VM for every row of
# devtools/vm-scenarios.tsv tagged $MAIN_TAG (one per NIC model), print a
# per-port RX/TX table and a one-line verdict. Exit status 0 iff all passed.
# Usage: devtools/run-main.sh        (MAIN_TAG=... overrides the row set)
set -uo pipefail
source "$(dirname "$0")/noiommu-common.sh"
dev=$NOIOMMU_TOP/devtools

# The backend row set this job exercises: the tag in vm-scenarios.tsv.
MAIN_TAG=${MAIN_TAG:-main}

mapfile -t names < <("$dev/vm-run.sh" --list "$MAIN_TAG")
[ ${#names[@]} -gt 0 ] || die "no scenario tagged '$MAIN_TAG'"
initrd=$("$dev/vm-prepare.sh" "${names[@]}") || die "set-up or build failed"
export NOIOMMU_INITRD=$initrd

outs=()
for n in "${names[@]}"; do
	log "running $n"
	"$dev/vm-run.sh" "$n"
	outs+=("${VM_OUT:-$NOIOMMU_TOP/build/vm/$n}/result.json")
done

python3 - "$MAIN_TAG" "${outs[@]}" <<'PY'
import json, sys
tag, paths = sys.argv[1], sys.argv[2:]
fmt = "%-26s %-15s %4s %12s %12s %7s %7s %10s  %s"
print()
print(fmt % ("scenario", "nic", "port", "RX-packets", "TX-packets", "RX-err", "TX-err", "captured", "verdict"))
ok = 0
for p in paths:
    try:
        r = json.load(open(p))
    except (OSError, ValueError):
        print(fmt % (p, "?", "-", "-", "-", "-", "-", "-", "FAIL (no result)"))
        continue
    ok += r["verdict"] == "PASS"
    ports = (r.get("guest") or {}).get("ports") or [{}]
    cap = (r.get("capture") or {}).get("good", "-")
    for i, pt in enumerate(ports):
        print(fmt % (r["name"] if i == 0 else "", r["nic"] if i == 0 else "",
                     pt.get("port", "-"), pt.get("rx", "-"), pt.get("tx", "-"),
                     pt.get("rx_errors", "-"), pt.get("tx_errors", "-"),
                     cap if i == 0 else "", r["verdict"] if i == 0 else ""))
print()
verdict = "PASS" if ok == len(paths) else "FAIL"
print("verdict: %s - testpmd forwarding with the '%s' rows: %d/%d NIC models passed"
      % (verdict, tag, ok, len(paths)))
sys.exit(0 if verdict == "PASS" else 1)
PY
