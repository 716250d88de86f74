#!/usr/bin/env bash
# The container test (docs/container.md): runs localhost/outpost:arm64 (image/container.sh builds
# it if it is missing) under qemu-user with podman, SIP and metrics forwarded to two free
# 127.0.0.1 ports and a new volume as /data, and checks from the host that a SIP OPTIONS to the
# forwarded UDP port is answered 200 (image/boot-probe.ts). Bounded: CONTAINER_TEST_TIMEOUT
# seconds from `podman run` to SIP-ready (default 300). Always removes its container and volume.
# Prints one result line; on failure one `container-test: FAIL: ...` line and the container's log.
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/lib/common.sh"

tag="${OUTPOST_CONTAINER_TAG:-localhost/outpost:arm64}"
timeout="${CONTAINER_TEST_TIMEOUT:-300}"
fail() { printf 'container-test: FAIL: %s\n' "$*" >&2; exit 1; }
command -v podman >/dev/null || fail "podman is missing (bash setup.sh --image)"
bash "$IMAGE_DIR/steps/host.sh" >/dev/null # qemu-aarch64 in binfmt_misc
podman image exists "$tag" || bash "$IMAGE_DIR/container.sh"

# Two free ports (UDP for SIP, TCP for metrics), chosen by the OS.
read -r sip metrics < <(node -e '
  const d = require("node:dgram").createSocket("udp4"); const n = require("node:net").createServer();
  d.bind(0, "127.0.0.1", () => n.listen(0, "127.0.0.1", () => { console.log(d.address().port, n.address().port); d.close(); n.close(); }));')
name="outpost-ct-$$"
cleanup() {
  podman rm -f -t 5 "$name" >/dev/null 2>&1 || true
  podman volume rm -f "$name-data" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# runc, not crun (cgroups in hybrid mode); explicit limits within the host's hard limits.
nofile="$(ulimit -Hn)"
nofile=$((nofile > 65536 ? 65536 : nofile))
t0="$(date +%s%3N)"
podman run -d --name "$name" --arch arm64 --runtime=runc \
  --ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096 \
  -p "127.0.0.1:$sip:5060/udp" -p "127.0.0.1:$metrics:9464/tcp" \
  -v "$name-data:/data" "$tag" >/dev/null || fail "podman run failed"
if ! result="$(BOOT_TEST_T0_MS="$t0" timeout $((timeout + 60)) nice -n 19 node --import tsx "$IMAGE_DIR/boot-probe.ts" "$sip" "$metrics" "$timeout" 2)"; then
  podman logs --tail 30 "$name" 2>&1 | sed 's/^/  container: /' >&2 || true
  fail "no SIP 200 from the container through 127.0.0.1:$sip within $timeout s"
fi
ready="$(printf '%s' "$result" | sed -n 's/.*"sipReadyS":\([0-9.]*\).*/\1/p')"
size="$(podman image inspect "$tag" --format '{{.Size}}' | awk '{printf "%d MB", $1/1e6}')"
printf 'container-test: ok: SIP OPTIONS to 127.0.0.1:%s (UDP, forwarded to the container'"'"'s 5060) answered 200, %s s after podman run; image %s %s\n' "$sip" "$ready" "$tag" "$size"
