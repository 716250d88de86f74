/**
 * Calls through a running `outpost node`: call setup rate, and concurrent calls with relayed RTP.
 *
 *   node --import tsx bench/calls.ts [--quick] [options]      (or: npm run bench:calls)
 *
 * Every call is sipp caller -> outpost -> sipp callee over UDP on 127.0.0.1: INVITE, 407 digest
 * challenge, INVITE with credentials (MD5), 180, 200 with the relay's SDP, ACK, hold, BYE.
 * Callers and callees are distinct users (100000+i calls 200000+i); every callee's binding is
 * injected into the store and points at the one sipp callee.
 *
 * 1. Setup rate (CPS). Short calls without media (hold --hold-ms, default 1 s), offered at
 *    increasing rates for --duration seconds each. A step passes when fewer than 0.1 % of its
 *    calls fail or go unanswered and sipp offered at least 95 % of the rate. The climb stops at
 *    the first failing step; one bisection refines it.
 * 2. Concurrent calls with media. N calls are set up (at --setup-rate calls/s) and held; then
 *    the RTP generator (bench/lib/rtp-load.ts) plays both phones of every call: phone A sends to
 *    the relay port the caller's 200 OK named, phone B to the one the callee's INVITE named (the
 *    relay latches onto them), G.711-sized packets every 20 ms in both directions, for
 *    --duration seconds. Then the calls hang up. A step passes when fewer than 0.1 % of the calls
 *    failed and less than 0.01 % of the packets were lost. N climbs until a step fails.
 *
 * Progress goes to stderr; stdout gets exactly one JSON line with the results.
 * Options:
 *   --quick              two short steps of each part (smoke test)
 *   --duration S         seconds per step (default 10; quick 3)
 *   --rates a,b,c        the setup-rate ladder in calls/s
 *   --hold-ms MS         call length in the setup-rate part (default 1000)
 *   --calls a,b,c        the concurrent-calls ladder
 *   --setup-rate R       calls/s used to set up the concurrent calls (default: 100, or half the
 *                        measured max setup rate if that is lower)
 *   --only cps|media     one part
 *   --generator native|node  the RTP generator: C (default) or Node.js (see bench/lib/rtp-load.ts)
 *   --generators N       RTP generator processes (default 1)
 *   --no-bisect          skip the bisection in the setup-rate part
 *   --trace-gc           report the node's GC pauses during each RTP window
 *                        (bench/lib/gc-trace-preload.mjs: one JSON line per GC on the node's stdout)
 *   --cpu-prof DIR       profile the node with V8's sampler (bench/lib/cpu-profile-preload.mjs);
 *                        the .cpuprofile is written to DIR when the node exits
 *   --keep               keep the temporary directory (node data, sipp traces)
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CallsBox, logCallerErrors, offeredCallRate, relayPorts, setupTimes, type CdrSummary, type GcPauses } from './lib/calls-box.ts';
import { climbAndBisect } from './lib/ladder.ts';
import { netDrops, netDropsSince, type NetDrops } from './lib/net-stats.ts';
import { stopProcess } from './lib/procs.ts';
import { CpuWindow, measureQuietly, waitForQuiet } from './lib/quiet.ts';
import { machine, outpostVersion, printResult, runMain } from './lib/report.ts';
import { PACKETS_PER_SECOND_PER_DIRECTION, RtpLoad, type GeneratorKind, type RunSummary } from './lib/rtp-load.ts';
import { loadVerdict, parseSippStats, sippOutcome, sippVersion, stopAllSipp, type SippLoadStep } from './lib/sipp.ts';
import { Teardown } from './lib/teardown.ts';
import { HarnessError } from './lib/harness-error.ts';

const DOMAIN = 'calls.example';
const MAX_CALL_FAIL_RATIO = 0.001;
const MAX_LOSS_RATIO = 0.0001;
const MIN_OFFERED_CPS = 0.95;
const MIN_OFFERED_PPS = 0.99;
const DRAIN_MS = 1000;
/** The second, stricter figure for concurrent calls: the RTP latency p99 at or under this. */
const P99_LIMIT_MS = 50;
const FULL_RATES = [5, 10, 20, 40, 60, 80, 100, 150, 200, 250, 300, 400, 500, 600];
const QUICK_RATES = [5, 20];
const FULL_CALLS = [100, 200, 300, 400, 500, 600, 700, 800, 1000, 1200, 1500, 2000];
const QUICK_CALLS = [50, 100];
/** The node's relay ports: 4 per call, below the ephemeral range and the integration tests' ranges (30000-32699). */
const RTP_RANGE: [number, number] = [20000, 29999];
const DISTURBED_CORES = 0.15;

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    rates: { type: 'string' },
    'hold-ms': { type: 'string', default: '1000' },
    calls: { type: 'string' },
    'setup-rate': { type: 'string' },
    only: { type: 'string' },
    generator: { type: 'string', default: 'native' },
    generators: { type: 'string', default: '1' },
    'no-bisect': { type: 'boolean', default: false },
    'trace-gc': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});
