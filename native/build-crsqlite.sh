#!/usr/bin/env bash
# Builds the cr-sqlite loadable extension (native/build/crsqlite.so) from the
# sources in the @vlcn.io/crsqlite npm tarball, fully offline: Rust crates come
# from Debian's packaged registry (/usr/share/cargo/registry), the toolchain
# from the local rustup (for NATIVE_ARCH=arm64: Debian's rustc-web, cross
# compiling on the host; native/cross.sh). See docs/native-build.md.
#
# Environment switches:
#   CRSQLITE_PROFILE=release|debug  cargo profile (default release)
#   CRSQLITE_SKIP_FIXES=1           apply only the build patch, not the two
#                                   upstream bug fixes (to prove the tests)
#   CRSQLITE_TOOLCHAIN=NAME         rustup toolchain (default stable; not used
#                                   by a cross build, which has its own)
#   CRSQLITE_FORCE=1                rebuild even if the stamp matches
#   CRSQLITE_KEEP_WORK=1            keep the unpacked tree after a success
#   CRSQLITE_CROSS_WORK=DIR         work folder of a NATIVE_ARCH build (default
#                                   /var/tmp/outpost-crsqlite-ARCH, fixed for reproducibility)
#   NATIVE_ARCH=arm64               build for another architecture into
#                                   native/build/arm64/ (see native/cross.sh)
#
# Only the default (release, all patches) build writes native/build/crsqlite.so.
# Every other combination writes native/build/<profile>[-unfixed]/crsqlite.so,
# so a test build can never replace the real one. (The file must keep the name
# crsqlite.so: SQLite derives the entry point sqlite3_crsqlite_init from it.)
set -euo pipefail

readonly CRSQLITE_VERSION="0.16.3"
readonly TARBALL_NAME="vlcn.io-crsqlite-${CRSQLITE_VERSION}.tgz"
readonly TARBALL_SHA256="e16e462763ebe38c30a466e53b979dc2464de1e2ebc0e2255c04266ca232a012"
readonly DEBIAN_REGISTRY="/usr/share/cargo/registry"
# Nightly features that Debian's older crates (proc-macro2 1.0.47 probes
# proc_macro_span_shrink) and cr-sqlite itself would otherwise switch on.
readonly ALLOWED_FEATURES="core_intrinsics,lang_items,vec_into_raw_parts,error_in_core"

die() { echo "crsqlite: $*" >&2; exit 1; }
step() { echo "crsqlite: $*"; }

SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
NATIVE_DIR="$(dirname "$SCRIPT_PATH")"
PATCH_DIR="$NATIVE_DIR/crsqlite/patches"
# shellcheck source=native/cross.sh
source "$NATIVE_DIR/cross.sh"
WORK_ROOT="$(native_work_dir "$NATIVE_DIR")"
# A cross build (the image's) unpacks into one fixed folder, whatever the checkout's location:
# cargo hashes a path crate's folder into its symbol names, so another folder gives other bytes.
[[ -n "${NATIVE_ARCH:-}" ]] && WORK_ROOT="${CRSQLITE_CROSS_WORK:-/var/tmp/outpost-crsqlite-$NATIVE_TARGET_ARCH}"
TARBALL_DIR="$NATIVE_DIR/.work"   # shared by every architecture

profile="${CRSQLITE_PROFILE:-release}"
case "$profile" in
  release|debug) ;;
  *) die "CRSQLITE_PROFILE must be 'release' or 'debug', not '$profile'" ;;
esac
skip_fixes="${CRSQLITE_SKIP_FIXES:-0}"
case "$skip_fixes" in
  0|"") skip_fixes=0 ;;
  *) skip_fixes=1 ;;
esac
toolchain="${CRSQLITE_TOOLCHAIN:-stable}"
# For another architecture: the pinned cross toolchain (native/cross.sh), part of the stamp.
native_cross_setup
[[ -n "${NATIVE_CROSS:-}" ]] && toolchain="cross-$NATIVE_CROSS_KEY"

variant="$profile"
[[ "$skip_fixes" == 1 ]] && variant="$variant-unfixed"
if [[ "$variant" == release ]]; then
  out_dir="$(native_out_dir "$NATIVE_DIR")"
else
  out_dir="$(native_out_dir "$NATIVE_DIR")/$variant"
fi
out_so="$out_dir/crsqlite.so"
stamp="$out_dir/crsqlite.stamp"

