# The target-architecture switch of the native/ build scripts. Sourced, never run.
# shellcheck shell=bash
#
#   NATIVE_ARCH=arm64 bash native/build-crsqlite.sh     (or build-codecs.sh)
#
# builds for arm64 into native/build/arm64/ (work files in native/.work/arm64/). Without
# NATIVE_ARCH the scripts build for the host into native/build/, as before. On an amd64 host,
# NATIVE_ARCH=arm64 is a cross build on the host: native_cross_setup prepares (once, cached)
# a toolchain directory from pinned Debian bookworm packages, fetched with `apt-get download`
# under a private apt configuration (its own lists and cache, no change to the machine's
# dpkg) and unpacked with `dpkg -x`:
#   - rustc-web and cargo-web 1.96 (amd64) with the Rust standard library for amd64 (build
#     scripts, proc macros) and for aarch64 (the target);
#   - an aarch64 sysroot with the codec libraries (libopus, spandsp, bcg729) and the shared
#     libraries they need, for linking and for running the C tests under qemu-aarch64-static.
# The C cross compiler is the machine's gcc-aarch64-linux-gnu + libc6-dev-arm64-cross
# (setup.sh --image installs them). Callers define die() first.
#
#   OUTPOST_NATIVE_CACHE   where the toolchain and the apt state go
#                          (default ~/.cache/outpost-native)
#   OUTPOST_APT_SOURCES    the deb822 sources file for the private apt
#                          (default /etc/apt/sources.list.d/debian.sources)

native_arch_name() {
  case "$1" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) echo "$1" ;;
  esac
}
NATIVE_HOST_ARCH="$(native_arch_name "$(uname -m)")"
NATIVE_TARGET_ARCH="$(native_arch_name "${NATIVE_ARCH:-$NATIVE_HOST_ARCH}")"

# Where a build for the target goes: native/build for a plain host build, else build/<arch>.
native_out_dir() { # <native dir>
  if [[ -n "${NATIVE_ARCH:-}" ]]; then echo "$1/build/$NATIVE_TARGET_ARCH"; else echo "$1/build"; fi
}
native_work_dir() { # <native dir>
  if [[ -n "${NATIVE_ARCH:-}" ]]; then echo "$1/.work/$NATIVE_TARGET_ARCH"; else echo "$1/.work"; fi
}

# --- the pinned cross toolchain (amd64 host -> arm64) --------------------------------------
# Exact Debian bookworm versions (bookworm-security for Rust and LLVM). When the archive drops
# one (a newer security update replaces it), the fetch stops and names it: update the pin from
# `apt-cache policy` and check the result with native/check-arm64.sh.
readonly NATIVE_CROSS_HOST_DEBS=(
  rustc-web:amd64=1.96.0+dfsg1-1~deb12u2
  cargo-web:amd64=1.96.0+dfsg1-1~deb12u2
  libstd-rust-web-dev:amd64=1.96.0+dfsg1-1~deb12u2
  libstd-rust-web-1.96:amd64=1.96.0+dfsg1-1~deb12u2
  libllvm22:amd64=1:22.1.8-1~deb12u1
  # cargo-web's libraries that a machine without libgit2 lacks
  libgit2-1.5:amd64=1.5.1+ds-1+deb12u2
  libhttp-parser2.9:amd64=2.9.4-5
  libmbedcrypto7:amd64=2.28.3-1
  libmbedtls14:amd64=2.28.3-1
  libmbedx509-1:amd64=2.28.3-1
)
readonly NATIVE_CROSS_TARGET_DEBS=(
  libstd-rust-web-dev:arm64=1.96.0+dfsg1-1~deb12u2
  libstd-rust-web-1.96:arm64=1.96.0+dfsg1-1~deb12u2
  # the aarch64 sysroot: C runtime, codec libraries and their shared-library closure
  libc6:arm64=2.36-9+deb12u14
  libgcc-s1:arm64=12.2.0-14+deb12u1
  libstdc++6:arm64=12.2.0-14+deb12u1
  libopus0:arm64=1.3.1-3
  libopus-dev:arm64=1.3.1-3
  libspandsp2:arm64=0.0.6+dfsg-2+b1
  libspandsp-dev:arm64=0.0.6+dfsg-2+b1
  libbcg729-0:arm64=1.1.1-2
  libbcg729-dev:arm64=1.1.1-2
  libtiff6:arm64=4.5.0-6+deb12u5
  libjpeg62-turbo:arm64=1:2.1.5-2
  libjbig0:arm64=2.1-6.1
  libdeflate0:arm64=1.14-1
  liblerc4:arm64=4.0.0+ds-2
  liblzma5:arm64=5.4.1-1+deb12u2
  libwebp7:arm64=1.2.4-0.2+deb12u1
  libzstd1:arm64=1.5.4+dfsg2-5+deb12u1
  zlib1g:arm64=1:1.2.13.dfsg-1+deb12u1
)
readonly NATIVE_CROSS_GNU_TRIPLE=aarch64-linux-gnu
readonly NATIVE_CROSS_RUST_TARGET=aarch64-unknown-linux-gnu

