/**
 * The image to flash (docs/flash.md#images): a raw `.img` or a `.img.zst`, decompressed as a
 * stream with Node's zlib (zstd since Node 23.8). What the tool knows before it writes: the
 * raw size (a file's size, or the zstd frame's content size, which the `zstd` tool records),
 * the digests SHA256SUMS beside the image lists, and the version from the build's manifest.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createZstdDecompress } from 'node:zlib';
import { FlashError } from './errors.ts';

export interface ImageInfo {
  path: string;
  compressed: boolean;
  /** Bytes of the file itself. */
  fileSize: number;
  /** Bytes of the raw disk image; undefined for a .zst without a recorded content size. */
  rawSize: number | undefined;
  /** SHA-256 of the raw image per SHA256SUMS (its `.img` line), if listed. */
  expectedRaw?: string;
  /** SHA-256 of the .zst file per SHA256SUMS, if listed. */
  expectedFile?: string;
  /** `source 716bbddadd18, node v24.22.3` from the manifest, if there is one. */
  version?: string;
}

export async function inspectImage(path: string, compressed: boolean): Promise<ImageInfo> {
  let fileSize: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new FlashError('flash.usage', `${path} is not a file`);
    fileSize = s.size;
  } catch (err) {
    if (err instanceof FlashError) throw err;
    throw new FlashError('flash.usage', `cannot read the image ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const rawSize = compressed ? zstdContentSize(await readHead(path, 18)) : fileSize;
  const sums = readSums(join(dirname(path), 'SHA256SUMS'));
  const name = basename(path);
  const rawName = compressed ? name.slice(0, -'.zst'.length) : name;
  const version = readVersion(path);
  return {
    path,
    compressed,
    fileSize,
    rawSize,
    ...(sums.has(rawName) ? { expectedRaw: sums.get(rawName)! } : {}),
    ...(compressed && sums.has(name) ? { expectedFile: sums.get(name)! } : {}),
    ...(version ? { version } : {}),
  };
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The Frame_Content_Size of a zstd frame header (RFC 8878 §3.1.1.1), if recorded. */
export function zstdContentSize(head: Buffer): number | undefined {
  if (head.length < 6 || head.readUInt32LE(0) !== 0xfd2fb528) throw new FlashError('flash.usage', 'the .zst image does not start with a zstd frame');
  const fhd = head[4]!;
  const fcsFlag = fhd >> 6;
  const single = (fhd >> 5) & 1;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0) return undefined;
  const at = 5 + (single ? 0 : 1) + dictBytes;
  if (head.length < at + fcsBytes) return undefined;
  if (fcsBytes === 1) return head[at]!;
  if (fcsBytes === 2) return head.readUInt16LE(at) + 256;
  if (fcsBytes === 4) return head.readUInt32LE(at);
  return Number(head.readBigUInt64LE(at));
}

/** `sha256sum` output: `<hex>  <name>` or `<hex> *<name>`. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) sums.set(basename(m[2]!), m[1]!);
  }
  return sums;
}

function readSums(path: string): Map<string, string> {
  return existsSync(path) ? parseSums(readFileSync(path, 'utf8')) : new Map();
}

/**
 * What the manifest beside the image (`outpost-arm64.manifest`, image/steps/manifest.sh) says it
 * was built from: `source 716bbddadd18, node v24.22.3` (its `source` and `node` lines).
 */
function readVersion(imagePath: string): string | undefined {
  const manifest = join(dirname(imagePath), 'outpost-arm64.manifest');
  return existsSync(manifest) ? describeManifest(readFileSync(manifest, 'utf8')) : undefined;
}

export function describeManifest(text: string): string | undefined {
  const field = (key: string) => new RegExp(`^${key} +(.+)$`, 'm').exec(text)?.[1]?.trim();
  const source = field('source');
  const node = field('node')?.split(' ')[0];
  const parts = [
    ...(source ? [`source ${source.replace(/^([0-9a-f]{12})[0-9a-f]+/, '$1')}`] : []),
    ...(node ? [`node ${node}`] : []),
  ];
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/**
 * The raw image as a stream of chunks, with the SHA-256 of the file as read (for a .zst, the
 * compressed bytes: compare with SHA256SUMS' `.zst` line) once the stream has ended.
 */
export class ImageStream {
  private readonly fileHash: Hash = createHash('sha256');

  constructor(private readonly info: ImageInfo) {}

  async *chunks(): AsyncGenerator<Buffer> {
    const file = createReadStream(this.info.path, { highWaterMark: 1 << 20 });
    file.on('data', (b) => this.fileHash.update(b as Buffer));
    if (!this.info.compressed) {
      yield* file as AsyncIterable<Buffer>;
      return;
    }
    const zstd = createZstdDecompress();
    file.on('error', (err) => zstd.destroy(err));
    file.pipe(zstd);
    try {
      yield* zstd as AsyncIterable<Buffer>;
    } catch (err) {
      throw new FlashError('flash.io', `cannot decompress ${this.info.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Hex SHA-256 of the file as read; call once, after chunks() has ended. */
  fileDigest(): string {
    return this.fileHash.digest('hex');
  }
}
