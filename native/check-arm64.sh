#!/usr/bin/env bash
# Checks the cross-built arm64 libraries in native/build/arm64/ before they go into an image:
#   1. both are aarch64 ELF shared objects, and every library they name (DT_NEEDED) comes from
#      a Debian package the image has: libc6 or libgcc-s1 (in every Debian root) or one listed
#      in image/rootfs/packages.txt (the owner is looked up in the cross toolchain's debs);
#   2. the arm64 Node with the arm64 node_modules, under qemu-aarch64-static, loads cr-sqlite
#      into better-sqlite3 and the codec library through koffi and uses them
#      (native/check-arm64.mjs).
#
#   bash native/check-arm64.sh <arm64 node binary> <dir holding the arm64 node_modules>
#
# The loader's root under qemu is the cross toolchain's arm64 sysroot (libc, libstdc++, the
# codec libraries; native/cross.sh), or CHECK_ARM64_ROOT=<an arm64 Debian root>, e.g. an
# unpacked image root (only read). image/steps/native.sh runs this after the native builds.
set -euo pipefail

die() { echo "check-arm64: $*" >&2; exit 1; }
(($# == 2)) || die "usage: check-arm64.sh <arm64 node binary> <dir holding the arm64 node_modules>"
node_bin="$1" modules="$2"
[[ -x "$node_bin" ]] || die "arm64 node $node_bin missing"
[[ -d "$modules/node_modules/better-sqlite3" && -d "$modules/node_modules/koffi" ]] ||
  die "$modules/node_modules lacks better-sqlite3 or koffi"

NATIVE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export NATIVE_ARCH=arm64
# shellcheck source=native/cross.sh
source "$NATIVE_DIR/cross.sh"
native_cross_setup >&2
out="$(native_out_dir "$NATIVE_DIR")"
image_packages="$NATIVE_DIR/../image/rootfs/packages.txt"
[[ -f "$image_packages" ]] || die "$image_packages missing"
command -v readelf >/dev/null 2>&1 || die "readelf not found; install binutils"

# --- 1. architecture and DT_NEEDED ---------------------------------------------------------
# "package path" for every file of the toolchain's arm64 debs.
listing="$(
  sed -n 's/^[0-9a-f]* \(.*_arm64\.deb\)$/\1/p' "$NATIVE_CROSS_DIR/packages.txt" | while read -r deb; do
    dpkg-deb -c "$NATIVE_CROSS_CACHE/debs/$deb" |
      awk -v p="${deb%%_*}" '{ print p, $6 }'
  done
)"
wanted="$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$image_packages" | tr -s '[:space:]' '\n')"
for lib in crsqlite.so liboutpostcodec.so; do
  f="$out/$lib"
  [[ -f "$f" ]] || die "$f missing; build it with NATIVE_ARCH=arm64 native/build-*.sh"
  readelf -h "$f" | grep -q 'Type:.*DYN' || die "$f is not a shared object"
  readelf -h "$f" | grep -q 'Machine:.*AArch64' || die "$f is not an aarch64 ELF: $(readelf -h "$f" | grep Machine:)"
  needs=()
  for needed in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    owner="$(awk -v n="$needed" '$2 ~ ("/" n "$") { print $1; exit }' <<<"$listing")"
    [[ -n "$owner" ]] || die "$lib needs $needed, which no arm64 package of the cross toolchain has"
    case "$owner" in
      libc6 | libgcc-s1) ;;
      *) grep -qx "$owner" <<<"$wanted" || die "$lib needs $needed (Debian package $owner), which image/rootfs/packages.txt does not list" ;;
    esac
    needs+=("$needed($owner)")
  done
  echo "check-arm64: $lib: aarch64 shared object, $(du -k "$f" | cut -f1) KiB, needs ${needs[*]}"
done

# --- 2. load and use them under qemu-aarch64-static -----------------------------------------
root="${CHECK_ARM64_ROOT:-$NATIVE_CROSS_SYSROOT}"
[[ -e "$root/lib/ld-linux-aarch64.so.1" ]] || die "$root is not an arm64 root (no lib/ld-linux-aarch64.so.1)"
echo "check-arm64: loading them with $node_bin under qemu-aarch64-static (loader root $root)"
env -u LD_LIBRARY_PATH QEMU_LD_PREFIX="$root" qemu-aarch64-static "$node_bin" \
  "$NATIVE_DIR/check-arm64.mjs" "$modules" "$out/crsqlite.so" "$out/liboutpostcodec.so" ||
  die "the arm64 libraries do not load or work under qemu (see above)"
echo "check-arm64: ok"
