/**
 * Transcoded calls through the real RTP relay over UDP on 127.0.0.1: how many concurrent
 * PCMA <-> opus (and PCMA <-> G.722) calls Outpost's relay carries, what one costs in CPU, and
 * how that compares with the codecs alone in a plain C loop and with rtpengine transcoding the
 * same calls. See docs/bench-transcode.md.
 *
 *   node --import tsx bench/transcode-relay.ts [options]      (or: npm run -s bench:transcode)
 *
 * Per pair and relay: the relay runs alone in its own process (Outpost: UdpMediaRelay with
 * setTranscoding(), bench/lib/transcode-relay-child.ts; rtpengine: ng offer/answer with
 * `codec: { mask, transcode }`), N sessions transcode, and a native generator
 * (bench/lib/transcode-load-worker.c) sends 20 ms packets on both legs of every session, phone
 * A a PCMA tone, phone B the same tone pre-encoded in B's codec, and counts what comes back per
 * direction: packets, loss, latency send -> receive (matched through the output's RTP timestamp;
 * see the worker's header comment for why and how). N climbs (10, 20, 40, ... up to --max-calls)
 * until a step fails, then bisects. A step passes with loss < 0.5 % and p99 < 50 ms (and the
 * generator on schedule). The relay's CPU per call is read at a fixed N (--cpu-calls), where
 * calls per core = N / (relay CPU in cores). The C loop (native/build/bench_codecs, as in
 * bench/codecs.ts) gives the codecs' channels per core for the ratio relay / C.
 *
 * Progress goes to stderr; stdout gets exactly one JSON line with the results.
 * Options:
 *   --duration S          seconds of load per step (default 4)
 *   --max-calls N         the ladder's cap (default 400)
 *   --start N             the ladder's first step (default 10; then doubling)
 *   --pairs LIST          codecs to pair with PCMA (default opus,G722)
 *   --cpu-calls N         the fixed N for CPU per call and calls per core (default 20)
 *   --cpu-runs R          steps at the fixed N (the ladder's own plus extra ones); the one with the
 *                         least relay CPU counts, since this VM's noise only ever adds (default 2)
 *   --max-seconds S       time bound of the ladders (default 240; the references add ~15 s); a
 *                         ladder stops climbing or bisecting when its share is spent
 *   --only outpost|rtpengine
 *   --rtpengine-threads N rtpengine --num-threads (default 2)
 *   --quiet-wait S        longest wait before each step for other processes to use < 0.1 cores (default 8)
 *   --c-seconds S         CPU seconds per pair of the C loop, and of the same loop in TS on this
 *                         run's signal (default 2; two rounds each, the best counts)
 *   --signal tone|speech  what the phones send (default tone: 440 Hz; speech: the speech-like
 *                         signal of bench/codecs.ts, which the C loop always uses)
 *   --cpu-prof-dir DIR    run Outpost's relay under V8's sampling profiler (all steps); the JSON
 *                         gets the top functions by self time
 *   --keep                keep the temporary directory (rtpengine's log)
 */
import { existsSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { availableCodecs } from '../agent/media/codec/codec.ts';
import type { LegCodec } from '../agent/media/relay-types.ts';
import { netDrops, netDropsSince, type NetDrops } from './lib/net-stats.ts';
import { reapedChildrenCpuSeconds } from './lib/procs.ts';
import { climbAndBisect, doubling } from './lib/ladder.ts';
import { CpuWindow, waitForQuiet } from './lib/quiet.ts';
import { kernelVersion, machine, printResult, runMain } from './lib/report.ts';
import { rtpengineVersion } from './lib/rtpengine.ts';
import { Teardown } from './lib/teardown.ts';
import { TranscodeLoad, type DirectionResult, type Signal } from './lib/transcode-load.ts';
import { codecReferences, profileSummary } from './lib/transcode-refs.ts';
import { startOutpostTranscoder, startRtpengineTranscoder, type ChildStats, type TranscodingRelay } from './lib/transcode-relays.ts';
import { HarnessError } from './lib/harness-error.ts';

const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    'max-calls': { type: 'string', default: '400' },
    start: { type: 'string', default: '10' },
    pairs: { type: 'string', default: 'opus,G722' },
    'cpu-calls': { type: 'string', default: '20' },
    'cpu-runs': { type: 'string', default: '2' },
    'max-seconds': { type: 'string', default: '240' },
    only: { type: 'string' },
    'rtpengine-threads': { type: 'string', default: '2' },
    'quiet-wait': { type: 'string', default: '8' },
    'c-seconds': { type: 'string', default: '2' },
    signal: { type: 'string', default: 'tone' },
    'cpu-prof-dir': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});
