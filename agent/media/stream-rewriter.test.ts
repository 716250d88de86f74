import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rtpPacket } from './fake-phone.ts';
import { StreamRewriter } from './stream-rewriter.ts';

interface Out {
  pt: number;
  marker: boolean;
  seq: number;
  ts: number;
  ssrc: number;
}

function run(rw: StreamRewriter, pkt: Buffer): Out {
  rw.apply(pkt);
  return { pt: pkt[1]! & 0x7f, marker: (pkt[1]! & 0x80) !== 0, seq: pkt.readUInt16BE(2), ts: pkt.readUInt32BE(4), ssrc: pkt.readUInt32BE(8) };
}

const test = suite('StreamRewriter');

test('leaves a steady stream untouched', () => {
  const rw = new StreamRewriter();
  for (let i = 0; i < 3; i++) {
    const pkt = rtpPacket({ seq: 100 + i, ts: 1000 + 160 * i, ssrc: 0xaabbccdd });
    const copy = Buffer.from(pkt);
    rw.apply(pkt);
    assert.ok(pkt.equals(copy));
  }
  assert.is(rw.isShifting, false);
});

test('maps payload types and keeps the marker bit', () => {
  const rw = new StreamRewriter();
  const map = new Uint8Array(128).map((_, i) => i);
  map[101] = 96;
  rw.setPayloadTypeMap(map);
  assert.equal(run(rw, rtpPacket({ pt: 101, marker: true, seq: 1, ts: 0, ssrc: 1 })), { pt: 96, marker: true, seq: 1, ts: 0, ssrc: 1 });
  assert.is(run(rw, rtpPacket({ pt: 101, seq: 2, ts: 0, ssrc: 1 })).marker, false);
  assert.is(run(rw, rtpPacket({ pt: 0, seq: 3, ts: 160, ssrc: 1 })).pt, 0);
});

test('a new SSRC continues the first stream: same SSRC, seq last+1, timestamp last+step', () => {
  const rw = new StreamRewriter();
  run(rw, rtpPacket({ seq: 1000, ts: 8000, ssrc: 0x11111111 }));
  run(rw, rtpPacket({ seq: 1001, ts: 8160, ssrc: 0x11111111 }));
  assert.equal(run(rw, rtpPacket({ seq: 5, ts: 999, ssrc: 0x22222222 })), { pt: 0, marker: false, seq: 1002, ts: 8320, ssrc: 0x11111111 });
  assert.equal(run(rw, rtpPacket({ seq: 6, ts: 1159, ssrc: 0x22222222 })), { pt: 0, marker: false, seq: 1003, ts: 8480, ssrc: 0x11111111 });
  assert.is(rw.restarts, 1);
  assert.is(rw.isShifting, true);
  assert.is(rw.inputSsrc, 0x22222222);
  assert.is(rw.outputSsrc, 0x11111111);
});

test('learns the timestamp step (960 at 48 kHz) and ignores equal event timestamps', () => {
  const rw = new StreamRewriter();
  run(rw, rtpPacket({ seq: 1, ts: 0, ssrc: 7 }));
  run(rw, rtpPacket({ seq: 2, ts: 960, ssrc: 7 }));
  run(rw, rtpPacket({ seq: 3, ts: 960, ssrc: 7 })); // same timestamp (RFC 4733 event)
  const out = run(rw, rtpPacket({ seq: 40000, ts: 5, ssrc: 8 }));
  assert.is(out.seq, 4);
  assert.is(out.ts, 1920);
});

test('shifted numbers wrap around 2^16 and 2^32', () => {
  const rw = new StreamRewriter();
  run(rw, rtpPacket({ seq: 65535, ts: 0xffffff00, ssrc: 1 }));
  const out = run(rw, rtpPacket({ seq: 10, ts: 10, ssrc: 2 }));
  assert.is(out.seq, 0);
  assert.is(out.ts, (0xffffff00 + 160) >>> 0);
  assert.is(run(rw, rtpPacket({ seq: 11, ts: 170, ssrc: 2 })).seq, 1);
});

test('a reordered packet after a restart is shifted but does not move the last position', () => {
  const rw = new StreamRewriter();
  run(rw, rtpPacket({ seq: 100, ts: 0, ssrc: 1 }));
  run(rw, rtpPacket({ seq: 20, ts: 0, ssrc: 2 })); // -> 101
  run(rw, rtpPacket({ seq: 22, ts: 320, ssrc: 2 })); // -> 103
  assert.is(run(rw, rtpPacket({ seq: 21, ts: 160, ssrc: 2 })).seq, 102);
  assert.is(run(rw, rtpPacket({ seq: 23, ts: 480, ssrc: 2 })).seq, 104);
});

test.run();
