#!/usr/bin/env bash
# CI boot test of the built image (docs/image.md): boots a copy of image/out/outpost-arm64.img
# under qemu-system-aarch64 (TCG, virt, cortex-a53) through UEFI firmware and the image's GRUB
# (lib/qemu.sh), forwards free 127.0.0.1 ports to the guest's SIP (5060/udp) and metrics
# (9464/tcp), waits for a SIP OPTIONS to be answered 200 by the agent inside, reads the agent's
# idle RSS, powers the guest off. Prints the times; exits non-zero with one line on failure.
# QEMU is always killed.
#
#   bash image/boot-test.sh      (BOOT_TEST_TIMEOUT=seconds to SIP-ready, default 480)
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/lib/common.sh"
# shellcheck source=image/lib/qemu.sh
source "$(dirname "$0")/lib/qemu.sh"

timeout_s="${BOOT_TEST_TIMEOUT:-480}"
idle_s="${BOOT_TEST_IDLE:-20}"
img="$OUT_DIR/outpost-arm64.img"
fail() { printf 'boot-test: FAIL: %s\n' "$*" >&2; exit 1; }

command -v qemu-system-aarch64 >/dev/null 2>&1 || fail "qemu-system-aarch64 not found; run 'bash setup.sh --image'"
[[ -f "$img" ]] || fail "$img missing; build the image first (npm run image)"

tmp="$(mktemp -d /tmp/outpost-boot-test.XXXXXX)"
cleanup() {
  qemu_cleanup
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two free loopback ports (UDP for SIP, TCP for metrics), chosen by the kernel.
read -r sip_port metrics_port < <(node -e '
  const dgram = require("node:dgram"), net = require("node:net");
  const u = dgram.createSocket("udp4");
  u.bind(0, "127.0.0.1", () => { const s = net.createServer().listen(0, "127.0.0.1", () => {
    console.log(u.address().port, s.address().port); u.close(); s.close(); }); });')
[[ -n "$metrics_port" ]] || fail "could not pick free ports"

qemu_prepare_disk
step "boot-test: starting QEMU (TCG, 2 vCPUs, 1 GiB, UEFI + GRUB); SIP 127.0.0.1:$sip_port/udp, metrics 127.0.0.1:$metrics_port -> guest 5060, 9464"
t0_ms="$(date +%s%3N)"
qemu_start ",hostfwd=udp:127.0.0.1:$sip_port-:5060,hostfwd=tcp:127.0.0.1:$metrics_port-:9464" -no-reboot

step "boot-test: waiting for SIP 200 to OPTIONS (at most $timeout_s s), then $idle_s s idle for the RSS"
if ! result="$(BOOT_TEST_T0_MS="$t0_ms" nice -n 10 node --import tsx "$REPO_DIR/image/boot-probe.ts" \
  "$sip_port" "$metrics_port" "$timeout_s" "$idle_s" 2>"$tmp/probe.err")"; then
  echo "--- last lines of the guest console ---" >&2
  clean_console | tail -n 25 >&2 || true
  kill -0 "$qemu_pid" 2>/dev/null || fail "QEMU exited early: $(tail -n 3 "$tmp/qemu.log" | tr '\n' ' ')"
  fail "$(tail -n 1 "$tmp/probe.err")"
fi
step "boot-test: agent answered: $result"

# Where the boot time went, from the guest's systemd, over the serial console (root is logged in
# there: outpost.console=autologin). Informational; the test does not fail on it.
guest_type $'\necho BOOT-ANALYZE-BEGIN; cat /etc/outpost-release; grep -o "rauc.slot=." /proc/cmdline; systemd-analyze; systemd-analyze blame --no-pager | head -n 8; echo BOOT-ANALYZE-END'
analyzed() { clean_console | grep -q '^BOOT-ANALYZE-END$'; }
poll_until 60 1 analyzed || true
clean_console | sed -n '/^BOOT-ANALYZE-BEGIN$/,/^BOOT-ANALYZE-END$/p' | grep -v '^BOOT-ANALYZE' | sed 's/^/  guest: /' || true

step "boot-test: powering the guest off"
t_off=$SECONDS
guest_type $'\nsystemctl poweroff'
if ! poll_until 60 1 gone "$qemu_pid"; then
  step "boot-test: guest still up after 60 s; killing QEMU"
else
  step "boot-test: guest powered off in $(since "$t_off")"
fi
echo "boot-test: PASS $result"