const DURATION_S = Number(opts.duration);
const MAX_CALLS = Number(opts['max-calls']);
const START_CALLS = Number(opts.start);
const PAIRS = opts.pairs.split(',').filter(Boolean);
const CPU_CALLS = Number(opts['cpu-calls']);
const CPU_RUNS = Number(opts['cpu-runs']);
const MAX_SECONDS = Number(opts['max-seconds']);
const RTPENGINE_THREADS = Number(opts['rtpengine-threads']);
const QUIET_WAIT_S = Number(opts['quiet-wait']);
const C_SECONDS = Number(opts['c-seconds']);
const SIGNAL = opts.signal as Signal;
if (SIGNAL !== 'tone' && SIGNAL !== 'speech') throw new HarnessError('--signal must be tone or speech');
/** Relay ports, 4 per call, as in bench/media-relay.ts: below the ephemeral range the generator uses. */
const PORT_RANGE: [number, number] = [10000, 29999];
if (
  !(DURATION_S > 0) || !(MAX_CALLS >= 1 && MAX_CALLS <= 5000) || !(START_CALLS >= 1 && START_CALLS <= MAX_CALLS) ||
  !(CPU_CALLS >= 1 && CPU_CALLS <= MAX_CALLS) || !(CPU_RUNS >= 1) || !(MAX_SECONDS > 0) || !(RTPENGINE_THREADS >= 1) || !(QUIET_WAIT_S >= 0) ||
  !(C_SECONDS > 0) || PAIRS.length === 0
) {
  throw new HarnessError('bad --duration, --max-calls (1..5000), --start, --cpu-calls, --cpu-runs, --max-seconds, --rtpengine-threads, --quiet-wait, --c-seconds or --pairs');
}
if (opts.only && opts.only !== 'outpost' && opts.only !== 'rtpengine') throw new HarnessError('--only must be outpost or rtpengine');

const CRITERION = { maxLossRatio: 0.005, p99LimitMs: 50, minOffered: 0.99, maxSendLagMs: 20 };
const DRAIN_MS = 500;
const DISTURBED_CORES = 0.15;
const PACKETS_PER_CALL_PER_S = 100; // 50 each way
/** Payload types: PCMA and G.722 static (RFC 3551), opus dynamic (rtpengine picks its own in its offer). */
const PAYLOAD_TYPES: Record<string, number> = { PCMA: 8, G722: 9, opus: 111 };

const log = (msg: string) => process.stderr.write(`[transcode-bench] ${msg}\n`);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const started = performance.now();
const elapsedS = () => (performance.now() - started) / 1000;

const legCodec = (codec: string): LegCodec => ({ payloadType: PAYLOAD_TYPES[codec]!, codec, ptime: 20, telephoneEvent: null });

type Direction = Pick<DirectionResult, 'sent' | 'received' | 'lossRatio' | 'avgPayloadBytes' | 'latencyMs' | 'stale' | 'future' | 'wrongPayloadType' | 'misaligned' | 'opus'>;

