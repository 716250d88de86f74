#!/usr/bin/env bash
# Sets up a fresh Debian machine for Outpost: apt packages, npm dependencies, native builds.
# Idempotent: a second run only checks. Used by the README's first command and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

# Runtime and test tools (sipp, baresip), reference servers for benchmarks (kamailio, rtpengine),
# the MQTT broker for integration tests (mosquitto), and the Debian-packaged Rust crates that
# the offline cr-sqlite build compiles against.
APT_PACKAGES=(
  sip-tester baresip kamailio rtpengine-daemon mosquitto ca-certificates
  build-essential python3
  librust-bindgen-dev librust-num-traits-dev librust-num-derive-dev librust-bytes-dev
  libopus-dev libspandsp-dev libbcg729-dev pkg-config
)

step() { printf 'setup: %s\n' "$*"; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  step "installing apt packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  step "apt packages present"
fi

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
   && [ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
  step "npm dependencies present"
else
  step "installing npm dependencies (better-sqlite3 compiles from source, about a minute)"
  npm ci --no-audit --no-fund --loglevel=error
fi

step "building cr-sqlite"
bash native/build-crsqlite.sh

step "building codecs"
bash native/build-codecs.sh

step "done"
