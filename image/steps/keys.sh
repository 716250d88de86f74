#!/usr/bin/env bash
# Step: the update signing keys (lib/common.sh: UPDATE_KEYRING, UPDATE_KEY, UPDATE_CERT). When
# none are named and the cache has none, makes a development set in $KEYS_DIR: an EC P-256 CA
# (its certificate goes into the image as RAUC's keyring) and a signing key whose certificate
# that CA issues. Production keeps its CA and signing key offline and names them instead.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

if [[ -n "${OUTPOST_UPDATE_KEYRING:-}${OUTPOST_UPDATE_KEY:-}${OUTPOST_UPDATE_CERT:-}" ]]; then
  for f in "$UPDATE_KEYRING" "$UPDATE_KEY" "$UPDATE_CERT"; do
    [[ -f "$f" ]] || die "keys: $f missing (OUTPOST_UPDATE_KEYRING, OUTPOST_UPDATE_KEY and OUTPOST_UPDATE_CERT go together)"
  done
  step "keys: update signing keys from OUTPOST_UPDATE_* ($(basename "$UPDATE_CERT"))"
  exit 0
fi
if [[ -f "$UPDATE_KEYRING" && -f "$UPDATE_KEY" && -f "$UPDATE_CERT" ]]; then
  step "keys: update signing keys cached in $KEYS_DIR"
  exit 0
fi
step "keys: making development update signing keys in $KEYS_DIR (production: keep your own offline)"
mkdir -p "$KEYS_DIR"
chmod 0700 "$KEYS_DIR"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
  -subj "/O=Outpost/CN=Outpost update CA (development, $(hostname))" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null || die "keys: openssl could not make the CA"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/O=Outpost/CN=Outpost update signing (development)" \
  -keyout "$tmp/signing.key" -out "$tmp/signing.csr" 2>/dev/null || die "keys: openssl could not make the signing key"
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' >"$tmp/ext"
openssl x509 -req -in "$tmp/signing.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 36500 -extfile "$tmp/ext" -out "$tmp/signing.pem" 2>/dev/null || die "keys: openssl could not sign the signing certificate"
install -m 0600 "$tmp/ca.key" "$KEYS_DIR/update-ca.key.pem"
install -m 0644 "$tmp/ca.pem" "$KEYS_DIR/update-ca.cert.pem"
install -m 0600 "$tmp/signing.key" "$KEYS_DIR/update-signing.key.pem"
install -m 0644 "$tmp/signing.pem" "$KEYS_DIR/update-signing.cert.pem"