interface Step {
  calls: number;
  pass: boolean;
  reason?: 'loss' | 'latency' | 'rate-not-offered' | 'generator-lagged' | 'relay-died' | 'no-output';
  sent: number;
  received: number;
  /** (sent - received + concealed by the relay) / sent: what the phones did not get as real audio. */
  lossRatio: number;
  /** Outpost: input packets the relay found missing (sequence gaps) and filled by concealment. */
  relayConcealed: number | null;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  aToB: Direction;
  bToA: Direction;
  offeredPps: number;
  maxSendLagMs: number;
  /** Relay CPU in cores over the send span (all threads, /proc/<pid>/stat). */
  relayCpu: number;
  /** Relay CPU ms per call per second of media; 10 = 1 % of a core per call. */
  relayCpuMsPerCallS: number;
  /** calls / relayCpu: transcoded calls one core would carry at this load. */
  callsPerCore: number;
  /** Outpost: the child's event-loop utilisation during the step. */
  relayEventLoop: number | null;
  generatorCpu: number;
  /** Generator CPU per packet sent or received, µs. */
  generatorUsPerPacket: number;
  otherCpu: number;
  kernelDrops: NetDrops;
  relayRssMb: number;
  /** The step was run a second time because the first run was not the relay's fault: this says why. */
  repeatedAfter?: 'generator-lagged' | 'disturbed' | 'transient';
}

function directionOf(d: DirectionResult): Direction {
  return {
    sent: d.sent,
    received: d.received,
    lossRatio: round(d.lossRatio, 5),
    avgPayloadBytes: d.avgPayloadBytes,
    latencyMs: d.latencyMs,
    stale: d.stale,
    future: d.future,
    wrongPayloadType: d.wrongPayloadType,
    misaligned: d.misaligned,
    ...(d.opus !== undefined ? { opus: d.opus } : {}),
  };
}

const transcoderSum = (s: ChildStats | undefined, key: string) => (s ? (s.transcoders.a[key] ?? 0) + (s.transcoders.b[key] ?? 0) : 0);

