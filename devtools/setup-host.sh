#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Install what the VM test harness needs on the host, if missing:
# QEMU >= 8 (qemu-system-x86 from bookworm-backports), busybox-static,
# util-linux (setpriv), strace, cpio, python3 and gcc. Quiet when all is present.
set -euo pipefail
source "$(dirname "$0")/noiommu-common.sh"

QEMU_MIN_MAJOR=8

qemu_major() {
	qemu-system-x86_64 --version 2>/dev/null |
		sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p'
}

need_pkgs busybox-static util-linux cpio gcc libc6-dev python3 strace

if [ "$(qemu_major)" = "" ] || [ "$(qemu_major)" -lt "$QEMU_MIN_MAJOR" ]; then
	log "installing qemu-system-x86 from bookworm-backports"
	noiommu_apt bookworm+bookworm-backports env DEBIAN_FRONTEND=noninteractive \
		apt-get -y -q install --no-install-recommends -t bookworm-backports \
		qemu-system-x86 >&2 || die "installing qemu-system-x86 from bookworm-backports failed"
fi
major=$(qemu_major)
[ -n "$major" ] && [ "$major" -ge "$QEMU_MIN_MAJOR" ] ||
	die "qemu-system-x86_64 >= $QEMU_MIN_MAJOR needed, found '$(qemu-system-x86_64 --version 2>&1 | head -1)'"
for bin in busybox setpriv strace cpio gcc python3; do
	command -v "$bin" >/dev/null || die "$bin not found after installation"
done
