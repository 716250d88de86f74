import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FlashError } from './errors.ts';
import { parseLsblk, parseMounts, type SystemFacts } from './system-facts.ts';
import { checkTarget, formatBytes, type TargetStat } from './target-check.ts';

const GiB = 1024 ** 3;

/** A laptop: root on nvme0n1p2, /boot/efi on p1, a USB stick sdb with a mounted partition, sdc empty, swap on LVM. */
const LSBLK = JSON.stringify({
  blockdevices: [
    {
      name: 'nvme0n1', path: '/dev/nvme0n1', type: 'disk', size: 512 * GiB, 'maj:min': '259:0', mountpoints: [null],
      children: [
        { name: 'nvme0n1p1', path: '/dev/nvme0n1p1', type: 'part', size: GiB, 'maj:min': '259:1', mountpoints: ['/boot/efi'] },
        { name: 'nvme0n1p2', path: '/dev/nvme0n1p2', type: 'part', size: 511 * GiB, 'maj:min': '259:2', mountpoints: [null] },
      ],
    },
    {
      name: 'sda', path: '/dev/sda', type: 'disk', size: 64 * GiB, 'maj:min': '8:0', mountpoints: [null],
      children: [{ name: 'sda1', path: '/dev/sda1', type: 'part', size: 64 * GiB, 'maj:min': '8:1', mountpoints: [null], children: [{ name: 'vg-swap', path: '/dev/mapper/vg-swap', type: 'lvm', size: 4 * GiB, 'maj:min': '254:1', mountpoints: ['[SWAP]'] }] }],
    },
    {
      name: 'sdb', path: '/dev/sdb', type: 'disk', size: 32 * GiB, 'maj:min': '8:16', mountpoints: [null],
      children: [{ name: 'sdb1', path: '/dev/sdb1', type: 'part', size: 32 * GiB, 'maj:min': '8:17', mountpoints: [null] }],
    },
    { name: 'sdc', path: '/dev/sdc', type: 'disk', size: 16 * GiB, 'maj:min': '8:32', mountpoints: [null] },
    { name: 'sdd', path: '/dev/sdd', type: 'disk', size: 2 * GiB, 'maj:min': '8:48', mountpoints: [null] },
    { name: 'sr0', path: '/dev/sr0', type: 'rom', size: GiB, 'maj:min': '11:0', mountpoints: [null] },
  ],
});

// The root is only in the mount table (lsblk left it out, as in a container), and sdb1 is mounted
// at a path with a space.
const MOUNTS = `/dev/nvme0n1p2 / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
/dev/nvme0n1p1 /boot/efi vfat rw 0 0
/dev/sdb1 /media/tech/USB\\040STICK vfat rw,nosuid 0 0
tmpfs /run tmpfs rw 0 0
`;

const facts: SystemFacts = { mounts: parseMounts(MOUNTS), devices: parseLsblk(LSBLK) };
const block = (path: string, majMin: string): TargetStat => ({ kind: 'block', path, majMin });

function refusal(stat: TargetStat, size = 3 * GiB, f = facts): string {
  try {
    checkTarget(stat, f, size);
  } catch (err) {
    assert.instance(err, FlashError);
    assert.is((err as FlashError).code, 'flash.refused');
    return (err as Error).message;
  }
  throw new FlashError('flash.io', 'expected a refusal');
}

const parse = suite('parseMounts, parseLsblk');

parse('octal escapes in the mount table; the device tree with its children', () => {
  assert.equal(facts.mounts[3], { source: '/dev/sdb1', target: '/media/tech/USB STICK', fstype: 'vfat' });
  assert.is(facts.devices.length, 6);
  assert.is(facts.devices[1]!.children[0]!.children[0]!.mountpoints[0], '[SWAP]');
  assert.equal(facts.devices[3]!.mountpoints, []);
});

parse.run();

const check = suite('checkTarget');

check('an unused disk large enough is the target', () => {
  const t = checkTarget(block('/dev/sdc', '8:32'), facts, 3 * GiB);
  assert.is(t.kind, 'block');
  assert.is(t.kind === 'block' && t.device.path, '/dev/sdc');
});

check('the disk holding / is refused, found through the mount table alone', () => {
  assert.match(refusal(block('/dev/nvme0n1', '259:0')), "refusing /dev/nvme0n1: it holds this system's / (/dev/nvme0n1p2)");
});

check('the disk holding /boot/efi is refused (lsblk names the mount)', () => {
  const noRoot: SystemFacts = { mounts: [], devices: facts.devices };
  assert.match(refusal(block('/dev/nvme0n1', '259:0'), 3 * GiB, noRoot), "it holds this system's /boot/efi (/dev/nvme0n1p1)");
});

check('a root on LVM on the disk: the disk is refused', () => {
  const lvmRoot: SystemFacts = {
    mounts: parseMounts('/dev/mapper/vg-root / ext4 rw 0 0\n'),
    devices: parseLsblk(JSON.stringify({ blockdevices: [{ name: 'sda', type: 'disk', size: 64 * GiB, 'maj:min': '8:0', children: [{ name: 'sda1', type: 'part', size: 64 * GiB, 'maj:min': '8:1', children: [{ name: 'vg-root', path: '/dev/mapper/vg-root', type: 'lvm', size: 60 * GiB, 'maj:min': '254:0' }] }] }] })),
  };
  assert.match(refusal(block('/dev/sda', '8:0'), 3 * GiB, lvmRoot), "it holds this system's / (/dev/mapper/vg-root)");
});

check('a disk with a mounted partition is refused, with the mount point', () => {
  assert.is(refusal(block('/dev/sdb', '8:16')), 'refusing /dev/sdb: /dev/sdb1 is mounted on /media/tech/USB STICK; unmount it first');
});

check('a disk with swap on it is refused', () => {
  assert.match(refusal(block('/dev/sda', '8:0')), '/dev/mapper/vg-swap is in use as swap');
});

check('a partition is refused: the image is a whole disk', () => {
  assert.is(refusal(block('/dev/sdb1', '8:17')), 'refusing /dev/sdb1: it is a partition of /dev/sdb; give the whole disk');
});

check('a disk smaller than the image is refused, with both sizes', () => {
  assert.is(refusal(block('/dev/sdd', '8:48'), 2434 * 1024 * 1024), 'refusing /dev/sdd: it holds 2.0 GiB, the image needs 2.4 GiB');
});

check('not a disk: a CD drive, an unknown device, a folder', () => {
  assert.match(refusal(block('/dev/sr0', '11:0')), 'it is a rom device, not a disk');
  assert.match(refusal(block('/dev/weird', '99:9')), "no block device 99:9 in lsblk's list");
  assert.match(refusal({ kind: 'other', path: '/tmp', what: 'a folder' }), 'it is a folder, not a disk or a file');
});

check('files: a new one or an existing one', () => {
  assert.equal(checkTarget({ kind: 'missing', path: '/tmp/x.img' }, facts, GiB), { kind: 'file', path: '/tmp/x.img', exists: false });
  assert.equal(checkTarget({ kind: 'file', path: '/tmp/x.img', size: 5 }, facts, GiB), { kind: 'file', path: '/tmp/x.img', exists: true });
});

check.run();

const bytes = suite('formatBytes');
bytes('binary units, one decimal', () => {
  assert.is(formatBytes(512), '512 bytes');
  assert.is(formatBytes(8 * 1024 * 1024), '8.0 MiB');
  assert.is(formatBytes(164_806_165), '157.2 MiB');
});
bytes.run();
