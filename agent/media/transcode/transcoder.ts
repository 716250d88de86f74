/**
 * One direction of a transcoded call (DESIGN.md §8): RTP from one party in codec A becomes RTP
 * to the other party in codec B.
 *
 * Per audio packet: reorder (JitterBuffer), decode, resample to B's PCM rate, queue; every full
 * frame of B's ptime is encoded and sent. So 10/20/30 ms on one side and another ptime on the
 * other need nothing special: the queue takes whatever arrives and sends B's frames.
 * A lost packet is concealed: opus recovers it from the next packet's in-band FEC when that is
 * at hand, else every codec's concealment (opus/G.729 PLC, a fading repeat for G.711/G.722).
 *
 * The output is a stream of its own: own SSRC, sequence numbers and timestamps in B's clock,
 * advancing by the frames sent, plus the input's silences (DTX, silence suppression) scaled to
 * B's clock, with the marker bit on the first packet after one.
 *
 * RFC 4733 events are re-payloaded (B's telephone-event payload type), put on the output
 * timeline (start timestamp mapped from the input's through the audio anchored last) and their
 * durations scaled to B's telephone-event clock. Events are dropped when B has no
 * telephone-event; comfort noise and unknown payload types are dropped and counted.
 */
import { randomBytes } from 'node:crypto';
import { Codec, Resampler } from '../codec/codec.ts';
import { CodecError } from '../codec/errors.ts';
import type { LegCodec, TranscodeStats } from '../relay-types.ts';
import { JitterBuffer, type JitterSink } from './jitter-buffer.ts';

/** A TranscodeStats of relay-types.ts. */
export type TranscoderStats = TranscodeStats;

/** A jump in input timestamps beyond this (in ms) is not a silence to reproduce but a new timeline. */
const MAX_SILENCE_MS = 10_000;
/** Concealment beyond this many lost packets in a row adds nothing useful. */
const MAX_CONCEAL = 5;

export class Transcoder implements JitterSink {
  readonly from: LegCodec;
  readonly to: LegCodec;
  private readonly decoder: Codec;
  private readonly encoder: Codec;
  private readonly resampler: Resampler | null;
  private readonly jitter: JitterBuffer;
  private readonly send: (packet: Buffer) => void;
  /** Encoder input queue, at the encoder's PCM rate. */
  private readonly fifo: Int16Array;
  private fifoLen = 0;
  private readonly counts: Omit<TranscoderStats, 'late'> = { decoded: 0, concealed: 0, recovered: 0, sent: 0, events: 0, dropped: 0 };

  private readonly outSsrc: number;
  private outSeq: number;
  private outTs: number;
  private marker = true;
  /** Input clock units per decoder PCM sample (G.722: 0.5). */
  private readonly inClockPerSample: number;
  /** Output clock units per encoder PCM sample. */
  private readonly outClockPerSample: number;
  private inSsrc = -1;
  /** Where the next input audio packet is expected on the input timeline; -1 before the first. */
  private nextInTs = -1;
  private lastDecodedSamples = 0;
  private lossRun = 0;
  /** The last audio packet's input timestamp and the output timestamp its first sample got. */
  private anchorIn = 0;
  private anchorOut = 0;
  private anchored = false;
  /** The current event: its input start timestamp and output start timestamp. */
  private eventIn = -1;
  private eventOut = 0;

  constructor(from: LegCodec, to: LegCodec, send: (packet: Buffer) => void, jitterDepth = 3) {
    this.from = from;
    this.to = to;
    this.send = send;
    this.decoder = createCodec(from.codec, 20);
    try {
      this.encoder = createCodec(to.codec, to.ptime);
    } catch (err) {
      this.decoder.close();
      throw err;
    }
    this.resampler = this.decoder.pcmRate === this.encoder.pcmRate ? null : new Resampler(this.decoder.pcmRate, this.encoder.pcmRate);
    this.fifo = new Int16Array(this.encoder.pcmRate); // one second
    this.jitter = new JitterBuffer(this, jitterDepth);
    this.inClockPerSample = this.decoder.clockRate / this.decoder.pcmRate;
    this.outClockPerSample = this.encoder.clockRate / this.encoder.pcmRate;
    const random = randomBytes(10);
    this.outSsrc = random.readUInt32BE(0);
    this.outSeq = random.readUInt16BE(4);
    this.outTs = random.readUInt32BE(6);
  }

