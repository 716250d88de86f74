#!/usr/bin/env bash
# Step: the cr-sqlite extension and the codec library for aarch64, built by native/'s own
# scripts (NATIVE_ARCH=arm64) inside the arm64 builder root under qemu-user. Their stamps make
# a second run instant. Output: native/build/arm64/{crsqlite.so,liboutpostcodec.so}.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

builder="$1"
out="$REPO_DIR/native/build/arm64"
for script in build-crsqlite.sh build-codecs.sh; do
  step "native: $script for arm64 (first time: several minutes under qemu-user)"
  start=$SECONDS
  NATIVE_ARCH=arm64 NATIVE_SYSROOT="$builder" low bash "$REPO_DIR/native/$script" 2>&1 | sed -u 's/^/  /' ||
    die "native/$script for arm64 failed (see its output above)"
  step "native: $script finished in $(since "$start")"
done
for lib in crsqlite.so liboutpostcodec.so; do
  [[ -f "$out/$lib" ]] || die "native build did not produce $out/$lib"
  [[ "$(od -An -tx1 -j18 -N2 "$out/$lib" | tr -d ' ')" == b700 ]] || die "$out/$lib is not an aarch64 ELF"
done
