/**
 * RTP relay capacity: Outpost's relay (agent/media UdpMediaRelay, alone in its own process)
 * against rtpengine (userspace forwarding, no kernel module), on the same load, on this machine.
 *
 *   node --import tsx bench/media-relay.ts [--quick] [options]      (or: npm run bench:media)
 *
 * For each relay in turn (the other one is not running): start it on 127.0.0.1, set up N
 * sessions whose two legs point at the load generator's phones, and drive G.711-sized RTP
 * (172-byte UDP payload, 20 ms ptime, both directions: 100 packets/s into the relay per call)
 * through them for a step of `--duration` seconds, at increasing N. A step passes when less
 * than 0.01 % of the packets are lost and the generator offered at least 99 % of the rate. The
 * climb stops at the first failing step; one bisection refines it. See docs/bench-calls.md.
 *
 * Progress goes to stderr; stdout gets exactly one JSON line with the results.
 * Options:
 *   --quick                 short steps at 100 and 200 calls per relay (smoke test)
 *   --duration S            seconds per step (default 8; quick: 3)
 *   --calls a,b,c           the ladder of concurrent calls
 *   --only outpost|rtpengine  one relay
 *   --generator native|node the load generator: C (bench/lib/rtp-load-worker.c, built with cc on
 *                           first use; the default) or Node.js (bench/lib/rtp-load-worker.ts)
 *   --generators N          load generator processes (default 2)
 *   --rtpengine-threads N   rtpengine --num-threads (default 2 = the cores here)
 *   --pin                   pin the relay to CPU 0 and the generator to CPU 1 (taskset)
 *   --no-bisect             skip the bisection step
 *   --no-baseline           skip the generator-only latency baseline
 *   --keep                  keep the temporary directory (rtpengine's log)
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { netDrops, netDropsSince, type NetDrops } from './lib/net-stats.ts';
import { climbAndBisect } from './lib/ladder.ts';
import { CpuWindow, measureQuietly, waitForQuiet } from './lib/quiet.ts';
import { startOutpostRelay, startRtpengineRelay, type RelayUnderTest } from './lib/relays.ts';
import { kernelVersion, machine, printResult, runMain } from './lib/report.ts';
import { PACKET_BYTES, PACKETS_PER_SECOND_PER_DIRECTION, RtpLoad, type GeneratorKind, type RunSummary } from './lib/rtp-load.ts';
import { rtpengineVersion } from './lib/rtpengine.ts';
import { Teardown } from './lib/teardown.ts';
import { HarnessError } from './lib/harness-error.ts';

const MAX_LOSS_RATIO = 0.0001;
const MIN_OFFERED = 0.99;
/** A packet that has not arrived this long after the step's last send counts as lost. */
const DRAIN_MS = 1000;
/** The second, stricter figure: steps that also kept the p99 latency at or under this. */
const P99_LIMIT_MS = 50;
const PPS_PER_CALL = 2 * PACKETS_PER_SECOND_PER_DIRECTION;
const FULL_LADDER = [100, 200, 300, 400, 500, 600, 700, 800, 1000, 1200, 1400, 1600, 2000, 2500, 3000];
const QUICK_LADDER = [100, 200];
/**
 * Relay ports: 4 per call, below the OS's ephemeral range (32768-60999, where the generator's
 * sockets are) and the integration tests' 30000-32699. Room for 5000 calls.
 */
const PORT_RANGE: [number, number] = [10000, 29999];
const MAX_CALLS = Math.floor((PORT_RANGE[1] - PORT_RANGE[0] + 1) / 4);
const DISTURBED_CORES = 0.15;

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    calls: { type: 'string' },
    only: { type: 'string' },
    generator: { type: 'string', default: 'native' },
    generators: { type: 'string', default: '2' },
    'rtpengine-threads': { type: 'string', default: '2' },
    pin: { type: 'boolean', default: false },
    'no-bisect': { type: 'boolean', default: false },
    'no-baseline': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});
