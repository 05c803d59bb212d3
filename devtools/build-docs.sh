#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build DPDK's guides (Sphinx, Debian's packages) from the patched tree,
# with this project's pages in it, warnings as errors. Output in
# build/docs; prints one summary line, exit status 0 when clean.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

need_pkgs python3-sphinx python3-sphinx-rtd-theme
# build-dpdk.sh leaves the tree patched and overlaid.
tree=$(dirname "$("$NOIOMMU_TOP/devtools/build-dpdk.sh" 2>/dev/null)")/tree
out=$NOIOMMU_TOP/build/docs
mkdir -p "$NOIOMMU_TOP/build"
rm -rf "$out"
if ! sphinx-build -W --keep-going -q -b html -j 2 "$tree/doc/guides" "$out" > "$out.log" 2>&1; then
	echo "docs: Sphinx reported problems (log $out.log):"
	grep -iE 'warning|error' "$out.log" | head -20
	exit 1
fi
echo "docs: DPDK guides with the VFIO cdev pages built by Sphinx $(sphinx-build --version | awk '{print $2}'), 0 warnings"
