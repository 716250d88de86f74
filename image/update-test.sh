#!/usr/bin/env bash
# CI test of the built image (docs/image.md#the-ci-test, docs/updates.md#the-test): one QEMU
# run, updates offered by a real hub on the host.
#   1. bundles from the image (image/bundle.sh): a good one with a new version, a broken one
#      whose agent exits at once, and one signed by a foreign key;
#   2. `outpost hub` on 127.0.0.1 (OS-chosen ports) in a temp dir; the box reaches it only as
#      10.0.2.100: QEMU user networking with restrict=on forwards 10.0.2.100:8443 (enrolment)
#      and :8883 (broker) to the hub's ports (guestfwd, lib/guest-pipe.mjs), and nothing else;
#   3. a claim code at the hub, and the technician's path: outpost-flash writes the image and the
#      first-boot file to the test's disk file, which is then enlarged to 4 GiB (a bigger card);
#   4. boot (UEFI + GRUB): SIP OPTIONS (TCP) through the forwarded port gets 200; the box enrols and
#      reports to the hub; /data has grown to the end of the disk and GPT's backup header moved;
#   5. `outpost update offer` of the foreign bundle: the box downloads it, RAUC refuses it, the
#      hub's `update status` shows the failure and its signature reason;
#   6. the good bundle: downloaded, installed into slot B, reboot, health check, committed;
#   7. the broken bundle: installed into A, reboot, health check fails, back on B by itself;
#      the hub shows the rollback and halts the site.
# Prints one JSON line of numbers; on failure one 'update-test: FAIL: ...' line (plus the last
# console and hub lines) and a non-zero exit. QEMU and the hub are always stopped.
# UPDATE_TEST_TIMEOUT (seconds per phase, default 480) tunes it.
#
#   bash image/update-test.sh      (after npm run image)
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=image/lib/qemu.sh
source "$(dirname "$0")/lib/qemu.sh"