  stats(): TranscoderStats {
    return { ...this.counts, dropped: this.counts.dropped + this.jitter.oversize, late: this.jitter.late };
  }

  /**
   * A valid RTP packet (version 2, at least 12 bytes) from the input party. Every packet goes
   * through the reorder buffer, events and comfort noise too: they share the sequence space.
   */
  push(packet: Buffer): void {
    if (payloadOffset(packet) < 0) {
      this.counts.dropped++;
      return;
    }
    const ssrc = packet.readUInt32BE(8);
    if (ssrc !== this.inSsrc) {
      // A new input stream (the phone restarted it): new numbering and timeline.
      this.jitter.flush();
      this.jitter.reset();
      this.inSsrc = ssrc;
      this.nextInTs = -1;
    }
    this.jitter.push((packet[2]! << 8) | packet[3]!, packet);
  }

  /** JitterSink: the next packet in order. */
  packet(_seq: number, packet: Buffer): void {
    const pt = packet[1]! & 0x7f;
    const ts = packet.readUInt32BE(4);
    const payload = packet.subarray(payloadOffset(packet), payloadEnd(packet));
    if (pt === this.from.payloadType && payload.length > 0) this.audio(ts, payload);
    else if (this.from.telephoneEvent !== null && pt === this.from.telephoneEvent.payloadType) this.event(packet, ts, payload);
    else this.counts.dropped++;
  }

  /** JitterSink: packet `seq` is lost; `next` is the following packet when at hand. */
  lost(_seq: number, next: Buffer | null): void {
    const fec = next !== null && (next[1]! & 0x7f) === this.from.payloadType ? next.subarray(payloadOffset(next), payloadEnd(next)) : null;
    this.conceal(fec !== null && fec.length > 0 ? fec : null);
  }

  private audio(ts: number, payload: Buffer): void {
    if (this.nextInTs >= 0) {
      const gap = (ts - this.nextInTs) | 0;
      if (gap > 0 && gap <= (MAX_SILENCE_MS * this.decoder.clockRate) / 1000) {
        // Silence on the input (DTX): the same silence on the output timeline.
        this.outTs = (this.outTs + Math.round((gap * this.encoder.clockRate) / this.decoder.clockRate)) >>> 0;
        this.marker = true;
      }
    }
    let pcm: Int16Array;
    try {
      pcm = this.decoder.decode(payload);
    } catch (err) {
      if (!(err instanceof CodecError)) throw err;
      this.counts.dropped++;
      return;
    }
    this.counts.decoded++;
    this.lossRun = 0;
    this.lastDecodedSamples = pcm.length;
    this.nextInTs = (ts + Math.round(pcm.length * this.inClockPerSample)) >>> 0;
    this.anchorIn = ts;
    this.anchorOut = (this.outTs + Math.round(this.fifoLen * this.outClockPerSample)) >>> 0;
    this.anchored = true;
    this.queue(pcm);
  }

  /** One lost packet's worth of audio: from opus FEC in `next` (the next payload), else concealment. */
  private conceal(next: Uint8Array | null): void {
    if (this.lastDecodedSamples === 0 || ++this.lossRun > MAX_CONCEAL) return;
    this.counts.concealed++;
    let need = this.lastDecodedSamples;
    if (next !== null && need === this.decoder.frameSamples && this.decoder.name === 'opus') {
      this.counts.recovered++;
      this.queue(this.decoder.recover(next));
      need = 0;
    }
    while (need > 0) {
      const pcm = this.decoder.conceal();
      this.queue(need < pcm.length ? pcm.subarray(0, need) : pcm);
      need -= pcm.length;
    }
    if (this.nextInTs >= 0) this.nextInTs = (this.nextInTs + Math.round(this.lastDecodedSamples * this.inClockPerSample)) >>> 0;
  }

