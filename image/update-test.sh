#!/usr/bin/env bash
# CI update and rollback test of the built image (docs/updates.md), after the boot test:
#   1. builds two bundles from the image (image/bundle.sh): a good one with another version
#      string, and a broken one whose agent exits at once; and a copy of the good one signed by
#      a foreign key;
#   2. boots a copy of the image under qemu-system-aarch64 (UEFI + GRUB, slot A), the bundles on
#      a second, read-only disk; drives the guest's root shell over the serial console;
#   3. the foreign bundle must be refused; the good one installs into slot B, the box reboots, and
#      its health check must commit B (rauc status: B booted and good, the new version);
#   4. the broken one installs into slot A, the box reboots into it, its health check fails, marks
#      A bad and reboots, and the box must be back on slot B, committed, by itself.
# Prints one JSON line of numbers; on failure one 'update-test: FAIL: ...' line (plus the last
# console lines) and a non-zero exit. QEMU is always killed. UPDATE_TEST_TIMEOUT (seconds per
# phase, default 480) tunes it.
#
#   bash image/update-test.sh
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=image/lib/qemu.sh
source "$(dirname "$0")/lib/qemu.sh"

phase_s="${UPDATE_TEST_TIMEOUT:-480}"
fail() {
  printf 'update-test: FAIL: %s\n' "$*" >&2
  if [[ -f "${tmp:-}/console.log" ]]; then
    echo "--- last lines of the guest console ---" >&2
    clean_console | tail -n 30 >&2 || true
  fi
  exit 1
}
command -v qemu-system-aarch64 >/dev/null 2>&1 || fail "qemu-system-aarch64 not found; run 'bash setup.sh --image'"
[[ -f "$OUT_DIR/outpost-arm64.img" ]] || fail "$OUT_DIR/outpost-arm64.img missing; build the image first (npm run image)"
tmp="$(mktemp -d /tmp/outpost-update-test.XXXXXX)"
cleanup() {
  qemu_cleanup
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
started=$SECONDS
now_ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# --- 1. bundles ------------------------------------------------------------------------------
base="$(cat "$OUT_DIR/outpost-arm64.version" 2>/dev/null || echo unknown)"
good_version="update-test-good-$(date +%s)"
bad_version="update-test-broken-$(date +%s)"
mkdir -p "$tmp/bundles" "$tmp/foreign"
step "update-test: building the good bundle ($good_version)"
t="$(now_ms)"
bash "$IMAGE_DIR/bundle.sh" --version "$good_version" --out "$tmp/bundles/good.raucb" >"$tmp/bundle-good.log" 2>&1 ||
  fail "bundle.sh (good): $(tail -n 2 "$tmp/bundle-good.log" | tr '\n' ' ')"
bundle_build_s="$(secs "$t" "$(now_ms)")"
step "update-test: building the broken bundle ($bad_version, --break-agent)"
bash "$IMAGE_DIR/bundle.sh" --version "$bad_version" --break-agent --out "$tmp/bundles/broken.raucb" >"$tmp/bundle-bad.log" 2>&1 ||
  fail "bundle.sh (broken): $(tail -n 2 "$tmp/bundle-bad.log" | tr '\n' ' ')"
step "update-test: re-signing the good bundle with a foreign key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj "/CN=not the Outpost update key" \
  -keyout "$tmp/foreign/key.pem" -out "$tmp/foreign/cert.pem" 2>/dev/null || fail "openssl could not make the foreign key"
rauc resign --keyring="$UPDATE_KEYRING" --signing-keyring="$tmp/foreign/cert.pem" --cert="$tmp/foreign/cert.pem" --key="$tmp/foreign/key.pem" \
  "$tmp/bundles/good.raucb" "$tmp/bundles/foreign.raucb" >"$tmp/resign.log" 2>&1 ||
  fail "rauc resign: $(tail -n 2 "$tmp/resign.log" | tr '\n' ' ')"
bundle_bytes="$(stat -c %s "$tmp/bundles/good.raucb")"
# The bundles reach the guest on a second disk (an ext4 image of the folder), read-only.
size_mib=$(($(du -sm "$tmp/bundles" | cut -f1) * 11 / 10 + 16))
mke2fs -q -F -t ext4 -L bundles -d "$tmp/bundles" "$tmp/bundles.ext4" "${size_mib}M" >/dev/null || fail "mke2fs of the bundle disk failed"
rm -rf "$tmp/bundles"

# --- 2. boot slot A ----------------------------------------------------------------------------
qemu_prepare_disk
step "update-test: starting QEMU (UEFI + GRUB, slot A; bundles on /dev/vdb)"
qemu_start "" -drive "file=$tmp/bundles.ext4,if=virtio,format=raw,readonly=on"

seq_no=0
# guest_run TIMEOUT COMMAND: runs COMMAND in the guest's shell, waits for its end marker, and
# leaves its output in $out and its exit code in $rc. The marker's text differs from the typed
# line (M<n>-<rc>-END vs 'echo M<n>-$?-END'), so the echo of the typing does not match it.
guest_run() {
  local limit="$1" cmd="$2" n=$((++seq_no)) waited=0
  guest_type "echo M$n-BEGIN\"\"; $cmd; echo M$n-\$?-END"
  while ! clean_console | grep -aq "^M$n-[0-9]*-END\$"; do
    kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited: $(tail -n 3 "$tmp/qemu.log" | tr '\n' ' ')"
    ((waited++ < limit)) || fail "no answer within $limit s to: $cmd"
    sleep 1
  done
  out="$(clean_console | sed -n "/^M$n-BEGIN\$/,/^M$n-[0-9]*-END\$/p" | sed '1d;$d')"
  rc="$(clean_console | sed -n "s/^M$n-\([0-9]*\)-END\$/\1/p" | tail -n 1)"
}
# GRUB's "outpost: booting slot X" lines so far (one per boot).
boots() { clean_console | grep -ac "^outpost: booting slot" || true; }
# wait_shell SLOT BOOTS: once GRUB has started boot number BOOTS, until the root shell answers
# from slot SLOT (a probe every 10 s; probes typed while another slot runs are answered there
# and ignored, and none is typed before that boot, so the old system cannot answer one).
wait_shell() {
  local slot="$1" want="$2" waited=0 n
  while (($(boots) < want)); do
    kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited: $(tail -n 3 "$tmp/qemu.log" | tr '\n' ' ')"
    ((waited++ < phase_s)) || fail "GRUB did not start boot $want within $phase_s s"
    sleep 1
  done
  n=$((++seq_no))
  waited=0
  while ! clean_console | grep -aq "^UP$n-rauc.slot=$slot\$"; do
    kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited: $(tail -n 3 "$tmp/qemu.log" | tr '\n' ' ')"
    ((waited < phase_s)) || fail "no shell on slot $slot within $phase_s s"
    if ((waited % 10 == 0)); then guest_type "echo UP$n-\$(grep -o 'rauc.slot=.' /proc/cmdline)"; fi
    sleep 1
    waited=$((waited + 1))
  done
}
# wait_committed SLOT: until outpost-health.service has finished; it must have committed SLOT.
wait_committed() {
  guest_run "$phase_s" "until s=\$(systemctl is-active outpost-health); [ \$s = active -o \$s = failed ]; do sleep 2; done; echo health=\$s; cat /etc/outpost-release; rauc status --detailed --output-format=json | tr -d '\\n' | grep -o '\"booted\":\"[AB]\"'"
  grep -q '^health=active$' <<<"$out" || fail "slot $1: the health check did not pass: $(tr '\n' ' ' <<<"$out")"
  grep -q "\"booted\":\"$1\"" <<<"$out" || fail "RAUC does not say slot $1 is booted: $(tr '\n' ' ' <<<"$out")"
  guest_run 60 "rauc status --output-format=json | tr -d '\\n' | grep -o '\"bootname\":\"$1\"[^}]*\"boot_status\":\"[a-z]*\"'"
  grep -q '"boot_status":"good"' <<<"$out" || fail "slot $1 is not marked good: $out"
}

t_boot="$(now_ms)"
wait_shell A 1
step "update-test: slot A's shell answers after $(secs "$t_boot" "$(now_ms)") s"

# --- 3. refused, then good ---------------------------------------------------------------------
guest_run 60 "mount -o ro /dev/vdb /mnt"
[[ "$rc" == 0 ]] || fail "could not mount the bundle disk: $out"
guest_run 300 "rauc install /mnt/foreign.raucb 2>&1 | tail -n 3; exit_code=\${PIPESTATUS[0]}; echo install-exit=\$exit_code"
grep -q '^install-exit=0$' <<<"$out" && fail "a bundle signed by a foreign key was installed"
grep -qi 'signature\|verif\|certificate' <<<"$out" || fail "the foreign bundle was refused, but not for its signature: $(tr '\n' ' ' <<<"$out")"
step "update-test: foreign-signed bundle refused: $(grep -i 'signature\|verif\|certificate' <<<"$out" | head -n 1)"

step "update-test: installing the good bundle"
t_install="$(now_ms)"
guest_run "$phase_s" "rauc install /mnt/good.raucb"
[[ "$rc" == 0 ]] || fail "rauc install of the good bundle failed: $(tail -n 5 <<<"$out" | tr '\n' ' ')"
t_installed="$(now_ms)"
step "update-test: installed in $(secs "$t_install" "$t_installed") s; rebooting"
guest_type "systemctl reboot"
wait_shell B 2
wait_committed B
t_committed="$(now_ms)"
grep -q "^VERSION=$good_version\$" <<<"$(clean_console | grep -a "^VERSION=" | tail -n 1)" ||
  fail "slot B does not run $good_version: $(clean_console | grep -a '^VERSION=' | tail -n 1)"
step "update-test: slot B committed, version $good_version, $(secs "$t_install" "$t_committed") s after the install started"

# --- 4. broken: rolls back by itself -----------------------------------------------------------
step "update-test: installing the broken bundle into slot A"
guest_run "$phase_s" "mountpoint -q /mnt || mount -o ro /dev/vdb /mnt; rauc install /mnt/broken.raucb"
[[ "$rc" == 0 ]] || fail "rauc install of the broken bundle failed: $(tail -n 5 <<<"$out" | tr '\n' ' ')"
t_reboot="$(now_ms)"
guest_type "systemctl reboot"
# Boot 3 is the broken slot A; its health check reboots, and boot 4 must be slot B again.
wait_shell B 4
wait_committed B
t_back="$(now_ms)"
(($(clean_console | grep -ac "booting slot A") >= 2)) || fail "GRUB never booted the broken slot A"
clean_console | grep -aq "slot A unhealthy: marked bad" || fail "no health check verdict from slot A on the console"
guest_run 60 "cat /etc/outpost-release; rauc status --output-format=json | tr -d '\\n' | grep -o '\"bootname\":\"A\"[^}]*\"boot_status\":\"[a-z]*\"'"
grep -q "^VERSION=$good_version\$" <<<"$out" || fail "after the rollback the box does not run $good_version: $out"
grep -q '"boot_status":"bad"' <<<"$out" || fail "slot A is not marked bad after the rollback: $out"
step "update-test: the broken slot A failed its health check; back on slot B ($good_version) $(secs "$t_reboot" "$t_back") s after the reboot"

guest_type "systemctl poweroff"
printf '{"bundleBytes":%s,"bundleMB":%s,"bundleBuildS":%s,"installS":%s,"installToCommitS":%s,"rollbackS":%s,"foreignKeyRefused":true,"fromVersion":"%s","toVersion":"%s","totalS":%s}\n' \
  "$bundle_bytes" "$(awk -v b="$bundle_bytes" 'BEGIN { printf "%.1f", b / 1e6 }')" "$bundle_build_s" \
  "$(secs "$t_install" "$t_installed")" "$(secs "$t_install" "$t_committed")" "$(secs "$t_reboot" "$t_back")" \
  "$base" "$good_version" "$((SECONDS - started))"
