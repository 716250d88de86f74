/**
 * Interarrival jitter of one party's RTP (RFC 3550 §6.4.1, Appendix A.8): the mean deviation of
 * the difference in packet spacing at the receiver compared to the sender, smoothed with gain
 * 1/16. Kept in RTP timestamp units; ms() converts with the stream's clock rate. A new SSRC
 * starts over. No allocation per packet.
 */
export class JitterEstimator {
  private active = false;
  private ssrc = 0;
  /** Previous transit time (arrival in timestamp units minus RTP timestamp). */
  private transit = 0;
  /** Jitter in timestamp units. */
  private jitter = 0;

  /** Records one packet: arrival in ms (any monotonic origin), its SSRC and RTP timestamp, the clock rate in Hz. */
  record(arrivalMs: number, ssrc: number, timestamp: number, clockRate: number): void {
    const transit = (arrivalMs * clockRate) / 1000 - timestamp;
    if (!this.active || ssrc !== this.ssrc) {
      this.active = true;
      this.ssrc = ssrc;
      this.transit = transit;
      this.jitter = 0;
      return;
    }
    let d = Math.abs(transit - this.transit);
    this.transit = transit;
    // A timestamp wrap (2^32) or a jump of more than a minute is a restart, not jitter.
    if (d > clockRate * 60) d = 0;
    this.jitter += (d - this.jitter) / 16;
  }

  /** The current jitter in ms at `clockRate`; 0 before two packets. */
  ms(clockRate: number): number {
    return (this.jitter * 1000) / clockRate;
  }
}