const quick = opts.quick;
const DURATION_S = Number(opts.duration ?? (quick ? 3 : 10));
const RATES = opts.rates ? opts.rates.split(',').map(Number) : quick ? QUICK_RATES : FULL_RATES;
const HOLD_MS = Number(opts['hold-ms']);
const CALL_LADDER = opts.calls ? opts.calls.split(',').map(Number) : quick ? QUICK_CALLS : FULL_CALLS;
const GENERATORS = Number(opts.generators);
const GENERATOR_KIND = opts.generator as GeneratorKind;
if (GENERATOR_KIND !== 'native' && GENERATOR_KIND !== 'node') throw new HarnessError('--generator must be native or node');
const BISECT = !opts['no-bisect'] && !quick;
const MAX_CONCURRENT = Math.floor((RTP_RANGE[1] - RTP_RANGE[0] + 1) / 4);
const USERS = Math.max(...CALL_LADDER, 1000);
if (!(DURATION_S > 0) || RATES.some((r) => !(r > 0)) || !(HOLD_MS >= 0) || CALL_LADDER.some((n) => !(n > 0 && n <= MAX_CONCURRENT)) || !(GENERATORS >= 1)) {
  throw new HarnessError(`bad --duration, --rates, --hold-ms, --calls (1..${MAX_CONCURRENT}) or --generators`);
}
if (opts.only && opts.only !== 'cps' && opts.only !== 'media') throw new HarnessError('--only must be cps or media');

const log = (msg: string) => process.stderr.write(`[calls-bench] ${msg}\n`);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Part 1: setup rate

interface CpsStep extends SippLoadStep {
  /** sipp's rtd per call: first INVITE -> 200 (includes the 407 round trip), ms. */
  setupMs: { p50: number; p99: number; max: number } | null;
  nodeCpu: number;
  sippCpu: number;
  otherCpu: number;
  nodeRssMb: number;
  kernelDrops: NetDrops;
  reason?: 'failures' | 'rate-not-offered' | 'node-died';
}

async function runCpsStep(box: CallsBox, rate: number, durationS: number): Promise<CpsStep> {
  const attempts = Math.max(1, Math.round(rate * durationS));
  const cwd = box.stepDir(`cps-${rate}`);
  const deadlineS = Math.ceil(durationS * 2 + HOLD_MS / 1000 + 40);
  let uasCpu = 0;
  let uacCpu = 0;
  const window = new CpuWindow(() => box.cpuSeconds() + uasCpu + uacCpu);
  const node0 = box.cpuSeconds();
  const drops0 = netDrops();
  const uas = await box.startCallee(cwd, attempts, deadlineS, false);
  const uac = box.startCaller(cwd, { calls: attempts, rate, holdMs: HOLD_MS, maxConcurrent: Math.max(200, Math.ceil(rate * (HOLD_MS / 1000 + 5))), deadlineS, trace: false });
  // sipp's CPU: sampled while it runs (a reaped child's counters are gone).
  const sample = setInterval(() => {
    uasCpu = Math.max(uasCpu, uas.cpuSeconds());
    uacCpu = Math.max(uacCpu, uac.cpuSeconds());
  }, 200);
  const res = await uac.done;
  // CPU over the caller's run (sipp's sampled every 200 ms while it ran).
  const w = window.read();
  const nodeCpu = (box.cpuSeconds() - node0) / w.wallS;
  // The callee has seen every call of this step once the caller is done: stop it.
  const uasDone = await Promise.race([uas.done, sleep(3000).then(() => undefined)]);
  if (!uasDone) await uas.stop();
  clearInterval(sample);
  const { stats: st, failed, unanswered, failRatio, elapsedS } = sippOutcome(res, attempts, w.wallS);
  const setup = setupTimes(uac.file('_rtt.csv'));
  const offeredRate = offeredCallRate(setup, attempts, st.created, elapsedS, HOLD_MS);
  const step: CpsStep = {
    rate,
    attempts,
    successful: st.successful,
    failed,
    unanswered,
    failRatio: round(failRatio, 5),
    offeredRate: round(offeredRate, 1),
    achievedRate: round(offeredRate * (st.successful / Math.max(1, st.created)), 1),
    elapsedS: round(elapsedS, 2),
    retransmissions: st.retransmissions,
    peakConcurrent: st.peakConcurrent,
    setupMs: setup ? { p50: setup.p50, p99: setup.p99, max: setup.max } : null,
    nodeCpu: round(nodeCpu, 2),
    sippCpu: round((uasCpu + uacCpu) / w.wallS, 2),
    otherCpu: w.other,
    nodeRssMb: Math.round(box.rssMb()),
    kernelDrops: netDropsSince(drops0),
    pass: true,
    sippExit: res.code,
  };
  const dead = box.dead();
  Object.assign(step, loadVerdict({ died: dead ? 'node-died' : undefined, failRatio, maxFailRatio: MAX_CALL_FAIL_RATIO, offeredRate, minOfferedRate: MIN_OFFERED_CPS * rate }));
  log(
    `cps ${rate}/s: ${st.successful}/${attempts} ok, ${failed} failed, ${unanswered} unanswered, offered ${step.offeredRate}/s, ` +
      `retrans ${st.retransmissions}, peak ${st.peakConcurrent} calls, setup p50 ${setup?.p50 ?? '?'} p99 ${setup?.p99 ?? '?'} ms, ` +
      `cpu node ${step.nodeCpu} sipp ${step.sippCpu} other ${step.otherCpu} -> ${step.pass ? 'pass' : `FAIL (${step.reason})`}`,
  );
  if (!step.pass) logCallerErrors(uac, log);
  return step;
}

