#!/usr/bin/env bash
# Builds native/build/liboutpostcodec.so from native/codec/ with make + gcc
# against Debian's dev packages (libopus-dev, libspandsp-dev, libbcg729-dev;
# a codec whose header is missing is left out and named), then runs the C
# tests. Idempotent: skips when the sources, this script and the set of
# available codec headers are unchanged since the last successful build.
#
#   CODECS_FORCE=1   rebuild and retest even when up to date
#   NATIVE_ARCH=arm64  build for another architecture into native/build/arm64/
#                      (a cross build on the host with the pinned toolchain and sysroot of
#                      native/cross.sh; the C tests run under qemu-aarch64-static)
set -euo pipefail

die() { echo "codecs: $*" >&2; exit 1; }

NATIVE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=native/cross.sh
source "$NATIVE_DIR/cross.sh"
native_cross_setup
SRC="$NATIVE_DIR/codec"
OUT="$(native_out_dir "$NATIVE_DIR")"
LIB="$OUT/liboutpostcodec.so"
STAMP="$OUT/liboutpostcodec.stamp"

command -v make >/dev/null 2>&1 || die "make not found; install build-essential (setup.sh)"
command -v gcc >/dev/null 2>&1 || die "gcc not found; install build-essential (setup.sh)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found; install coreutils"

# A cross build compiles with the cross gcc against the toolchain's sysroot and runs the C
# tests under qemu-aarch64-static with that sysroot as the loader's root.
cc=gcc
make_args=()
if [[ -n "${NATIVE_CROSS:-}" ]]; then
  # The checkout's location stays out of the debug info: any checkout builds the same bytes.
  cc="$CC_CROSS -ffile-prefix-map=$NATIVE_DIR=/outpost-native"
  make_args=(CC="$cc" RUN="env QEMU_LD_PREFIX=$NATIVE_CROSS_SYSROOT qemu-aarch64-static")
  native_cross_describe | sed 's/^cross:/codecs:/'
fi

# shellcheck disable=SC2086  # $2 and $cc hold several words
have() { printf '%b\n' "$1" | $cc $2 -E -x c - >/dev/null 2>&1 && echo yes || echo no; }
opus_cflags="$(pkg-config --cflags opus 2>/dev/null || true)"
inputs_hash="$(
  {
    for f in "$SRC"/*.c "$SRC"/*.h "$SRC"/Makefile "${BASH_SOURCE[0]}"; do
      echo "$(basename "$f") $(sha256sum <"$f" | cut -d' ' -f1)"
    done
    echo "g722=$(have '#include <stdint.h>\n#include <spandsp/telephony.h>\n#include <spandsp/g722.h>' '')"
    echo "opus=$(have '#include <opus.h>' "$opus_cflags")"
    echo "g729=$(have '#include <bcg729/encoder.h>' '')"
    $cc --version | head -n 1
    if [[ -n "${NATIVE_CROSS:-}" ]]; then echo "cross=$NATIVE_CROSS_KEY"; fi
  } | sha256sum | cut -d' ' -f1
)"

if [[ "${CODECS_FORCE:-0}" != 1 && -f "$LIB" && -f "$STAMP" && "$(cat "$STAMP")" == "$inputs_hash" ]]; then
  echo "codecs: up to date ($LIB)"
  exit 0
fi

mkdir -p "$OUT"
rm -f "$STAMP"
# make compares file times only: a new compiler or toolchain must not reuse old objects.
rm -rf "$OUT/codec-obj" "$LIB"
make -s -C "$SRC" BUILD="$OUT" "${make_args[@]}" all || die "build failed"
make -s -C "$SRC" BUILD="$OUT" "${make_args[@]}" test || die "C tests failed (make -C native/codec test)"
echo "$inputs_hash" >"$STAMP"
echo "codecs: done: $LIB"
