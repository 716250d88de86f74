import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LossCounter } from './loss-counter.ts';

function feed(seqs: number[], ssrc = 1, counter = new LossCounter()): LossCounter {
  for (const s of seqs) counter.record(ssrc, s & 0xffff);
  return counter;
}

const test = suite('LossCounter');

test('no loss on a clean stream', () => {
  assert.is(feed([10, 11, 12, 13]).lost, 0);
});

test('a gap counts the missing packets', () => {
  assert.is(feed([10, 11, 14, 15]).lost, 2);
});

test('a reordered packet is not loss', () => {
  assert.is(feed([1, 2, 4, 3, 5]).lost, 0);
  assert.is(feed([1, 2, 5, 3, 6]).lost, 1, '4 never came; 3 was only late');
});

test('duplicates of the newest packet change nothing', () => {
  assert.is(feed([1, 2, 2, 2, 4]).lost, 1);
});

test('sequence wrap-around is continuous', () => {
  assert.is(feed([65533, 65534, 65535, 0, 1]).lost, 0);
  assert.is(feed([65534, 65535, 1, 2]).lost, 1);
  assert.is(feed([65535, 1, 0, 2]).lost, 0, 'late packet across the wrap');
});

test('a new SSRC starts a new count and keeps the old loss', () => {
  const c = feed([1, 3]);
  assert.is(c.lost, 1);
  feed([500, 501, 503], 2, c);
  assert.is(c.lost, 2);
});

test('a jump beyond MAX_DROPOUT is a restart, not thousands lost', () => {
  assert.is(feed([1, 2, 20000, 20001]).lost, 0);
});

test.run();
