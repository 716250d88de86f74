#!/bin/sh
# mmdebstrap customize hook: what must run inside the arm64 root (under qemu-user) once the
# packages are in. Files that need no chroot come later, from image/overlay/ (assemble step).
set -eu
root="$1"
# The agent's system user, with a fixed uid/gid so that file ownership is the same every build.
chroot "$root" groupadd --system --gid 990 outpost
chroot "$root" useradd --system --uid 990 --gid 990 --home-dir /data/outpost --no-create-home \
  --shell /usr/sbin/nologin outpost
chroot "$root" systemctl enable systemd-networkd.service systemd-resolved.service \
  systemd-timesyncd.service nftables.service mosquitto.service >/dev/null 2>&1
# Serial console for QEMU and for a technician with a USB-serial cable.
chroot "$root" systemctl enable serial-getty@ttyAMA0.service >/dev/null 2>&1 || true
# Nothing on the box installs packages: drop apt's caches and what only a builder reads.
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/*.log \
  "$root"/var/log/apt/* "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
  "$root"/var/cache/ldconfig/aux-cache
# A machine id is made at first boot; an empty file keeps the root read-only meanwhile.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
