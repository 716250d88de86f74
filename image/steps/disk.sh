#!/usr/bin/env bash
# Step: file systems and the GPT disk image from $WORK_DIR/root and $WORK_DIR/data.
#   p1 boot   FAT32, BOOT_MIB  EFI/BOOT/BOOTAA64.EFI (GRUB), grub.cfg, grubenv (A/B state)
#   p2 rootA  ext4,  ROOT_MIB  slot A, mounted read-only; its /boot has its kernel and initrd
#   p3 rootB  empty, ROOT_MIB  slot B, for the first update (RAUC writes it)
#   p4 data   ext4,  DATA_MIB  /data: the store, keys, config, /var's overlay
# Fixed UUIDs, hash seed and times (lib/common.sh): the same trees give the same bytes.
# Writes $OUT_DIR/outpost-arm64.img, and vmlinuz, initrd.img, cmdline.txt for a direct kernel
# boot of slot A (a development shortcut: it bypasses GRUB's slot choice).
set -euo pipefail
# shellcheck source=image/lib/common.sh
source "$(dirname "$0")/../lib/common.sh"

root="$WORK_DIR/root" data="$WORK_DIR/data" fs="$WORK_DIR/fs"
rm -rf "$fs"
mkdir -p "$fs" "$OUT_DIR"
export E2FSPROGS_FAKE_TIME="$SOURCE_DATE_EPOCH" TZ=UTC
mib=$((1024 * 1024))

kernel="$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)"
initrd="$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -n 1)"
[[ -f "$kernel" && -f "$initrd" ]] || die "no kernel or initrd in the rootfs /boot"
cmdline="root=PARTUUID=$PART_ROOTA_UUID ro rootwait console=ttyAMA0 quiet panic=30 rauc.slot=A"

# mke2fs -d copies each file's ctime and atime from the tree, which no one can set (1.47.1
# would clamp them to SOURCE_DATE_EPOCH; bookworm has 1.47.0): set them afterwards, by path.
pin_times() { # <ext4 image> <tree it was made from>
  local cmds="$fs/pin-times.debugfs" out="$fs/pin-times.log"
  if find "$2" -mindepth 1 -printf '%P\n' | grep -q '"'; then die "a path in $2 holds a double quote"; fi
  {
    printf 'sif / ctime @%s\nsif / atime @%s\n' "$SOURCE_DATE_EPOCH" "$SOURCE_DATE_EPOCH"
    find "$2" -mindepth 1 -printf '/%P\n' |
      sed "s|.*|sif \"&\" ctime @$SOURCE_DATE_EPOCH\nsif \"&\" atime @$SOURCE_DATE_EPOCH|"
  } >"$cmds"
  debugfs -w -f "$cmds" "$1" >"$out" 2>&1 || die "debugfs on $(basename "$1") failed; see $out"
  if grep -v '^debugfs' "$out" | grep -q .; then die "debugfs could not set every time in $(basename "$1"); see $out"; fi
  e2fsck -fn "$1" >"$out.fsck" 2>&1 || die "$(basename "$1") fails e2fsck after pinning times; see $out.fsck"
}

# GRUB for the boot partition, made by the image's own grub-mkimage (arm64, under qemu-user)
# from its arm64-efi modules; /tmp's time is pinned again afterwards.
step "disk: GRUB (arm64-efi) for the boot partition"
low chroot "$root" grub-mkimage -O arm64-efi -o /tmp/BOOTAA64.EFI -p /EFI/BOOT \
  part_gpt fat ext2 normal linux loadenv test regexp echo configfile reboot halt ||
  die "grub-mkimage in the arm64 tree failed"
mv "$root/tmp/BOOTAA64.EFI" "$fs/BOOTAA64.EFI"
touch --date="@$SOURCE_DATE_EPOCH" "$root/tmp"
sed -e "s/@PART_ROOTA_UUID@/$PART_ROOTA_UUID/" -e "s/@PART_ROOTB_UUID@/$PART_ROOTB_UUID/" \
  "$IMAGE_DIR/boot/grub.cfg" >"$fs/grub.cfg"
# A fresh box: slot A good and untried, slot B empty.
grubenv "$fs/grubenv" "ORDER=A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0 EXTRA_CMDLINE=

used=$(du -sm "$root" | cut -f1)
((used < ROOT_MIB * 85 / 100)) || die "root tree is $used MB, too big for a $ROOT_MIB MiB slot (ROOT_MIB in lib/common.sh)"