interface CpsResult {
  maxRate: number;
  saturated: boolean;
  limitedBy: 'node' | 'sipp' | null;
  holdMs: number;
  disturbedSteps: number;
  maxOtherCpu: number;
  warmup: Pick<CpsStep, 'attempts' | 'successful' | 'failRatio'>;
  steps: CpsStep[];
}

async function benchCps(box: CallsBox): Promise<CpsResult> {
  log(`setup rate: warm-up, 60 calls at 20/s`);
  const warm = await runCpsStep(box, 20, 3);
  const own = () => box.cpuSeconds();
  const measured = (rate: number) =>
    measureQuietly({ quiet: () => waitForQuiet(own, log), run: () => runCpsStep(box, rate, DURATION_S), disturbedCores: DISTURBED_CORES, diedReason: 'node-died', label: `cps ${rate}/s`, log });
  const { lastGood, climbFailed: firstBad, steps } = await climbAndBisect({
    loads: RATES,
    measure: measured,
    check: () => teardown.check(),
    pauseMs: 2000,
    ...(BISECT ? { bisect: { steps: 1, quantum: 10, pauseMs: 3000, canGo: () => !box.dead() } } : {}),
  });
  const failing = steps.find((s) => !s.pass && s.rate === firstBad);
  let limitedBy: CpsResult['limitedBy'] = null;
  if (failing) limitedBy = failing.reason === 'rate-not-offered' && failing.sippCpu >= 0.9 ? 'sipp' : 'node';
  return {
    maxRate: lastGood,
    saturated: firstBad !== undefined,
    limitedBy,
    holdMs: HOLD_MS,
    disturbedSteps: steps.filter((s) => s.otherCpu >= DISTURBED_CORES).length,
    maxOtherCpu: Math.max(0, ...steps.map((s) => s.otherCpu)),
    warmup: { attempts: warm.attempts, successful: warm.successful, failRatio: warm.failRatio },
    steps,
  };
}

// ---------------------------------------------------------------------------------------------
// Part 2: concurrent calls with media

interface MediaStep {
  calls: number;
  setupRate: number;
  /** Calls sipp counted as successful / failed, and calls that never completed. */
  successful: number;
  failed: number;
  unanswered: number;
  callFailRatio: number;
  /** Calls whose relay ports both sipps reported (these carried RTP). */
  mediaCalls: number;
  setupS: number;
  setupMs: { p50: number; p99: number; max: number } | null;
  rtp: Pick<RunSummary, 'offeredPps' | 'sent' | 'received' | 'lost' | 'lossRatio' | 'reordered' | 'misrouted' | 'latencyMs' | 'maxSendLagMs'> | null;
  /** Average cores during the RTP window: the node, the generator, and everything else. */
  nodeCpu: number | null;
  generatorCpu: number | null;
  otherCpu: number | null;
  /** Node CPU per relayed packet during the RTP window, µs. */
  nodeUsPerPacket: number | null;
  /** Cores the node used with all the calls up but no RTP yet (2 s, before the RTP window). */
  nodeIdleCpu: number | null;
  /** With --trace-gc: the node's GC pauses during the RTP window. */
  nodeGc?: GcPauses | null;
  nodeRssMb: number;
  kernelDrops: NetDrops | null;
  /** From the CDRs of this step's calls: relay counters summed over both legs. */
  cdr: CdrSummary | null;
  pass: boolean;
  reason?: 'call-failures' | 'loss' | 'rate-not-offered' | 'node-died' | 'misrouted';
}