const quick = opts.quick;
const DURATION_S = Number(opts.duration ?? (quick ? 3 : 8));
const LADDER = opts.calls ? opts.calls.split(',').map(Number) : quick ? QUICK_LADDER : FULL_LADDER;
const GENERATORS = Number(opts.generators);
const GENERATOR_KIND = opts.generator as GeneratorKind;
if (GENERATOR_KIND !== 'native' && GENERATOR_KIND !== 'node') throw new HarnessError('--generator must be native or node');
const RTPENGINE_THREADS = Number(opts['rtpengine-threads']);
const BISECT = !opts['no-bisect'] && !quick;
const PIN = opts.pin;
if (!(DURATION_S > 0) || LADDER.some((n) => !(n > 0 && n <= MAX_CALLS)) || !(GENERATORS >= 1) || !(RTPENGINE_THREADS >= 1)) {
  throw new HarnessError(`bad --duration, --calls (1..${MAX_CALLS}), --generators or --rtpengine-threads`);
}
if (opts.only && opts.only !== 'outpost' && opts.only !== 'rtpengine') throw new HarnessError('--only must be outpost or rtpengine');
const RELAY_CPUS = PIN ? '0' : undefined;
const GENERATOR_CPUS = PIN ? Array.from({ length: GENERATORS }, () => '1') : undefined;

const log = (msg: string) => process.stderr.write(`[media-bench] ${msg}\n`);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Step {
  calls: number;
  /** Packets/s the generator offered the relay (both directions) = packets/s relayed when nothing is lost. */
  offeredPps: number;
  targetPps: number;
  sent: number;
  received: number;
  lost: number;
  lossRatio: number;
  reordered: number;
  misrouted: number;
  /** generator -> relay -> generator, ms. */
  latencyMs: RunSummary['latencyMs'];
  maxSendLagMs: number;
  /** Average cores used during the step by the relay (all threads), the generator, and everything else. */
  relayCpu: number;
  generatorCpu: number;
  otherCpu: number;
  /** Relay CPU per relayed packet, µs. */
  relayUsPerPacket: number;
  /** Datagrams the kernel dropped during the step (whole machine): full receive buffers, failed sends, input backlog. */
  kernelDrops: NetDrops;
  relayRssMb: number;
  pass: boolean;
  reason?: 'loss' | 'rate-not-offered' | 'relay-died' | 'misrouted';
  repeatedAfterDisturbance?: boolean;
}

interface RelayResult {
  /** Highest number of concurrent calls that passed, and its packet rate (packets/s relayed). */
  maxCalls: number;
  maxPps: number;
  /** At maxCalls: latency and relay CPU. */
  latencyAtMaxMs: { p50: number; p99: number } | null;
  relayCpuAtMax: number | null;
  relayUsPerPacketAtMax: number | null;
  /** The same with the p99 latency at or under P99_LIMIT_MS as well (from the steps run). */
  maxCallsP99Within: { limitMs: number; calls: number; pps: number };
  /** Whether a failing step was found (false: every step passed). */
  saturated: boolean;
  /** What ran out at the first failing step: the relay's CPU, the machine's two cores, or the generator. */
  limitedBy: 'relay' | 'machine' | 'generator' | null;
  disturbedSteps: number;
  maxOtherCpu: number;
  steps: Step[];
}

