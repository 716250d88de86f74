#!/usr/bin/env bash
# Step: the cr-sqlite extension and the codec library for aarch64, cross-compiled on the host by
# native/'s own scripts (NATIVE_ARCH=arm64; native/cross.sh fetches the pinned Debian toolchain
# once into $CACHE_DIR/native), then checked with the arm64 Node and node_modules under
# qemu-user (native/check-arm64.sh), so a broken cross build fails here, not on the box.
# Their stamps make a second run quick. Output: native/build/arm64/{crsqlite.so,liboutpostcodec.so}.
#   native.sh <arm64 node binary> <arm64 modules dir>
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

node_bin="$1" modules="$2"
export OUTPOST_NATIVE_CACHE="${OUTPOST_NATIVE_CACHE:-$CACHE_DIR/native}"
for script in build-crsqlite.sh build-codecs.sh; do
  step "native: $script for arm64 (cross build; the first one also fetches the toolchain)"
  start=$SECONDS
  NATIVE_ARCH=arm64 low bash "$REPO_DIR/native/$script" 2>&1 | sed -u 's/^/  /' ||
    die "native/$script for arm64 failed (see its output above)"
  step "native: $script finished in $(since "$start")"
done
step "native: checking the arm64 libraries (native/check-arm64.sh)"
low bash "$REPO_DIR/native/check-arm64.sh" "$node_bin" "$modules" 2>&1 | sed -u 's/^/  /' ||
  die "the arm64 native libraries failed their check (see above)"