phase_s="${UPDATE_TEST_TIMEOUT:-480}"
readonly HUB_ADDR=10.0.2.100 GUEST_ENROL_PORT=8443 GUEST_BROKER_PORT=8883 SITE=ci DISK_SIZE=4G
hub_pid=""
fail() {
  printf 'update-test: FAIL: %s\n' "$*" >&2
  if [[ -f "${tmp:-}/console.log" ]]; then
    echo "--- last lines of the guest console ---" >&2
    clean_console | tail -n 30 >&2 || true
  fi
  if [[ -f "${tmp:-}/hub/hub.log" ]]; then
    echo "--- last lines of the hub's log ---" >&2
    tail -n 5 "$tmp/hub/hub.log" >&2 || true
  fi
  exit 1
}
command -v qemu-system-aarch64 >/dev/null 2>&1 || fail "qemu-system-aarch64 not found; run 'bash setup.sh --image'"
[[ -f "$OUT_DIR/outpost-arm64.img" ]] || fail "$OUT_DIR/outpost-arm64.img missing; build the image first (npm run image)"
tmp="$(mktemp -d /tmp/outpost-update-test.XXXXXX)"
cleanup() {
  qemu_cleanup
  stop_pid "$hub_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
started=$SECONDS
now_ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
hub_cli() { (cd "$tmp/hub" && nice -n 10 node "$REPO_DIR/bin/outpost.js" "$@" --config hub.yaml); }

# --- 1. bundles ------------------------------------------------------------------------------
base="$(cat "$OUT_DIR/outpost-arm64.version" 2>/dev/null || echo unknown)"
stamp="$(date +%s)"
foreign_version="ci-foreign-$stamp" good_version="ci-good-$stamp" bad_version="ci-broken-$stamp"
bundles="$tmp/bundles"
mkdir -p "$bundles" "$tmp/foreign" "$tmp/hub"
bundle() { # bundle VERSION [bundle.sh options...]: $bundles/outpost-arm64-VERSION.raucb
  local v="$1"
  shift
  bash "$IMAGE_DIR/bundle.sh" --version "$v" --out "$bundles/outpost-arm64-$v.raucb" "$@" >"$tmp/bundle-$v.log" 2>&1 ||
    fail "bundle.sh $v: $(tail -n 2 "$tmp/bundle-$v.log" | tr '\n' ' ')"
}
step "update-test: building the good bundle ($good_version)"
t="$(now_ms)"
bundle "$good_version"
bundle_build_s="$(secs "$t" "$(now_ms)")"
step "update-test: building the broken bundle ($bad_version, --break-agent)"
bundle "$bad_version" --break-agent
step "update-test: building a bundle signed by a foreign key ($foreign_version)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=not the Outpost update key" \
  -keyout "$tmp/foreign/key.pem" -out "$tmp/foreign/cert.pem" 2>/dev/null || fail "openssl could not make the foreign key"
bundle "$foreign_version" --key "$tmp/foreign/key.pem" --cert "$tmp/foreign/cert.pem"
bundle_bytes="$(stat -c %s "$bundles/outpost-arm64-$good_version.raucb")"

# --- 2. the hub ---------------------------------------------------------------------------------
cat >"$tmp/hub/hub.yaml" <<EOF
# update-test.sh's hub: loopback only, ports chosen by the OS; its certificate names the
# address the box dials ($HUB_ADDR, forwarded by QEMU).
id: hub
dataDir: ./hub-data
mqtt: { listen: "mqtts://127.0.0.1:0" }
ca: { serverNames: [$HUB_ADDR] }
enrol: { listen: "127.0.0.1:0" }
EOF
step "update-test: starting the hub"
(cd "$tmp/hub" && exec nice -n 10 node "$REPO_DIR/bin/outpost.js" hub --config hub.yaml) >"$tmp/hub/hub.log" 2>&1 &
hub_pid=$!
ports=""
hub_ports() {
  gone "$hub_pid" && fail "the hub exited: $(tail -n 2 "$tmp/hub/hub.log" | tr '\n' ' ')"
  ports="$(node -e 'try { const j = require(process.argv[1]); if (j.enrol && j.mqtt) console.log(new URL(j.enrol).port, new URL(j.mqtt).port); } catch {}' "$tmp/hub/hub-data/node.json")"
  [[ -n "$ports" ]]
}
poll_until 60 0.5 hub_ports || fail "the hub wrote no node.json with its enrolment and broker addresses within 60 s"
read -r enrol_port broker_port <<<"$ports"
step "update-test: hub up: enrolment 127.0.0.1:$enrol_port, broker 127.0.0.1:$broker_port (the box dials $HUB_ADDR:$GUEST_ENROL_PORT and :$GUEST_BROKER_PORT)"

# --- 3. claim code and the flash tool -------------------------------------------------------------
hub_cli enrol create --site "$SITE" --ttl 1h --no-qr --write "$tmp/claim.json" >"$tmp/claim.log" 2>&1 ||
  fail "outpost enrol create: $(tail -n 1 "$tmp/claim.log")"
claim="$(node -e 'console.log(require(process.argv[1]).claim)' "$tmp/claim.json")"
step "update-test: flashing the test disk with outpost-flash (site $SITE, claim id ${claim%%-*})"
nice -n 10 node "$REPO_DIR/provisioning/bin/outpost-flash.js" "$OUT_DIR/outpost-arm64.img" "$tmp/disk.img" --site "$SITE" \
  --claim "$claim" --hub "https://$HUB_ADDR:$GUEST_ENROL_PORT" --yes --no-qr >"$tmp/flash.log" 2>&1 ||
  fail "outpost-flash: $(tail -n 1 "$tmp/flash.log")"
grep -q "first boot outpost-firstboot.conf on partition 4 (data)" "$tmp/flash.log" || fail "outpost-flash wrote no first-boot file: $(tail -n 8 "$tmp/flash.log" | tr '\n' ' ')"
# A bigger card than the image: the box grows /data (and moves GPT's backup header) itself.
truncate -s "$DISK_SIZE" "$tmp/disk.img"
qemu_prepare_disk --keep

# --- 4. boot, SIP, enrolment, /data ---------------------------------------------------------------
# Two free loopback TCP ports for SIP and metrics. SIP goes over TCP: restrict=on drops every UDP
# datagram the guest sends (the answers to forwarded ones too); the phones' UDP path is the
# boot test's (boot-test.sh).
read -r sip_port metrics_port < <(node -e '
  const net = require("node:net");
  const a = net.createServer().listen(0, "127.0.0.1", () => { const b = net.createServer().listen(0, "127.0.0.1", () => {
    console.log(a.address().port, b.address().port); a.close(); b.close(); }); });')
[[ -n "$metrics_port" ]] || fail "could not pick free ports"
pipe="node $IMAGE_DIR/lib/guest-pipe.mjs"
step "update-test: starting QEMU (UEFI + GRUB, slot A, $DISK_SIZE disk); SIP 127.0.0.1:$sip_port/tcp, metrics 127.0.0.1:$metrics_port"
t0_ms="$(now_ms)"
qemu_start ",restrict=on,hostfwd=tcp:127.0.0.1:$sip_port-:5060,hostfwd=tcp:127.0.0.1:$metrics_port-:9464,guestfwd=tcp:$HUB_ADDR:$GUEST_ENROL_PORT-cmd:$pipe $enrol_port,guestfwd=tcp:$HUB_ADDR:$GUEST_BROKER_PORT-cmd:$pipe $broker_port"

if ! probe="$(BOOT_TEST_T0_MS="$t0_ms" BOOT_TEST_SIP=tcp nice -n 10 node --import tsx "$IMAGE_DIR/boot-probe.ts" \
  "$sip_port" "$metrics_port" "$phase_s" "${UPDATE_TEST_IDLE:-20}" 2>"$tmp/probe.err")"; then
  kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited early: $(tail -n 3 "$tmp/qemu.log" | tr '\n' ' ')"
  fail "$(tail -n 1 "$tmp/probe.err")"
fi
step "update-test: the agent answered: $probe"
json_field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }
sip_ready_s="$(json_field sipReadyS "$probe")" rss_mb="$(json_field agentRssMB "$probe")"

# The hub's `update status` box line of the box, polled; every line seen goes to status.log.
box="" line=""
box_line() {
  local out
  out="$(hub_cli update status 2>&1)" || fail "outpost update status at the hub: $(tail -n 1 <<<"$out")"
  line="$(grep -m 1 "^box  *${box:-[^ ]*} (site $SITE): " <<<"$out" || true)"
  [[ -z "$line" ]] || printf '%s\n' "$line" >>"$tmp/status.log"
  halted="$(grep "^halted site $SITE:" <<<"$out" || true)"
}
# wait_box REGEX WHAT: until the box's line matches REGEX (extended; callers wait for any
# verdict and check it afterwards); fails after the phase's deadline.
wait_box() {
  local want="$1" what="$2"
  box_matches() {
    box_line
    [[ -n "$line" ]] && grep -Eq "$want" <<<"$line" && return 0
    gone "$qemu_pid" && fail "QEMU exited while waiting for $what: $(tail -n 3 "$tmp/qemu.log" | tr '\n' ' ')"
    gone "$hub_pid" && fail "the hub exited while waiting for $what"
    return 1
  }
  poll_until "$phase_s" 2 box_matches || fail "no $what within $phase_s s; the hub's last line: ${line:-none}"
}
# A version as an extended regular expression that matches only itself ('+' is in versions).
# shellcheck disable=SC2001
re() { sed 's/[][\\.*^$+?(){}|]/\\&/g' <<<"$1"; }
# phase_at PHASE VERSION: the box's time (epoch ms) of the first status line in PHASE for VERSION.
phase_at() {
  local iso
  iso="$(grep -E "\): $1 $(re "$2"), " "$tmp/status.log" | head -n 1 | sed -n 's/.*, since \([^ ]*\).*/\1/p')"
  [[ -n "$iso" ]] && date -d "$iso" +%s%3N
}
interval() { # interval PHASE1 PHASE2 VERSION: seconds between the two, or null if one was not seen
  local a b
  a="$(phase_at "$1" "$3" || true)" b="$(phase_at "$2" "$3" || true)"
  if [[ -n "$a" && -n "$b" ]]; then secs "$a" "$b"; else echo null; fi
}

