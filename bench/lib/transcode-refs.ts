/**
 * The references and the profile of bench/transcode-relay.ts: the codecs alone in a plain C
 * loop (native/build/bench_codecs, bench/codecs.ts's reference) and in this process through the
 * Codec binding on the phones' frames, and a V8 profile of the relay split by area.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Channel, runTicks } from './codecs-ts.ts';
import { ROOT } from './node-process.ts';
import { FRAME_MS, signalFrames, type Signal } from './transcode-load.ts';
import { HarnessError } from './harness-error.ts';

const C_BIN = join(ROOT, 'native/build/bench_codecs');
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

export type CodecRef = { channelsPerCore: number; usPerTick: number };

/** The codecs alone in a plain C loop (bench/codecs.ts's reference, speech-like signal): channels per core per pair. */
function cLoop(pairs: string[], seconds: number): Record<string, CodecRef> {
  const res = spawnSync(C_BIN, ['--seconds', String(seconds), '--pairs', pairs.join(',')], { encoding: 'utf8' });
  if (res.status !== 0) throw new HarnessError(`bench_codecs failed (${res.status ?? res.signal}): ${res.stderr}`);
  const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as { pairs: Array<{ pair: string; ticks: number; cpuS: number }> };
  const result: Record<string, CodecRef> = {};
  for (const p of out.pairs) result[p.pair.replace('PCMA<->', '')] = perTick(p.cpuS, p.ticks);
  return result;
}

const perTick = (cpuS: number, ticks: number): CodecRef => {
  const usPerTick = (cpuS / ticks) * 1e6;
  return { usPerTick: round(usPerTick), channelsPerCore: round(1e6 / (usPerTick * (1000 / FRAME_MS)), 1) };
};

/**
 * The same codec work in this process through the Codec binding, on the frames the phones send
 * (this run's signal): what the codecs alone cost for exactly this traffic. One tick = PCMA
 * frame -> decode -> resample -> encode B, and B frame -> decode -> resample -> encode PCMA,
 * as the relay's two Transcoders do per 20 ms.
 */
const signalChannel = (pair: string, signal: Signal) => new Channel(pair, { a: signalFrames('PCMA', signal).frames, b: signalFrames(pair, signal).frames });

/** C loop and TS loop on this run's signal, 2 rounds each, interleaved; the best round of each counts. */
export function codecReferences(pairs: string[], signal: Signal, cSeconds: number): { c: Record<string, CodecRef>; ts: Record<string, CodecRef> } {
  execFileSync('make', ['-s', '-C', join(ROOT, 'native/codec'), 'bench'], { stdio: ['ignore', 2, 2] });
  const channels = new Map(pairs.map((p) => [p, signalChannel(p, signal)]));
  for (const ch of channels.values()) runTicks(ch, 0.3); // JIT and codec state
  const best = (x: CodecRef | undefined, y: CodecRef) => (x && x.usPerTick <= y.usPerTick ? x : y);
  const c: Record<string, CodecRef> = {};
  const ts: Record<string, CodecRef> = {};
  for (let round = 0; round < 2; round++) {
    const cr = cLoop(pairs, cSeconds / 2);
    for (const p of pairs) {
      if (cr[p]) c[p] = best(c[p], cr[p]);
      const r = runTicks(channels.get(p)!, cSeconds / 2);
      ts[p] = best(ts[p], perTick(r.cpuS, r.ticks));
    }
  }
  for (const ch of channels.values()) ch.close();
  return { c, ts };
}

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/**
 * Self time by function (top 15) and by area, from a .cpuprofile. V8 does not see inside koffi
 * calls: the C work of a codec call shows as self time of the Codec/Resampler method that made
 * it (or as a native frame under it), so the codec areas are koffi + C together.
 */
export function profileSummary(file: string): { busyMs: number; areas: Record<string, number>; top: Array<{ fn: string; pct: number }> } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fns = new Map<string, number>();
  const areas = new Map<string, number>();
  let busy = 0;
  const short = (url: string) => url.replace(/^.*\/(agent|bench|node_modules)\//, '$1/').replace(/^file:\/\//, '');
  p.samples.forEach((id, i) => {
    let f = byId.get(id)!.callFrame;
    if (i === 0 || f.functionName === '(idle)') return;
    const us = p.timeDeltas[i] ?? 0;
    busy += us;
    const caller = byId.get(parent.get(id) ?? -1)?.callFrame;
    // A native frame under a Codec/Resampler method is that method's koffi call.
    if (!f.url && caller?.url.includes('/agent/media/codec/')) f = caller;
    const name = `${f.functionName || '(anonymous)'}${f.url ? ` ${short(f.url)}` : ''}`;
    let area: string;
    if (f.functionName === '(garbage collector)') area = 'gc';
    else if (f.functionName === '(program)') area = 'V8/libuv outside JS (incl. receiving datagrams)';
    else if (f.url.includes('/agent/media/codec/')) area = f.functionName === 'process' ? 'resample (koffi + C)' : `codec ${f.functionName} (koffi + C)`;
    else if (!f.url && f.functionName === 'send') area = 'udp send (syscall, incl. loopback delivery)';
    else if (!f.url) area = 'other native';
    else if (f.url.includes('/agent/media/transcode/')) area = 'js transcoder + jitter buffer';
    else if (f.url.includes('/agent/media/')) area = 'js relay leg';
    else if (f.url.startsWith('node:')) area = 'node js (dgram, events, buffer)';
    else area = 'other js';
    fns.set(name, (fns.get(name) ?? 0) + us);
    areas.set(area, (areas.get(area) ?? 0) + us);
  });
  const pct = (us: number) => Math.round((us / busy) * 1000) / 10;
  return {
    busyMs: Math.round(busy / 1000),
    areas: Object.fromEntries([...areas].sort((a, b) => b[1] - a[1]).map(([k, us]) => [k, pct(us)])),
    top: [...fns].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([fn, us]) => ({ fn, pct: pct(us) })),
  };
}

