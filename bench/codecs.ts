/**
 * Transcoding channels per core, 20 ms frames, through the koffi binding against a plain C loop.
 *
 *   node --import tsx bench/codecs.ts [options]      (or: npm run bench:codecs)
 *
 * Pairs G.711 (PCMA) <-> opus, G.722 and G.729. One channel = both directions of a call, per
 * 20 ms tick: PCMA payload -> decode -> resample 8000 -> B's PCM rate -> encode B, and B payload
 * -> decode -> resample -> encode PCMA (no resampler for G.729, both at 8000). Inputs are
 * pre-encoded frames of a speech-like signal (5 s, looped), made before timing. Cost = CPU time
 * of the process (all threads) per tick; channels per core = 1 / (CPU seconds per channel-second).
 * Measured twice, interleaved per round: (1) TypeScript through agent/media/codec/codec.ts
 * (Codec.decode/encode, Resampler.process: the path the relay will use), (2) the same work in C,
 * native/build/bench_codecs (built here with `make -C native/codec bench`), the libraries' limit.
 * Per pair the best round of each side counts; target TS >= 70 % of C, aim >= 90 %. Then
 * micro-benchmarks of single calls (koffi and wrapper vs C) to explain the difference.
 *
 * Progress goes to stderr; stdout gets exactly one JSON line with the results.
 * Options:
 *   --seconds S        CPU seconds per pair and side, split over the rounds (default 4)
 *   --pairs LIST       codecs to pair with PCMA (default opus,G722,G729)
 *   --rounds N         rounds, alternating TS and C; the best of each side counts (default 8)
 *   --quiet-wait S     longest wait, before each measurement, for other processes to use
 *                      < 0.1 cores (default 1200; the machine is shared)
 *   --cpu-prof-dir DIR after the rounds, one extra TS run per pair under V8's sampling profiler:
 *                      DIR/codecs-<pair>.cpuprofile, split by area in the JSON (not measured)
 *   --no-micro         skip the single-call micro-benchmarks
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { availableCodecs } from '../agent/media/codec/codec.ts';
import { Channel, FRAME_MS, microTs, profileSplit, profiled, runTicks } from './lib/codecs-ts.ts';
import { reapedChildrenCpuSeconds } from './lib/procs.ts';
import { CpuWindow, waitForQuiet } from './lib/quiet.ts';
import { machine, printResult, runMain } from './lib/report.ts';
import { HarnessError } from './lib/harness-error.ts';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    pairs: { type: 'string', default: 'opus,G722,G729' },
    rounds: { type: 'string', default: '8' },
    'quiet-wait': { type: 'string', default: '1200' },
    'cpu-prof-dir': { type: 'string' },
    'no-micro': { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});
const SECONDS = Number(opts.seconds);
const ROUNDS = Number(opts.rounds);
const QUIET_WAIT_S = Number(opts['quiet-wait']);
const PAIRS = opts.pairs.split(',').filter(Boolean);
if (!(SECONDS > 0) || !(ROUNDS >= 1) || !(QUIET_WAIT_S >= 0) || PAIRS.length === 0) throw new HarnessError('bad --seconds, --rounds, --quiet-wait or --pairs');
const PER_ROUND_S = SECONDS / ROUNDS;
const TARGET = { minRatio: 0.7, aimRatio: 0.9 };
const QUIET_CORES = 0.1;

const ROOT = resolve(import.meta.dirname, '..');
const C_BIN = join(ROOT, 'native/build/bench_codecs');
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const perCore = (usPerTick: number) => 1e6 / (usPerTick * (1000 / FRAME_MS));

interface Run {
  ticks: number;
  cpuS: number;
  usPerTick: number;
  channelsPerCore: number;
  /** Cores used by other processes meanwhile (>= 0.1: disturbed; it was then repeated once). */
  otherCpu: number;
  repeated?: boolean;
}

interface CPair {
  pair: string;
  ticks: number;
  cpuS: number;
}