async function runMediaStep(box: CallsBox, load: RtpLoad, calls: number, setupRate: number): Promise<MediaStep> {
  const cwd = box.stepDir(`media-${calls}`);
  const setupS = calls / setupRate;
  // Each call holds long enough for the last one to be set up, the RTP window, and a margin.
  const holdMs = Math.ceil((setupS + 5 + DURATION_S + DRAIN_MS / 1000 + 10) * 1000);
  const deadlineS = Math.ceil(setupS * 2 + holdMs / 1000 + 60);
  const since = Date.now() - 1000;
  const uas = await box.startCallee(cwd, calls, deadlineS, true);
  const uac = box.startCaller(cwd, { calls, rate: setupRate, holdMs, maxConcurrent: calls + 10, deadlineS, trace: true });
  const t0 = performance.now();
  // Wait until both sipps have logged the relay ports of every call (or the set-up time has clearly passed).
  let pairs: Array<{ callee: string; aSendsTo: number; bSendsTo: number }> = [];
  const waitUntil = Date.now() + (setupS + 20) * 1000;
  for (;;) {
    const a = relayPorts(join(cwd, 'uac-ports.log'), 'A');
    const b = relayPorts(join(cwd, 'uas-ports.log'), 'B');
    pairs = [...a].filter(([callee]) => b.has(callee)).map(([callee, aPort]) => ({ callee, aSendsTo: aPort, bSendsTo: b.get(callee)! }));
    if (pairs.length >= calls || Date.now() > waitUntil || uac.proc.exitCode !== null || box.dead()) break;
    await sleep(250);
  }
  const setupDoneS = (performance.now() - t0) / 1000;
  log(`media ${calls} calls: ${pairs.length} answered with relay ports in ${round(setupDoneS, 1)} s (setup rate ${setupRate}/s)`);
  let rtp: RunSummary | null = null;
  let nodeCpu: number | null = null;
  let generatorCpu: number | null = null;
  let otherCpu: number | null = null;
  let nodeUsPerPacket: number | null = null;
  let kernelDrops: NetDrops | null = null;
  let nodeIdleCpu: number | null = null;
  let nodeGc: GcPauses | null = null;
  if (pairs.length > 0 && !box.dead()) {
    const idle0 = box.cpuSeconds();
    const idleT0 = performance.now();
    await sleep(2000);
    nodeIdleCpu = round((box.cpuSeconds() - idle0) / ((performance.now() - idleT0) / 1000), 2);
    await load.open(pairs.length);
    await load.setTargets(pairs.map((p, i) => ({ flow: i, aSendsTo: p.aSendsTo, bSendsTo: p.bSendsTo })));
    await load.prime(pairs.length);
    await sleep(500);
    const window = new CpuWindow(() => box.cpuSeconds() + load.cpuSeconds());
    const node0 = box.cpuSeconds();
    const gen0 = load.cpuSeconds();
    const drops0 = netDrops();
    box.countProblems(box.node.logs.splice(0)); // from here on, the log lines are the RTP window's
    rtp = await load.run(pairs.length, DURATION_S, DRAIN_MS);
    nodeGc = box.gcPauses();
    const w = window.read();
    nodeCpu = round((box.cpuSeconds() - node0) / w.wallS, 2);
    generatorCpu = round((load.cpuSeconds() - gen0) / w.wallS, 2);
    otherCpu = w.other;
    nodeUsPerPacket = rtp.received > 0 ? round(((box.cpuSeconds() - node0) * 1e6) / rtp.received, 2) : null;
    kernelDrops = netDropsSince(drops0);
  }
  // Let the calls hang up (the callers' BYEs), bounded by sipp's own deadline.
  const res = await uac.done;
  const uasDone = await Promise.race([uas.done, sleep(5000).then(() => undefined)]);
  if (!uasDone) await uas.stop();
  const st = parseSippStats(res.stdout);
  const successful = Math.max(0, st.successful);
  const failed = Math.max(0, st.failed);
  const unanswered = Math.max(0, calls - successful - failed);
  const callFailRatio = (failed + unanswered) / calls;
  await sleep(500);
  const cdr = box.cdrSummary(since);
  const setup = setupTimes(uac.file('_rtt.csv'));
  const targetPps = pairs.length * 2 * PACKETS_PER_SECOND_PER_DIRECTION;
  const step: MediaStep = {
    calls,
    setupRate,
    successful,
    failed,
    unanswered,
    callFailRatio: round(callFailRatio, 5),
    mediaCalls: pairs.length,
    setupS: round(setupDoneS, 2),
    setupMs: setup ? { p50: setup.p50, p99: setup.p99, max: setup.max } : null,
    rtp: rtp
      ? { offeredPps: rtp.offeredPps, sent: rtp.sent, received: rtp.received, lost: rtp.lost, lossRatio: round(rtp.lossRatio, 7), reordered: rtp.reordered, misrouted: rtp.misrouted, latencyMs: rtp.latencyMs, maxSendLagMs: rtp.maxSendLagMs }
      : null,
    nodeCpu,
    generatorCpu,
    otherCpu,
    nodeUsPerPacket,
    nodeIdleCpu,
    ...(opts['trace-gc'] ? { nodeGc } : {}),
    nodeRssMb: Math.round(box.rssMb()),
    kernelDrops,
    cdr,
    pass: true,
  };
  const dead = box.dead();
  if (dead) Object.assign(step, { pass: false, reason: 'node-died' });
  else if (callFailRatio >= MAX_CALL_FAIL_RATIO || pairs.length < calls) Object.assign(step, { pass: false, reason: 'call-failures' });
  else if (!rtp || rtp.misrouted > 0) Object.assign(step, { pass: false, reason: 'misrouted' });
  else if (rtp.lossRatio >= MAX_LOSS_RATIO) Object.assign(step, { pass: false, reason: 'loss' });
  else if (rtp.offeredPps < MIN_OFFERED_PPS * targetPps) Object.assign(step, { pass: false, reason: 'rate-not-offered' });
  log(
    `media ${calls} calls: sipp ${successful} ok, ${failed} failed, ${unanswered} unanswered; ` +
      (rtp
        ? `rtp ${rtp.offeredPps} pkt/s, lost ${rtp.lost}/${rtp.sent} (${round(rtp.lossRatio * 100, 4)} %), latency p50 ${rtp.latencyMs.p50} p99 ${rtp.latencyMs.p99} max ${rtp.latencyMs.max} ms, ` +
          `cpu node ${nodeCpu} (${nodeUsPerPacket} µs/pkt; ${nodeIdleCpu} before the rtp) gen ${generatorCpu} other ${otherCpu}; `
        : 'no rtp; ') +
      `cdrs ${cdr?.count ?? '?'} (unexpectedSource ${cdr?.unexpectedSource ?? '?'})${nodeGc ? `, gc ${JSON.stringify(nodeGc)}` : ''} -> ${step.pass ? 'pass' : `FAIL (${step.reason})`}`,
  );
  if (!step.pass) logCallerErrors(uac, log);
  return step;
}