wait_box "runs $(re "$base") on slot A" "report from the enrolled box at the hub"
box="$(sed -n 's/^box  *\([^ ]*\) .*/\1/p' <<<"$line")"
step "update-test: the box enrolled and reports to the hub: $line"
hub_cli enrol list >"$tmp/enrol-list.log" 2>&1 || true
grep -q "used .*$box" "$tmp/enrol-list.log" || fail "outpost enrol list does not show the claim used by $box: $(tr '\n' ' ' <"$tmp/enrol-list.log")"

seq_no=0
# guest_run TIMEOUT COMMAND: runs COMMAND in the guest's root shell (serial console), waits for
# its end marker; its output in $out, its exit code in $rc. The marker's text differs from the
# typed line (M<n>-<rc>-END vs 'echo M<n>-$?-END'), so the echo of the typing does not match it.
guest_run() {
  local limit="$1" cmd="$2" n=$((++seq_no))
  guest_type "echo M$n-BEGIN\"\"; $cmd; echo M$n-\$?-END"
  answered() {
    clean_console | grep -aq "^M$n-[0-9]*-END\$" && return 0
    gone "$qemu_pid" && fail "QEMU exited: $(tail -n 3 "$tmp/qemu.log" | tr '\n' ' ')"
    return 1
  }
  poll_until "$limit" 1 answered || fail "no answer within $limit s to: $cmd"
  out="$(clean_console | sed -n "/^M$n-BEGIN\$/,/^M$n-[0-9]*-END\$/p" | sed '1d;$d')"
  rc="$(clean_console | sed -n "s/^M$n-\([0-9]*\)-END\$/\1/p" | tail -n 1)"
}
guest_run 120 "df -B1M --output=size /data | tail -n 1; tail -c 512 /dev/vda | head -c 8; echo"
data_mb="$(head -n 1 <<<"$out" | tr -d ' ')"
if [[ "$rc" != 0 || ! "$data_mb" =~ ^[0-9]+$ ]] || ((data_mb <= DATA_MIB * 4)); then fail "/data did not grow: $(tr '\n' ' ' <<<"$out")"; fi
grep -q '^EFI PART$' <<<"$out" || fail "GPT's backup header is not at the end of the enlarged disk: $(tr '\n' ' ' <<<"$out")"
step "update-test: /data grew to $data_mb MB; GPT's backup header is at the disk's end"

