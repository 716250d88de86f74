#!/usr/bin/env bash
# Step: the root tree of slot A in $WORK_DIR/root: the Debian rootfs tar, image/overlay/ (units,
# firewall, config), Node, the agent with its arm64 node_modules and native libraries. Every
# file gets the time SOURCE_DATE_EPOCH. Also the data partition's tree in $WORK_DIR/data.
# Usage: tree.sh ROOTFS_TAR NODE_BIN MODULES_DIR
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

rootfs_tar="$1" node_bin="$2" modules="$3"
root="$WORK_DIR/root" data="$WORK_DIR/data"
rm -rf "$root" "$data"
mkdir -p "$root" "$data"

step "tree: unpacking $(basename "$rootfs_tar")"
low tar -xf "$rootfs_tar" -C "$root" --numeric-owner --same-permissions

kver="$(find "$root/usr/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tail -n 1)"
[[ -n "$kver" ]] || die "no kernel modules in the rootfs"
step "tree: dropping kernel modules listed in image/rootfs/modules-exclude.txt; depmod $kver (qemu-user)"
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$IMAGE_DIR/rootfs/modules-exclude.txt" | while read -r sub; do
  rm -rf "${root:?}/usr/lib/modules/$kver/kernel/$sub"
done
low chroot "$root" /sbin/depmod "$kver" || die "depmod $kver in the arm64 tree failed"

step "tree: image/overlay/ (units, firewall, network, journald, mosquitto, first boot)"
tar -C "$IMAGE_DIR/overlay" --owner=0 --group=0 --numeric-owner -cf - . | tar -C "$root" -xf - --numeric-owner
wants="$root/etc/systemd/system/multi-user.target.wants"
mkdir -p "$wants"
ln -sf /etc/systemd/system/outpost.service "$wants/outpost.service"
ln -sf /etc/systemd/system/outpost-firstboot.service "$wants/outpost-firstboot.service"
ln -sf /etc/systemd/system/outpost-health.service "$wants/outpost-health.service"
ln -sf /etc/systemd/system/outpost-reboot.path "$wants/outpost-reboot.path"
mkdir -p "$root/data" "$root/boot/efi"
# GRUB loads each slot's own kernel and initrd by these fixed names (image/boot/grub.cfg).
ln -sfn "vmlinuz-$kver" "$root/boot/vmlinuz"
ln -sfn "initrd.img-$kver" "$root/boot/initrd.img"
[[ -f "$root/boot/vmlinuz-$kver" && -f "$root/boot/initrd.img-$kver" ]] || die "no /boot/vmlinuz-$kver or initrd in the rootfs"
# Updates: the version this tree is (the bundle carries the same), RAUC's keyring.
version="$(image_version)"
printf 'VERSION=%s\n' "$version" >"$root/etc/outpost-release"
install -m 0644 "$UPDATE_KEYRING" "$root/etc/rauc/keyring.pem"
# RAUC's upstream unit would mark every boot good; outpost-health.service decides instead.
ln -sf /dev/null "$root/etc/systemd/system/rauc-mark-good.service"
# Nothing on a box installs packages or has LVM: mask what would only wake up for that.
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done

step "tree: node v$NODE_VERSION, the agent and its arm64 modules in /opt/outpost"
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
app="$root/opt/outpost"
mkdir -p "$app/native/build"
(cd "$REPO_DIR" && tar --exclude='*.test.ts' -cf - agent bin package.json package-lock.json tsconfig.json) |
  tar -C "$app" -xf - --no-same-owner
cp -a "$modules/node_modules" "$app/node_modules"
native_libs="${OUTPOST_NATIVE_LIBS:-$REPO_DIR/native/build/arm64}"
install -m 0644 "$native_libs/crsqlite.so" "$native_libs/liboutpostcodec.so" "$app/native/build/"
chown -R 0:0 "$app"
chmod -R u+rwX,go+rX,go-w "$app"

step "tree: the data partition (/data/var/A for slot A's /var overlay)"
mkdir -p "$data/var/A/upper" "$data/var/A/work"
ln -sfn A "$data/var/slot"

step "tree: every file's time set to $(date -u -d "@$SOURCE_DATE_EPOCH" +%FT%TZ) (SOURCE_DATE_EPOCH)"
find "$root" "$data" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +
step "tree: root $(du -sm "$root" | cut -f1) MB, version $version"