  close(): void {
    this.decoder.close();
    this.encoder.close();
    this.resampler?.close();
  }

  /** Decoded PCM into the encoder's queue; sends every full frame. */
  private queue(decoded: Int16Array): void {
    const pcm = this.resampler ? this.resampler.process(decoded) : decoded;
    const frame = this.encoder.frameSamples;
    let n = pcm.length;
    if (this.fifoLen + n > this.fifo.length) n = this.fifo.length - this.fifoLen; // cannot happen with sane packets
    this.fifo.set(pcm.subarray(0, n), this.fifoLen);
    this.fifoLen += n;
    let start = 0;
    while (this.fifoLen - start >= frame) {
      this.emitAudio(this.encoder.encode(this.fifo.subarray(start, start + frame)));
      start += frame;
    }
    if (start > 0) {
      this.fifo.copyWithin(0, start, this.fifoLen);
      this.fifoLen -= start;
    }
  }

  private emitAudio(payload: Buffer): void {
    const out = this.header(payload.length, this.to.payloadType, this.marker, this.outTs);
    payload.copy(out, 12);
    this.marker = false;
    this.outTs = (this.outTs + Math.round(this.encoder.frameSamples * this.outClockPerSample)) >>> 0;
    this.counts.sent++;
    this.send(out);
  }

  /** An RFC 4733 event packet: new payload type, output timeline, duration in B's event clock. */
  private event(packet: Buffer, ts: number, payload: Buffer): void {
    const te = this.to.telephoneEvent;
    if (te === null || payload.length < 4 || !this.anchored) {
      this.counts.dropped++;
      return;
    }
    if (ts !== this.eventIn) {
      this.eventIn = ts;
      const deltaIn = (ts - this.anchorIn) | 0;
      const deltaOut = Math.round((deltaIn * this.encoder.clockRate) / this.decoder.clockRate);
      this.eventOut = (this.anchorOut + deltaOut) >>> 0;
    }
    const out = this.header(payload.length, te.payloadType, (packet[1]! & 0x80) !== 0, this.eventOut);
    payload.copy(out, 12);
    const scaled = Math.round((payload.readUInt16BE(2) * te.clockRate) / this.from.telephoneEvent!.clockRate);
    out.writeUInt16BE(Math.min(0xffff, scaled), 14);
    this.counts.events++;
    this.counts.sent++;
    this.send(out);
  }

  private header(payloadBytes: number, pt: number, marker: boolean, ts: number): Buffer {
    const out = Buffer.allocUnsafe(12 + payloadBytes);
    out[0] = 0x80;
    out[1] = (marker ? 0x80 : 0) | pt;
    out.writeUInt16BE(this.outSeq, 2);
    out.writeUInt32BE(ts, 4);
    out.writeUInt32BE(this.outSsrc, 8);
    this.outSeq = (this.outSeq + 1) & 0xffff;
    return out;
  }
}

/** A codec at the ptime asked for, else at 20 ms (a ptime the codec does not take). */
function createCodec(name: string, ptime: number): Codec {
  try {
    return Codec.create(name, ptime);
  } catch (err) {
    if (err instanceof CodecError && err.code === 'codec.native' && ptime !== 20) return Codec.create(name, 20);
    throw err;
  }
}

/** Where the payload starts after CSRCs and a header extension (RFC 3550 §5.1, §5.3.1); -1 when truncated. */
function payloadOffset(packet: Buffer): number {
  let offset = 12 + (packet[0]! & 0x0f) * 4;
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return -1;
    offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  }
  return offset <= payloadEnd(packet) ? offset : -1;
}

/** The end of the payload, before RFC 3550 padding. */
function payloadEnd(packet: Buffer): number {
  return packet[0]! & 0x20 ? packet.length - packet[packet.length - 1]! : packet.length;
}
