/**
 * What the flash tool knows of the machine it runs on: the mount table (/proc/self/mounts) and
 * the block devices (`lsblk -J -b`), as plain data. Parsing is pure, so target-check.ts is
 * tested with made-up tables; readSystemFacts() is the thin shell that reads the real ones.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface MountEntry {
  /** The mounted thing as the kernel names it: `/dev/sda1`, `overlay`, `tmpfs`. */
  source: string;
  /** Where: `/`, `/boot`. */
  target: string;
  fstype: string;
}

export interface BlockDevice {
  name: string;
  /** `/dev/sda`, `/dev/loop3p4`. */
  path: string;
  /** `disk`, `part`, `loop`, `lvm`, `crypt`, `raid1`, `rom`... */
  type: string;
  /** Bytes. */
  size: number;
  /** `8:0`. */
  majMin: string;
  /** Where it is mounted (`[SWAP]` for swap). */
  mountpoints: string[];
  children: BlockDevice[];
}

export interface SystemFacts {
  mounts: MountEntry[];
  /** The top-level devices, each with its partitions and holders as children. */
  devices: BlockDevice[];
}

/** /proc/self/mounts: `source target fstype options 0 0`, with octal escapes (`\040` = space). */
export function parseMounts(text: string): MountEntry[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [source, target, fstype] = line.trim().split(/\s+/);
    if (source && target && fstype) out.push({ source: unescape(source), target: unescape(target), fstype });
  }
  return out;
}

interface LsblkRow {
  name: string;
  path?: string;
  type: string;
  size: number | string | null;
  'maj:min': string;
  mountpoints?: (string | null)[];
  mountpoint?: string | null;
  children?: LsblkRow[];
}

/** The JSON of `lsblk -J -b -o NAME,PATH,TYPE,SIZE,MAJ:MIN,MOUNTPOINTS`. */
export function parseLsblk(json: string): BlockDevice[] {
  const convert = (r: LsblkRow): BlockDevice => ({
    name: r.name,
    path: r.path ?? `/dev/${r.name}`,
    type: r.type,
    size: Number(r.size ?? 0),
    majMin: r['maj:min'],
    mountpoints: (r.mountpoints ?? [r.mountpoint ?? null]).filter((m): m is string => typeof m === 'string' && m !== ''),
    children: (r.children ?? []).map(convert),
  });
  return ((JSON.parse(json) as { blockdevices?: LsblkRow[] }).blockdevices ?? []).map(convert);
}

/** The real facts of this machine. */
export function readSystemFacts(): SystemFacts {
  const mounts = parseMounts(readFileSync('/proc/self/mounts', 'utf8'));
  const json = execFileSync('lsblk', ['-J', '-b', '-o', 'NAME,PATH,TYPE,SIZE,MAJ:MIN,MOUNTPOINTS'], { encoding: 'utf8' });
  return { mounts, devices: parseLsblk(json) };
}
