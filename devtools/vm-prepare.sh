#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Get everything the VM scenarios need, building only what is not cached:
# host packages (setup-host.sh), the guest kernel variants the given
# scenarios use (build-kernel.sh; Debian's own from debian-kernel.sh), DPDK (build-dpdk.sh) and the initramfs
# (build-initramfs.sh). Usage: vm-prepare.sh NAME...
# Prints the initramfs path on stdout (for NOIOMMU_INITRD); progress on stderr.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"
dev=$NOIOMMU_TOP/devtools

[ $# -gt 0 ] || die "usage: $0 SCENARIO..."
t=$SECONDS
"$dev/setup-host.sh"
phase_done host-packages $t
variants=$(for n in "$@"; do
	awk -F'\t' -v n="$n" '$1 == n {print $3}' "${VM_SCENARIOS:-$dev/vm-scenarios.tsv}"
done | sort -u)
[ -n "$variants" ] || die "none of the scenarios $* found"
t=$SECONDS
for v in $variants; do
	case $v in debian-*) noiommu_debian_kernel "$v" > /dev/null ;; esac
done
phase_done debian-kernels $t
t=$SECONDS
built=$(echo "$variants" | grep -v '^debian-' || true)
# shellcheck disable=SC2086
[ -z "$built" ] || "$dev/build-kernel.sh" $built
phase_done kernels $t
t=$SECONDS
build=$("$dev/build-dpdk.sh")
phase_done dpdk-gcc $t
t=$SECONDS
"$dev/build-initramfs.sh" "$build"
phase_done initramfs $t