# Returns at once for a host build. For NATIVE_ARCH=arm64 on amd64: makes sure the toolchain
# directory exists and exports
#   NATIVE_CROSS            1
#   NATIVE_CROSS_CACHE      the cache directory (debs/ holds the fetched packages)
#   NATIVE_CROSS_DIR        the toolchain directory (bin/ with cargo and rustc; root/, the
#                           unpacked packages, whose usr/lib/aarch64-linux-gnu is the target's)
#   NATIVE_CROSS_KEY        hash of the pinned package list and this file (for stamps)
#   NATIVE_CROSS_SYSROOT    root/ (QEMU_LD_PREFIX for the C tests)
#   CC_CROSS                aarch64-linux-gnu-gcc with the sysroot's headers and libraries
#   PATH, LD_LIBRARY_PATH   bin/ first; the unpacked amd64 libraries (rustc, cargo)
#   CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER, BINDGEN_EXTRA_CLANG_ARGS,
#   PKG_CONFIG_LIBDIR, PKG_CONFIG_SYSROOT_DIR
native_cross_setup() {
  [[ -z "${NATIVE_ARCH:-}" || "$NATIVE_TARGET_ARCH" == "$NATIVE_HOST_ARCH" ]] && return 0
  [[ "$NATIVE_HOST_ARCH" == amd64 && "$NATIVE_TARGET_ARCH" == arm64 ]] ||
    die "cross builds go from amd64 to arm64 only, not $NATIVE_HOST_ARCH to $NATIVE_TARGET_ARCH"
  local tool
  for tool in "$NATIVE_CROSS_GNU_TRIPLE-gcc" apt-get dpkg-deb clang qemu-aarch64-static pkg-config sha256sum; do
    command -v "$tool" >/dev/null 2>&1 ||
      die "$tool not found; run 'bash setup.sh --image' (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, clang, qemu-user-static, pkg-config)"
  done
  [[ -f "/usr/$NATIVE_CROSS_GNU_TRIPLE/include/stdio.h" ]] ||
    die "/usr/$NATIVE_CROSS_GNU_TRIPLE/include/stdio.h missing; run 'bash setup.sh --image' (libc6-dev-arm64-cross)"

  local cache="${OUTPOST_NATIVE_CACHE:-$HOME/.cache/outpost-native}"
  local sources="${OUTPOST_APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}"
  NATIVE_CROSS_KEY="$(
    {
      printf '%s\n' "${NATIVE_CROSS_HOST_DEBS[@]}" "${NATIVE_CROSS_TARGET_DEBS[@]}"
      sha256sum <"${BASH_SOURCE[0]}"
    } | sha256sum | cut -c1-16
  )"
  local dir="$cache/toolchain-arm64-$NATIVE_CROSS_KEY"
  mkdir -p "$cache"
  exec 7>"$cache/.lock"
  flock 7 # one preparation at a time; the second caller finds it done
  if [[ ! -f "$dir/.complete" ]]; then
    [[ -f "$sources" ]] || die "apt sources $sources missing (set OUTPOST_APT_SOURCES)"
    native_cross_prepare "$cache" "$dir" "$sources"
  fi
  exec 7>&-

  local root="$dir/root" lib="$dir/root/usr/lib/$NATIVE_CROSS_GNU_TRIPLE"
  export NATIVE_CROSS=1 NATIVE_CROSS_CACHE="$cache" NATIVE_CROSS_DIR="$dir" NATIVE_CROSS_KEY NATIVE_CROSS_SYSROOT="$root"
  export PATH="$dir/bin:$PATH"
  export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  # -idirafter: the sysroot's headers come after the cross libc's own. The prefix map keeps the
  # cache's location out of the debug info, so the output does not depend on it.
  export CC_CROSS="$NATIVE_CROSS_GNU_TRIPLE-gcc -idirafter $root/usr/include -L$lib -Wl,-rpath-link,$lib -ffile-prefix-map=$dir=/outpost-cross"
  export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="$NATIVE_CROSS_GNU_TRIPLE-gcc"
  # bindgen runs on the host: make clang parse the C headers as aarch64's.
  export BINDGEN_EXTRA_CLANG_ARGS="--target=$NATIVE_CROSS_GNU_TRIPLE -isystem /usr/$NATIVE_CROSS_GNU_TRIPLE/include"
  export PKG_CONFIG_SYSROOT_DIR="$root"
  export PKG_CONFIG_LIBDIR="$lib/pkgconfig:$root/usr/share/pkgconfig"
  local missing
  missing="$(ldd "$dir/bin/cargo" "$root/usr/bin/rustc" 2>&1 | grep 'not found' | sort -u || true)"
  [[ -z "$missing" ]] || die "the cross toolchain's programs miss host libraries: $missing"
}

