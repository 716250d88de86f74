/**
 * The TypeScript side of bench/codecs.ts (and of the codec loop of bench/transcode-relay.ts): one transcoding channel through the koffi binding
 * (agent/media/codec/codec.ts, the path the relay will use) and micro-benchmarks of single
 * koffi calls. The C side is native/codec/bench_codecs.c; both use the same signal and loop.
 */
import { Session } from 'node:inspector';
import { Codec, Resampler, loadCodecLibrary } from '../../agent/media/codec/codec.ts';
import { speechLike } from './speech-signal.ts';

export const FRAME_MS = 20;
const SIGNAL_S = 5;
const CHECK_EVERY = 50;


/** The signal encoded frame by frame with a codec of its own (not the one being timed); copies. */
export function preEncode(name: string): Uint8Array[] {
  const c = Codec.create(name, FRAME_MS);
  const x = speechLike(c.pcmRate, SIGNAL_S);
  const frames: Uint8Array[] = [];
  for (let off = 0; off + c.frameSamples <= x.length; off += c.frameSamples) {
    frames.push(Uint8Array.from(c.encode(x.subarray(off, off + c.frameSamples))));
  }
  c.close();
  return frames;
}

/** Both directions of one call: PCMA <-> b, with a resampler each way when the PCM rates differ. */
export class Channel {
  readonly a = Codec.create('PCMA', FRAME_MS);
  readonly b: Codec;
  readonly ab: Resampler | null;
  readonly ba: Resampler | null;
  private readonly fa: Uint8Array[];
  private readonly fb: Uint8Array[];
  private i = 0;
  /** Payload bytes produced: checked so that nothing can be optimised away. */
  bytes = 0;

  /** `frames`: what each side decodes (default: the speech-like signal, pre-encoded). */
  constructor(b: string, frames?: { a: Uint8Array[]; b: Uint8Array[] }) {
    this.b = Codec.create(b, FRAME_MS);
    const same = this.a.pcmRate === this.b.pcmRate;
    this.ab = same ? null : new Resampler(this.a.pcmRate, this.b.pcmRate);
    this.ba = same ? null : new Resampler(this.b.pcmRate, this.a.pcmRate);
    this.fa = frames?.a ?? preEncode('PCMA');
    this.fb = frames?.b ?? preEncode(b);
  }

  /** One 20 ms tick: decode A -> resample -> encode B, and decode B -> resample -> encode A. */
  tick(): void {
    const k = this.i++ % this.fa.length;
    let pcm = this.a.decode(this.fa[k]!);
    if (this.ab) pcm = this.ab.process(pcm);
    this.bytes += this.b.encode(pcm).length;
    pcm = this.b.decode(this.fb[k]!);
    if (this.ba) pcm = this.ba.process(pcm);
    this.bytes += this.a.encode(pcm).length;
  }

  close(): void {
    for (const c of [this.a, this.b, this.ab, this.ba]) c?.close();
  }
}

const cpuS = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};

/** Ticks until `seconds` of this process's CPU time (all threads: JIT and GC included) are spent. */
export function runTicks(ch: Channel, seconds: number): { ticks: number; cpuS: number } {
  const c0 = process.cpuUsage();
  let ticks = 0;
  let spent = 0;
  while (spent < seconds) {
    for (let k = 0; k < CHECK_EVERY; k++) ch.tick();
    ticks += CHECK_EVERY;
    spent = cpuS(c0);
  }
  return { ticks, cpuS: spent };
}

/** Runs `fn` while V8's sampling profiler records; returns the profile (for summarise()). */
export function profiled(fn: () => void): unknown {
  const session = new Session();
  session.connect();
  let profile: unknown;
  // The in-thread session answers synchronously.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  fn();
  session.post('Profiler.stop', (err, res) => {
    if (!err) profile = res.profile;
  });
  session.disconnect();
  return profile;
}

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

/**
 * Where a tick's samples went. V8 shows every koffi call as one native frame (named after some
 * bound function, e.g. "op_strerror": koffi shares the label), which holds both koffi's
 * marshalling and the C work; it is split here by the wrapper that made the call. The rest is JS
 * (wrappers, tick loop, Buffer/TypedArray subarray), GC, and other.
 */
