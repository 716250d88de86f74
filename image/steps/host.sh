#!/usr/bin/env bash
# Step: checks the build machine (root, tools; `bash setup.sh --image` installs them) and makes
# sure arm64 binaries run through qemu-user: binfmt_misc mounted, qemu-aarch64 enabled.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

[[ "$(id -u)" == 0 ]] || die "must run as root (mmdebstrap root mode, chroot, mounts); try sudo"
for tool in mmdebstrap mke2fs debugfs mkfs.fat mcopy sfdisk zstd npm node unshare flock aarch64-linux-gnu-strip update-binfmts; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run 'bash setup.sh --image'"
done
[[ -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P || -x /usr/bin/qemu-aarch64-static ]] ||
  die "qemu-user-static missing; run 'bash setup.sh --image'"
if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
  step "host: mounting binfmt_misc"
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
fi
if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || ! grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
  step "host: enabling qemu-aarch64 in binfmt_misc"
  update-binfmts --enable qemu-aarch64 || die "update-binfmts --enable qemu-aarch64 failed"
fi
grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
  die "qemu-aarch64 binfmt entry lacks the F flag (needed inside chroots); reinstall qemu-user-static"
step "host: ok (root, tools, qemu-aarch64 binfmt enabled)"