async function measureStep(relay: RelayUnderTest, load: RtpLoad, calls: number): Promise<Step> {
  const window = new CpuWindow(() => relay.cpuSeconds() + load.cpuSeconds());
  const relay0 = relay.cpuSeconds();
  const gen0 = load.cpuSeconds();
  const drops0 = netDrops();
  const r = await load.run(calls, DURATION_S, DRAIN_MS);
  const w = window.read();
  const relayCpu = (relay.cpuSeconds() - relay0) / w.wallS;
  const generatorCpu = (load.cpuSeconds() - gen0) / w.wallS;
  const targetPps = calls * PPS_PER_CALL;
  // CPU over the whole window (send span + drain) per packet relayed.
  const relayUsPerPacket = r.received > 0 ? ((relay.cpuSeconds() - relay0) * 1e6) / r.received : NaN;
  const step: Step = {
    calls,
    offeredPps: r.offeredPps,
    targetPps,
    sent: r.sent,
    received: r.received,
    lost: r.lost,
    lossRatio: round(r.lossRatio, 7),
    reordered: r.reordered,
    misrouted: r.misrouted,
    latencyMs: r.latencyMs,
    maxSendLagMs: r.maxSendLagMs,
    relayCpu: round(relayCpu, 2),
    generatorCpu: round(generatorCpu, 2),
    otherCpu: w.other,
    relayUsPerPacket: round(relayUsPerPacket, 2),
    kernelDrops: netDropsSince(drops0),
    relayRssMb: Math.round(relay.rssMb()),
    pass: true,
  };
  const dead = relay.dead();
  if (dead) Object.assign(step, { pass: false, reason: 'relay-died' });
  else if (r.misrouted > 0) Object.assign(step, { pass: false, reason: 'misrouted' });
  else if (r.lossRatio >= MAX_LOSS_RATIO) Object.assign(step, { pass: false, reason: 'loss' });
  else if (r.offeredPps < MIN_OFFERED * targetPps) Object.assign(step, { pass: false, reason: 'rate-not-offered' });
  log(
    `${relay.name} ${calls} calls: ${r.offeredPps}/${targetPps} pkt/s offered, lost ${r.lost}/${r.sent} (${round(r.lossRatio * 100, 4)} %), ` +
      `latency p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} max ${r.latencyMs.max} ms, send lag ${r.maxSendLagMs} ms, ` +
      `cpu relay ${step.relayCpu} (${step.relayUsPerPacket} µs/pkt) gen ${step.generatorCpu} other ${step.otherCpu}, kernel drops ${JSON.stringify(step.kernelDrops)} ` +
      `-> ${step.pass ? 'pass' : `FAIL (${step.reason})`}`,
  );
  if (dead) log(dead);
  return step;
}

/** Sessions for flows [have, calls) on the relay, the generator pointed at them, and every phone primed. */
async function ensureCalls(relay: RelayUnderTest, load: RtpLoad, calls: number, allocated: { n: number }): Promise<void> {
  if (calls > allocated.n) {
    const t0 = performance.now();
    const ports = await load.open(calls);
    const fresh = ports.slice(allocated.n, calls);
    const targets = await relay.allocate(fresh);
    await load.setTargets(targets.map((t, i) => ({ flow: allocated.n + i, ...t })));
    log(`${relay.name}: ${calls - allocated.n} more sessions set up in ${Math.round(performance.now() - t0)} ms (${calls} in all)`);
    allocated.n = calls;
  }
  await load.prime(calls);
  await sleep(300);
}

async function benchRelay(relay: RelayUnderTest, load: RtpLoad): Promise<RelayResult> {
  const allocated = { n: 0 };
  const own = () => relay.cpuSeconds() + load.cpuSeconds();
  // Warm-up: latching, JIT, socket buffers; not recorded.
  const warmCalls = Math.min(100, LADDER[0]!);
  await ensureCalls(relay, load, warmCalls, allocated);
  const warm = await load.run(warmCalls, 2);
  log(`${relay.name}: warm-up ${warmCalls} calls, lost ${warm.lost}/${warm.sent}, p50 ${warm.latencyMs.p50} ms`);

  const measured = async (calls: number): Promise<Step> => {
    await ensureCalls(relay, load, calls, allocated);
    return measureQuietly({ quiet: () => waitForQuiet(own, log), run: () => measureStep(relay, load, calls), disturbedCores: DISTURBED_CORES, diedReason: 'relay-died', label: `${relay.name} ${calls} calls`, log });
  };
  const { lastGood, climbFailed: firstBad, steps } = await climbAndBisect({
    loads: LADDER,
    measure: measured,
    check: () => teardown.check(),
    pauseMs: 1000,
    ...(BISECT ? { bisect: { steps: 1, quantum: 50, pauseMs: 2000, canGo: () => !relay.dead() } } : {}),
  });
  const best = steps.find((s) => s.pass && s.calls === lastGood);
  const failing = steps.find((s) => !s.pass && s.calls === firstBad);
  let limitedBy: RelayResult['limitedBy'] = null;
  if (failing) {
    const relayCores = relay.name === 'outpost' ? 1 : Math.min(RTPENGINE_THREADS, cpus().length);
    const machineCores = cpus().length;
    if (failing.relayCpu >= 0.85 * relayCores) limitedBy = 'relay';
    else if (failing.relayCpu + failing.generatorCpu + failing.otherCpu >= 0.9 * machineCores) limitedBy = 'machine';
    else limitedBy = 'generator';
  }
  return {
    maxCalls: lastGood,
    maxPps: best ? best.offeredPps : 0,
    maxCallsP99Within: (() => {
      const ok = steps.filter((s) => s.pass && s.latencyMs.p99 <= P99_LIMIT_MS && s.calls <= lastGood).sort((x, y) => y.calls - x.calls)[0];
      return { limitMs: P99_LIMIT_MS, calls: ok?.calls ?? 0, pps: ok?.offeredPps ?? 0 };
    })(),
    latencyAtMaxMs: best ? { p50: best.latencyMs.p50, p99: best.latencyMs.p99 } : null,
    relayCpuAtMax: best ? best.relayCpu : null,
    relayUsPerPacketAtMax: best ? best.relayUsPerPacket : null,
    saturated: firstBad !== undefined,
    limitedBy,
    disturbedSteps: steps.filter((s) => s.otherCpu >= DISTURBED_CORES).length,
    maxOtherCpu: Math.max(0, ...steps.map((s) => s.otherCpu)),
    steps,
  };
}

