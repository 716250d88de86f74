/**
 * The load of bench/transcode-relay.ts: transcoded calls' phones, in one native process
 * (bench/lib/transcode-load-worker.c, compiled with `cc -O2` on first use into a directory
 * under the OS's temporary directory, driven over stdin/stdout like bench/lib/rtp-load.ts: the
 * plumbing of both is bench/lib/native-worker.ts).
 *
 * Phone A sends codec A (e.g. PCMA) to the relay's leg a, phone B codec B (e.g. opus) to leg b,
 * 20 ms packets with real payloads: a tone (or the speech-like signal) pre-encoded here, frame
 * by frame, with the Codec binding (agent/media/codec/codec.ts), looped. The worker counts what comes back per
 * direction and measures latency from the RTP timestamps (see the worker's header comment).
 *
 * Use: start(codecs) -> open(n) -> setTargets() -> calibrate(n) -> run(n, s).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Codec } from '../../agent/media/codec/codec.ts';
import { speechLike } from './speech-signal.ts';
import { LineWorker, nativeWorkerBinary } from './native-worker.ts';
import { processCpuSeconds } from './procs.ts';
import { HIST_BINS, percentileMs } from './rtp-load.ts';
import { HarnessError } from './harness-error.ts';

const WORKER_SOURCE = fileURLToPath(new URL('./transcode-load-worker.c', import.meta.url));
export const FRAME_MS = 20;
const TONE_HZ = 440;
const TONE_SECONDS = 1;
const SPEECH_SECONDS = 5;

/**
 * What the phones send: a tone (the default), or the speech-like signal of bench/codecs.ts and
 * native/codec/bench_codecs.c. The signal matters for opus: its encoder spends ~25 % less on the
 * tone than on the speech-like signal.
 */
export type Signal = 'tone' | 'speech';

/** One side's codec as the phones use it. */
export interface PhoneCodec {
  /** Native codec name (agent/media/codec): 'PCMA', 'opus', 'G722'. */
  codec: string;
  payloadType: number;
  /** RTP clock rate (G.722: 8000, per RFC 3551). */
  clockRate: number;
  /** Payload bytes per frame, for the record (opus varies; this is the average). */
  avgPayloadBytes?: number;
}

/**
 * The signal encoded in 20 ms frames by a Codec of its own; returns the payloads (copies) and
 * the codec's clock rate. Tone: 440 Hz at -12 dBFS, 1 s (a whole number of periods, so the loop
 * has no click). Speech: bench/lib/speech-signal.ts, 5 s, as bench/codecs.ts encodes it.
 */
export function signalFrames(codec: string, signal: Signal): { frames: Uint8Array[]; clockRate: number } {
  const c = Codec.create(codec, FRAME_MS);
  try {
    let x: Int16Array;
    if (signal === 'speech') x = speechLike(c.pcmRate, SPEECH_SECONDS);
    else {
      x = new Int16Array(c.pcmRate * TONE_SECONDS);
      for (let i = 0; i < x.length; i++) x[i] = Math.round(8000 * Math.sin((2 * Math.PI * TONE_HZ * i) / c.pcmRate));
    }
    const frames: Uint8Array[] = [];
    for (let off = 0; off + c.frameSamples <= x.length; off += c.frameSamples) frames.push(Uint8Array.from(c.encode(x.subarray(off, off + c.frameSamples))));
    return { frames, clockRate: c.clockRate };
  } finally {
    c.close();
  }
}

/** [u16 BE length][bytes] per frame, as the worker reads them. */
function frameFile(frames: Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of frames) {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(f.length);
    parts.push(h, Buffer.from(f));
  }
  return Buffer.concat(parts);
}

export interface DirectionResult {
  sent: number;
  received: number;
  lost: number;
  lossRatio: number;
  /** Average payload bytes of what came back (tells which codec it is in). */
  avgPayloadBytes: number;
  /** Outputs mapped to a packet of an earlier run (late) or to one not sent yet (bad calibration). */
  stale: number;
  future: number;
  duplicates: number;
  /** Outputs with a payload type other than the receiving phone's codec. */
  wrongPayloadType: number;
  /** Output timestamps that were not a whole number of frames from the calibration point. */
  misaligned: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** When the output is opus: what its TOC byte (RFC 6716 §3.1) says of the last packet. */
  opus?: { mode: 'SILK' | 'hybrid' | 'CELT'; bandwidth: string; stereo: boolean } | null;
}