async function measureStep(relay: TranscodingRelay, load: TranscodeLoad, calls: number, label: string): Promise<Step> {
  const window = new CpuWindow(() => relay.cpuSeconds() + load.cpuSeconds());
  const relay0 = relay.cpuSeconds();
  const gen0 = load.cpuSeconds();
  const stats0 = await relay.stats();
  const drops0 = netDrops();
  const r = await load.run(calls, DURATION_S, DRAIN_MS);
  const drops = netDropsSince(drops0);
  const stats1 = await relay.stats();
  const w = window.read();
  const relayCpuS = relay.cpuSeconds() - relay0;
  const span = Math.max(r.sendSpanS, 1e-3);
  const relayCpu = relayCpuS / span;
  const concealed = stats0 && stats1 ? transcoderSum(stats1, 'concealed') - transcoderSum(stats0, 'concealed') : null;
  const lossRatio = r.sent > 0 ? (Math.max(0, r.sent - r.received) + (concealed ?? 0)) / r.sent : 0;
  let elu: number | null = null;
  if (stats0 && stats1) {
    const active = stats1.elu.active - stats0.elu.active;
    const idle = stats1.elu.idle - stats0.elu.idle;
    elu = active + idle > 0 ? round(active / (active + idle), 3) : null;
  }
  const step: Step = {
    calls,
    pass: true,
    sent: r.sent,
    received: r.received,
    lossRatio: round(lossRatio, 5),
    relayConcealed: concealed,
    latencyMs: r.latencyMs,
    aToB: directionOf(r.aToB),
    bToA: directionOf(r.bToA),
    offeredPps: r.offeredPps,
    maxSendLagMs: r.maxSendLagMs,
    relayCpu: round(relayCpu, 3),
    relayCpuMsPerCallS: round((relayCpuS * 1000) / (calls * span), 3),
    callsPerCore: relayCpuS > 0 ? round((calls * span) / relayCpuS, 1) : 0,
    relayEventLoop: elu,
    generatorCpu: round((load.cpuSeconds() - gen0) / w.wallS, 3),
    generatorUsPerPacket: round((r.generatorCpuS * 1e6) / Math.max(1, r.sent + r.received), 2),
    otherCpu: w.other,
    kernelDrops: drops,
    relayRssMb: Math.round(relay.rssMb()),
  };
  const fail = (reason: NonNullable<Step['reason']>) => Object.assign(step, { pass: false, reason });
  if (relay.dead()) fail('relay-died');
  else if (r.received === 0) fail('no-output');
  else if (lossRatio >= CRITERION.maxLossRatio) fail('loss');
  else if (!(r.latencyMs.p99 < CRITERION.p99LimitMs)) fail('latency');
  else if (r.offeredPps < CRITERION.minOffered * calls * PACKETS_PER_CALL_PER_S) fail('rate-not-offered');
  else if (r.maxSendLagMs > CRITERION.maxSendLagMs) fail('generator-lagged');
  log(
    `${label} ${calls} calls: lost ${r.sent - r.received}/${r.sent}${concealed !== null ? ` + concealed ${concealed}` : ''} (${round(lossRatio * 100, 3)} %), ` +
      `latency p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} max ${r.latencyMs.max} ms (A->B p99 ${r.aToB.latencyMs.p99}, B->A p99 ${r.bToA.latencyMs.p99}), ` +
      `out bytes A->B ${r.aToB.avgPayloadBytes}${r.aToB.opus ? ` (opus ${r.aToB.opus.mode} ${r.aToB.opus.bandwidth}${r.aToB.opus.stereo ? ' stereo' : ''})` : ''} B->A ${r.bToA.avgPayloadBytes}, relay cpu ${step.relayCpu} (${step.callsPerCore} calls/core${elu !== null ? `, event loop ${elu}` : ''}), ` +
      `gen cpu ${step.generatorCpu} (${step.generatorUsPerPacket} µs/pkt, lag ${r.maxSendLagMs} ms), other ${w.other}, drops ${JSON.stringify(drops)} -> ${step.pass ? 'pass' : `FAIL (${step.reason})`}`,
  );
  if (r.aToB.future + r.bToA.future + r.aToB.misaligned + r.bToA.misaligned + r.aToB.wrongPayloadType + r.bToA.wrongPayloadType > 0) {
    log(`${label}: future ${r.aToB.future}/${r.bToA.future}, misaligned ${r.aToB.misaligned}/${r.bToA.misaligned}, wrong payload type ${r.aToB.wrongPayloadType}/${r.bToA.wrongPayloadType} (A->B/B->A)`);
  }
  return step;
}

interface LadderResult {
  /** Largest N that passed. */
  maxCalls: number;
  atMax: { latencyMs: Step['latencyMs']; lossRatio: number; relayCpu: number; callsPerCore: number } | null;
  /** CPU at the fixed N (--cpu-calls): the run with the least relay CPU, and every run's calls per core. */
  atFixedCalls: {
    calls: number;
    pass: boolean;
    relayCpu: number;
    relayCpuMsPerCallS: number;
    callsPerCore: number;
    latencyMs: Step['latencyMs'];
    runs: number[];
  } | null;
  /** A failing step was found (false: the cap or the time bound stopped the climb). */
  saturated: boolean;
  /** What ran out at the first failing step above maxCalls. */
  limitedBy: 'relay-cpu' | 'machine' | 'generator' | 'latency' | null;
  stoppedBy: 'failure' | 'cap' | 'time';
  payloadTypeB: number;
  calibration: { ok: number; total: number };
  disturbedSteps: number;
  steps: Step[];
  counters?: ChildStats;
}

