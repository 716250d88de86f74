#!/usr/bin/env bash
# The Outpost container image for arm64 (Dockerfile.arm64, docs/container.md), from the box
# image that image/build.sh made: slot A's root file system (partition rootA of
# image/out/outpost-arm64.img) without the kernel, its modules and firmware, plus
# image/container-entrypoint.sh, as image/out/container/rootfs.tar; then `podman build`.
# It reads the build's output only; it does not change the image or its steps.
#
#   bash image/container.sh            # tar + podman build -> localhost/outpost:arm64
#   bash image/container.sh --tar-only # only image/out/container/rootfs.tar
#
# As root (a read-only loop mount of the partition). OUTPOST_CONTAINER_TAG sets the tag.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

tag="${OUTPOST_CONTAINER_TAG:-localhost/outpost:arm64}"
img="$OUT_DIR/outpost-arm64.img"
ctx="$OUT_DIR/container"
[[ -f "$img" ]] || die "no $img: build the image first (bash image/build.sh)"
[[ "$(id -u)" == 0 ]] || die "container.sh needs root (a loop mount of the image's root partition)"

# rootA's place in the image, from its GPT: "... : start= 264192, size= 2097152, ... name="rootA"".
read -r start size < <(sfdisk -d "$img" | sed -n 's/.*start= *\([0-9]*\), size= *\([0-9]*\),.*name="rootA".*/\1 \2/p')
[[ -n "${start:-}" ]] || die "$img has no partition named rootA"

mkdir -p "$ctx"
mnt="$(mktemp -d)"
cleanup() { umount "$mnt" 2>/dev/null || true; rmdir "$mnt" 2>/dev/null || true; }
trap cleanup EXIT
mount -o ro,loop,offset=$((start * 512)),sizelimit=$((size * 512)) -t ext4 "$img" "$mnt"

started=$SECONDS
step "container: $ctx/rootfs.tar from rootA of $(basename "$img") (no /boot, kernel modules, firmware)"
tar_opts=(--sort=name --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" --clamp-mtime
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
low tar -C "$mnt" "${tar_opts[@]}" \
  --exclude=./boot/vmlinuz* --exclude=./boot/initrd* --exclude=./boot/System.map* --exclude=./boot/config-* \
  --exclude=./usr/lib/modules --exclude=./usr/lib/firmware \
  -cf "$ctx/rootfs.tar.tmp" .
extra="$(mktemp -d)"
install -D -m 0755 "$IMAGE_DIR/container-entrypoint.sh" "$extra/usr/lib/outpost/container-entrypoint.sh"
touch --date="@$SOURCE_DATE_EPOCH" "$extra/usr/lib/outpost/container-entrypoint.sh"
tar -C "$extra" "${tar_opts[@]}" --owner=0 --group=0 -rf "$ctx/rootfs.tar.tmp" ./usr/lib/outpost/container-entrypoint.sh
rm -rf "$extra"
mv "$ctx/rootfs.tar.tmp" "$ctx/rootfs.tar"
cleanup
trap - EXIT
step "container: rootfs.tar $(($(stat -c %s "$ctx/rootfs.tar") / 1048576)) MiB, sha256 $(sha256 "$ctx/rootfs.tar" | cut -c1-16) ($(since "$started"))"
[[ "${1:-}" == --tar-only ]] && exit 0

command -v podman >/dev/null || die "podman is missing (bash setup.sh --image installs podman, buildah, runc)"
step "container: podman build --arch arm64 -t $tag"
started=$SECONDS
low podman build --arch arm64 --isolation=chroot -f "$REPO_DIR/Dockerfile.arm64" -t "$tag" "$ctx"
step "container: $tag built in $(since "$started"): $(podman image inspect "$tag" --format '{{.Size}}' | awk '{printf "%d MB", $1/1e6}')"