// ---------------------------------------------------------------------------------------------

const teardown = new Teardown(log).install();

/** Runs `fn` with a fresh generator and relay, and stops both whatever happens. */
async function withRelay<T>(start: () => Promise<RelayUnderTest>, fn: (relay: RelayUnderTest, load: RtpLoad) => Promise<T>): Promise<T> {
  const load = await RtpLoad.start({ workers: GENERATORS, kind: GENERATOR_KIND, ...(GENERATOR_CPUS ? { cpus: GENERATOR_CPUS } : {}) });
  const stopLoad = teardown.push(() => load.stop());
  let relay: RelayUnderTest | undefined;
  let stopRelay: (() => Promise<unknown>) | undefined;
  try {
    relay = await start();
    const r = relay;
    stopRelay = async () => {
      const code = await r.stop();
      log(`${r.name} stopped (${code !== null ? `exit ${code}` : 'signal'})`);
    };
    teardown.push(stopRelay);
    log(`${relay.name} relay running (pid ${relay.pid})`);
    return await fn(relay, load);
  } finally {
    await teardown.release(stopRelay);
    await teardown.release(stopLoad);
  }
}

/** Generator only (phones send to each other directly): the latency and CPU floor of the harness. */
async function baseline(): Promise<{ calls: number; latencyMs: RunSummary['latencyMs']; lossRatio: number; generatorCpu: number; generatorUsPerPacket: number }> {
  const load = await RtpLoad.start({ workers: GENERATORS, kind: GENERATOR_KIND, ...(GENERATOR_CPUS ? { cpus: GENERATOR_CPUS } : {}) });
  const stop = teardown.push(() => load.stop());
  try {
    const calls = 300;
    const ports = await load.open(calls);
    await load.setTargets(ports.map((p, i) => ({ flow: i, aSendsTo: p.b, bSendsTo: p.a })));
    await waitForQuiet(() => load.cpuSeconds(), log);
    const gen0 = load.cpuSeconds();
    const t0 = performance.now();
    const r = await load.run(calls, Math.min(DURATION_S, 4));
    const cpuS = load.cpuSeconds() - gen0;
    const generatorCpu = round(cpuS / ((performance.now() - t0) / 1000), 2);
    log(`baseline (no relay) ${calls} calls: latency p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} ms, lost ${r.lost}, generator cpu ${generatorCpu}`);
    return { calls, latencyMs: r.latencyMs, lossRatio: round(r.lossRatio, 7), generatorCpu, generatorUsPerPacket: round((cpuS * 1e6) / Math.max(1, r.sent), 2) };
  } finally {
    await teardown.release(stop);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const version = rtpengineVersion();
  log(`ladder ${LADDER.join(', ')} calls, ${DURATION_S} s per step, ${GENERATORS} ${GENERATOR_KIND} generator process(es)${PIN ? ', pinned: relay cpu 0, generator cpu 1' : ''}`);
  const dir = teardown.tempDir('media-bench-', opts.keep);
  let base: Awaited<ReturnType<typeof baseline>> | null = null;
  let outpost: RelayResult | null = null;
  let rtpengine: (RelayResult & { version: string; threads: number }) | null = null;
  try {
    if (!opts['no-baseline']) base = await baseline();
    if (opts.only !== 'rtpengine') {
      outpost = await withRelay(
        () => startOutpostRelay(PORT_RANGE, RELAY_CPUS),
        async (relay, load) => {
          const result = await benchRelay(relay, load);
          const counters = await relay.counters().catch(() => undefined);
          if (counters) log(`outpost relay counters: ${JSON.stringify(counters)}`);
          return result;
        },
      );
    }
    if (opts.only !== 'outpost') {
      if (!version) log('rtpengine is not installed: skipping it');
      else {
        const threads = PIN ? 1 : RTPENGINE_THREADS;
        const result = await withRelay(
          () => startRtpengineRelay({ dir, portRange: PORT_RANGE, threads, ...(RELAY_CPUS ? { cpuList: RELAY_CPUS } : {}) }),
          (relay, load) => benchRelay(relay, load),
        );
        rtpengine = { version, threads, ...result };
      }
    }
  } finally {
    await teardown.runAll();
  }
  // Relay CPU per packet at the highest load both relays handled well (passed, p99 within the
  // limit): at the same offered load, and before either saturates (a saturated relay drains its
  // sockets in bigger batches, which lowers its CPU per packet and says nothing good about it).
  let common: { calls: number; outpostUsPerPacket: number; rtpengineUsPerPacket: number } | null = null;
  if (outpost && rtpengine) {
    const good = (s: Step) => s.pass && s.latencyMs.p99 <= P99_LIMIT_MS;
    const both = outpost.steps.filter((s) => good(s) && rtpengine!.steps.some((t) => good(t) && t.calls === s.calls)).map((s) => s.calls);
    const calls = Math.max(0, ...both);
    const o = outpost.steps.find((s) => good(s) && s.calls === calls);
    const r = rtpengine.steps.find((s) => good(s) && s.calls === calls);
    if (o && r) common = { calls, outpostUsPerPacket: o.relayUsPerPacket, rtpengineUsPerPacket: r.relayUsPerPacket };
  }
  const result = {
    bench: 'media-relay',
    packetBytes: PACKET_BYTES,
    ptimeMs: 20,
    packetsPerSecondPerCall: PPS_PER_CALL,
    stepDurationS: DURATION_S,
    quick,
    criterion: { maxLossRatio: MAX_LOSS_RATIO, minOffered: MIN_OFFERED, drainMs: DRAIN_MS, p99LimitMs: P99_LIMIT_MS },
    generator: { kind: GENERATOR_KIND, processes: GENERATORS, pinned: PIN ? { relay: RELAY_CPUS, generator: '1' } : null },
    baseline: base,
    outpost,
    rtpengine,
    ratio: {
      /** Max packet rate passed, Outpost / rtpengine. */
      maxPps: outpost && rtpengine && rtpengine.maxPps > 0 ? round(outpost.maxPps / rtpengine.maxPps) : null,
      /** The same for the rates passed with p99 <= P99_LIMIT_MS. */
      maxPpsP99Within: outpost && rtpengine && rtpengine.maxCallsP99Within.pps > 0 ? round(outpost.maxCallsP99Within.pps / rtpengine.maxCallsP99Within.pps) : null,
      /** At the same load (the highest both handled with p99 <= P99_LIMIT_MS): rtpengine's CPU per packet / Outpost's. */
      cpuEfficiency: common && common.outpostUsPerPacket > 0 ? round(common.rtpengineUsPerPacket / common.outpostUsPerPacket) : null,
      atCalls: common,
    },
    quietMachine: [outpost, rtpengine].every((r) => !r || r.disturbedSteps === 0),
    machine: { ...machine(), kernel: kernelVersion() },
    durationS: Math.round((performance.now() - started) / 1000),
  };
  printResult(result);
}

runMain(main, log, teardown);
