/**
 * The flash tool end to end (docs/flash.md, issue 14 item 3): a small disk image made here (a
 * GPT with boot, rootA and an ext4 data partition, like the box image's layout; zstd, and a
 * SHA256SUMS) written to a plain file and to a file-backed loop device; the checksum verified
 * by reading back; the first-boot file read from the written data partition (debugfs, and a
 * read-only mount of the loop device's partition); refusals of a mounted target, a device too
 * small and a block device without --yes; a corrupted write (an injected sink flips a byte)
 * and an image that does not match SHA256SUMS caught.
 * Needs root (losetup, mount): otherwise it prints why and skips, unless OUTPOST_REQUIRE_NETNS=1
 * (CI), where that is a failure. The real image (image/out/) is not needed.
 * Runs alone too: node --import tsx test/integration/flash.test.ts
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { main } from '../../provisioning/cli.ts';
import { readFirstbootFile, parseFirstbootText } from '../../provisioning/firstboot-file.ts';
import type { FlashDeps } from '../../provisioning/flash.ts';
import { findPartition } from '../../provisioning/gpt.ts';
import { openSink } from '../../provisioning/writer.ts';

const MIB = 1024 * 1024;
const CLAIM = ['--site', 'branch-a', '--claim', '7kq2-m9xd-4hrt', '--hub', 'https://hub.example.net:8443', '--no-qr'];

interface Ctx {
  dir: string;
  img: string;
  zst: string;
  loops: string[];
  mounts: string[];
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function flash(args: string[], deps: Partial<FlashDeps> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(['node', 'outpost-flash', ...args], {
    out: (l) => (out += `${l}\n`),
    err: (t) => (err += t),
    deps: { tty: false, confirm: undefined, ...deps },
  });
  return { code, out, err };
}

/** The first `n` bytes of a file or device. */
function head(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();
const sha256 = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');

/** A 24 MiB disk image: boot 4 MiB and rootA 4 MiB of random bytes, data 8 MiB ext4, a GPT. */
function makeImage(dir: string): string {
  const img = join(dir, 'outpost-arm64.img');
  writeFileSync(img, Buffer.alloc(0));
  execFileSync('truncate', ['-s', `${24 * MIB}`, img]);
  execFileSync('sfdisk', ['-q', img], { input: 'label: gpt\nstart=2048, size=8192, name=boot\nstart=10240, size=8192, name=rootA\nstart=18432, size=16384, name=data\n' });
  const random = Buffer.alloc(6 * MIB);
  for (let i = 0; i < random.length; i += 65536) createHash('sha512').update(String(i)).digest().copy(random, i);
  execFileSync('dd', [`of=${img}`, 'bs=512', 'seek=2048', 'conv=notrunc', 'status=none'], { input: random });
  execFileSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${18432 * 512}`, img, '8M']);
  execFileSync('zstd', ['-q', '-12', img, '-o', `${img}.zst`]);
  const sums = ['outpost-arm64.img', 'outpost-arm64.img.zst'].map((f) => `${sha256(readFileSync(join(dir, f)))}  ${f}\n`);
  writeFileSync(join(dir, 'SHA256SUMS'), sums.join(''));
  return img;
}

function attach(ctx: Ctx, mib: number): string {
  const backing = join(ctx.dir, `disk-${ctx.loops.length}.raw`);
  execFileSync('truncate', ['-s', `${mib * MIB}`, backing]);
  const dev = sh('losetup', ['-f', '--show', '-P', backing]);
  ctx.loops.push(dev);
  return dev;
}

/** The written disk is the image, byte for byte, outside the data partition. */
function assertImageOutsideData(ctx: Ctx, target: string): void {
  const image = readFileSync(ctx.img);
  const written = head(target, image.length);
  const dataStart = 18432 * 512;
  assert.is(sha256(written.subarray(0, dataStart)), sha256(image.subarray(0, dataStart)), 'boot, rootA and the GPT as in the image');
}

const flashTool = suite<Ctx>('outpost-flash (file, loop device)');

flashTool.before((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-flash-test-'));
  ctx.loops = [];
  ctx.mounts = [];
  ctx.img = makeImage(ctx.dir);
  ctx.zst = `${ctx.img}.zst`;
});

flashTool.after((ctx) => {
  for (const m of ctx.mounts.reverse()) execFileSync('umount', [m], { stdio: 'ignore' });
  for (const l of ctx.loops) execFileSync('losetup', ['-d', l], { stdio: 'ignore' });
  rmSync(ctx.dir, { recursive: true, force: true });
});

flashTool('.img.zst to a plain file: verified, and the first-boot file in the data partition', async (ctx) => {
  const out = join(ctx.dir, 'box.img');
  const r = await flash([ctx.zst, out, ...CLAIM, '--node', 'a3']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'matches SHA256SUMS');
  assert.match(r.out, 'read back');
  assert.match(r.out, ': identical');
  assert.match(r.err, /write: 24 MiB in .*MB\/s/);
  assert.match(r.err, /verify: 24 MiB in .*MB\/s/);
  assert.is(statSync(out).size, 24 * MIB);
  assertImageOutsideData(ctx, out);
  const file = parseFirstbootText(readFirstbootFile(out, await findPartition(out, 'data')));
  assert.equal([file.get('site'), file.get('hub'), file.get('claim'), file.get('node')], ['branch-a', 'https://hub.example.net:8443', '7KQ2-M9XD-4HRT', 'a3']);
  assert.is(file.get('image'), `sha256:${sha256(readFileSync(ctx.img))}`);
});

flashTool('.img to a loop device with --yes: verified; the file readable from the mounted data partition, mode 0600', async (ctx) => {
  const dev = attach(ctx, 32);
  const r = await flash([ctx.img, dev, ...CLAIM, '--yes']);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, `target  loop ${dev}, 32.0 MiB`);
  assert.match(r.out, ': identical');
  assertImageOutsideData(ctx, dev);
  const part = await waitFor(() => existsSync(`${dev}p3`) && `${dev}p3`, `${dev}p3 after the flash`);
  const mnt = join(ctx.dir, 'mnt');
  mkdirSync(mnt, { recursive: true });
  execFileSync('mount', ['-o', 'ro', part, mnt]);
  ctx.mounts.push(mnt);
  const text = readFileSync(join(mnt, 'outpost-firstboot.conf'), 'utf8');
  assert.is(parseFirstbootText(text).get('claim'), '7KQ2-M9XD-4HRT');
  assert.is(parseFirstbootText(text).get('node'), undefined);
  assert.is(statSync(join(mnt, 'outpost-firstboot.conf')).mode & 0o777, 0o600);
});

flashTool('a loop device whose partition is mounted is refused, and left alone', async (ctx) => {
  const dev = ctx.loops[0]!;
  assert.ok(ctx.mounts.length === 1, 'the previous test mounted its data partition');
  const before = sha256(head(dev, 24 * MIB));
  const r = await flash([ctx.img, dev, ...CLAIM, '--yes']);
  assert.is(r.code, 3);
  assert.is(r.err, `outpost-flash: refusing ${dev}: ${dev}p3 is mounted on ${ctx.mounts[0]}; unmount it first\n`);
  assert.is(sha256(head(dev, 24 * MIB)), before, 'nothing written');
  execFileSync('umount', [ctx.mounts.pop()!]);
});

flashTool('a block device without --yes and without a terminal to ask is refused', async (ctx) => {
  const r = await flash([ctx.img, ctx.loops[0]!, ...CLAIM]);
  assert.is(r.code, 2);
  assert.match(r.err, `writing a block device needs --yes when there is no terminal to ask (${ctx.loops[0]})`);
});

flashTool('a device smaller than the image is refused (size known from the zstd frame)', async (ctx) => {
  const small = attach(ctx, 16);
  const r = await flash([ctx.zst, small, ...CLAIM, '--yes']);
  assert.is(r.code, 3);
  assert.is(r.err, `outpost-flash: refusing ${small}: it holds 16.0 MiB, the image needs 24.0 MiB\n`);
});

flashTool('a corrupted write is caught by the read-back (a sink that flips one byte)', async (ctx) => {
  const dev = attach(ctx, 32);
  const r = await flash([ctx.zst, dev, ...CLAIM, '--yes'], {
    openSink: async (path, kind) => {
      const real = await openSink(path, kind);
      return {
        ...real,
        write: (chunk, position) => {
          const bad = position === 0 ? Buffer.from(chunk) : chunk;
          if (position === 0) bad[3 * MIB] = bad[3 * MIB]! ^ 0x01;
          return real.write(bad, position);
        },
      };
    },
  });
  assert.is(r.code, 4);
  assert.match(r.err, `outpost-flash: read-back of ${dev} does not match the image`);
  assert.not.match(r.out, 'first boot');
});

flashTool('an image that does not match SHA256SUMS is reported', async (ctx) => {
  const dir = join(ctx.dir, 'damaged');
  mkdirSync(dir);
  const img = join(dir, 'outpost-arm64.img');
  const bytes = readFileSync(ctx.img);
  bytes[5 * MIB] = bytes[5 * MIB]! ^ 0xff;
  writeFileSync(img, bytes);
  writeFileSync(join(dir, 'SHA256SUMS'), `${sha256(readFileSync(ctx.img))}  outpost-arm64.img\n`);
  const r = await flash([img, join(ctx.dir, 'damaged-out.img'), ...CLAIM]);
  assert.is(r.code, 4);
  assert.match(r.err, 'the image does not match SHA256SUMS');
});

const why = process.getuid?.() === 0 ? undefined : 'not root (losetup and mount need root)';
if (why === undefined) flashTool.run();
else if (process.env['OUTPOST_REQUIRE_NETNS'] === '1') {
  const required = suite('outpost-flash');
  required('root is available (OUTPOST_REQUIRE_NETNS=1)', () => assert.unreachable(`the flash test cannot run: ${why}`));
  required.run();
} else console.log(`outpost-flash test skipped: ${why} (set OUTPOST_REQUIRE_NETNS=1 to make this a failure)`);
