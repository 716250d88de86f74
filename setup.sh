#!/usr/bin/env bash
# Sets up a fresh Debian machine for Outpost: apt packages, npm dependencies, native builds.
# Idempotent: a second run only checks. Used by the README's first command and by .ci/run.
#
#   bash setup.sh            what `npm test` needs
#   bash setup.sh --image    only what the arm64 image build and its boot test need
#                            (image/build.sh, image/boot-test.sh; docs/image.md), as root
set -euo pipefail
cd "$(dirname "$0")"

# mmdebstrap and qemu-user build the arm64 root; e2fsprogs, dosfstools, mtools and fdisk make
# the disk image; qemu-system-arm boots it in the boot test (through qemu-efi-aarch64's UEFI
# firmware and the image's GRUB); rauc and squashfs-tools make the signed update bundles.
# The arm64 native libraries are cross-compiled on the host (native/cross.sh fetches the Rust
# toolchain itself): the aarch64 gcc and C library, clang for bindgen, Debian's Rust crates, and
# qemu-user-static again to run their C tests and the load check.
IMAGE_APT_PACKAGES=(
  mmdebstrap qemu-user-static binfmt-support arch-test uidmap qemu-system-arm
  e2fsprogs dosfstools mtools fdisk zstd xz-utils binutils-aarch64-linux-gnu ca-certificates
  podman buildah runc # the arm64 container (Dockerfile.arm64, image/container.sh, container-test.sh)
  rauc squashfs-tools qemu-efi-aarch64 openssl
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross build-essential binutils patch pkg-config clang
  librust-bindgen-dev librust-num-traits-dev librust-num-derive-dev librust-bytes-dev
)

apt_install_missing() { # <step label> <package>...
  local label="$1" p missing=() SUDO=""
  shift
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    printf 'setup: %s apt packages present\n' "$label"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  printf 'setup: installing %s apt packages: %s\n' "$label" "${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [ "${1:-}" = "--image" ]; then
  apt_install_missing image "${IMAGE_APT_PACKAGES[@]}"
  exit 0
fi
[ $# -eq 0 ] || { echo "setup: unknown argument $1 (only --image)" >&2; exit 2; }

# Runtime and test tools (sipp, baresip), reference servers for benchmarks (kamailio, rtpengine),
# the MQTT broker for integration tests (mosquitto), the network namespaces and packet drops of
# the partition drills (iproute2, iptables), the headless browser of the status page and
# dashboard tests (chromium, driven by playwright-core), the readers that check `outpost
# trace`'s pcap (tshark, sngrep), and the Debian-packaged Rust crates that the offline
# cr-sqlite build compiles against.
APT_PACKAGES=(
  sip-tester baresip kamailio rtpengine-daemon mosquitto ca-certificates iproute2 iptables
  chromium fonts-dejavu-core tshark sngrep
  build-essential python3
  librust-bindgen-dev librust-num-traits-dev librust-num-derive-dev librust-bytes-dev
  libopus-dev libspandsp-dev libbcg729-dev pkg-config
)

step() { printf 'setup: %s\n' "$*"; }

apt_install_missing test "${APT_PACKAGES[@]}"

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

# Node.js 24 LTS. Debian 12 ships 18 and older machines carry 20 (end of life April 2026): where
# the `node` on PATH is older, install the npm registry's `node` package under $NODE_PREFIX
# (default /usr/local, whose bin/ comes before /usr/bin on PATH). Native modules then build against its headers, which
# the package carries, not against the system Node's (a global npmrc may point nodedir there).
NODE_MAJOR=24
NODE_PREFIX="${NODE_PREFIX:-/usr/local}"
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt "$NODE_MAJOR" ]; then
  step "installing Node.js $NODE_MAJOR from the npm registry (system node is $(node --version 2>/dev/null || echo absent))"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO npm install -g --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error "node@$NODE_MAJOR" >/dev/null
  hash -r
  export PATH="$NODE_PREFIX/bin:$PATH"
  [ "$(node_major)" -ge "$NODE_MAJOR" ] || { echo "setup: node $NODE_MAJOR did not install (node is $(node --version))" >&2; exit 1; }
else
  step "node $(node --version) present"
fi
NODE_HEADERS="$(npm root -g --prefix "$NODE_PREFIX")/node/node_modules/node-linux-$(node -p process.arch)"
if [ -f "$NODE_HEADERS/include/node/node.h" ] && [ "$(node -p process.execPath)" -ef "$NODE_HEADERS/bin/node" ]; then
  export npm_config_nodedir="$NODE_HEADERS"
else
  # A Node installed otherwise (distribution package, nvm): build against its own headers.
  npm_config_nodedir="$(dirname "$(dirname "$(node -p process.execPath)")")"
  export npm_config_nodedir
fi

# A native module built for another Node ABI does not load: rebuild everything then.
native_modules_load() {
  node -e "require('better-sqlite3')(':memory:').close(); require('koffi')" >/dev/null 2>&1
}
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
   && native_modules_load; then
  step "npm dependencies present"
else
  step "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

step "building cr-sqlite"
bash native/build-crsqlite.sh

step "building codecs"
bash native/build-codecs.sh

step "done"
