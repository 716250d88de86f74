/**
 * Finds a partition by its GPT name (the image's `data`) in a written disk or disk image, so the
 * first-boot file can go into it without partition device nodes (a plain file has none).
 * Reads the primary GPT header at LBA 1 and its entries (UEFI 2.10 §5.3); 512-byte sectors.
 */
import { open } from 'node:fs/promises';
import { FlashError } from './errors.ts';

export interface GptPartition {
  /** 1-based, as Linux numbers them (`/dev/loop3p4`). */
  number: number;
  name: string;
  /** Byte offset and length. */
  offset: number;
  size: number;
}

const SECTOR = 512;

/** The partitions of a GPT disk from its first sectors (the header at LBA 1, then the entries). */
export function parseGpt(head: Buffer): GptPartition[] {
  const header = head.subarray(SECTOR, 2 * SECTOR);
  if (header.length < 92 || header.toString('latin1', 0, 8) !== 'EFI PART') {
    throw new FlashError('flash.verify', 'the written disk has no GPT (no "EFI PART" header at LBA 1)');
  }
  const entriesLba = Number(header.readBigUInt64LE(72));
  const count = header.readUInt32LE(80);
  const entrySize = header.readUInt32LE(84);
  const parts: GptPartition[] = [];
  for (let i = 0; i < count; i++) {
    const at = entriesLba * SECTOR + i * entrySize;
    if (at + 128 > head.length) break;
    const e = head.subarray(at, at + entrySize);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const first = Number(e.readBigUInt64LE(32));
    const last = Number(e.readBigUInt64LE(40));
    const name = e.toString('utf16le', 56, 128).replace(/\0.*$/s, '');
    parts.push({ number: i + 1, name, offset: first * SECTOR, size: (last - first + 1) * SECTOR });
  }
  return parts;
}

/** The partition named `name` on the disk or image at `path`. */
export async function findPartition(path: string, name: string): Promise<GptPartition> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(34 * SECTOR);
    await fh.read(head, 0, head.length, 0);
    const part = parseGpt(head).find((p) => p.name === name);
    if (!part) throw new FlashError('flash.verify', `the written disk has no partition named "${name}"`);
    return part;
  } finally {
    await fh.close();
  }
}
