# The target-architecture switch of the native/ build scripts. Sourced, never run.
# shellcheck shell=bash
#
#   NATIVE_ARCH=arm64 bash native/build-crsqlite.sh     (or build-codecs.sh)
#
# builds for arm64 into native/build/arm64/ (work files in native/.work/arm64/). Without
# NATIVE_ARCH the scripts build for the host into native/build/, as before. When the target
# is not the host's architecture, the script runs itself again inside NATIVE_SYSROOT, a Debian
# root of the target architecture holding the build dependencies (image/steps/builder.sh
# makes one), through qemu-user and binfmt_misc, with native/ bind-mounted at /src/native.
# That needs root (chroot, mount namespace). Callers define die() first.

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

# Returns when the build can run here; otherwise runs <script> inside NATIVE_SYSROOT and exits
# with its status. Passes on NATIVE_ARCH and the variables named after the script.
native_run_for_target() { # <native dir> <script file name> [VAR...]
  local native_dir="$1" script="$2" root="${NATIVE_SYSROOT:-}" var
  shift 2
  [[ "$NATIVE_TARGET_ARCH" == "$NATIVE_HOST_ARCH" ]] && return 0
  [[ -n "$root" && -x "$root/bin/sh" ]] ||
    die "NATIVE_ARCH=$NATIVE_TARGET_ARCH on a $NATIVE_HOST_ARCH host needs NATIVE_SYSROOT=<$NATIVE_TARGET_ARCH Debian root> (image/steps/builder.sh makes one)"
  [[ "$(id -u)" == 0 ]] || die "building for $NATIVE_TARGET_ARCH in NATIVE_SYSROOT needs root (chroot)"
  [[ ! -L "$native_dir/build" && ! -L "$native_dir/.work" ]] ||
    die "native/build or native/.work is a symlink, which does not resolve inside NATIVE_SYSROOT; make it a directory"
  local env_args=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
    "NATIVE_ARCH=$NATIVE_TARGET_ARCH" "SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-}")
  for var in "$@"; do
    [[ -n "${!var:-}" ]] && env_args+=("$var=${!var}")
  done
  mkdir -p "$root/src/native"
  # shellcheck disable=SC2016  # expanded by the inner shell, from its arguments
  exec unshare --mount --propagation private -- /bin/sh -c '
    mount --bind "$1" "$2/src/native" && mount -t proc proc "$2/proc" && mount --rbind /dev "$2/dev" || exit 1
    root="$2" script="$3"; shift 3
    exec chroot "$root" /usr/bin/env -i "$@" /bin/bash "/src/native/$script"' \
    native-cross "$native_dir" "$root" "$script" "${env_args[@]}"
}
