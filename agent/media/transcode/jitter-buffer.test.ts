import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { JitterBuffer, type JitterSink } from './jitter-buffer.ts';

type Event = ['packet', number, number] | ['lost', number, number | null];

function recorder(): { sink: JitterSink; events: Event[] } {
  const events: Event[] = [];
  return {
    events,
    sink: {
      packet: (seq, packet) => events.push(['packet', seq, packet[0]!]),
      lost: (seq, next) => events.push(['lost', seq, next ? next[0]! : null]),
    },
  };
}
const p = (seq: number) => Buffer.from([seq & 0xff, 1, 2]);

test('in-order packets pass straight through', () => {
  const { sink, events } = recorder();
  const jb = new JitterBuffer(sink);
  for (const seq of [65534, 65535, 0, 1]) jb.push(seq, p(seq));
  assert.equal(events, [['packet', 65534, 254], ['packet', 65535, 255], ['packet', 0, 0], ['packet', 1, 1]]);
});

test('a reordered packet waits for the one before it', () => {
  const { sink, events } = recorder();
  const jb = new JitterBuffer(sink);
  jb.push(10, p(10));
  jb.push(12, p(12));
  assert.equal(events.length, 1, '12 waits');
  jb.push(11, p(11));
  assert.equal(events.map((e) => e[1]), [10, 11, 12]);
  assert.is(jb.lost, 0);
});

test('a gap is declared lost once depth packets wait, with the next payload for FEC', () => {
  const { sink, events } = recorder();
  const jb = new JitterBuffer(sink, 3);
  jb.push(1, p(1));
  jb.push(3, p(3));
  jb.push(4, p(4));
  assert.equal(events.length, 1);
  jb.push(5, p(5));
  assert.equal(events, [['packet', 1, 1], ['lost', 2, 3], ['packet', 3, 3], ['packet', 4, 4], ['packet', 5, 5]]);
  jb.push(2, p(2));
  assert.is(jb.late, 1, 'too late now');
  assert.is(jb.lost, 1);
});

test('duplicates are dropped; a big jump is a restart, not loss', () => {
  const { sink, events } = recorder();
  const jb = new JitterBuffer(sink);
  jb.push(100, p(100));
  jb.push(100, p(100));
  jb.push(102, p(102));
  jb.push(102, p(102));
  assert.is(jb.late, 2);
  jb.push(5000, p(5000));
  assert.equal(events.map((e) => e[0] + e[1]), ['packet100', 'lost101', 'packet102', 'packet5000']);
});

test('property: every sequence number comes out once, in order, as packet or loss', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65535 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }), fc.array(fc.nat(3), { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (start, keep, swaps, depth) => {
      const seqs = keep.map((_, i) => (start + i) & 0xffff).filter((_, i) => keep[i] || i === 0 || i === keep.length - 1);
      // Local reordering by at most `depth - 1` positions.
      for (let i = 0; i < swaps.length && i + 1 < seqs.length; i++) {
        const j = Math.min(seqs.length - 1, i + (swaps[i]! % depth));
        [seqs[i], seqs[j]] = [seqs[j]!, seqs[i]!];
      }
      const { sink, events } = recorder();
      const jb = new JitterBuffer(sink, depth);
      for (const s of seqs) jb.push(s, p(s));
      jb.flush();
      const out = events.map((e) => e[1]);
      const first = out[0]!;
      out.forEach((s, i) => assert.is(s, (first + i) & 0xffff));
      const delivered = events.filter((e) => e[0] === 'packet').map((e) => e[1]);
      assert.is(new Set(delivered).size, delivered.length, 'no packet twice');
      assert.is(delivered.length + jb.late, seqs.length, 'every packet delivered or counted late');
    }),
  );
});

test.run();
