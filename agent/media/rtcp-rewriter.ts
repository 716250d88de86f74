/**
 * Keeps RTCP consistent with the RTP rewrites of StreamRewriter after a stream restart
 * (RFC 3550 §6.4). RTCP is a few packets per second, so walking the compound packet is cheap;
 * nothing is done while neither direction has restarted.
 *
 * For RTCP sent by party X towards party Y:
 * - X's own SSRC (SR/RR/SDES/BYE/XR/feedback sender) is X's input SSRC; Y knows it by the output
 *   SSRC, and an SR's RTP timestamp gets the same offset as X's RTP (RFC 3550 §6.4.1);
 * - report blocks and feedback (RFC 4585 §6.1) name the stream X receives, which is Y's stream
 *   as rewritten: the output SSRC goes back to Y's input SSRC and the extended highest sequence
 *   number loses the sequence offset (RFC 3550 §6.4.1).
 *
 * Truncated or malformed parts are left as they are; the packet is relayed either way.
 */
import type { StreamRewriter } from './stream-rewriter.ts';

const SR = 200;
const RR = 201;
const SDES = 202;
const BYE = 203;
const RTPFB = 205;
const PSFB = 206;
const XR = 207;

/**
 * Rewrites an RTCP compound packet in place. `own` is the direction of the sender's RTP,
 * `reverse` the direction of the RTP the sender receives.
 */
export function rewriteRtcp(buf: Buffer, own: StreamRewriter, reverse: StreamRewriter): void {
  if (!own.isShifting && !reverse.isShifting) return;
  let off = 0;
  while (off + 8 <= buf.length) {
    if ((buf[off]! & 0xc0) !== 0x80) return;
    const count = buf[off]! & 0x1f;
    const type = buf[off + 1]!;
    const end = off + (buf.readUInt16BE(off + 2) + 1) * 4;
    if (end > buf.length) return;
    switch (type) {
      case SR:
        mapOwn(buf, off + 4, own);
        if (own.isShifting && off + 20 <= end) {
          buf.writeUInt32BE((buf.readUInt32BE(off + 16) + own.timestampOffset) >>> 0, off + 16);
        }
        mapBlocks(buf, off + 28, count, end, reverse);
        break;
      case RR:
        mapOwn(buf, off + 4, own);
        mapBlocks(buf, off + 8, count, end, reverse);
        break;
      case SDES:
      case XR:
        mapOwn(buf, off + 4, own);
        break;
      case BYE:
        for (let i = 0; i < count && off + 8 + 4 * i <= end; i++) mapOwn(buf, off + 4 + 4 * i, own);
        break;
      case RTPFB:
      case PSFB:
        mapOwn(buf, off + 4, own);
        if (off + 12 <= end) mapReceived(buf, off + 8, reverse);
        break;
    }
    off = end;
  }
}

/** The sender's SSRC: input → output. */
function mapOwn(buf: Buffer, at: number, own: StreamRewriter): void {
  if (own.isShifting && buf.readUInt32BE(at) === own.inputSsrc) buf.writeUInt32BE(own.outputSsrc, at);
}

/** A received stream's SSRC as the sender saw it (output) → as its source knows it (input). */
function mapReceived(buf: Buffer, at: number, reverse: StreamRewriter): boolean {
  if (!reverse.isShifting || buf.readUInt32BE(at) !== reverse.outputSsrc) return false;
  buf.writeUInt32BE(reverse.inputSsrc, at);
  return true;
}

/** Report blocks (24 bytes each): SSRC, loss, extended highest sequence number, jitter, LSR, DLSR. */
function mapBlocks(buf: Buffer, start: number, count: number, end: number, reverse: StreamRewriter): void {
  for (let i = 0; i < count; i++) {
    const at = start + 24 * i;
    if (at + 24 > end) return;
    if (!mapReceived(buf, at, reverse)) continue;
    const extended = buf.readUInt32BE(at + 8);
    const seq = (extended - reverse.sequenceOffset) & 0xffff;
    buf.writeUInt32BE(((extended & 0xffff0000) | seq) >>> 0, at + 8);
  }
}
