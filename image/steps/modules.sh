#!/usr/bin/env bash
# Step: the agent's production node_modules for linux-arm64 (glibc), installed on the host from
# the repository's package-lock.json with npm's --os/--cpu/--libc, so every platform package
# (better-sqlite3's prebuilt linux-arm64.node, @koromix/koffi-linux-arm64, @esbuild/linux-arm64)
# is the arm64 one. Install scripts are skipped: nothing compiles. Cached in
# $CACHE_DIR/modules/<key>/ with the npm tarballs in $CACHE_DIR/npm. Prints the folder.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

# The lock file alone: it changes whenever a dependency does (npm ci refuses a stale one).
k="$(key "$REPO_DIR/package-lock.json" "$0")"
dir="$CACHE_DIR/modules/$k"
if [[ -f "$dir/.complete" ]]; then
  step "modules: cached ($k)" >&2
  echo "$dir"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
cp "$REPO_DIR/package.json" "$REPO_DIR/package-lock.json" "$dir/"
step "modules: npm ci --omit=dev for linux-arm64" >&2
start=$SECONDS
(cd "$dir" && low npm ci --omit=dev --ignore-scripts --os=linux --cpu=arm64 --libc=glibc \
  --cache "$CACHE_DIR/npm" --no-audit --no-fund --loglevel=error >"$dir.log" 2>&1) ||
  die "npm ci for arm64 failed; see $dir.log"
nm="$dir/node_modules"
[[ -f "$nm/better-sqlite3/prebuilds/linux-arm64.node" ]] || die "better-sqlite3 has no linux-arm64 prebuild"
compgen -G "$nm/@koromix/koffi-linux-arm64/*" >/dev/null || die "koffi's linux-arm64 package is missing"
[[ -x "$nm/@esbuild/linux-arm64/bin/esbuild" ]] || die "esbuild's linux-arm64 package is missing"
# What a box never reads: other platforms' binaries, sources of native modules.
find "$nm/better-sqlite3/prebuilds" -type f ! -name linux-arm64.node -delete
rm -rf "$nm/better-sqlite3/deps" "$nm/better-sqlite3/src" "$nm/.package-lock.json"
touch "$dir/.complete"
step "modules: done in $(since "$start"), $(du -sm "$nm" | cut -f1) MB" >&2
echo "$dir"