/** One relay, one pair: climb, bisect, CPU at the fixed N. */
async function ladder(relay: TranscodingRelay, load: TranscodeLoad, pair: string, deadline: number): Promise<LadderResult> {
  const label = `${relay.name} PCMA<->${pair}`;
  const codecs = { a: legCodec('PCMA'), b: legCodec(pair) };
  let allocated = 0;
  let payloadTypeB = codecs.b.payloadType;
  const calibration = { ok: 0, total: 0 };
  const ensure = async (calls: number) => {
    if (calls <= allocated) return;
    const t0 = performance.now();
    const ports = await load.open(calls);
    const alloc = await relay.allocate(ports.slice(allocated, calls), codecs);
    if (alloc.payloadTypeB !== payloadTypeB || allocated === 0) {
      payloadTypeB = alloc.payloadTypeB;
      if (payloadTypeB !== load.codecs[1].payloadType) await load.setCodec(1, payloadTypeB);
    }
    await load.setTargets(alloc.ports.map((p, i) => ({ flow: allocated + i, ...p })));
    const c = await load.calibrate(calls);
    calibration.ok = c.ok;
    calibration.total = c.total;
    log(`${label}: ${calls - allocated} more sessions in ${Math.round(performance.now() - t0)} ms (${calls} in all), ${c.ok}/${c.total} output streams calibrated`);
    allocated = calls;
  };
  const stepTimeS = () => DURATION_S + DRAIN_MS / 1000 + 2.5;
  const timeLeft = () => (deadline - performance.now()) / 1000;
  const measure = async (calls: number): Promise<Step> => {
    await ensure(calls);
    const quiet = () => waitForQuiet(() => relay.cpuSeconds() + load.cpuSeconds(), log, 0.1, Math.min(QUIET_WAIT_S, Math.max(0, timeLeft() - stepTimeS())));
    await quiet();
    let step = await measureStep(relay, load, calls, label);
    // A generator that fell behind its schedule (this VM stalls a process for tens of ms now and
    // then), other processes busy meanwhile, or a failure far from the relay's CPU limit (a stall
    // of the relay itself): not what the step measures, so it runs once more.
    const relayCores = relay.name === 'outpost' ? 1 : Math.min(RTPENGINE_THREADS, cpus().length);
    const why: Step['repeatedAfter'] = step.pass
      ? undefined
      : step.reason === 'generator-lagged'
        ? 'generator-lagged'
        : step.otherCpu >= DISTURBED_CORES
          ? 'disturbed'
          : (step.reason === 'latency' || step.reason === 'loss') && step.relayCpu < 0.6 * relayCores
            ? 'transient'
            : undefined;
    if (why && !relay.dead() && timeLeft() >= 2 * stepTimeS()) {
      log(`${label} ${calls} calls: ${why}, repeating the step`);
      await sleep(1000);
      await quiet();
      step = { ...(await measureStep(relay, load, calls, label)), repeatedAfter: why };
    }
    await sleep(300);
    return step;
  };

  await ensure(START_CALLS);
  if (calibration.ok === 0) {
    return { maxCalls: 0, atMax: null, atFixedCalls: null, saturated: true, limitedBy: null, stoppedBy: 'failure', payloadTypeB, calibration, disturbedSteps: 0, steps: [] };
  }
  // Warm-up (JIT, socket buffers, codec state): not recorded.
  const warm = await load.run(START_CALLS, 2, DRAIN_MS);
  log(`${label}: warm-up ${START_CALLS} calls, lost ${warm.sent - warm.received}/${warm.sent}, p50 ${warm.latencyMs.p50} ms`);

  // The fixed N for CPU per call: the ladder's step at it (if it has one) plus extra runs, before
  // the bisection so that the time bound cuts the bisection rather than these.
  const fixedRuns: Step[] = [];
  const { lastGood, firstBad, steps, stoppedBy } = await climbAndBisect({
    loads: doubling(START_CALLS, MAX_CALLS),
    measure,
    hasTime: () => timeLeft() >= stepTimeS(),
    afterClimb: async (climb) => {
      fixedRuns.push(...climb.filter((s) => s.calls === CPU_CALLS));
      while (fixedRuns.length < CPU_RUNS && !relay.dead() && timeLeft() >= stepTimeS()) fixedRuns.push(await measure(CPU_CALLS));
    },
    // Bisect down to ~10 % (at least 1 call).
    bisect: { steps: Infinity, quantum: 1, fromZero: true, closeEnough: (good) => Math.max(1, Math.round(good * 0.1)), canGo: () => !relay.dead() },
  });
  const fixed = [...fixedRuns].sort((x, y) => Number(y.pass) - Number(x.pass) || x.relayCpu - y.relayCpu)[0];
  const best = steps.find((s) => s.pass && s.calls === lastGood);
  const failing = steps.find((s) => !s.pass && s.calls === firstBad);
  let limitedBy: LadderResult['limitedBy'] = null;
  if (failing) {
    const relayCores = relay.name === 'outpost' ? 1 : Math.min(RTPENGINE_THREADS, cpus().length);
    if (failing.relayCpu >= 0.85 * relayCores || (failing.relayEventLoop ?? 0) >= 0.9) limitedBy = 'relay-cpu';
    else if (failing.relayCpu + failing.generatorCpu + failing.otherCpu >= 0.9 * cpus().length) limitedBy = 'machine';
    else if (failing.reason === 'generator-lagged' || failing.reason === 'rate-not-offered') limitedBy = 'generator';
    else limitedBy = 'latency';
  }
  const counters = await relay.stats().catch(() => undefined);
  return {
    maxCalls: lastGood,
    atMax: best ? { latencyMs: best.latencyMs, lossRatio: best.lossRatio, relayCpu: best.relayCpu, callsPerCore: best.callsPerCore } : null,
    atFixedCalls: fixed
      ? {
          calls: fixed.calls,
          pass: fixed.pass,
          relayCpu: fixed.relayCpu,
          relayCpuMsPerCallS: fixed.relayCpuMsPerCallS,
          callsPerCore: fixed.callsPerCore,
          latencyMs: fixed.latencyMs,
          runs: fixedRuns.map((s) => s.callsPerCore),
        }
      : null,
    saturated: firstBad !== undefined,
    limitedBy,
    stoppedBy,
    payloadTypeB,
    calibration,
    disturbedSteps: steps.filter((s) => s.otherCpu >= DISTURBED_CORES).length,
    steps,
    ...(counters ? { counters } : {}),
  };
}

