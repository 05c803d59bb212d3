#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The style gate: DPDK's own devtools/checkpatches.sh (with the kernel's
# scripts/checkpatch.pl from the linux-source the guest kernel is built
# from) over every patch of patches/series and over every new file of the
# project (as one synthetic patch), and DPDK's devtools/check-git-log.sh
# over the patches as commits of a scratch repository of the base tree.
# Findings listed in devtools/checkpatch-exceptions.txt are accepted.
# Prints one summary line; exit status 0 when nothing else was found.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

need_pkgs gawk git
base=$NOIOMMU_CACHE/src/dpdk-$DPDK_BASE_VERSION
[ -f "$base/.extracted" ] || base=$(dirname "$("$NOIOMMU_TOP/devtools/build-dpdk.sh")")/tree
checkpatch=$(ls "$NOIOMMU_CACHE"/src/linux-source-*/scripts/checkpatch.pl 2>/dev/null | tail -1)
[ -n "$checkpatch" ] || die "no kernel checkpatch.pl: run devtools/build-kernel.sh full first"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mapfile -t patches < <(grep -v '^#' "$NOIOMMU_TOP/patches/series" | sed "s#^#$NOIOMMU_TOP/patches/#")

# The new files as one patch (synthetic, so it gets a sign-off).
(cd "$NOIOMMU_TOP" && {
	printf 'From: check <check@localhost>\nSubject: [PATCH] new files\n\n'
	printf 'The project'"'"'s own files.\n\nSigned-off-by: check <check@localhost>\n---\n'
	git ls-files app drivers lib doc | while read -r f; do
		git diff --no-index /dev/null "$f" || true
	done
}) > "$work/new-files.patch"

(cd "$base" && DPDK_CHECKPATCH_PATH=$checkpatch devtools/checkpatches.sh \
	"${patches[@]}" "$work/new-files.patch") > "$work/checkpatch.log" 2>&1 || true

# Commit-message rules: the patches as commits on a scratch copy.
git init -q "$work/repo"
cp -a "$base/." "$work/repo/"
rm -f "$work/repo/.extracted"
g() { git -C "$work/repo" -c user.name=check -c user.email=check@localhost "$@"; }
g add -A && g commit -qm base
for p in "${patches[@]}"; do
	patch -s -p1 -d "$work/repo" < "$p"
	awk '/^Subject:/ {sub(/^Subject: *(\[[^]]*\] *)?/, ""); print; print ""; body = 1; next}
		body && /^---$/ {exit} body && !/^$/ || body && started {print; started = 1}' "$p" > "$work/msg"
	g add -A && g commit -q -F "$work/msg"
done
(cd "$work/repo" && devtools/check-git-log.sh -r "HEAD~${#patches[@]}..HEAD") \
	> "$work/git-log.log" 2>&1 || true

# Both tools must have gone through every patch: a run that stopped early
# reports no findings either.
n_cp=$((${#patches[@]} + 1))
grep -Eq "^[0-9]+/$n_cp valid patch" "$work/checkpatch.log" ||
	die "checkpatches.sh did not report on all $n_cp patches: $(tail -n 3 "$work/checkpatch.log" | tr '\n' ' ')"
grep -Eq "^${#patches[@]}/${#patches[@]} valid patch|checked ${#patches[@]} patch" "$work/git-log.log" ||
	die "check-git-log.sh did not report on all ${#patches[@]} patches: $(tail -n 3 "$work/git-log.log" | tr '\n' ' ')"

# Findings, one per line (message, file), less the accepted ones.
python3 - "$NOIOMMU_TOP/devtools/checkpatch-exceptions.txt" \
	"$work/checkpatch.log" "$work/git-log.log" > "$work/findings" <<'PY'
import re, sys
ok = [l.rstrip("\n").split("\t")[:2] for l in open(sys.argv[1])
      if l.strip() and not l.startswith("#")]
found = []
cp = open(sys.argv[2]).read().split("\n")
for i, l in enumerate(cp):
    m = re.match(r"(ERROR|WARNING|CHECK):(\w+):", l)
    if m:
        f = re.search(r"FILE: ([^:]+):", "\n".join(cp[i + 1:i + 3]))
        found.append((m.group(2), f.group(1) if f else "*", l))
    m = re.match(r"Warning in (.*):$", l)
    if m:
        found.append((cp[i + 1].strip(), m.group(1), l + " " + cp[i + 1].strip()))
gl = open(sys.argv[3]).read().split("\n")
for i, l in enumerate(gl):
    if l and not l[0].isspace() and l.rstrip().endswith(":"):
        detail = " ".join(x.strip() for x in gl[i + 1:i + 3] if x.startswith(("\t", " ")))
        found.append((l.rstrip(": ").strip(), "*", l + " " + detail))
for key, where, text in found:
    if not any(key.startswith(k) and w in ("*", where) for k, w in ok):
        print(re.sub(r"\x1b\[[0-9;]*[mK]", "", text))
PY
n=$(grep -c . "$work/findings" || true)
accepted=$(grep -v '^#' "$NOIOMMU_TOP/devtools/checkpatch-exceptions.txt" | cut -f1 | paste -sd';')
if [ "$n" -eq 0 ]; then
	echo "style: ${#patches[@]} patches and the new files clean for checkpatches.sh and check-git-log.sh (accepted: $accepted)"
	exit 0
fi
echo "style: $n finding(s):"
head -40 "$work/findings"
exit 1
