import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadTortureFixtures } from '../../../test/fixtures/sip/load-fixtures.ts';
import { SipParseError } from './errors.ts';
import { parseMessage } from './parse-message.ts';
import { serializeMessage } from './serialize-message.ts';
import { SipStreamFramer } from './stream-framer.ts';

/** mulberry32: small seeded PRNG so a failure is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = Buffer.from('\r\n \t:;,"<>@%[]\\=/?0129\x00\x7f\xff\xc3', 'latin1');
const ROUNDS = 120;

function mutate(input: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(input);
  const ops = 1 + Math.floor(rnd() * 4);
  const at = () => Math.floor(rnd() * (b.length + 1));
  const pick = () => (rnd() < 0.7 ? INTERESTING[Math.floor(rnd() * INTERESTING.length)]! : Math.floor(rnd() * 256));
  for (let i = 0; i < ops; i++) {
    const op = Math.floor(rnd() * 6);
    const p = at();
    if (op === 0 && b.length > 0) b[Math.min(p, b.length - 1)] = pick();
    else if (op === 1) b = Buffer.concat([b.subarray(0, p), Buffer.from([pick()]), b.subarray(p)]);
    else if (op === 2) b = Buffer.concat([b.subarray(0, p), b.subarray(Math.min(b.length, p + 1 + Math.floor(rnd() * 20)))]);
    else if (op === 3) b = b.subarray(0, p);
    else if (op === 4) {
      const q = at();
      const [s, e] = p < q ? [p, q] : [q, p];
      b = Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]);
    } else {
      const line = b.indexOf('\n', p);
      if (line >= 0) b = Buffer.concat([b.subarray(0, line + 1), Buffer.from(rnd() < 0.5 ? ' ' : '\t'), b.subarray(line + 1)]);
    }
  }
  return b;
}

const Fuzz = suite('parseMessage: mutated torture messages');

Fuzz(`never throws; errors are well formed; accepted messages round-trip (${ROUNDS} mutations per fixture)`, () => {
  const rnd = prng(0x5eed);
  let accepted = 0;
  let rejected = 0;
  for (const fx of loadTortureFixtures()) {
    for (let i = 0; i < ROUNDS; i++) {
      const input = mutate(fx.wire, rnd);
      const where = `${fx.entry.file} mutation ${i}: ${JSON.stringify(input.toString('latin1').slice(0, 80))}`;
      let r;
      try {
        r = parseMessage(input);
      } catch (e) {
        assert.unreachable(`threw on ${where}: ${String(e)}`);
        return;
      }
      if (!r.ok) {
        rejected++;
        assert.ok(r.error instanceof SipParseError, where);
        assert.ok(r.error.offset >= 0 && r.error.offset <= input.length, `offset ${r.error.offset} in ${where}`);
        assert.ok(r.error.reason.length > 0 && !/[\r\n]/.test(r.error.reason), where);
        if (r.partial) assert.is(r.partial.type, 'request');
        continue;
      }
      accepted++;
      const again = parseMessage(serializeMessage(r.message));
      if (!again.ok) return assert.unreachable(`re-parse failed (${again.error.message}) for ${where}`);
      assert.equal(again.message, r.message, where);
    }
  }
  assert.ok(accepted > 100 && rejected > 100, `both outcomes exercised (${accepted} accepted, ${rejected} rejected)`);
});

Fuzz('the stream framer never throws and stays bounded on mutated streams', () => {
  const rnd = prng(0xf4a3);
  for (const fx of loadTortureFixtures()) {
    const framer = new SipStreamFramer({ maxHeaderBytes: 4096, maxMessageBytes: 8192 });
    for (let i = 0; i < 20 && framer.error === undefined; i++) {
      const data = mutate(fx.wire, rnd);
      for (let pos = 0; pos < data.length; ) {
        const n = 1 + Math.floor(rnd() * 64);
        for (const frame of framer.push(data.subarray(pos, pos + n))) parseMessage(frame);
        pos += n;
        assert.ok(framer.buffered <= 8192 + 64);
      }
    }
  }
});

Fuzz.run();