function runC(args: string[]): Record<string, unknown> {
  const res = spawnSync(C_BIN, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new HarnessError(`bench_codecs ${args.join(' ')} failed (${res.status ?? res.signal}): ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** Waits for quiet, runs `fn`, and repeats it once when other processes used the cores meanwhile. */
async function measured(what: string, fn: () => { ticks: number; cpuS: number }): Promise<Run> {
  let repeated = false;
  for (;;) {
    await waitForQuiet(reapedChildrenCpuSeconds, log, QUIET_CORES, QUIET_WAIT_S);
    const w = new CpuWindow(reapedChildrenCpuSeconds);
    const { ticks, cpuS } = fn();
    const { other } = w.read();
    const usPerTick = (cpuS / ticks) * 1e6;
    const run: Run = { ticks, cpuS: round(cpuS), usPerTick: round(usPerTick), channelsPerCore: round(perCore(usPerTick), 1), otherCpu: other, ...(repeated ? { repeated } : {}) };
    log(`${what}: ${ticks} ticks in ${run.cpuS} CPU s = ${run.usPerTick} us/tick = ${run.channelsPerCore} channels/core (other processes ${other} cores)`);
    if (other < QUIET_CORES || repeated) return run;
    log(`${what} was disturbed: repeating it`);
    repeated = true;
    await sleep(3000);
  }
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};
const best = (runs: Run[]) => runs.reduce((a, b) => (b.usPerTick < a.usPerTick ? b : a));
const side = (runs: Run[]) => ({
  channelsPerCore: best(runs).channelsPerCore,
  usPerTick: best(runs).usPerTick,
  rounds: runs.map(({ channelsPerCore, usPerTick, ticks, cpuS, otherCpu, repeated }) => ({ channelsPerCore, usPerTick, ticks, cpuS, otherCpu, ...(repeated ? { repeated } : {}) })),
});

async function main(): Promise<void> {
  const started = performance.now();
  log('building native/build/bench_codecs (make -C native/codec bench)');
  execFileSync('make', ['-s', '-C', join(ROOT, 'native/codec'), 'bench'], { stdio: ['ignore', 2, 2] });
  const built = availableCodecs();
  const pairs = PAIRS.filter((p) => built.includes(p));
  const skipped = PAIRS.filter((p) => !built.includes(p));
  if (skipped.length) log(`not built into liboutpostcodec, skipped: ${skipped.join(', ')}`);

  const channels = new Map(pairs.map((p) => [p, new Channel(p)]));
  for (const [p, ch] of channels) {
    runTicks(ch, 0.5); // JIT warm-up, and codec state past its start
    log(`PCMA<->${p}: ready (${ch.ab ? `resampling ${ch.a.pcmRate} <-> ${ch.b.pcmRate}` : 'no resampling'})`);
  }
  const ts = new Map<string, Run[]>(pairs.map((p) => [p, []]));
  const c = new Map<string, Run[]>(pairs.map((p) => [p, []]));
  for (let r = 1; r <= ROUNDS; r++) {
    for (const p of pairs) {
      ts.get(p)!.push(await measured(`round ${r} TS PCMA<->${p}`, () => runTicks(channels.get(p)!, PER_ROUND_S)));
      c.get(p)!.push(
        await measured(`round ${r} C  PCMA<->${p}`, () => (runC(['--seconds', String(PER_ROUND_S), '--pairs', p]).pairs as CPair[])[0]!),
      );
    }
  }

  let micro: { ts: Record<string, number>; c: Record<string, number> } | null = null;
  if (!opts['no-micro']) {
    await waitForQuiet(reapedChildrenCpuSeconds, log, QUIET_CORES, QUIET_WAIT_S);
    // C before and after the TS calls, the lower of the two per call: less exposed to a disturbance.
    const c1 = runC(['--micro', '--pairs', '']).micro as Record<string, number>;
    const tsMicro = microTs();
    const c2 = runC(['--micro', '--pairs', '']).micro as Record<string, number>;
    micro = { ts: tsMicro, c: Object.fromEntries(Object.entries(c1).map(([k, v]) => [k, Math.min(v, c2[k] ?? v)])) };
    log(`micro (ns per call): TS ${JSON.stringify(micro.ts)} C ${JSON.stringify(micro.c)}`);
  }

  const profiles: Record<string, unknown> = {};
  const profDir = opts['cpu-prof-dir'];
  if (profDir) {
    mkdirSync(profDir, { recursive: true });
    for (const [p, ch] of channels) {
      const prof = profiled(() => runTicks(ch, PER_ROUND_S));
      const file = join(profDir, `codecs-${p}.cpuprofile`);
      writeFileSync(file, JSON.stringify(prof));
      profiles[p] = { file, ...profileSplit(prof) };
      log(`profile PCMA<->${p}: ${file}`);
    }
  }

  const results = pairs.map((p) => {
    const t = side(ts.get(p)!);
    const k = side(c.get(p)!);
    const ratio = round(t.channelsPerCore / k.channelsPerCore);
    const ch = channels.get(p)!;
    const resampled = ch.ab !== null;
    // TS - C per tick, and what the single-call micro-benchmarks predict from per-call costs
    // measured on PCMA (they do not depend on the codec): per tick 2 Codec.encode, 2 Codec.decode
    // and, when resampling, 2 Resampler.process = the koffi cost of op_resample (taken as that of
    // op_codec_decode: same argument shapes) + its extra op_resample_max_out call + one view.
    let predictedUs: number | null = null;
    if (micro) {
      const { ts: m, c: mc } = micro;
      const enc = m.pcmaEncodeNs! - mc.pcmaEncodeNs!;
      const dec = m.pcmaDecodeNs! - mc.pcmaDecodeNs!;
      const res = m.pcmaDecodeRawNs! - mc.pcmaDecodeNs! + m.resampleMaxOutNs! + m.subarrayNs!;
      predictedUs = round((2 * enc + 2 * dec + (resampled ? 2 * res : 0)) / 1000);
    }
    return {
      pair: `PCMA<->${p}`,
      pcmRates: [ch.a.pcmRate, ch.b.pcmRate],
      resampled,
      ffiCallsPerTick: resampled ? 8 : 4,
      ts: t,
      c: k,
      ratio,
      // Ratio of the median rounds: the round-to-round spread here is ~10 %, on both sides.
      ratioMedian: round(median(k.rounds.map((x) => x.usPerTick)) / median(t.rounds.map((x) => x.usPerTick))),
      target: ratio >= TARGET.aimRatio ? 'aim' : ratio >= TARGET.minRatio ? 'pass' : 'fail',
      overheadUsPerTick: { measured: round(t.usPerTick - k.usPerTick), predictedFromMicro: predictedUs },
      ...(profiles[p] ? { profile: profiles[p] } : {}),
    };
  });
  for (const ch of channels.values()) ch.close();

  const others = [...ts.values(), ...c.values()].flat().map((r) => r.otherCpu);
  const result = {
    bench: 'codecs',
    what: 'transcoding channels per core (both directions per channel, 20 ms frames, CPU time of the process)',
    options: { seconds: SECONDS, rounds: ROUNDS, pairs: PAIRS, frameMs: FRAME_MS },
    targets: { ratioTsToC: TARGET.minRatio, aim: TARGET.aimRatio },
    pairs: results,
    ...(skipped.length ? { skipped } : {}),
    micro,
    // False when other processes used >= 0.1 cores during a measurement that counted.
    quietMachine: others.every((o) => o < QUIET_CORES),
    maxOtherCpu: Math.max(0, ...others),
    machine: machine(),
    durationS: Math.round((performance.now() - started) / 1000),
  };
  printResult(result);
}

runMain(main, log);