# --- which patches, and the stamp of everything that shapes the output -----
shopt -s nullglob
all_patches=("$PATCH_DIR"/*.patch)
shopt -u nullglob
((${#all_patches[@]} > 0)) || die "no patches found in $PATCH_DIR"
patches=()
for p in "${all_patches[@]}"; do
  # 0001 is the offline/Debian build fix; every later patch is an upstream fix.
  if [[ "$skip_fixes" == 1 && "$(basename "$p")" != 0001-* ]]; then
    continue
  fi
  patches+=("$p")
done

command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found; install coreutils"
inputs_hash="$(
  {
    echo "version=$CRSQLITE_VERSION"
    echo "tarball=$TARBALL_SHA256"
    echo "profile=$profile"
    echo "toolchain=$toolchain"
    echo "arch=$NATIVE_TARGET_ARCH"
    for p in "${patches[@]}"; do
      echo "patch=$(basename "$p") $(sha256sum <"$p" | cut -d' ' -f1)"
    done
    echo "script=$(sha256sum <"$SCRIPT_PATH" | cut -d' ' -f1)"
  } | sha256sum | cut -d' ' -f1
)"

if [[ "${CRSQLITE_FORCE:-0}" != 1 && -f "$out_so" && -f "$stamp" ]] &&
  [[ "$(cat "$stamp")" == "$inputs_hash" ]]; then
  echo "crsqlite: up to date ($out_so)"
  exit 0
fi

# --- 1. fetch ----------------------------------------------------------------
tarball="$TARBALL_DIR/$TARBALL_NAME"
tarball_ok() { [[ -f "$tarball" && "$(sha256sum <"$tarball" | cut -d' ' -f1)" == "$TARBALL_SHA256" ]]; }
if tarball_ok; then
  step "[1/6] using cached $TARBALL_NAME"
else
  step "[1/6] fetching @vlcn.io/crsqlite@$CRSQLITE_VERSION (npm pack)"
  command -v npm >/dev/null 2>&1 || die "npm not found; run setup.sh"
  mkdir -p "$TARBALL_DIR"
  rm -f "$tarball"
  (cd "$TARBALL_DIR" && npm pack "@vlcn.io/crsqlite@$CRSQLITE_VERSION" --loglevel=error >/dev/null 2>"$TARBALL_DIR/npm-pack.log") ||
    die "npm pack @vlcn.io/crsqlite@$CRSQLITE_VERSION failed (npm registry unreachable?); see $TARBALL_DIR/npm-pack.log"
  [[ -f "$tarball" ]] || die "npm pack did not produce $tarball"
  tarball_ok || die "$TARBALL_NAME does not match the pinned sha256; refusing to build"
  rm -f "$TARBALL_DIR/npm-pack.log"
fi

# --- prerequisites -----------------------------------------------------------
for tool in tar make patch; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run setup.sh"
done
command -v gcc >/dev/null 2>&1 || die "gcc not found; install build-essential (setup.sh)"

if [[ -n "${NATIVE_CROSS:-}" ]]; then
  rustc_version="$(rustc --version)" || die "the cross toolchain's rustc does not run"
  native_cross_describe
elif ! command -v cargo >/dev/null 2>&1; then
  # Non-login shells often miss rustup's proxy directory.
  for d in "${CARGO_HOME:-}/bin" "$HOME/.cargo/bin"; do
    if [[ -n "$d" && -x "$d/cargo" ]]; then
      PATH="$d:$PATH"
      break
    fi
  done
fi
command -v cargo >/dev/null 2>&1 || die "cargo not found; install rustup"
if [[ -n "${NATIVE_CROSS:-}" ]]; then
  :
elif command -v rustup >/dev/null 2>&1; then
  export RUSTUP_TOOLCHAIN="$toolchain"
  # Resolve rustup's home now: CARGO_HOME is redirected below.
  export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  rustc_version="$(rustc --version 2>/dev/null)" ||
    die "rust toolchain '$toolchain' not installed; see 'rustup toolchain list' or set CRSQLITE_TOOLCHAIN"
else
  rustc_version="$(rustc --version 2>/dev/null)" || die "rustc not found; install rustup"
fi

[[ -d "$DEBIAN_REGISTRY" ]] || die "Debian crate registry missing ($DEBIAN_REGISTRY); run setup.sh"
need_crate() { # <crate> <version prefix> <apt package>
  compgen -G "$DEBIAN_REGISTRY/$1-$2*" >/dev/null ||
    die "Debian crate $1 $2 missing from $DEBIAN_REGISTRY (apt package $3); run setup.sh"
}
need_crate bindgen 0.60. librust-bindgen-dev
need_crate num-traits 0.2. librust-num-traits-dev
need_crate num-derive 0.3. librust-num-derive-dev
need_crate bytes 1. librust-bytes-dev

# --- one build at a time per work area ----------------------------------------
mkdir -p "$WORK_ROOT" "$out_dir"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$WORK_ROOT/.lock"
  flock 9
fi

step "building $variant with $rustc_version (toolchain $toolchain)"

# --- 2. unpack and strip what must not be used ---------------------------------
work="$WORK_ROOT/build-$variant"
src="$work/package"
step "[2/6] unpacking into ${work#"$NATIVE_DIR"/}; dropping rust-toolchain.toml, Cargo.lock, rs/*/target"
rm -rf "$work"
mkdir -p "$work"
tar -xzf "$tarball" -C "$work"
[[ -f "$src/Makefile" ]] || die "unexpected tarball layout (no package/Makefile)"
# The pinned nightly-2023-10-05 cannot be installed here; lock files name
# crates.io versions Debian does not have; the shipped target/ folders hold
# bindgen output generated on another platform.
find "$src" -name rust-toolchain.toml -type f -delete
find "$src" -name Cargo.lock -type f -delete
rm -rf "$src"/rs/*/target

# --- 3. cargo configuration: Debian's crates, no network ----------------------
step "[3/6] pointing cargo at $DEBIAN_REGISTRY (offline)"
cargo_home="$work/cargo-home"
mkdir -p "$cargo_home"
cat >"$cargo_home/config.toml" <<EOF
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "$DEBIAN_REGISTRY"

[net]
offline = true
EOF

# --- 4. patches -----------------------------------------------------------------
names=()
for p in "${patches[@]}"; do names+=("$(basename "$p" .patch)"); done
step "[4/6] applying ${#patches[@]} patch(es): ${names[*]}"
for p in "${patches[@]}"; do
  patch -d "$src" -p1 --forward --batch --quiet --no-backup-if-mismatch <"$p" >"$work/patch.log" 2>&1 ||
    die "patch $(basename "$p") does not apply; see $work/patch.log"
done

# --- 5. build -------------------------------------------------------------------
if [[ "$profile" == release ]]; then
  make_target=loadable
  built="$src/dist/crsqlite.so"
else
  make_target=loadable_dbg
  built="$src/dbg/crsqlite.so"
fi
# A cross build: cargo --target and the cross gcc for the C half (the Makefile's CI switches).
# Every build remaps the work folder's path (panic locations name source files), so the
# output does not depend on where the checkout is.
cross_args=()
if [[ -n "${NATIVE_CROSS:-}" ]]; then
  cross_args=(CI_MAYBE_TARGET="$NATIVE_CROSS_RUST_TARGET" CI_GCC="$NATIVE_CROSS_GNU_TRIPLE-gcc")
fi
log="$work/build.log"
step "[5/6] make $make_target (log: ${log#"$NATIVE_DIR"/})"
start=$SECONDS
if ! env \
  CARGO_HOME="$cargo_home" \
  CARGO_NET_OFFLINE=true \
  RUSTC_BOOTSTRAP=1 \
  RUSTFLAGS="-Zallow-features=$ALLOWED_FEATURES --remap-path-prefix=$work=/outpost-crsqlite" \
  make -C "$src" "$make_target" "${cross_args[@]}" \
  CRSQLITE_COMMIT_SHA="$CRSQLITE_VERSION+outpost.${inputs_hash:0:12}" \
  >"$log" 2>&1; then
  tail -n 25 "$log" >&2
  die "make $make_target failed after $((SECONDS - start)) s; full log in $log"
fi
[[ -f "$built" ]] || die "make $make_target succeeded but $built is missing"

# --- 6. install ---------------------------------------------------------------
step "[6/6] installing ${out_so#"$NATIVE_DIR"/} (compiled in $((SECONDS - start)) s)"
cp "$built" "$out_so.tmp"
mv -f "$out_so.tmp" "$out_so"
echo "$inputs_hash" >"$stamp"
if [[ "${CRSQLITE_KEEP_WORK:-0}" != 1 ]]; then
  rm -rf "$work"
fi
step "done: $out_so"