/** RFC 6716 §3.1: config -> mode and audio bandwidth, s bit -> stereo. */
function opusToc(toc: number): NonNullable<DirectionResult['opus']> {
  const config = toc >> 3;
  const mode = config < 12 ? 'SILK' : config < 16 ? 'hybrid' : 'CELT';
  const bw =
    config < 12 ? ['NB', 'MB', 'WB'][config >> 2]! : config < 16 ? ['SWB', 'FB'][(config - 12) >> 1]! : ['NB', 'WB', 'SWB', 'FB'][(config - 16) >> 2]!;
  return { mode, bandwidth: bw, stereo: (toc & 0x04) !== 0 };
}

export interface TranscodeRunResult {
  calls: number;
  /** Both directions summed. */
  sent: number;
  received: number;
  lossRatio: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** A->B (A's codec in, B's codec out, received by phone B) and B->A. */
  aToB: DirectionResult;
  bToA: DirectionResult;
  offeredPps: number;
  sendSpanS: number;
  maxSendLagMs: number;
  /** CPU seconds the generator used during the run, by its own account (getrusage). */
  generatorCpuS: number;
  malformed: number;
  sendErrors: number;
  socketErrors: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

function parseHist(text: string): number[] {
  const hist = new Array<number>(HIST_BINS).fill(0);
  for (const pair of text.trim().split(/\s+/)) {
    if (!pair) continue;
    const [bin, count] = pair.split(':').map(Number);
    if (bin !== undefined && count !== undefined && bin >= 0 && bin < HIST_BINS) hist[bin] = count;
  }
  return hist;
}

const latency = (hist: number[]) => ({ p50: r3(percentileMs(hist, 0.5)), p90: r3(percentileMs(hist, 0.9)), p99: r3(percentileMs(hist, 0.99)), max: r3(percentileMs(hist, 1)) });

export class TranscodeLoad {
  private opened = 0;
  private ports: Array<{ a: number; b: number }> = [];
  readonly frameDir: string;

  private constructor(
    private readonly worker: LineWorker,
    readonly codecs: [PhoneCodec, PhoneCodec],
    readonly signal: Signal,
  ) {
    this.frameDir = join(tmpdir(), `outpost-bench-transcode-frames-${process.pid}-${worker.proc.pid}`);
  }

  /** Starts the worker and gives it the signal in each side's codec (payload types as given). */
  static async start(codecs: [PhoneCodec, PhoneCodec], signal: Signal = 'tone'): Promise<TranscodeLoad> {
    const load = new TranscodeLoad(new LineWorker(nativeWorkerBinary(WORKER_SOURCE), 'transcode-load worker'), codecs, signal);
    try {
      const ready = await load.worker.next(10_000, 'start');
      if (ready !== 'ready') throw new HarnessError(`transcode-load worker: unexpected first line ${ready}`);
      mkdirSync(load.frameDir, { recursive: true });
      for (const side of [0, 1] as const) await load.setCodec(side, codecs[side].payloadType);
    } catch (err) {
      await load.stop();
      throw err;
    }
    return load;
  }

  get pid(): number {
    return this.worker.proc.pid!;
  }

  dead(): string | undefined {
    return this.worker.dead;
  }

  cpuSeconds(): number {
    return processCpuSeconds(this.worker.proc.pid!);
  }

  /** (Re)loads side's frames with a payload type (rtpengine picks B's payload type in its offer). */
  async setCodec(side: 0 | 1, payloadType: number): Promise<void> {
    const c = this.codecs[side];
    const { frames, clockRate } = signalFrames(c.codec, this.signal);
    c.payloadType = payloadType;
    c.clockRate = clockRate;
    c.avgPayloadBytes = Math.round(frames.reduce((a, f) => a + f.length, 0) / frames.length);
    const file = join(this.frameDir, `side${side}-${c.codec}.bin`);
    writeFileSync(file, frameFile(frames));
    const step = (clockRate * FRAME_MS) / 1000;
    await this.worker.request(`codec ${side} ${payloadType} ${step} ${file}`, 10_000);
  }

