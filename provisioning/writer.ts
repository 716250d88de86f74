/**
 * Writes the image's chunks to the target and reads them back (docs/flash.md#how-it-checks):
 * the SHA-256 of what was sent is compared with the SHA-256 of what the target gives back after
 * fsync. A block device's buffer cache is dropped first (`blockdev --flushbufs`), so the read
 * comes from the device. The sink is injected: tests corrupt what reaches the disk.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { FlashError } from './errors.ts';
import type { Progress } from './progress.ts';

export interface Sink {
  write(chunk: Buffer, position: number): Promise<void>;
  /** fsync, and for a file: set its length to the image's. */
  finish(length: number): Promise<void>;
  close(): Promise<void>;
}

const CHUNK = 4 * 1024 * 1024;

/** The real sink: O_EXCL on a block device (the kernel refuses it while anything holds the disk). */
export async function openSink(path: string, kind: 'block' | 'file'): Promise<Sink> {
  let fh: FileHandle;
  try {
    fh = kind === 'block' ? await open(path, constants.O_RDWR | constants.O_EXCL) : await open(path, 'w', 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EBUSY') throw new FlashError('flash.refused', `refusing ${path}: the kernel says it is in use (EBUSY)`);
    throw new FlashError('flash.io', `cannot open ${path} for writing: ${code ?? (err as Error).message}`, { cause: err });
  }
  const zeros = Buffer.alloc(CHUNK);
  return {
    // A new file stays sparse: runs of zeros (the empty slot B) are skipped, not written.
    write: async (chunk, position) => {
      if (kind === 'file' && chunk.equals(zeros.subarray(0, chunk.length))) return;
      await writeAll(fh, chunk, position);
    },
    finish: async (length) => {
      if (kind === 'file') await fh.truncate(length);
      await fh.sync();
    },
    close: () => fh.close(),
  };
}

async function writeAll(fh: FileHandle, chunk: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, position + done);
    if (bytesWritten === 0) throw new FlashError('flash.io', `short write at byte ${position + done}`);
    done += bytesWritten;
  }
}

/** Regroups a stream into CHUNK-sized buffers (the last may be shorter). */
async function* rechunk(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const b of source) {
    parts.push(b);
    size += b.length;
    while (size >= CHUNK) {
      const all = Buffer.concat(parts, size);
      yield all.subarray(0, CHUNK);
      parts = [all.subarray(CHUNK)];
      size -= CHUNK;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

/** Writes every chunk; returns the byte count and the SHA-256 of what was written. */
export async function writeImage(chunks: AsyncIterable<Buffer>, sink: Sink, progress: Progress, limit: number | undefined): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let pos = 0;
  try {
    for await (const chunk of rechunk(chunks)) {
      if (limit !== undefined && pos + chunk.length > limit) {
        throw new FlashError('flash.refused', `the image is larger than the target (${limit} bytes); stopped at byte ${pos}`);
      }
      hash.update(chunk);
      await sink.write(chunk, pos);
      pos += chunk.length;
      progress.update(pos);
    }
    await sink.finish(pos);
  } catch (err) {
    if (err instanceof FlashError) throw err;
    throw new FlashError('flash.io', `writing failed at byte ${pos}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  } finally {
    await sink.close();
  }
  return { bytes: pos, sha256: hash.digest('hex') };
}

/** SHA-256 of the first `bytes` bytes of the target, read after its cache is dropped. */
export async function readBack(path: string, kind: 'block' | 'file', bytes: number, progress: Progress): Promise<string> {
  if (kind === 'block') {
    try {
      execFileSync('blockdev', ['--flushbufs', path], { stdio: 'ignore' });
    } catch {
      // Without it the read may come from the cache; the write itself was synced.
    }
  }
  const fh = await open(path, 'r');
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  let pos = 0;
  try {
    while (pos < bytes) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, bytes - pos), pos);
      if (bytesRead === 0) throw new FlashError('flash.verify', `the target ends at byte ${pos}, before the image's ${bytes}`);
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
      progress.update(pos);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}
