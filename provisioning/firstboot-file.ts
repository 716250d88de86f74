/**
 * The first-boot file (docs/flash.md#the-first-boot-file): what a flashed box enrols with.
 * `outpost-firstboot.conf` at the root of the disk's `data` partition (the box's
 * `/data/outpost-firstboot.conf`), mode 0600, owned by root: `key=value` lines that a shell
 * reads with `sed`, every value limited to characters that need no quoting (checked here).
 * Written into the ext4 file system with debugfs (e2fsprogs), which works on a plain image
 * file at an offset as well as on a device, and read back the same way.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'node:fs/promises';
import { FlashError } from './errors.ts';
import type { GptPartition } from './gpt.ts';

export const FIRSTBOOT_NAME = 'outpost-firstboot.conf';

export interface FirstbootFields {
  site: string;
  hub: string;
  claim: string;
  node?: string;
  /** SHA-256 of the raw image written. */
  image: string;
  /** When it was flashed. */
  at: Date;
  tool: string;
}

const SAFE = /^[A-Za-z0-9:/.\-[\]]+$/;

/** The file's text. */
export function firstbootText(f: FirstbootFields): string {
  const fields: [string, string | undefined][] = [
    ['version', '1'],
    ['site', f.site],
    ['hub', f.hub],
    ['claim', f.claim],
    ['node', f.node],
    ['image', `sha256:${f.image}`],
    ['flashed', f.at.toISOString()],
  ];
  const lines = [`# Outpost first boot: read once by outpost-firstboot.service (written by ${f.tool})`];
  for (const [k, v] of fields) {
    if (v === undefined) continue;
    if (!SAFE.test(v)) throw new FlashError('flash.usage', `${k} "${v}" has characters the first-boot file does not allow`);
    lines.push(`${k}=${v}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `key=value` lines back into a map (comments and blank lines skipped). */
export function parseFirstbootText(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([a-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** The ext4 file system of the partition, as debugfs opens it. */
function device(path: string, part: GptPartition): string {
  return `${path}?offset=${part.offset}`;
}

async function hasExt4(path: string, part: GptPartition): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const b = Buffer.alloc(2);
    await fh.read(b, 0, 2, part.offset + 1024 + 56);
    return b.readUInt16LE(0) === 0xef53;
  } finally {
    await fh.close();
  }
}

/** Writes the file into the partition's root and reads it back; returns what was read. */
export async function writeFirstbootFile(path: string, part: GptPartition, text: string): Promise<string> {
  if (!(await hasExt4(path, part))) throw new FlashError('flash.verify', `partition ${part.number} (${part.name}) of the written disk has no ext4 file system`);
  const dir = mkdtempSync(join(tmpdir(), 'outpost-flash-'));
  try {
    const src = join(dir, FIRSTBOOT_NAME);
    writeFileSync(src, text, { mode: 0o600 });
    const script = join(dir, 'commands');
    writeFileSync(script, [`rm ${FIRSTBOOT_NAME}`, `write ${src} ${FIRSTBOOT_NAME}`, `sif ${FIRSTBOOT_NAME} mode 0100600`, `sif ${FIRSTBOOT_NAME} uid 0`, `sif ${FIRSTBOOT_NAME} gid 0`, ''].join('\n'));
    debugfs(['-w', '-f', script, device(path, part)]);
    const back = readFirstbootFile(path, part);
    if (back !== text) throw new FlashError('flash.verify', `the first-boot file read back from partition ${part.number} differs from what was written`);
    return back;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The file as it is in the partition (debugfs `cat`). */
export function readFirstbootFile(path: string, part: GptPartition): string {
  return debugfs(['-R', `cat ${FIRSTBOOT_NAME}`, device(path, part)]);
}

function debugfs(args: string[]): string {
  try {
    return execFileSync('debugfs', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new FlashError('flash.io', `debugfs failed: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n').pop()}`, { cause: err });
  }
}

