# The target-architecture switch of the native/ build scripts. Sourced, never run.
# shellcheck shell=bash
#
#   NATIVE_ARCH=arm64 bash native/build-crsqlite.sh     (or build-codecs.sh)
#
# builds for arm64 into native/build/arm64/ (work files in native/.work/arm64/). Without
# NATIVE_ARCH the scripts build for the host into native/build/, as before. On an amd64 host,
# NATIVE_ARCH=arm64 is a cross build on the host: native_cross_setup prepares (once, cached)
# a toolchain directory from Debian bookworm packages (the archive's current versions),
# fetched with `apt-get download` under a private apt configuration (its own lists and cache, no change to the machine's
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

# --- the cross toolchain (amd64 host -> arm64) -----------------------------------------------
# Debian bookworm packages by name (bookworm-security for Rust and LLVM); the versions are the
# archive's current ones when the toolchain is prepared (an exact pin would break at the next
# security update, which removes the old version from the archive). The Rust compiler and both
# standard libraries must be one version: the preparation checks it. @RUST@ stands for the
# compiler's major.minor (libstd-rust-web-1.96 for rustc-web 1.96.x). The resolved versions and
# each deb's sha256 are in the toolchain's packages.txt, and the stamps of the libraries built
# with it hold that file's hash; OUTPOST_NATIVE_REFRESH=1 resolves the versions again.
readonly NATIVE_CROSS_HOST_DEBS=(
  rustc-web:amd64 cargo-web:amd64 libstd-rust-web-dev:amd64 libstd-rust-web-@RUST@:amd64 libllvm22:amd64
  # cargo-web's libraries that a machine without libgit2 lacks
  libgit2-1.5:amd64 libhttp-parser2.9:amd64 libmbedcrypto7:amd64 libmbedtls14:amd64 libmbedx509-1:amd64
)
readonly NATIVE_CROSS_TARGET_DEBS=(
  libstd-rust-web-dev:arm64 libstd-rust-web-@RUST@:arm64
  # the aarch64 sysroot: C runtime, codec libraries and their shared-library closure
  libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64
  libopus0:arm64 libopus-dev:arm64 libspandsp2:arm64 libspandsp-dev:arm64 libbcg729-0:arm64 libbcg729-dev:arm64
  libtiff6:arm64 libjpeg62-turbo:arm64 libjbig0:arm64 libdeflate0:arm64 liblerc4:arm64 liblzma5:arm64
  libwebp7:arm64 libzstd1:arm64 zlib1g:arm64
)
readonly NATIVE_CROSS_GNU_TRIPLE=aarch64-linux-gnu
readonly NATIVE_CROSS_RUST_TARGET=aarch64-unknown-linux-gnu

# Returns at once for a host build. For NATIVE_ARCH=arm64 on amd64: makes sure the toolchain
# directory exists and exports
#   NATIVE_CROSS            1
#   NATIVE_CROSS_CACHE      the cache directory (debs/ holds the fetched packages)
#   NATIVE_CROSS_DIR        the toolchain directory (bin/ with cargo and rustc; root/, the
#                           unpacked packages, whose usr/lib/aarch64-linux-gnu is the target's)
#   NATIVE_CROSS_KEY        hash of the resolved packages (names, versions, sha256; for stamps)
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
  local names_key
  names_key="$(
    {
      printf '%s\n' "${NATIVE_CROSS_HOST_DEBS[@]}" "${NATIVE_CROSS_TARGET_DEBS[@]}"
      sha256sum <"${BASH_SOURCE[0]}"
    } | sha256sum | cut -c1-16
  )"
  local dir="$cache/toolchain-arm64-$names_key"
  mkdir -p "$cache"
  exec 7>"$cache/.lock"
  flock 7 # one preparation at a time; the second caller finds it done
  if [[ ! -f "$dir/.complete" || "${OUTPOST_NATIVE_REFRESH:-0}" == 1 ]]; then
    [[ -f "$sources" ]] || die "apt sources $sources missing (set OUTPOST_APT_SOURCES)"
    native_cross_prepare "$cache" "$dir" "$sources"
  fi
  exec 7>&-

  NATIVE_CROSS_KEY="$(sha256sum <"$dir/packages.txt" | cut -c1-16)"
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

# Resolves the versions, fetches the packages into <cache>/debs and unpacks them into <dir>/root.
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
  echo "cross: apt-get update (private lists in $apt/lists)"
  APT_CONFIG="$apt/apt.conf" apt-get update -qq >"$apt/update.log" 2>&1 ||
    die "apt-get update for the cross toolchain failed; see $apt/update.log"
  # The archive's current versions; the Rust packages must agree on one.
  local rust_version rust p specs=() version deb missing=()
  rust_version="$(native_cross_candidate rustc-web:amd64 "$apt")"
  rust="$(sed -E 's/^([0-9]+\.[0-9]+)\..*/\1/' <<<"$rust_version")"
  for p in "${NATIVE_CROSS_HOST_DEBS[@]}" "${NATIVE_CROSS_TARGET_DEBS[@]}"; do
    p="${p//@RUST@/$rust}"
    version="$(native_cross_candidate "$p" "$apt")"
    case "$p" in
      rustc-web:* | cargo-web:* | libstd-rust-web-*)
        [[ "$version" == "$rust_version" ]] ||
          die "$p is $version in the archive, rustc-web $rust_version: the Rust packages disagree (the archive is mid-update; try again later)" ;;
    esac
    specs+=("$p=$version")
  done
  # A deb already fetched (name_version_arch.deb) is not fetched again.
  for p in "${specs[@]}"; do
    deb="$(native_cross_deb_name "$p")"
    [[ -s "$cache/debs/$deb" ]] || missing+=("$p")
  done
  if ((${#missing[@]} > 0)); then
    echo "cross: download of ${#missing[@]} package(s)"
    (cd "$cache/debs" && APT_CONFIG="$apt/apt.conf" apt-get download -qq "${missing[@]}") >"$apt/download.log" 2>&1 || {
      tail -n 5 "$apt/download.log" >&2
      die "apt-get download for the cross toolchain failed; see $apt/download.log"
    }
  fi
  rm -rf "$dir"
  mkdir -p "$dir/root" "$dir/bin"
  for p in "${specs[@]}"; do
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

# The archive's candidate version of name:arch (under the private apt configuration).
native_cross_candidate() { # <name:arch> <apt dir>
  local v
  v="$(APT_CONFIG="$2/apt.conf" apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)"
  [[ -n "$v" ]] || die "$1 is not in the archive (apt sources: $2/sources)"
  echo "$v"
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
