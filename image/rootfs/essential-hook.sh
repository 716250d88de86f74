#!/bin/sh
# mmdebstrap essential hook: runs before the kernel is installed, so that the initrd it
# triggers holds only the modules a box (and QEMU's virt machine) needs to mount its root.
# initramfs-tools' default MODULES=most takes over 20 minutes under qemu-user.
set -eu
root="$1"
mkdir -p "$root/etc/initramfs-tools/conf.d"
printf 'MODULES=list\nCOMPRESS=zstd\n' >"$root/etc/initramfs-tools/conf.d/outpost.conf"
printf '%s\n' virtio_pci virtio_mmio virtio_blk virtio_net ext4 crc32c_generic >"$root/etc/initramfs-tools/modules"
