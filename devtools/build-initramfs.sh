#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Build the guest initramfs (gzip cpio) for the VM tests.
# Usage: build-initramfs.sh <dpdk-build-dir>
# Contents: busybox-static (applets as symlinks), util-linux setpriv, strace
# (the guest's file-access tracer), the DPDK
# binaries dpdk-testpmd, dpdk-test and dpdk-test-noiommu (if built), stripped,
# every library ldd lists for them plus libgcc_s.so.1, devtools/guest/*
# (init at /init, scripts and programs in /usr/bin, LD_PRELOAD shims in
# /usr/lib) and a user 'dpdk' (uid/gid 1000).
# Cached in $NOIOMMU_CACHE/initramfs/<key>.cpio.gz, the key hashing every
# input; prints the image path on stdout.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

[ $# -eq 1 ] || die "usage: $0 <dpdk-build-dir>"
build=$(cd "$1" && pwd)
guest=$NOIOMMU_TOP/devtools/guest
bins=("$build/app/dpdk-testpmd" "$build/app/test/dpdk-test")
for b in "${bins[@]}"; do [ -x "$b" ] || die "$b missing: build DPDK first"; done
[ -x "$build/app/dpdk-test-noiommu" ] && bins+=("$build/app/dpdk-test-noiommu")
busybox=/bin/busybox
setpriv=/usr/bin/setpriv
strace=/usr/bin/strace
for t in "$busybox" "$setpriv" "$strace" cpio gcc strip ldd; do
	command -v "$t" >/dev/null || die "$t missing: run devtools/setup-host.sh"
done
# busybox must be the static one: the image has no libs for a dynamic one.
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static: install busybox-static"
libgcc=$(ldconfig -p | awk '/libgcc_s\.so\.1 .*x86-64/ && !f {print $NF; f = 1}')
[ -n "$libgcc" ] || die "libgcc_s.so.1 not found (ldconfig -p)"

key=$( {
	sha256sum "$0" "${bins[@]}" "$busybox" "$setpriv" "$strace" "$libgcc"
	find "$guest" -type f -print0 | sort -z | xargs -0 sha256sum
	ldd "${bins[@]}" "$setpriv" "$strace" | awk '/=>/ {print $3}' | sort -u | xargs -r sha256sum
} | sed 's#  .*/#  #' | sha256sum | cut -c1-16)
out=$NOIOMMU_CACHE/initramfs/$key.cpio.gz
if [ -f "$out" ]; then
	# Newest again: the pruning below by another build (the sanitizer
	# image, built beside the rows) must not take an image rows still use.
	touch "$out"
	echo "$out"
	exit 0
fi
log "building initramfs $key"
root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,etc,proc,sys,dev,tmp,run,root,var}
ln -s ../run "$root/var/run"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"

cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
rm -f "$root/usr/bin/setpriv" "$root/bin/setpriv"
cp "$setpriv" "$root/usr/bin/setpriv"
rm -f "$root/usr/bin/strace"
cp "$strace" "$root/usr/bin/strace"
for b in "${bins[@]}"; do
	strip --strip-debug -o "$root/usr/bin/$(basename "$b")" "$b"
done

# Libraries at their ldd path, with /lib and /lib64 resolved as on the host.
copy_lib() {
	local dir
	dir=$(realpath "$(dirname "$1")")
	mkdir -p "$root$dir"
	[ -e "$root$dir/$(basename "$1")" ] || cp -L "$1" "$root$dir/$(basename "$1")"
}
ldd "${bins[@]}" "$setpriv" "$strace" | awk '/:$/ {next} $2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
	sort -u | while read -r lib; do copy_lib "$lib"; done
copy_lib "$libgcc"

# devtools/guest/NAME.c: with a main(), a program (/usr/bin/NAME), else an
# LD_PRELOAD shim (/usr/lib/NAME.so).
for c in "$guest"/*.c; do
	n=$(basename "$c" .c)
	if grep -q '^main(' "$c"; then
		gcc -O2 -Wall -Werror -o "$root/usr/bin/$n" "$c"
	else
		gcc -shared -fPIC -O2 -Wall -Werror -o "$root/usr/lib/$n.so" "$c" -ldl
	fi
done
install -m 0755 "$guest/init" "$root/init"
for f in "$guest"/*; do
	case ${f##*/} in init|*.c) continue ;; esac
	install -m 0755 "$f" "$root/usr/bin/${f##*/}"
done

cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
dpdk:x:1000:1000:dpdk:/tmp:/bin/sh
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
dpdk:x:1000:
EOF

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 > "$out.$$"
mv "$out.$$" "$out"
# Keep the four newest images (the normal and the sanitizer build alternate),
# and drop the combined images (image+overlay) of images gone.
ls -t "$NOIOMMU_CACHE"/initramfs/????????????????.cpio.gz | tail -n +5 | xargs -r rm -f
for c in "$NOIOMMU_CACHE"/initramfs/*+*.cpio.gz; do
	[ -e "$c" ] || continue
	base=${c##*/}
	[ -f "$NOIOMMU_CACHE/initramfs/${base%%+*}.cpio.gz" ] || rm -f "$c"
done
log "initramfs: $out ($(du -h "$out" | cut -f1))"
echo "$out"