interface MediaResult {
  maxCalls: number;
  /** At maxCalls. */
  ppsAtMax: number;
  latencyAtMaxMs: { p50: number; p99: number } | null;
  nodeCpuAtMax: number | null;
  /** The same with the RTP latency p99 at or under P99_LIMIT_MS as well. */
  maxCallsP99Within: { limitMs: number; calls: number; latencyMs: { p50: number; p99: number } | null };
  saturated: boolean;
  generator: { kind: GeneratorKind; processes: number };
  disturbedSteps: number;
  maxOtherCpu: number;
  steps: MediaStep[];
}

async function benchMedia(box: CallsBox, setupRate: number): Promise<MediaResult> {
  const load = await RtpLoad.start({ workers: GENERATORS, kind: GENERATOR_KIND });
  const stopLoad = teardown.push(() => load.stop());
  let search;
  try {
    search = await climbAndBisect({
      loads: CALL_LADDER,
      measure: async (calls) => {
        await waitForQuiet(() => box.cpuSeconds() + load.cpuSeconds(), log);
        return runMediaStep(box, load, calls, setupRate);
      },
      check: () => teardown.check(),
      pauseMs: 3000,
    });
  } finally {
    await teardown.release(stopLoad);
  }
  const { lastGood, firstBad, steps } = search;
  const best = steps.find((s) => s.pass && s.calls === lastGood);
  return {
    maxCalls: lastGood,
    ppsAtMax: best?.rtp?.offeredPps ?? 0,
    latencyAtMaxMs: best?.rtp ? { p50: best.rtp.latencyMs.p50, p99: best.rtp.latencyMs.p99 } : null,
    nodeCpuAtMax: best?.nodeCpu ?? null,
    maxCallsP99Within: (() => {
      const ok = steps.filter((s) => s.pass && s.rtp && s.rtp.latencyMs.p99 <= P99_LIMIT_MS && s.calls <= lastGood).sort((x, y) => y.calls - x.calls)[0];
      return { limitMs: P99_LIMIT_MS, calls: ok?.calls ?? 0, latencyMs: ok?.rtp ? { p50: ok.rtp.latencyMs.p50, p99: ok.rtp.latencyMs.p99 } : null };
    })(),
    saturated: firstBad !== undefined,
    generator: { kind: GENERATOR_KIND, processes: GENERATORS },
    disturbedSteps: steps.filter((s) => (s.otherCpu ?? 0) >= DISTURBED_CORES).length,
    maxOtherCpu: Math.max(0, ...steps.map((s) => s.otherCpu ?? 0)),
    steps,
  };
}

