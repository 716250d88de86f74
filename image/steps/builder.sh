#!/usr/bin/env bash
# Step: the arm64 builder root (a directory, cached in $CACHE_DIR/builder/<key>/), where
# native/ builds run under qemu-user. Prints its path on the last line of stdout.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

sources="${OUTPOST_APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}"
list="$IMAGE_DIR/rootfs/builder-packages.txt"
packages="$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | tr -s '[:space:]' ',' | sed 's/,$//')"
k="$(key "$list" "$0" "$sources" -- "$SUITE")"
dir="$CACHE_DIR/builder/$SUITE-arm64-$k"

if [[ -f "$dir/.complete" ]]; then
  step "builder: cached ($(basename "$dir"))" >&2
  echo "$dir"
  exit 0
fi
mkdir -p "$CACHE_DIR/builder"
rm -rf "$dir"
log="$dir.log"
step "builder: mmdebstrap $SUITE arm64 with compilers and Rust (3-6 min; log $log)" >&2
start=$SECONDS
# Root mode: the directory is owned by the real root, so native/ can chroot into it later.
if ! low mmdebstrap --mode=root --variant=apt --arch=arm64 --include="$packages" \
  --aptopt='Acquire::Languages "none"' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  "$SUITE" "$dir" "$sources" >"$log" 2>&1; then
  tail -n 15 "$log" >&2
  die "builder mmdebstrap failed after $(since "$start"); log in $log"
fi
touch "$dir/.complete"
step "builder: done in $(since "$start")" >&2
echo "$dir"