// ---------------------------------------------------------------------------------------------

const teardown = new Teardown(log).install();

/** Runs `fn` with a fresh generator and relay for one pair, and stops both whatever happens. */
async function withRelay<T>(pair: string, start: () => Promise<TranscodingRelay>, fn: (relay: TranscodingRelay, load: TranscodeLoad) => Promise<T>): Promise<T> {
  const load = await TranscodeLoad.start(
    [
      { codec: 'PCMA', payloadType: PAYLOAD_TYPES['PCMA']!, clockRate: 8000 },
      { codec: pair, payloadType: PAYLOAD_TYPES[pair]!, clockRate: 8000 },
    ],
    SIGNAL,
  );
  const stopLoad = teardown.push(() => load.stop());
  let stopRelay: (() => Promise<unknown>) | undefined;
  try {
    const relay = await start();
    stopRelay = async () => {
      const code = await relay.stop();
      log(`${relay.name} stopped (${code !== null ? `exit ${code}` : 'signal'})`);
    };
    teardown.push(stopRelay);
    log(`${relay.name} relay running (pid ${relay.pid}), generator pid ${load.pid}`);
    return await fn(relay, load);
  } finally {
    await teardown.release(stopRelay);
    await teardown.release(stopLoad);
  }
}

async function main(): Promise<void> {
  const deadline = performance.now() + MAX_SECONDS * 1000;
  const built = availableCodecs();
  const pairs = PAIRS.filter((p) => built.includes(p) && p in PAYLOAD_TYPES);
  const skipped = PAIRS.filter((p) => !pairs.includes(p));
  if (skipped.length) log(`skipped (not built, or no payload type here): ${skipped.join(', ')}`);
  log(`pairs ${pairs.map((p) => `PCMA<->${p}`).join(', ')}; ${DURATION_S} s per step, ladder from ${START_CALLS} doubling to ${MAX_CALLS}, fixed N ${CPU_CALLS}, bound ${MAX_SECONDS} s`);

  // The C loop runs as a child process that is reaped before the window is read: its CPU is ours.
  await waitForQuiet(reapedChildrenCpuSeconds, log, 0.1, QUIET_WAIT_S);
  const cw = new CpuWindow(reapedChildrenCpuSeconds);
  const { c, ts: codecTs } = codecReferences(pairs, SIGNAL, C_SECONDS);
  const cOther = cw.read().other;
  log(`C loop (speech-like): ${Object.entries(c).map(([p, v]) => `PCMA<->${p} ${v.channelsPerCore}`).join(', ')} channels/core`);
  log(`TS codec loop (${SIGNAL}): ${Object.entries(codecTs).map(([p, v]) => `PCMA<->${p} ${v.channelsPerCore}`).join(', ')} channels/core`);

  const version = rtpengineVersion();
  const dir = teardown.tempDir('transcode-bench-', opts.keep);
  const profDir = opts['cpu-prof-dir'] ? resolve(opts['cpu-prof-dir']) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });

  const relays = [...(opts.only !== 'rtpengine' ? ['outpost' as const] : []), ...(opts.only !== 'outpost' && version ? ['rtpengine' as const] : [])];
  let laddersLeft = pairs.length * relays.length;
  const results: Array<Record<string, unknown>> = [];
  try {
    for (const pair of pairs) {
      const entry: Record<string, unknown> = { pair: `PCMA<->${pair}`, ptimeMs: 20, c: c[pair] ?? null, codecLoopTs: codecTs[pair] ?? null };
      for (const name of relays) {
        const share = (deadline - performance.now()) / Math.max(1, laddersLeft--);
        const ladderDeadline = performance.now() + share;
        if (name === 'outpost') {
          let pid = 0;
          const r = await withRelay(
            pair,
            () => startOutpostTranscoder(PORT_RANGE, profDir),
            async (relay, load) => {
              pid = relay.pid;
              return ladder(relay, load, pair, ladderDeadline);
            },
          );
          let profile: ReturnType<typeof profileSummary> | undefined;
          const file = profDir ? join(profDir, `outpost-${pid}.cpuprofile`) : undefined;
          if (file && existsSync(file)) {
            profile = profileSummary(file);
            log(`profile ${file}: ${JSON.stringify(profile.areas)}`);
          }
          entry['outpost'] = { ...r, ...(profile ? { profile: { file, ...profile } } : {}) };
        } else {
          const threads = RTPENGINE_THREADS;
          let r: LadderResult | null = null;
          let reason: string | undefined;
          try {
            r = await withRelay(
              pair,
              () => startRtpengineTranscoder({ dir, portRange: PORT_RANGE, threads }),
              (relay, load) => ladder(relay, load, pair, ladderDeadline),
            );
          } catch (err) {
            reason = `set-up failed: ${(err as Error).message.split('\n')[0]}`;
          }
          // It transcodes when the output towards B is in B's codec (payload type, size) and back in PCMA.
          const first = r?.steps[0];
          if (r && r.calibration.ok === 0) reason = `no packets in ${pair} (payload type ${r.payloadTypeB}) came out towards B: not transcoding`;
          else if (r && first && (first.aToB.wrongPayloadType > 0 || first.bToA.wrongPayloadType > 0 || first.aToB.received === 0)) reason = `output payload types did not match (A->B wrong ${first.aToB.wrongPayloadType}, B->A wrong ${first.bToA.wrongPayloadType})`;
          entry['rtpengine'] = r && !reason ? { version, threads, ...r } : null;
          if (reason) entry['rtpengineReason'] = reason;
        }
      }
      if (!version && opts.only !== 'outpost') {
        entry['rtpengine'] = null;
        entry['rtpengineReason'] = 'rtpengine is not installed';
      }
      const o = entry['outpost'] as LadderResult | undefined;
      const cp = c[pair];
      const tp = codecTs[pair];
      const rt = entry['rtpengine'] as LadderResult | null | undefined;
      entry['ratio'] = {
        /** Outpost calls/core at the fixed N ÷ the C loop's channels/core (speech-like signal). */
        outpostToC: o?.atFixedCalls && cp ? round(o.atFixedCalls.callsPerCore / cp.channelsPerCore) : null,
        /** Outpost calls/core at the fixed N ÷ the codec work alone on the same frames (this run's signal): the share of the relay's CPU that is codec work. */
        outpostToCodecLoop: o?.atFixedCalls && tp ? round(o.atFixedCalls.callsPerCore / tp.channelsPerCore) : null,
        /** rtpengine's calls/core at the fixed N ÷ the C loop's. */
        rtpengineToC: rt?.atFixedCalls && cp ? round(rt.atFixedCalls.callsPerCore / cp.channelsPerCore) : null,
        /** Outpost's calls/core ÷ rtpengine's, at the fixed N. */
        outpostToRtpengineCpu: o?.atFixedCalls && rt?.atFixedCalls ? round(o.atFixedCalls.callsPerCore / rt.atFixedCalls.callsPerCore) : null,
        /** Largest N passed, Outpost ÷ rtpengine. */
        outpostToRtpengineMaxCalls: o && rt && rt.maxCalls > 0 ? round(o.maxCalls / rt.maxCalls) : null,
      };
      results.push(entry);
    }
  } finally {
    await teardown.runAll();
  }

  const steps = results.flatMap((e) => ['outpost', 'rtpengine'].flatMap((k) => ((e[k] as LadderResult | null | undefined)?.steps ?? [])));
  const out = {
    bench: 'transcode-relay',
    what: 'transcoded calls through the relay over UDP on 127.0.0.1 (both directions, 20 ms packets); largest N with loss < 0.5 % and p99 < 50 ms; relay CPU per call at a fixed N',
    options: { signal: SIGNAL, durationS: DURATION_S, maxCalls: MAX_CALLS, startCalls: START_CALLS, cpuCalls: CPU_CALLS, cpuRuns: CPU_RUNS, maxSeconds: MAX_SECONDS, rtpengineThreads: RTPENGINE_THREADS, cSeconds: C_SECONDS },
    criterion: { ...CRITERION, drainMs: DRAIN_MS, loss: '(sent - received + concealed by the relay) / sent', latency: 'send of the input packet -> receipt of the output packet it completed' },
    signal: SIGNAL === 'tone' ? 'tone: 440 Hz at -12 dBFS, 1 s pre-encoded per codec, looped (the C loop always uses the speech-like signal)' : 'speech: the speech-like signal of bench/codecs.ts, 5 s pre-encoded per codec, looped',
    pairs: results,
    ...(skipped.length ? { skipped } : {}),
    cLoopOtherCpu: cOther,
    quietMachine: cOther < DISTURBED_CORES && steps.every((s) => s.otherCpu < DISTURBED_CORES),
    maxOtherCpu: Math.max(cOther, ...steps.map((s) => s.otherCpu)),
    machine: { ...machine(), rtpengine: version ?? null, kernel: kernelVersion() },
    durationS: Math.round(elapsedS()),
  };
  printResult(out);
}

runMain(main, log, teardown);
