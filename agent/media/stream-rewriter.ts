/**
 * The only per-packet change the relay makes to RTP (RFC 3550 §5.1 header), for one direction,
 * in place on the received Buffer:
 *
 * - payload type: translated through the PT map of the two legs; the marker bit is kept;
 * - SSRC/sequence/timestamp continuity: the first stream's SSRC is the output SSRC for the whole
 *   call. When the input SSRC changes (the phone restarted its stream after a re-INVITE or hold),
 *   packets keep the output SSRC and their sequence numbers and timestamps are shifted to carry
 *   on from the last packet sent: sequence last+1, timestamp last + the last regular step.
 *
 * Nothing is allocated per packet; the common case (no restart, same PT numbers) only reads.
 */

/** Timestamp step assumed before two consecutive packets were seen: 20 ms at 8 kHz. */
const DEFAULT_TS_STEP = 160;
/** Largest step taken as a packet interval (beyond: silence suppression gap, 200 ms at 48 kHz). */
const MAX_TS_STEP = 9600;

export class StreamRewriter {
  private ptMap: Uint8Array | null = null;
  private started = false;
  private inSsrc = 0;
  private outSsrc = 0;
  private seqOffset = 0;
  private tsOffset = 0;
  /** True once the SSRC changed: from then on SSRC, sequence and timestamp are rewritten. */
  private shifting = false;
  private lastSeq = 0;
  private lastTs = 0;
  private tsStep = DEFAULT_TS_STEP;
  /** Stream restarts seen (input SSRC changes). */
  restarts = 0;

  /** Sets the payload type table (null: leave payload types alone). */
  setPayloadTypeMap(map: Uint8Array | null): void {
    this.ptMap = map;
  }

  /** Rewrites a valid RTP packet (version 2, at least 12 bytes) about to be sent. */
  apply(buf: Buffer): void {
    const ptMap = this.ptMap;
    if (ptMap !== null) {
      const b1 = buf[1]!;
      buf[1] = (b1 & 0x80) | ptMap[b1 & 0x7f]!;
    }
    const ssrc = ((buf[8]! << 24) | (buf[9]! << 16) | (buf[10]! << 8) | buf[11]!) >>> 0;
    let seq = (buf[2]! << 8) | buf[3]!;
    let ts = ((buf[4]! << 24) | (buf[5]! << 16) | (buf[6]! << 8) | buf[7]!) >>> 0;
    if (!this.started) {
      this.started = true;
      this.inSsrc = ssrc;
      this.outSsrc = ssrc;
      this.lastSeq = seq;
      this.lastTs = ts;
      return;
    }
    if (ssrc !== this.inSsrc) this.restart(ssrc, seq, ts);
    if (this.shifting) {
      seq = (seq + this.seqOffset) & 0xffff;
      ts = (ts + this.tsOffset) >>> 0;
      const out = this.outSsrc;
      buf[2] = seq >>> 8;
      buf[3] = seq & 0xff;
      buf[4] = ts >>> 24;
      buf[5] = (ts >>> 16) & 0xff;
      buf[6] = (ts >>> 8) & 0xff;
      buf[7] = ts & 0xff;
      buf[8] = out >>> 24;
      buf[9] = (out >>> 16) & 0xff;
      buf[10] = (out >>> 8) & 0xff;
      buf[11] = out & 0xff;
    }
    const ahead = (seq - this.lastSeq) & 0xffff;
    if (ahead !== 0 && ahead < 0x8000) {
      if (ahead === 1) {
        const step = (ts - this.lastTs) >>> 0;
        // Equal timestamps (RFC 4733 event packets) and long gaps tell nothing about the interval.
        if (step > 0 && step <= MAX_TS_STEP) this.tsStep = step;
      }
      this.lastSeq = seq;
      this.lastTs = ts;
    }
  }

  /** SSRC of the stream currently received from the source party. */
  get inputSsrc(): number {
    return this.inSsrc;
  }

  /** SSRC the destination party sees. */
  get outputSsrc(): number {
    return this.outSsrc;
  }

  /** True when RTCP about this direction needs its SSRCs and numbers translated. */
  get isShifting(): boolean {
    return this.shifting;
  }

  /** Added to input sequence numbers (mod 2^16). */
  get sequenceOffset(): number {
    return this.seqOffset;
  }

  /** Added to input timestamps (mod 2^32). */
  get timestampOffset(): number {
    return this.tsOffset;
  }

  private restart(ssrc: number, seq: number, ts: number): void {
    this.restarts++;
    this.inSsrc = ssrc;
    this.seqOffset = (this.lastSeq + 1 - seq) & 0xffff;
    this.tsOffset = (this.lastTs + this.tsStep - ts) >>> 0;
    this.shifting = true;
  }
}