step "disk: rootA ext4 ($used MB in $ROOT_MIB MiB, read-only: no journal)"
low mke2fs -q -F -t ext4 -O ^has_journal -L rootA -U "$FS_ROOT_UUID" -b 4096 -I 256 \
  -E "hash_seed=$FS_HASH_SEED,root_owner=0:0,nodiscard" -d "$root" "$fs/rootA.ext4" "${ROOT_MIB}M" >/dev/null ||
  die "mke2fs of rootA failed"
pin_times "$fs/rootA.ext4" "$root"
step "disk: data ext4 ($DATA_MIB MiB)"
low mke2fs -q -F -t ext4 -L data -U "$FS_DATA_UUID" -b 4096 \
  -E "hash_seed=$FS_HASH_SEED,root_owner=0:0,nodiscard" -d "$data" "$fs/data.ext4" "${DATA_MIB}M" >/dev/null ||
  die "mke2fs of data failed"
pin_times "$fs/data.ext4" "$data"

step "disk: boot FAT32 ($BOOT_MIB MiB: GRUB, grub.cfg, grubenv)"
cp "$kernel" "$fs/vmlinuz"
cp "$initrd" "$fs/initrd.img"
echo "$cmdline" >"$fs/cmdline.txt"
touch --date="@$SOURCE_DATE_EPOCH" "$fs/vmlinuz" "$fs/initrd.img" "$fs/cmdline.txt" "$fs/BOOTAA64.EFI" "$fs/grub.cfg" "$fs/grubenv"
truncate -s "${BOOT_MIB}M" "$fs/boot.vfat"
mkfs.fat -F 32 -n BOOT -i "$FS_BOOT_ID" --invariant "$fs/boot.vfat" >/dev/null || die "mkfs.fat failed"
export MTOOLS_SKIP_CHECK=1
mmd -i "$fs/boot.vfat" ::/EFI ::/EFI/BOOT || die "mmd on the boot partition failed"
mcopy -m -i "$fs/boot.vfat" "$fs/BOOTAA64.EFI" "$fs/grub.cfg" "$fs/grubenv" ::/EFI/BOOT/ ||
  die "mcopy onto the boot partition failed"

step "disk: GPT (boot, rootA, rootB, data)"
img="$OUT_DIR/outpost-arm64.img"
start=2048 # sectors: 1 MiB alignment
s() { echo $(($1 * mib / 512)); }
boot_at=$start
roota_at=$((boot_at + $(s "$BOOT_MIB")))
rootb_at=$((roota_at + $(s "$ROOT_MIB")))
data_at=$((rootb_at + $(s "$ROOT_MIB")))
end=$((data_at + $(s "$DATA_MIB")))
rm -f "$img"
truncate -s $(((end + 2048) * 512)) "$img"
sfdisk --quiet --no-reread --no-tell-kernel "$img" <<EOT || die "sfdisk failed"
label: gpt
label-id: $DISK_GUID
unit: sectors
first-lba: 2048
start=$boot_at, size=$(s "$BOOT_MIB"), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$PART_BOOT_UUID, name="boot"
start=$roota_at, size=$(s "$ROOT_MIB"), type=B921B045-1DF0-41C3-AF44-4C6F280D3FAE, uuid=$PART_ROOTA_UUID, name="rootA"
start=$rootb_at, size=$(s "$ROOT_MIB"), type=B921B045-1DF0-41C3-AF44-4C6F280D3FAE, uuid=$PART_ROOTB_UUID, name="rootB"
start=$data_at, size=$(s "$DATA_MIB"), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$PART_DATA_UUID, name="data"
EOT
put() { dd if="$1" of="$img" bs=1M seek=$(($2 * 512 / mib)) conv=notrunc,sparse status=none || die "writing $1 failed"; }
put "$fs/boot.vfat" "$boot_at"
put "$fs/rootA.ext4" "$roota_at"
put "$fs/data.ext4" "$data_at"
install -m 0644 "$fs/vmlinuz" "$fs/initrd.img" "$fs/cmdline.txt" "$OUT_DIR/"
touch --date="@$SOURCE_DATE_EPOCH" "$img" "$OUT_DIR/vmlinuz" "$OUT_DIR/initrd.img" "$OUT_DIR/cmdline.txt"
step "disk: $(basename "$img") $(($(stat -c %s "$img") / mib)) MiB ($(du -m "$img" | cut -f1) MiB allocated)"
