/**
 * Which targets the flash tool refuses (docs/flash.md#what-it-refuses), decided from plain data:
 * what the target path is (a stat), the mount table and the block device tree
 * (system-facts.ts) and the image's size. Pure: the tests give it made-up machines.
 */
import { FlashError } from './errors.ts';
import type { BlockDevice, MountEntry, SystemFacts } from './system-facts.ts';

export type TargetStat =
  | { kind: 'block'; path: string; majMin: string }
  | { kind: 'file'; path: string; size: number }
  | { kind: 'missing'; path: string }
  | { kind: 'other'; path: string; what: string };

export type Target =
  | { kind: 'block'; path: string; device: BlockDevice }
  | { kind: 'file'; path: string; exists: boolean };

/** Mount points that make a disk the running system's. */
const SYSTEM_MOUNTS = ['/', '/boot', '/boot/efi', '/boot/firmware', '/usr'];

/** The target, or a FlashError('flash.refused') with a one-line reason. */
export function checkTarget(stat: TargetStat, facts: SystemFacts, imageSize: number | undefined): Target {
  const refuse = (why: string) => new FlashError('flash.refused', `refusing ${stat.path}: ${why}`);
  if (stat.kind === 'other') throw refuse(`it is ${stat.what}, not a disk or a file`);
  if (stat.kind === 'missing') return { kind: 'file', path: stat.path, exists: false };
  if (stat.kind === 'file') return { kind: 'file', path: stat.path, exists: true };

  const found = findDevice(facts.devices, stat.majMin);
  if (!found) throw refuse(`no block device ${stat.majMin} in lsblk's list`);
  const { device, parent } = found;
  if (device.type === 'part') throw refuse(`it is a partition${parent ? ` of ${parent.path}` : ''}; give the whole disk`);
  if (device.type !== 'disk' && device.type !== 'loop') throw refuse(`it is a ${device.type} device, not a disk`);

  const uses = usesOf(device, facts.mounts);
  const system = SYSTEM_MOUNTS.map((m) => uses.find((u) => u.mountpoint === m)).find((u) => u !== undefined);
  if (system) throw refuse(`it holds this system's ${system.mountpoint} (${system.device}): the disk the running system is on`);
  const swap = uses.find((u) => u.mountpoint === '[SWAP]');
  if (swap) throw refuse(`${swap.device} is in use as swap`);
  const mounted = uses[0];
  if (mounted) throw refuse(`${mounted.device} is mounted on ${mounted.mountpoint}; unmount ${uses.length > 1 ? `all ${uses.length} mounts` : 'it'} first`);

  if (imageSize !== undefined && device.size < imageSize) {
    throw refuse(`it holds ${formatBytes(device.size)}, the image needs ${formatBytes(imageSize)}`);
  }
  return { kind: 'block', path: stat.path, device };
}

function findDevice(devices: BlockDevice[], majMin: string, parent?: BlockDevice): { device: BlockDevice; parent?: BlockDevice } | undefined {
  for (const d of devices) {
    if (d.majMin === majMin) return { device: d, ...(parent ? { parent } : {}) };
    const inner = findDevice(d.children, majMin, d);
    if (inner) return inner;
  }
  return undefined;
}

/** Every mount of the device and of what sits on it (partitions, LVM, crypt), from both sources. */
function usesOf(device: BlockDevice, mounts: MountEntry[]): { device: string; mountpoint: string }[] {
  const uses: { device: string; mountpoint: string }[] = [];
  const walk = (d: BlockDevice) => {
    for (const m of d.mountpoints) uses.push({ device: d.path, mountpoint: m });
    for (const m of mounts) if (m.source === d.path || m.source === `/dev/${d.name}`) uses.push({ device: d.path, mountpoint: m.target });
    d.children.forEach(walk);
  };
  walk(device);
  return uses.filter((u, i) => uses.findIndex((v) => v.device === u.device && v.mountpoint === u.mountpoint) === i);
}

/** `2.4 GiB`, `8.0 MiB`. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[i]}`;
}
