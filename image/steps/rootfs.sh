#!/usr/bin/env bash
# Step: the box's Debian root file system as a tar (mmdebstrap, arm64 under qemu-user),
# cached in $CACHE_DIR/rootfs/<key>.tar, keyed by the package list, the hooks, this script
# and the apt sources. Prints the tar's path on the last line of stdout.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

sources="${OUTPOST_APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}"
[[ -f "$sources" ]] || die "apt sources file $sources missing (set OUTPOST_APT_SOURCES)"
list="$IMAGE_DIR/rootfs/packages.txt"
packages="$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | tr -s '[:space:]' ',' | sed 's/,$//')"
k="$(key "$list" "$IMAGE_DIR/rootfs/essential-hook.sh" "$IMAGE_DIR/rootfs/customize-hook.sh" \
  "$0" "$sources" -- "$SUITE" "$SOURCE_DATE_EPOCH")"
tar_out="$CACHE_DIR/rootfs/rootfs-$SUITE-arm64-$k.tar"

if [[ -f "$tar_out" && "${OUTPOST_IMAGE_REFRESH:-0}" != 1 ]]; then
  step "rootfs: cached ($(basename "$tar_out"))" >&2
  echo "$tar_out"
  exit 0
fi

mkdir -p "$CACHE_DIR/rootfs"
log="$CACHE_DIR/rootfs/mmdebstrap-$k.log"
step "rootfs: mmdebstrap $SUITE arm64 (minbase + $(grep -cv '^\s*\(#\|$\)' "$list") packages; 5-8 min; log $log)" >&2
start=$SECONDS
# Fixed options only: the same inputs give the same tar (mmdebstrap honours SOURCE_DATE_EPOCH).
if ! low mmdebstrap --mode=unshare --variant=minbase --arch=arm64 --format=tar \
  --include="$packages" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --essential-hook="sh '$IMAGE_DIR/rootfs/essential-hook.sh' \"\$1\"" \
  --customize-hook="sh '$IMAGE_DIR/rootfs/customize-hook.sh' \"\$1\"" \
  --customize-hook="chroot \"\$1\" dpkg-query -W -f='\${Package} \${Version} \${Architecture}\n' >\"$tar_out.packages.tmp\"" \
  "$SUITE" "$tar_out.tmp" "$sources" >"$log" 2>&1; then
  tail -n 15 "$log" >&2
  die "mmdebstrap failed after $(since "$start"); log in $log"
fi
mv -f "$tar_out.packages.tmp" "$tar_out.packages"
mv -f "$tar_out.tmp" "$tar_out"
step "rootfs: done in $(since "$start"), $(du -m "$tar_out" | cut -f1) MB" >&2
echo "$tar_out"
