/**
 * The decoding side's reorder buffer for one transcoded direction. Packets are released in
 * sequence order as soon as they are next: an in-order stream passes straight through and gets
 * no added delay. A packet that arrives early (a gap before it) waits; the gap is declared lost
 * once `depth` packets wait behind it (depth 3 at 20 ms: at most 60 ms added while a packet is
 * missing), and the sink then conceals it, with the next packet at hand for FEC.
 *
 * Payloads are copied into slots allocated once; nothing is allocated per packet.
 */

/**
 * What the buffer hands on, in sequence order. Every packet of the stream goes through it (audio,
 * RFC 4733 events, comfort noise: they share one sequence space), so that a gap means loss.
 */
export interface JitterSink {
  /** The next packet, in order. `packet` (the whole RTP packet) is valid only during the call. */
  packet(seq: number, packet: Buffer): void;
  /** The packet `seq` never came; `next` is the following packet when it is at hand. */
  lost(seq: number, next: Buffer | null): void;
}

/** A sequence jump beyond this is a new stream (restart), not loss. */
const MAX_GAP = 100;
const SLOT_BYTES = 1500;

interface Slot {
  seq: number;
  len: number;
  used: boolean;
  readonly data: Buffer;
}

export class JitterBuffer {
  /** Packets older than the release point when they arrived (too late or duplicates). */
  late = 0;
  /** Sequence numbers declared lost. */
  lost = 0;
  /** Packets too large to hold while they wait (never RTP audio in practice). */
  oversize = 0;
  private readonly slots: Slot[];
  private readonly sink: JitterSink;
  private expected = -1;
  private waiting = 0;

  constructor(sink: JitterSink, readonly depth = 3) {
    this.sink = sink;
    this.slots = Array.from({ length: depth + 1 }, () => ({ seq: 0, len: 0, used: false, data: Buffer.alloc(SLOT_BYTES) }));
  }

  push(seq: number, packet: Buffer): void {
    if (this.expected < 0) this.expected = seq;
    const ahead = (seq - this.expected) & 0xffff;
    if (ahead >= 0x8000) {
      this.late++;
      return;
    }
    if (ahead > MAX_GAP) {
      // The sender restarted its numbering: hand on what waits, then follow the new numbers.
      this.flush();
      this.expected = seq;
      this.push(seq, packet);
      return;
    }
    if (ahead === 0) {
      this.sink.packet(seq, packet);
      this.expected = (seq + 1) & 0xffff;
      this.release();
      return;
    }
    if (this.find(seq) !== undefined) {
      this.late++; // a duplicate of a waiting packet
      return;
    }
    if (packet.length > SLOT_BYTES) {
      this.oversize++;
      return;
    }
    const slot = this.slots.find((s) => !s.used);
    if (slot === undefined) {
      // Every slot is taken: give up on the gap now, then store this one.
      this.skipGap();
      this.push(seq, packet);
      return;
    }
    slot.seq = seq;
    slot.len = packet.length;
    packet.copy(slot.data);
    slot.used = true;
    this.waiting++;
    while (this.waiting >= this.depth) this.skipGap();
  }

  /** Hands on everything waiting, declaring the gaps before them lost. */
  flush(): void {
    while (this.waiting > 0) this.skipGap();
  }

  /** Forgets everything (a new SSRC). */
  reset(): void {
    for (const s of this.slots) s.used = false;
    this.waiting = 0;
    this.expected = -1;
  }

  /** Declares the packets before the oldest waiting one lost, then releases what follows in order. */
  private skipGap(): void {
    let oldest: Slot | undefined;
    for (const s of this.slots) {
      if (s.used && (oldest === undefined || ((s.seq - this.expected) & 0xffff) < ((oldest.seq - this.expected) & 0xffff))) oldest = s;
    }
    if (oldest === undefined) return;
    while (this.expected !== oldest.seq) {
      const seq = this.expected;
      this.expected = (seq + 1) & 0xffff;
      const next = this.find(this.expected);
      this.lost++;
      this.sink.lost(seq, next ? next.data.subarray(0, next.len) : null);
    }
    this.release();
  }

  /** Releases waiting packets while the next expected one is there. */
  private release(): void {
    for (let slot = this.find(this.expected); slot !== undefined; slot = this.find(this.expected)) {
      slot.used = false;
      this.waiting--;
      this.expected = (slot.seq + 1) & 0xffff;
      this.sink.packet(slot.seq, slot.data.subarray(0, slot.len));
    }
  }

  private find(seq: number): Slot | undefined {
    for (const s of this.slots) if (s.used && s.seq === seq) return s;
    return undefined;
  }
}
