import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { formatSeconds, Progress } from './progress.ts';

const MIB = 1024 * 1024;

function run(tty: boolean, total: number | undefined): string[] {
  const lines: string[] = [];
  let t = 0;
  const p = new Progress({ label: 'write', total, tty, write: (s) => lines.push(s), now: () => t });
  for (let i = 1; i <= 10; i++) {
    t = i * 1000;
    p.update(i * 10 * MIB);
  }
  p.done();
  return lines;
}

const progress = suite('Progress');

progress('not a terminal: a line per 10 %, with MB/s and ETA, then the total', () => {
  const lines = run(false, 100 * MIB);
  assert.is(lines.length, 10);
  assert.is(lines[0], 'write: 10% (10/100 MiB), 10.5 MB/s, ETA 9 s\n');
  assert.is(lines[9], 'write: 100 MiB in 10 s, 10.5 MB/s\n');
});

progress('a terminal: the bar redrawn in place', () => {
  const lines = run(true, 100 * MIB);
  assert.is(lines[4], '\rwrite  [############------------]  50%  50/100 MiB  10.5 MB/s  ETA 5 s\x1b[K');
  assert.ok(lines[10]!.startsWith('\rwrite: 100 MiB in 10 s'));
});

progress('size unknown: a line per 256 MiB, no percent', () => {
  const lines: string[] = [];
  let t = 0;
  const p = new Progress({ label: 'write', total: undefined, tty: false, write: (s) => lines.push(s), now: () => t });
  t = 2000;
  p.update(300 * MIB);
  assert.equal(lines, ['write: 300 MiB, 157.3 MB/s\n']);
});

progress.run();

const seconds = suite('formatSeconds');
seconds('seconds, then minutes', () => {
  assert.is(formatSeconds(42.4), '42 s');
  assert.is(formatSeconds(185), '3 min 05 s');
});
seconds.run();
