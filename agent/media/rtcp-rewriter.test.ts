import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rtpPacket, senderReport } from './fake-phone.ts';
import { rewriteRtcp } from './rtcp-rewriter.ts';
import { StreamRewriter } from './stream-rewriter.ts';

/** A rewriter that has seen stream `first` and then restarted as `second`. */
function restarted(first: number, second: number): StreamRewriter {
  const rw = new StreamRewriter();
  rw.apply(rtpPacket({ seq: 1000, ts: 8000, ssrc: first }));
  rw.apply(rtpPacket({ seq: 1001, ts: 8160, ssrc: first }));
  rw.apply(rtpPacket({ seq: 5, ts: 100, ssrc: second })); // -> seq 1002, ts 8320
  return rw;
}

const test = suite('rewriteRtcp');

test('nothing changes while neither direction restarted', () => {
  const own = new StreamRewriter();
  own.apply(rtpPacket({ seq: 1, ts: 1, ssrc: 5 }));
  const sr = senderReport(5, 1, 9, 77);
  const copy = Buffer.from(sr);
  rewriteRtcp(sr, own, new StreamRewriter());
  assert.ok(sr.equals(copy));
});

test("an SR of a restarted sender carries the output SSRC and shifted RTP timestamp", () => {
  const own = restarted(0x11111111, 0x22222222);
  const sr = senderReport(0x22222222, 100, 0x99, 0);
  rewriteRtcp(sr, own, new StreamRewriter());
  assert.is(sr.readUInt32BE(4), 0x11111111);
  assert.is(sr.readUInt32BE(16), 8320);
  assert.is(sr.readUInt32BE(28), 0x99, 'foreign report block untouched');
});

test('a report block about a restarted stream goes back to its input SSRC and sequence', () => {
  const reverse = restarted(0x11111111, 0x22222222);
  // The receiver saw output seq 1002 (cycles 1) and reports it under the output SSRC.
  const sr = senderReport(0x55, 0, 0x11111111, 0x10000 + 1002);
  rewriteRtcp(sr, new StreamRewriter(), reverse);
  assert.is(sr.readUInt32BE(28), 0x22222222);
  assert.is(sr.readUInt32BE(36) & 0xffff, 5);
  assert.is(sr.readUInt32BE(36) >>> 16, 1);
});

test('a truncated compound packet is left alone without throwing', () => {
  const own = restarted(1, 2);
  const sr = senderReport(2, 0, 0, 0).subarray(0, 20);
  rewriteRtcp(sr, own, own);
  assert.is(sr.readUInt32BE(4), 2);
});

test.run();