# --- 5. a bundle signed by a foreign key: refused ---------------------------------------------------
offer() { # offer VERSION
  hub_cli update offer "$bundles/outpost-arm64-$1.raucb" --node "$box" >"$tmp/offer.log" 2>&1 ||
    fail "outpost update offer $1: $(tail -n 1 "$tmp/offer.log")"
  step "update-test: $(head -n 1 "$tmp/offer.log")"
}
offer "$foreign_version"
wait_box ": (failed|committed|rolled-back) $(re "$foreign_version"), " "verdict on the foreign bundle"
grep -qF ": failed $foreign_version, runs $base on slot A" <<<"$line" || fail "the foreign bundle was not refused: $line"
grep -Eqi 'signature|verif|certificate' <<<"$line" || fail "the foreign bundle was refused, but not for its signature: $line"
[[ "$halted" == "halted site $SITE: failed on $box" ]] || fail "the hub does not show the site halted: ${halted:-no halted line}"
step "update-test: refused at the box; the hub shows: ${line#*: }"

# --- 6. the good bundle: slot B, committed ------------------------------------------------------------
offer "$good_version"
wait_box ": (committed|failed|rolled-back) $(re "$good_version"), " "verdict on the good bundle"
grep -qF ": committed $good_version, runs $good_version on slot B" <<<"$line" || fail "the good bundle did not commit: $line"
clean_console | grep -aq "slot B healthy: marked good" || fail "no health check verdict from slot B on the console"
[[ -z "$halted" ]] || fail "the site is still halted after the good bundle: $halted"
download_s="$(interval downloading installing "$good_version")"
install_to_commit_s="$(interval installing committed "$good_version")"
step "update-test: slot B committed ($good_version): download ${download_s} s, install to commit ${install_to_commit_s} s"

# --- 7. the broken bundle: rolls back by itself ----------------------------------------------------------
offer "$bad_version"
wait_box ": (rolled-back|committed|failed) $(re "$bad_version"), " "verdict on the broken bundle"
grep -qF ": rolled-back $bad_version, runs $good_version on slot B" <<<"$line" || fail "the broken bundle did not roll back: $line"
(($(clean_console | grep -ac "^outpost: booting slot A") >= 2)) || fail "GRUB never booted the broken slot A"
clean_console | grep -aq "slot A unhealthy: marked bad" || fail "no health check verdict from slot A on the console"
[[ "$halted" == "halted site $SITE: rolled-back on $box" ]] || fail "the hub does not show the site halted after the rollback: ${halted:-no halted line}"
rollback_s="$(interval rebooting rolled-back "$bad_version")"
step "update-test: slot A failed its health check; back on slot B ($good_version), ${rollback_s} s from the reboot; the hub shows: ${line#*: }"

printf '{"bundleBytes":%s,"bundleMB":%s,"bundleBuildS":%s,"downloadS":%s,"installToCommitS":%s,"rollbackS":%s,"sipReadyS":%s,"agentRssMB":%s,"dataMB":%s,"foreignKeyRefused":true,"fromVersion":"%s","toVersion":"%s","totalS":%s}\n' \
  "$bundle_bytes" "$(awk -v b="$bundle_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')" "$bundle_build_s" \
  "$download_s" "$install_to_commit_s" "$rollback_s" "${sip_ready_s:-null}" "${rss_mb:-null}" "$data_mb" \
  "$base" "$good_version" "$((SECONDS - started))"
