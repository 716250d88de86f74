#!/usr/bin/env bash
# One command for the box's bootable arm64 disk image (docs/image.md):
#
#   npm run image        (= bash image/build.sh; as root: mmdebstrap, chroot, binfmt_misc)
#
# Output in image/out/: outpost-arm64.img (+ .zst), the signed update bundle
# outpost-arm64-VERSION.raucb (docs/updates.md), vmlinuz, initrd.img, cmdline.txt for a direct
# kernel boot under QEMU (a development shortcut past GRUB), outpost-arm64.manifest, SHA256SUMS. Caches in
# ~/.cache/outpost-image (OUTPOST_IMAGE_CACHE): the rootfs tar keyed by its inputs, the arm64
# cross toolchain (native/), the npm tarballs and arm64 node_modules; native/build/arm64/ holds
# the arm64 native libraries. OUTPOST_IMAGE_REFRESH=1 rebuilds the rootfs tar (new Debian updates).
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

started=$SECONDS
steps="$IMAGE_DIR/steps"
step "building the Outpost arm64 image (cache $CACHE_DIR, output $OUT_DIR)"
bash "$steps/host.sh"
mkdir -p "$CACHE_DIR" "$WORK_DIR" "$OUT_DIR"
exec 8>"$CACHE_DIR/.lock"
if ! flock -n 8; then
  step "another image build holds $CACHE_DIR/.lock; waiting for it (at most 60 min)"
  flock -w 3600 8 || die "another image build still holds $CACHE_DIR/.lock after 60 min"
fi

# The rootfs (step 1) needs no other step: it runs beside steps 2-4 (both cores are used
# when it is not cached; everything runs at nice 19).
step "[1/6] Debian root file system (in the background)"
rootfs_out="$WORK_DIR/rootfs.path"
rm -f "$rootfs_out"
bash "$steps/rootfs.sh" >"$rootfs_out" &
rootfs_pid=$!
trap 'kill "$rootfs_pid" 2>/dev/null || true' EXIT
step "[2/6] Node.js for arm64"
node_bin="$(bash "$steps/node.sh" | tail -n 1)"
step "[3/6] node_modules for arm64"
modules="$(bash "$steps/modules.sh" | tail -n 1)"
step "[4/6] native libraries for arm64 (cross-compiled, then loaded by the arm64 Node)"
bash "$steps/native.sh" "$node_bin" "$modules"
step "[1/6] waiting for the Debian root file system"
wait "$rootfs_pid" || die "the rootfs step failed (its error is above)"
trap - EXIT
rootfs_tar="$(tail -n 1 "$rootfs_out")"
[[ -f "$rootfs_tar" ]] || die "the rootfs step produced no tar"
step "[5/6] update signing keys, root tree and disk image"
bash "$steps/keys.sh"
bash "$steps/tree.sh" "$rootfs_tar" "$node_bin" "$modules"
bash "$steps/disk.sh"
image_version >"$OUT_DIR/outpost-arm64.version"
step "[6/6] manifest and checksums"
bash "$steps/manifest.sh" "$rootfs_tar" "$modules"
step "[6/6] signed update bundle"
rm -f "$OUT_DIR"/outpost-arm64-*.raucb
bundle="$(bash "$IMAGE_DIR/bundle.sh" | tail -n 1)"
(cd "$OUT_DIR" && sha256sum "$(basename "$bundle")" >>SHA256SUMS)
step "done in $(since "$started"): $OUT_DIR/outpost-arm64.img (boot it: bash image/boot-test.sh, or see docs/image.md)"
