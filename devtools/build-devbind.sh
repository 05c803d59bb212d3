#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Guest overlay for the rows that run usertools/dpdk-devbind.py (with this
# project's patch): Debian's python3 with the standard modules the script
# imports, lspci, and the script itself as /usr/bin/dpdk-devbind.py.
# vm-run.sh appends it to the initramfs. Cached in
# $NOIOMMU_CACHE/initramfs/devbind-<key>.cpio.gz; prints its path.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

need_pkgs python3-minimal libpython3-stdlib pciutils
"$NOIOMMU_TOP/devtools/build-dpdk.sh" > /dev/null # applies the patches to the tree
devbind=$NOIOMMU_CACHE/dpdk/tree/usertools/dpdk-devbind.py
python=$(realpath /usr/bin/python3)
lspci=/usr/bin/lspci
# Every module file the interpreter loads for the script, its own
# start-up (site, encodings) included.
modules=$("$python" -c '
import sys, os, subprocess, argparse, platform, glob
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f and f.startswith(sys.base_prefix + "/lib/python") and "-packages/" not in f:
        print(f)' | LC_ALL=C sort -u)
key=$( {
	sha256sum "$0" "$devbind" "$python" "$lspci"
	echo "$modules" | xargs sha256sum
	ldd "$python" "$lspci" | awk '/=>/ {print $3}' | sort -u | xargs -r sha256sum
} | sed 's#  .*/#  #' | sha256sum | cut -c1-16)
out=$NOIOMMU_CACHE/initramfs/devbind-$key.cpio.gz
if [ -f "$out" ]; then
	echo "$out"
	exit 0
fi
log "building the dpdk-devbind.py guest overlay $key"
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
install -D -m 0755 "$python" "$root/usr/bin/$(basename "$python")"
ln -s "$(basename "$python")" "$root/usr/bin/python3"
install -D -m 0755 "$lspci" "$root$lspci"
install -D -m 0755 "$devbind" "$root/usr/bin/dpdk-devbind.py"
echo "$modules" | cpio -pdm --quiet "$root"
# The interpreter finds its exec_prefix by this directory.
mkdir -p "$root$("$python" -c 'import sysconfig; print(sysconfig.get_path("platstdlib"))')/lib-dynload"
ldd "$python" "$lspci" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u | overlay_libs "$root"
overlay_pack "$root" "$out" "dpdk-devbind.py guest overlay"