  /** Opens flows up to `total`; returns every open flow's phone ports (A, B). */
  async open(total: number): Promise<Array<{ a: number; b: number }>> {
    if (total > this.opened) {
      const reply = await this.worker.request(`open ${total - this.opened}`, 60_000);
      const f = reply.split(/\s+/);
      if (f[0] !== 'opened') throw new HarnessError(`transcode-load worker: unexpected reply ${reply}`);
      for (let i = 1; i + 1 < f.length; i += 2) this.ports.push({ a: Number(f[i]), b: Number(f[i + 1]) });
      this.opened = total;
    }
    return this.ports.slice(0, this.opened);
  }

  async setTargets(targets: Array<{ flow: number; aSendsTo: number; bSendsTo: number }>): Promise<void> {
    // In chunks: one line per command, keep the lines short.
    for (let i = 0; i < targets.length; i += 200) {
      const part = targets.slice(i, i + 200);
      await this.worker.request(`targets ${part.map((t) => `${t.flow} ${t.aSendsTo} ${t.bSendsTo}`).join(' ')}`, 30_000);
    }
  }

  /** Calibrates the latency mapping of flows [0, n): returns output streams calibrated / total. */
  async calibrate(n: number, timeoutMs = 3000): Promise<{ ok: number; total: number }> {
    const reply = await this.worker.request(`calibrate ${n} ${timeoutMs}`, timeoutMs + 10_000);
    const f = reply.split(/\s+/);
    if (f[0] !== 'calibrated') throw new HarnessError(`transcode-load worker: unexpected reply ${reply}`);
    return { ok: Number(f[1]), total: Number(f[2]) };
  }

  async run(calls: number, durationS: number, drainMs: number): Promise<TranscodeRunResult> {
    if (calls > this.opened) throw new HarnessError(`run of ${calls} flows, only ${this.opened} open`);
    const reply = await this.worker.request(`run ${calls} ${Math.round(durationS * 1000)} ${drainMs}`, durationS * 3000 + drainMs + 30_000);
    const [head = '', histAB = '', histBA = ''] = reply.split('|');
    const f = head.trim().split(/\s+/);
    if (f[0] !== 'result') throw new HarnessError(`transcode-load worker: unexpected reply ${reply.slice(0, 200)}`);
    const n = f.slice(1).map(Number);
    const hAB = parseHist(histAB);
    const hBA = parseHist(histBA);
    const dir = (i: 0 | 1, hist: number[]): DirectionResult => {
      const sent = n[1 + i]!;
      const received = n[3 + i]!;
      const lost = Math.max(0, sent - received);
      return {
        sent,
        received,
        lost,
        lossRatio: sent > 0 ? lost / sent : 0,
        avgPayloadBytes: received > 0 ? Math.round((n[5 + i]! / received) * 10) / 10 : 0,
        stale: n[7 + i]!,
        future: n[9 + i]!,
        duplicates: n[11 + i]!,
        wrongPayloadType: n[13 + i]!,
        misaligned: n[15 + i]!,
        latencyMs: latency(hist),
        // Output of direction i arrives at the other side's phone, in that side's codec.
        ...(this.codecs[1 - i]!.codec === 'opus' ? { opus: n[23 + i]! >= 0 ? opusToc(n[23 + i]!) : null } : {}),
      };
    };
    const aToB = dir(0, hAB);
    const bToA = dir(1, hBA);
    const both = hAB.map((v, i) => v + hBA[i]!);
    const sent = aToB.sent + bToA.sent;
    const received = aToB.received + bToA.received;
    const sendSpanS = n[18]!;
    return {
      calls,
      sent,
      received,
      lossRatio: sent > 0 ? Math.max(0, sent - received) / sent : 0,
      latencyMs: latency(both),
      aToB,
      bToA,
      offeredPps: Math.round(sent / Math.max(sendSpanS, 1e-3)),
      sendSpanS: r3(sendSpanS),
      maxSendLagMs: n[19]!,
      generatorCpuS: r3(n[20]!),
      malformed: n[17]!,
      sendErrors: n[21]!,
      socketErrors: n[22]!,
    };
  }

  async stop(): Promise<void> {
    await this.worker.stop();
    rmSync(this.frameDir, { recursive: true, force: true });
  }
}
