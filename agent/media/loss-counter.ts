/**
 * Packet loss of one party's RTP, from sequence numbers (RFC 3550 §6.4.1 and Appendix A.1/A.3):
 * lost = expected - received, where expected spans the extended sequence numbers seen since the
 * stream started. Reordered packets arrive "late" and count as received, so a packet that was
 * late is never counted as lost. Sequence wrap-around extends the 16-bit number by cycles.
 *
 * A new SSRC (stream restart) or a jump too large to be loss (RFC 3550 A.1 MAX_DROPOUT) starts
 * a new count; the loss counted so far is kept.
 */

/** A forward jump at least this large is a restart, not loss (RFC 3550 A.1). */
const MAX_DROPOUT = 3000;
/** A backward step at most this large is a late packet (RFC 3550 A.1). */
const MAX_MISORDER = 100;

export class LossCounter {
  private active = false;
  private ssrc = 0;
  /** Extended sequence number of the first packet of the current count. */
  private base = 0;
  /** Highest extended sequence number seen. */
  private highest = 0;
  private received = 0;
  /** Loss of earlier counts (before a restart). */
  private settled = 0;

  /** Records one packet; `seq` is the 16-bit RTP sequence number. */
  record(ssrc: number, seq: number): void {
    if (!this.active || ssrc !== this.ssrc) {
      this.restart(ssrc, seq);
      return;
    }
    const delta = (seq - this.highest) & 0xffff;
    if (delta === 0) return; // duplicate of the newest packet
    if (delta < MAX_DROPOUT) {
      this.highest += delta;
      this.received++;
    } else if (delta >= 0x10000 - MAX_MISORDER) {
      this.received++; // late (reordered) packet
    } else {
      this.restart(ssrc, seq);
    }
  }

  /** Packets lost so far, never negative. */
  get lost(): number {
    return this.settled + this.current();
  }

  private current(): number {
    if (!this.active) return 0;
    const expected = this.highest - this.base + 1;
    return Math.max(0, expected - this.received);
  }

  private restart(ssrc: number, seq: number): void {
    this.settled += this.current();
    this.active = true;
    this.ssrc = ssrc;
    this.base = seq;
    this.highest = seq;
    this.received = 1;
  }
}