export function profileSplit(profile: unknown): { busyMs: number; pct: Record<string, number> } {
  const p = profile as { nodes: ProfNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const ms = new Map<string, number>();
  let busy = 0;
  p.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    if (i === 0 || f.functionName === '(idle)') return; // the first delta spans the profiler's start
    const us = p.timeDeltas[i] ?? 0;
    busy += us;
    const caller = byId.get(parent.get(id) ?? -1)?.callFrame;
    let k = 'other';
    if (f.functionName === '(garbage collector)') k = 'gc';
    else if (!f.url && caller?.url.includes('/agent/media/codec/')) k = `native via ${caller.functionName}()`;
    else if (f.url.includes('/agent/') || f.url.includes('/bench/') || f.url.startsWith('node:')) k = 'js';
    ms.set(k, (ms.get(k) ?? 0) + us);
  });
  const pct = Object.fromEntries([...ms].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, Math.round((us / busy) * 1000) / 10]));
  return { busyMs: Math.round(busy / 1000), pct };
}

/** ns per call, CPU time, best of 5 runs of `iters` (after one warm-up run). */
function timeNs(iters: number, fn: (j: number) => unknown): number {
  let best = Infinity;
  for (let r = 0; r < 6; r++) {
    const c0 = process.cpuUsage();
    for (let j = 0; j < iters; j++) fn(j);
    const ns = (cpuS(c0) / iters) * 1e9;
    if (r > 0) best = Math.min(best, ns);
  }
  return Math.round(best * 10) / 10;
}

/**
 * Single koffi calls: the raw bound functions (what koffi itself costs) and the Codec/Resampler
 * wrappers (what the relay calls), PCMA and 8k->48k, the same calls bench_codecs --micro times in C.
 */
export function microTs(): Record<string, number> {
  const n = loadCodecLibrary();
  const rc = new Int32Array(1);
  const h = n.create('PCMA', FRAME_MS, rc);
  const r = n.resamplerCreate(8000, 48000, rc);
  const codec = Codec.create('PCMA', FRAME_MS);
  const res = new Resampler(8000, 48000);
  const x = speechLike(8000, SIGNAL_S);
  const frames = preEncode('PCMA');
  const nf = frames.length;
  const views = frames.map((_, i) => x.subarray(i * 160, i * 160 + 160));
  const pcm = (j: number) => views[j % nf]!;
  const pcmBuf = new Int16Array(48 * 120);
  const big = new Int16Array(960);
  const out = new Uint8Array(4000);
  const resOut = new Int16Array(1000);
  const m = {
    countNs: timeNs(2_000_000, () => n.count()),
    resampleMaxOutNs: timeNs(2_000_000, () => n.resampleMaxOut(r, 160)),
    // op_codec_encode with a wrong sample count returns OP_EFRAME at once: koffi's cost for a
    // 5-argument call with two typed arrays and almost no C work, small and large arrays.
    encodeRejectSmallNs: timeNs(1_000_000, () => n.encode(h, pcmBuf.subarray(0, 10), 9, out.subarray(0, 10), 10)),
    encodeRejectNs: timeNs(1_000_000, () => n.encode(h, pcmBuf, 1, out, out.length)),
    encodeReject960Ns: timeNs(1_000_000, () => n.encode(h, big, 959, out, out.length)),
    pcmaEncodeRawNs: timeNs(300_000, (j) => n.encode(h, pcm(j), 160, out, out.length)),
    pcmaEncodeNs: timeNs(300_000, (j) => codec.encode(pcm(j))),
    pcmaDecodeRawNs: timeNs(300_000, (j) => n.decode(h, frames[j % nf]!, 160, pcmBuf, pcmBuf.length)),
    pcmaDecodeNs: timeNs(300_000, (j) => codec.decode(frames[j % nf]!)),
    resample8to48RawNs: timeNs(5_000, (j) => n.resample(r, pcm(j), 160, resOut, resOut.length)),
    resample8to48Ns: timeNs(5_000, (j) => res.process(pcm(j))),
    subarrayNs: timeNs(2_000_000, (j) => pcmBuf.subarray(0, 160 + (j & 1))),
  };
  codec.close();
  res.close();
  n.destroy(h);
  n.resamplerDestroy(r);
  return m;
}
