# Shared by image/boot-test.sh and image/update-test.sh: a writable copy of the built image
# whose GRUB environment logs root in on the serial console, QEMU booting it through UEFI and
# GRUB, and the serial console as a pair of FIFOs. Sourced after lib/common.sh; the caller sets
# $tmp (a scratch folder), calls qemu_cleanup on exit and defines fail().
# shellcheck shell=bash

EFI_FIRMWARE="${OUTPOST_EFI_FIRMWARE:-/usr/share/qemu-efi-aarch64/QEMU_EFI.fd}"
qemu_pid=""

# A sparse copy of the image in $tmp/disk.img with EXTRA_CMDLINE=outpost.console=autologin in
# its grubenv (for QEMU only; a box's grubenv has it empty). The built image stays as it is.
# With --keep, $tmp/disk.img is already there (written by the flash tool): only the grubenv.
qemu_prepare_disk() {
  [[ -f "$EFI_FIRMWARE" ]] || fail "UEFI firmware $EFI_FIRMWARE missing; run 'bash setup.sh --image'"
  if [[ "${1:-}" != --keep ]]; then cp --sparse=always "$OUT_DIR/outpost-arm64.img" "$tmp/disk.img"; fi
  grubenv "$tmp/grubenv" "ORDER=A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0 EXTRA_CMDLINE=outpost.console=autologin
  MTOOLS_SKIP_CHECK=1 mcopy -o -i "$tmp/disk.img@@1M" "$tmp/grubenv" ::/EFI/BOOT/grubenv ||
    fail "could not write the grubenv of the test disk"
}

# qemu_start HOSTFWD [EXTRA QEMU ARGS...]: boots $tmp/disk.img; the console goes to
# $tmp/console.log, commands go in through $tmp/serial.in. Guest reboots stay in the same
# QEMU (no -no-reboot) unless the caller passes -no-reboot.
qemu_start() {
  local fwd="$1"
  shift
  mkfifo "$tmp/serial.in" "$tmp/serial.out"
  cat "$tmp/serial.out" >"$tmp/console.log" &
  nice -n 19 qemu-system-aarch64 -M virt -cpu cortex-a53 -smp 2 -m 1024 \
    -display none -monitor none -serial "pipe:$tmp/serial" \
    -bios "$EFI_FIRMWARE" \
    -drive "file=$tmp/disk.img,if=virtio,format=raw,cache=unsafe" \
    -netdev "user,id=n0$fwd" \
    -device virtio-net-pci,netdev=n0,romfile= \
    -device virtio-rng-pci \
    "$@" >"$tmp/qemu.log" 2>&1 &
  qemu_pid=$!
}

# The console without terminal escapes (bash's bracketed paste) and CRs.
clean_console() { tr -d '\r' <"$tmp/console.log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g'; }

# Types a line into the guest's root shell.
guest_type() { printf '%s\n' "$1" >"$tmp/serial.in" & }

qemu_cleanup() { stop_pid "$qemu_pid"; }