# Fetches the pinned packages into <cache>/debs and unpacks them into <dir>/root.
native_cross_prepare() { # <cache> <dir> <sources file>
  local cache="$1" dir="$2" sources="$3" apt="$1/apt" start=$SECONDS
  echo "cross: preparing the arm64 cross toolchain in $dir"
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/sources" "$cache/debs"
  cp "$sources" "$apt/sources/debian.sources"
  cat >"$apt/apt.conf" <<EOF
APT::Architecture "amd64";
APT::Architectures { "amd64"; "arm64"; };
Dir::State::Lists "$apt/lists";
Dir::Cache "$apt";
Dir::Cache::archives "$apt/archives";
Dir::State::status "/dev/null";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$apt/sources";
Acquire::Languages "none";
EOF
  local deb p missing=()
  # A deb already fetched (name_version_arch.deb) is not fetched again.
  for p in "${NATIVE_CROSS_HOST_DEBS[@]}" "${NATIVE_CROSS_TARGET_DEBS[@]}"; do
    deb="$(native_cross_deb_name "$p")"
    [[ -s "$cache/debs/$deb" ]] || missing+=("$p")
  done
  if ((${#missing[@]} > 0)); then
    echo "cross: apt-get update (private lists in $apt/lists) and download of ${#missing[@]} package(s)"
    APT_CONFIG="$apt/apt.conf" apt-get update -qq >"$apt/update.log" 2>&1 ||
      die "apt-get update for the cross toolchain failed; see $apt/update.log"
    (cd "$cache/debs" && APT_CONFIG="$apt/apt.conf" apt-get download -qq "${missing[@]}") >"$apt/download.log" 2>&1 || {
      tail -n 5 "$apt/download.log" >&2
      die "apt-get download failed (a pinned version gone from the archive? compare NATIVE_CROSS_*_DEBS in native/cross.sh with 'apt-cache policy'); see $apt/download.log"
    }
  fi
  rm -rf "$dir"
  mkdir -p "$dir/root" "$dir/bin"
  for p in "${NATIVE_CROSS_HOST_DEBS[@]}" "${NATIVE_CROSS_TARGET_DEBS[@]}"; do
    deb="$cache/debs/$(native_cross_deb_name "$p")"
    [[ -s "$deb" ]] || die "apt-get download did not produce $deb"
    dpkg-deb -x "$deb" "$dir/root" || die "dpkg-deb -x $deb failed"
    printf '%s %s\n' "$(sha256sum <"$deb" | cut -d' ' -f1)" "$(basename "$deb")" >>"$dir/packages.txt"
  done
  # bookworm's packages still put some libraries in /lib: one lib directory, as on a merged-/usr
  # system, so that -L, -rpath-link and the loader under qemu find everything in usr/lib.
  if [[ -d "$dir/root/lib" && ! -L "$dir/root/lib" ]]; then
    cp -a "$dir/root/lib/." "$dir/root/usr/lib/"
    rm -rf "$dir/root/lib"
  fi
  ln -s usr/lib "$dir/root/lib"
  ln -s ../root/usr/bin/cargo "$dir/bin/cargo"
  ln -s ../root/usr/bin/rustc "$dir/bin/rustc"
  [[ -x "$dir/root/usr/bin/rustc" && -x "$dir/root/usr/bin/cargo" ]] || die "rustc-web/cargo-web did not unpack to usr/bin"
  [[ -d "$dir/root/usr/lib/rustlib/$NATIVE_CROSS_RUST_TARGET/lib" ]] || die "no Rust standard library for $NATIVE_CROSS_RUST_TARGET in the toolchain"
  touch "$dir/.complete"
  echo "cross: toolchain ready in $((SECONDS - start)) s; packages (sha256, file):"
  sed 's/^/cross:   /' "$dir/packages.txt"
}

# name:arch=version -> name_version_arch.deb, as apt-get download names it (an epoch's ':'
# becomes %3a).
native_cross_deb_name() { # <name:arch=version>
  local spec="$1" name arch version
  name="${spec%%:*}"
  arch="${spec#*:}"
  arch="${arch%%=*}"
  version="${spec#*=}"
  echo "${name}_${version//:/%3a}_${arch}.deb"
}

# Prints what the cross build uses, one line each (for the build logs).
native_cross_describe() {
  echo "cross: target $NATIVE_CROSS_RUST_TARGET, toolchain $NATIVE_CROSS_DIR ($(wc -l <"$NATIVE_CROSS_DIR/packages.txt") Debian packages)"
  echo "cross: $("$NATIVE_CROSS_DIR/bin/rustc" --version), $("$NATIVE_CROSS_DIR/bin/cargo" --version), $("$NATIVE_CROSS_GNU_TRIPLE-gcc" --version | head -n 1)"
}