// ---------------------------------------------------------------------------------------------

const teardown = new Teardown(log).install();
teardown.first(stopAllSipp);

async function main(): Promise<void> {
  const started = performance.now();
  const dir = teardown.tempDir('outpost-calls-bench-', opts.keep);
  let cps: CpsResult | null = null;
  let media: MediaResult | null = null;
  let setupRate = 0;
  let warnings: Record<string, number> = {};
  try {
    const box = await CallsBox.start({ dir, domain: DOMAIN, users: USERS, rtpRange: RTP_RANGE, cpuProfDir: opts['cpu-prof'] ? resolve(opts['cpu-prof']) : undefined, traceGc: opts['trace-gc'], log });
    const stopBox = async () => {
      // SIGTERM, and SIGKILL after 5 s (docs/testing-calls.md: the node can linger after SIGTERM).
      const code = await stopProcess(box.node.proc, { graceMs: 5000 });
      log(`outpost node stopped (${code !== null ? `exit ${code}` : `signal ${box.node.proc.signalCode}`})`);
    };
    teardown.push(stopBox);
    if (opts.only !== 'media') cps = await benchCps(box);
    setupRate = Number(opts['setup-rate'] ?? (cps && cps.maxRate > 0 ? Math.min(100, Math.max(5, Math.floor(cps.maxRate / 2))) : 100));
    if (!(setupRate > 0)) throw new HarnessError('bad --setup-rate');
    if (opts.only !== 'cps') {
      await sleep(3000);
      media = await benchMedia(box, setupRate);
    }
    warnings = box.warnings();
  } finally {
    await teardown.runAll();
  }
  const result = {
    bench: 'calls',
    transport: 'udp',
    auth: 'digest MD5 (407 challenge on every call)',
    stepDurationS: DURATION_S,
    quick,
    criterion: { maxCallFailRatio: MAX_CALL_FAIL_RATIO, maxLossRatio: MAX_LOSS_RATIO, minOfferedCps: MIN_OFFERED_CPS, minOfferedPps: MIN_OFFERED_PPS, drainMs: DRAIN_MS, p99LimitMs: P99_LIMIT_MS },
    setupRate: cps,
    concurrentMedia: media ? { setupRate, ...media } : null,
    targets: {
      /** The issue's target: >= 500 concurrent relayed G.711 calls (loss criterion; and with p99 <= P99_LIMIT_MS). */
      concurrentCalls500: media ? media.maxCalls >= 500 : null,
      concurrentCalls500P99Within: media ? media.maxCallsP99Within.calls >= 500 : null,
    },
    /** Warnings/errors the node logged during the whole run, by message (last 5000 lines kept). */
    nodeWarnings: warnings,
    quietMachine: [cps?.disturbedSteps ?? 0, media?.disturbedSteps ?? 0].every((n) => n === 0),
    machine: machine(),
    sipp: { version: sippVersion(), sameHost: true },
    outpostVersion: outpostVersion(),
    durationS: Math.round((performance.now() - started) / 1000),
  };
  printResult(result);
}

runMain(main, log, teardown);
