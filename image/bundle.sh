#!/usr/bin/env bash
# A signed RAUC update bundle (docs/updates.md) from the built image's slot A: its root file
# system as it is on the disk, in a verity bundle signed with the update signing key
# (lib/common.sh, steps/keys.sh). build.sh makes the release bundle with it; the update test
# makes variants of the same root:
#
#   bash image/bundle.sh [--version V] [--break-agent] [--key KEY --cert CERT] [--out FILE]
#
# --version V     write V into the root's /etc/outpost-release and the manifest (default: the
#                 image's own version)
# --break-agent   a test bundle whose agent exits at once (its health check fails)
# --key/--cert    sign with another key pair (the test's refused bundle)
# Prints the bundle's path on the last line of stdout. Needs image/out/outpost-arm64.img.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

version="" break_agent=0 key="$UPDATE_KEY" cert="$UPDATE_CERT" out=""
while (($#)); do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --break-agent) break_agent=1; shift ;;
    --key) key="$2"; shift 2 ;;
    --cert) cert="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) die "bundle: unknown argument $1" ;;
  esac
done
img="$OUT_DIR/outpost-arm64.img"
[[ -f "$img" ]] || die "bundle: $img missing; build the image first (npm run image)"
[[ -f "$key" && -f "$cert" ]] || die "bundle: signing key $key or certificate $cert missing (bash image/steps/keys.sh)"
command -v rauc >/dev/null 2>&1 && command -v mksquashfs >/dev/null 2>&1 || die "bundle: rauc and mksquashfs needed; run 'bash setup.sh --image'"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/outpost-bundle.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
dir="$tmp/bundle"
mkdir -p "$dir"
step "bundle: slot A's root file system from $(basename "$img")"
dd if="$img" of="$dir/rootfs.ext4" bs=1M skip="$ROOTA_AT_MIB" count="$ROOT_MIB" conv=sparse status=none ||
  die "bundle: reading slot A from the image failed"
e2fsck -fn "$dir/rootfs.ext4" >/dev/null 2>&1 || die "bundle: slot A of $img is no clean ext4"
own="$(debugfs -R 'cat /etc/outpost-release' "$dir/rootfs.ext4" 2>/dev/null | sed -n 's/^VERSION=//p')"
[[ -n "$own" ]] || die "bundle: no /etc/outpost-release in slot A"
version="${version:-$own}"
[[ "$version" =~ ^[A-Za-z0-9][A-Za-z0-9.+~_-]*$ ]] || die "bundle: version '$version' (letters, digits, . + ~ _ -)"

# Variants change single files in the copy with debugfs (as root 0:0, times SOURCE_DATE_EPOCH).
export E2FSPROGS_FAKE_TIME="$SOURCE_DATE_EPOCH"
put_file() { # <local file> <path in the root>
  debugfs -w -R "rm $2" "$dir/rootfs.ext4" >/dev/null 2>&1 || true
  debugfs -w -f - "$dir/rootfs.ext4" >"$tmp/debugfs.log" 2>&1 <<EOT || die "bundle: debugfs could not write $2"
write $1 $2
sif $2 uid 0
sif $2 gid 0
sif $2 mode 0100644
sif $2 mtime @$SOURCE_DATE_EPOCH
sif $2 ctime @$SOURCE_DATE_EPOCH
sif $2 atime @$SOURCE_DATE_EPOCH
EOT
  grep -q "Allocated inode" "$tmp/debugfs.log" || die "bundle: debugfs did not write $2: $(tr '\n' ' ' <"$tmp/debugfs.log")"
}
if [[ "$version" != "$own" ]]; then
  printf 'VERSION=%s\n' "$version" >"$tmp/release"
  put_file "$tmp/release" /etc/outpost-release
fi
if ((break_agent)); then
  step "bundle: --break-agent: this bundle's outpost.service exits at once (a test of rollback)"
  debugfs -w -R "mkdir /etc/systemd/system/outpost.service.d" "$dir/rootfs.ext4" >/dev/null 2>&1
  cat >"$tmp/break.conf" <<'UNIT'
# image/bundle.sh --break-agent: an update whose agent never starts (the rollback test).
[Service]
ExecStart=
ExecStart=/bin/sh -c 'echo "outpost: test build: the agent exits at once" >&2; exit 3'
UNIT
  put_file "$tmp/break.conf" /etc/systemd/system/outpost.service.d/test-break.conf
fi
e2fsck -fn "$dir/rootfs.ext4" >/dev/null 2>&1 || die "bundle: the changed root fails e2fsck"

cat >"$dir/manifest.raucm" <<EOT
[update]
compatible=outpost-arm64
version=$version
description=Outpost $version

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
EOT
touch --date="@$SOURCE_DATE_EPOCH" "$dir/manifest.raucm" "$dir/rootfs.ext4"
out="${out:-$OUT_DIR/outpost-arm64-$version.raucb}"
rm -f "$out"
step "bundle: rauc bundle (version $version, signed by $(openssl x509 -noout -subject -in "$cert" | sed 's/.*CN *= *//'))"
low rauc bundle --cert="$cert" --key="$key" --mksquashfs-args="-comp zstd -Xcompression-level 6" \
  "$dir" "$out" >"$tmp/rauc.log" 2>&1 || die "bundle: rauc bundle failed: $(tail -n 3 "$tmp/rauc.log" | tr '\n' ' ')"
step "bundle: $(basename "$out") $(($(stat -c %s "$out") / 1024 / 1024)) MiB"
echo "$out"
