/**
 * One flash, start to end (docs/flash.md): check the image and the target, ask, write with
 * progress, check the stream against SHA256SUMS, read back, write the first-boot file into the
 * data partition, report. Everything that touches the machine comes in through FlashDeps, so
 * the tests inject the mount table, the block devices and a corrupting sink.
 */
import { execFileSync } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FlashError } from './errors.ts';
import { FIRSTBOOT_NAME, firstbootText, writeFirstbootFile } from './firstboot-file.ts';
import { findPartition } from './gpt.ts';
import { ImageStream, inspectImage, type ImageInfo } from './image-source.ts';
import type { FlashOptions } from './options.ts';
import { Progress } from './progress.ts';
import type { SystemFacts } from './system-facts.ts';
import { checkTarget, formatBytes, type Target, type TargetStat } from './target-check.ts';
import { readBack, writeImage, type Sink } from './writer.ts';

export interface FlashDeps {
  facts(): SystemFacts;
  statTarget(path: string): TargetStat;
  openSink(path: string, kind: 'block' | 'file'): Promise<Sink>;
  now(): number;
  /** A line of the report (stdout). */
  out(line: string): void;
  /** Progress text, as is (stderr). */
  progress(text: string): void;
  /** Progress redrawn in place (a terminal). */
  tty: boolean;
  /** Asks on the terminal; undefined when there is none. */
  confirm: ((question: string) => Promise<boolean>) | undefined;
  tool: string;
}

export interface FlashResult {
  image: ImageInfo;
  target: Target;
  bytes: number;
  sha256: string;
  writeMBps: number;
  readMBps: number;
  firstboot: string;
  seconds: number;
}

export async function flash(o: FlashOptions, deps: FlashDeps): Promise<FlashResult> {
  const started = deps.now();
  const image = await inspectImage(o.image, o.compressed);
  const targetPath = resolve(o.target);
  if (sameFile(o.image, targetPath)) throw new FlashError('flash.refused', `refusing ${o.target}: it is the image itself`);
  const target = checkTarget(deps.statTarget(targetPath), deps.facts(), image.rawSize);
  await confirmTarget(o, target, deps);

  const what = target.kind === 'block' ? `${target.device.type} ${target.path}, ${formatBytes(target.device.size)}` : `file ${target.path}`;
  deps.out(`image   ${o.image}: ${image.rawSize === undefined ? 'size unknown' : formatBytes(image.rawSize)}${image.compressed ? ` (${formatBytes(image.fileSize)} zstd)` : ''}${image.version ? `, ${image.version}` : ''}`);
  deps.out(`target  ${what}`);

  const stream = new ImageStream(image);
  const sink = await deps.openSink(target.path, target.kind);
  const writing = new Progress({ label: 'write', total: image.rawSize, tty: deps.tty, write: deps.progress, now: deps.now });
  const limit = target.kind === 'block' ? target.device.size : undefined;
  const written = await writeImage(stream.chunks(), sink, writing, limit);
  const writeMBps = writing.done();
  checkAgainstSums(image, written.sha256, stream.fileDigest());

  const reading = new Progress({ label: 'verify', total: written.bytes, tty: deps.tty, write: deps.progress, now: deps.now });
  const back = await readBack(target.path, target.kind, written.bytes, reading);
  const readMBps = reading.done();
  if (back !== written.sha256) {
    throw new FlashError('flash.verify', `read-back of ${target.path} does not match the image: sha256 ${back.slice(0, 16)}…, written ${written.sha256.slice(0, 16)}…; the medium or its reader is faulty`);
  }

  if (target.kind === 'block') rescanPartitions(target.path);
  const data = await findPartition(target.path, 'data');
  const text = firstbootText({ site: o.site, hub: o.hub, claim: o.claim, ...(o.node ? { node: o.node } : {}), image: written.sha256, at: new Date(deps.now()), tool: deps.tool });
  await writeFirstbootFile(target.path, data, text);
  const firstboot = `${FIRSTBOOT_NAME} on partition ${data.number} (${data.name})`;
  return { image, target, bytes: written.bytes, sha256: written.sha256, writeMBps, readMBps, firstboot, seconds: (deps.now() - started) / 1000 };
}

function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

async function confirmTarget(o: FlashOptions, target: Target, deps: FlashDeps): Promise<void> {
  if (o.yes) return;
  if (target.kind === 'file' && !target.exists) return;
  const what = target.kind === 'block' ? `the ${target.device.type} ${target.path} (${formatBytes(target.device.size)})` : `the file ${target.path}`;
  if (!deps.confirm) {
    throw new FlashError('flash.usage', `${target.kind === 'block' ? 'writing a block device' : 'overwriting a file'} needs --yes when there is no terminal to ask (${target.path})`);
  }
  if (!(await deps.confirm(`Erase ${what} and write ${o.image} to it? Type yes: `))) throw new FlashError('flash.usage', 'not confirmed; nothing was written');
}

function checkAgainstSums(image: ImageInfo, rawDigest: string, fileDigest: string): void {
  if (image.expectedFile !== undefined && image.expectedFile !== fileDigest) {
    throw new FlashError('flash.verify', `${image.path} does not match its SHA256SUMS line (sha256 ${fileDigest.slice(0, 16)}…, listed ${image.expectedFile.slice(0, 16)}…): the file is damaged; the target holds a bad copy`);
  }
  if (image.expectedRaw !== undefined && image.expectedRaw !== rawDigest) {
    throw new FlashError('flash.verify', `the image does not match SHA256SUMS (sha256 ${rawDigest.slice(0, 16)}…, listed ${image.expectedRaw.slice(0, 16)}…): the file is damaged; the target holds a bad copy`);
  }
}

/** Lets the kernel see the new partition table (so /dev/loop3p4 and friends exist); best effort. */
function rescanPartitions(path: string): void {
  try {
    execFileSync('partx', ['-u', path], { stdio: 'ignore' });
  } catch {
    // A disk without partition scanning (a loop device without -P): nothing to update.
  }
}

/** The stat of a target path, as target-check.ts wants it. */
export function statTarget(path: string): TargetStat {
  let s;
  try {
    s = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new FlashError('flash.io', `cannot stat ${path}: ${(err as NodeJS.ErrnoException).code}`);
    try {
      if (!statSync(dirname(path)).isDirectory()) throw new FlashError('flash.usage', `${dirname(path)} is not a folder`);
    } catch (inner) {
      if (inner instanceof FlashError) throw inner;
      throw new FlashError('flash.usage', `cannot write ${path}: its folder ${dirname(path)} does not exist`);
    }
    return { kind: 'missing', path };
  }
  if (s.isBlockDevice()) return { kind: 'block', path: realpathSync(path), majMin: `${Math.floor(s.rdev / 256) & 0xfff}:${(s.rdev & 0xff) | ((s.rdev >>> 12) & 0xfff00)}` };
  if (s.isFile()) return { kind: 'file', path, size: s.size };
  return { kind: 'other', path, what: s.isDirectory() ? 'a folder' : s.isCharacterDevice() ? 'a character device' : 'not a regular file' };
}

