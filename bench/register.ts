/**
 * REGISTER-with-digest-auth throughput: Outpost against Kamailio, on this machine, over UDP.
 *
 *   node --import tsx bench/register.ts [--quick] [options]      (or: npm run bench:register)
 *
 * For each server in turn (the other one is not running): start it on 127.0.0.1 with N users,
 * register every user once (warm-up), check that a wrong password is refused, then drive sipp
 * with the REGISTER / 401 / REGISTER+credentials / 200 scenario at increasing rates. A step
 * passes when fewer than 0.1 % of its registrations fail or go unanswered and sipp managed to
 * offer at least 95 % of the requested rate; the climb stops at the first failing step, and one
 * bisection between the last good and the first bad rate refines the result. The max rate is
 * the highest passing rate. sipp shares the machine's cores with the server under test.
 *
 * Progress goes to stderr; stdout gets exactly one JSON line with the results.
 * Options:
 *   --quick                 two short low-rate steps per server (smoke test)
 *   --users N               users per server (default 5000; quick: 500)
 *   --duration S            seconds per step (default 6; quick: 2)
 *   --rates a,b,c           the rate ladder in registrations/s
 *   --only outpost|kamailio run one server
 *   --kamailio-children N   kamailio UDP receiver processes (default 2 = the cores here)
 *   --kamailio-shm MB       kamailio shared memory (default 4096)
 *   --kamailio-mem qm|fm|tlsf  kamailio memory manager (default: kamailio's own, qm)
 *   --no-bisect             skip the bisection step
 *   --cpu-prof              profile Outpost with V8's sampler (a .cpuprofile in a kept temp dir)
 *   --cpu-prof-dir DIR      ... and write the .cpuprofile to DIR
 *   --keep                  keep the temporary directories
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { computeHa1 } from '../agent/sip/auth/digest.ts';
import { Store } from '../agent/store/store.ts';
import { diagnostics, startNode, tempDir, writeNodeConfig } from './lib/node-process.ts';
import { findKamailio, startKamailio, type KamailioProcess } from './lib/kamailio.ts';
import { climbAndBisect } from './lib/ladder.ts';
import { freeUdpPort, machineBusySeconds, processCpuSeconds, processRssMb, reapedChildrenCpuSeconds, stopProcess, udpCounters } from './lib/procs.ts';
import { measureQuietly, waitForQuiet } from './lib/quiet.ts';
import { machine, outpostVersion, printResult, runMain } from './lib/report.ts';
import { loadVerdict, parseSippStats, runSipp, sippOutcome, sippVersion, stopAllSipp, type SippLoadStep } from './lib/sipp.ts';
import { Teardown } from './lib/teardown.ts';
import { HarnessError } from './lib/harness-error.ts';

const DOMAIN = 'branch-a.example';
const SCENARIO = join(import.meta.dirname, 'lib/sipp/register-auth.xml');
const BAD_PASSWORD_SCENARIO = join(import.meta.dirname, 'lib/sipp/register-bad-password.xml');
const MAX_FAIL_RATIO = 0.001;
const MIN_OFFERED = 0.95;
const FULL_RATES = [250, 500, 1000, 2000, 3000, 4000, 6000, 8000, 10000, 12000, 16000, 20000];
const QUICK_RATES = [100, 250];

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    users: { type: 'string' },
    duration: { type: 'string' },
    rates: { type: 'string' },
    only: { type: 'string' },
    'kamailio-children': { type: 'string', default: '2' },
    'kamailio-shm': { type: 'string', default: '4096' },
    'kamailio-mem': { type: 'string' },
    'no-bisect': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});
const cpuProfDir = opts['cpu-prof-dir'];
const cpuProf = opts['cpu-prof'] || cpuProfDir !== undefined;

const quick = opts.quick;
const USERS = Number(opts.users ?? (quick ? 500 : 5000));
const DURATION_S = Number(opts.duration ?? (quick ? 2 : 6));
const RATES = opts.rates ? opts.rates.split(',').map(Number) : quick ? QUICK_RATES : FULL_RATES;
const KAMAILIO_CHILDREN = Number(opts['kamailio-children']);
const BISECT = !opts['no-bisect'] && !quick;
if (!(USERS > 0) || !(DURATION_S > 0) || RATES.some((r) => !(r > 0)) || !(KAMAILIO_CHILDREN >= 1)) {
  throw new HarnessError('bad --users, --duration, --rates or --kamailio-children');
}
if (opts.only && opts.only !== 'outpost' && opts.only !== 'kamailio') throw new HarnessError('--only must be outpost or kamailio');

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

interface Target {
  name: string;
  udp: { host: string; port: number };
  /** CPU seconds used so far by the server (all its processes / threads). */
  cpuSeconds(): number;
  /** A reason when the server has died. */
  dead(): string | undefined;
  /** Resident memory in MB, where one number means something (not for kamailio's shared memory). */
  rssMb?(): number;
}

/** offeredRate: created registrations / sipp run time; achievedRate: successful ones / run time. */
interface Step extends SippLoadStep {
  /** Datagrams the kernel dropped because a UDP receive buffer was full (server or sipp). */
  udpRcvbufDrops: number;
  /** Average cores used during the step by the server and by sipp. */
  serverCpu: number;
  sippCpu: number;
  /** Cores used by everything else on the machine meanwhile (this script included): should be ~0. */
  otherCpu: number;
  /** Server resident memory at the end of the step (Outpost only), MB. */
  serverRssMb?: number;
  reason?: 'failures' | 'rate-not-offered' | 'server-died';
}

interface ServerResult {
  maxRate: number;
  /** Whether the ladder found a failing rate (false: the server passed every step). */
  saturated: boolean;
  /** What ended the climb: the server (failures) or sipp (could not offer the rate). */
  limitedBy: 'server' | 'client' | null;
  rejectsBadPassword: boolean;
  /** Steps during which other processes used >= DISTURBED_CORES, and the most they used. */
  disturbedSteps: number;
  maxOtherCpu: number;
  warmup: Pick<Step, 'attempts' | 'successful' | 'failRatio'>;
  steps: Step[];
}

function userRows(): string[] {
  return Array.from({ length: USERS }, (_, i) => `${userExt(i)};${userPassword(i)};${DOMAIN}`);
}
const userExt = (i: number) => String(100000 + i);
const userPassword = (i: number) => `pw-${i}-bench`;

async function runStep(target: Target, rate: number, durationS: number, dir: string, injection: string[], localPort: number): Promise<Step> {
  teardown.check();
  const attempts = Math.max(1, Math.round(rate * durationS));
  const cpu0 = target.cpuSeconds();
  const sipp0 = reapedChildrenCpuSeconds();
  const udp0 = udpCounters();
  const busy0 = machineBusySeconds();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await runSipp({
    scenario: SCENARIO,
    target: target.udp,
    transport: 'u1',
    localPort,
    calls: attempts,
    rate,
    injection,
    dir,
    // About one second of registrations in flight before sipp holds back new ones.
    maxConcurrent: Math.max(200, rate),
    timeoutS: durationS + 15,
  });
  const wallS = (performance.now() - t0) / 1000;
  const serverCpu = (target.cpuSeconds() - cpu0) / wallS;
  const sippCpu = (reapedChildrenCpuSeconds() - sipp0) / wallS;
  const busy = (machineBusySeconds() - busy0) / wallS;
  const self = process.cpuUsage(self0);
  const selfCpu = (self.user + self.system) / 1e6 / wallS;
  const otherCpu = Math.max(0, busy - serverCpu - sippCpu - selfCpu);
  const udpRcvbufDrops = udpCounters().rcvbufErrors - udp0.rcvbufErrors;
  const { stats: st, failed, unanswered, failRatio, elapsedS } = sippOutcome(res, attempts, wallS);
  const offeredRate = st.created / elapsedS;
  const step: Step = {
    rate,
    attempts,
    successful: st.successful,
    failed,
    unanswered,
    failRatio: round(failRatio, 5),
    offeredRate: Math.round(offeredRate),
    achievedRate: Math.round(st.successful / elapsedS),
    elapsedS: round(elapsedS, 2),
    retransmissions: st.retransmissions,
    peakConcurrent: st.peakConcurrent,
    udpRcvbufDrops,
    serverCpu: round(serverCpu, 2),
    sippCpu: round(sippCpu, 2),
    otherCpu: round(otherCpu, 2),
    ...(target.rssMb ? { serverRssMb: Math.round(target.rssMb()) } : {}),
    pass: true,
    sippExit: res.code,
  };
  const dead = target.dead();
  Object.assign(step, loadVerdict({ died: dead ? 'server-died' : undefined, failRatio, maxFailRatio: MAX_FAIL_RATIO, offeredRate, minOfferedRate: MIN_OFFERED * rate }));
  log(
    `${target.name} ${rate}/s: ${st.successful}/${attempts} ok, ${failed} failed, ${unanswered} unanswered, ` +
      `offered ${step.offeredRate}/s, retrans ${st.retransmissions}, udp drops ${udpRcvbufDrops}, peak ${st.peakConcurrent} in flight, ` +
      `cpu server ${step.serverCpu} sipp ${step.sippCpu} other ${step.otherCpu} -> ${step.pass ? 'pass' : `FAIL (${step.reason})`}`,
  );
  if (dead) log(`${target.name} died: ${dead}`);
  return step;
}

async function checkBadPassword(target: Target, dir: string): Promise<boolean> {
  // From 127.0.0.2 so that a failure-counting ban (Outpost) cannot touch the load source.
  const res = await runSipp({
    scenario: BAD_PASSWORD_SCENARIO,
    target: target.udp,
    transport: 'u1',
    calls: 1,
    rate: 1,
    injection: [`${userExt(0)};not-the-password;${DOMAIN}`],
    dir,
    localIp: '127.0.0.2',
    maxConcurrent: 1,
    timeoutS: 10,
  });
  const st = parseSippStats(res.stdout);
  const ok = res.code === 0 && st.successful === 1;
  log(`${target.name}: wrong password ${ok ? 'refused (401 then 403)' : `NOT refused as expected (sipp exit ${res.code}, ${st.successful} ok, ${st.failed} failed)`}`);
  return ok;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Steps during which other processes used at least this many cores count as disturbed. */
const DISTURBED_CORES = 0.1;

async function benchServer(target: Target, dir: string): Promise<ServerResult> {
  const injection = userRows();
  // One sipp port for all of this server's runs: each user keeps one contact, and every step
  // refreshes that binding (like a phone re-registering) instead of adding a new one.
  const localPort = await freeUdpPort();
  // Warm-up: every user registers once (creates the bindings, warms JITs and caches).
  const warmRate = quick ? 250 : 1000;
  log(`${target.name}: warm-up, ${USERS} registrations at ${warmRate}/s`);
  const warm = await runStep(target, warmRate, USERS / warmRate, dir, injection, localPort);
  const rejectsBadPassword = await checkBadPassword(target, dir);
  await sleep(1000);

  // This machine may be shared: before each step, wait (up to 120 s) until other processes are quiet.
  const quiet = () => waitForQuiet(() => target.cpuSeconds(), log, 0.1, 120);
  const measured = (rate: number) =>
    measureQuietly({ quiet, run: () => runStep(target, rate, DURATION_S, dir, injection, localPort), disturbedCores: DISTURBED_CORES, diedReason: 'server-died', label: `${target.name} ${rate}/s`, log });
  const { lastGood, climbFailed: firstBad, steps } = await climbAndBisect({
    loads: RATES,
    measure: measured,
    pauseMs: 2000,
    ...(BISECT ? { bisect: { steps: 1, quantum: 50, pauseMs: 3000, canGo: () => !target.dead() } } : {}),
  });
  const failing = steps.find((s) => !s.pass && s.rate === firstBad);
  let limitedBy: ServerResult['limitedBy'] = null;
  if (failing) {
    // sipp is single-threaded: near a full core it is the one that cannot keep up.
    limitedBy = failing.reason === 'rate-not-offered' && failing.sippCpu >= 0.9 ? 'client' : 'server';
  }
  return {
    maxRate: lastGood,
    saturated: firstBad !== undefined,
    limitedBy,
    rejectsBadPassword,
    disturbedSteps: steps.filter((st) => st.otherCpu >= DISTURBED_CORES).length,
    maxOtherCpu: Math.max(0, ...steps.map((st) => st.otherCpu)),
    warmup: { attempts: warm.attempts, successful: warm.successful, failRatio: warm.failRatio },
    steps,
  };
}

// ---------------------------------------------------------------------------------------------

const teardown = new Teardown(log).install();
teardown.first(stopAllSipp);

async function benchOutpost(): Promise<ServerResult & { version: string; cpuProfile?: string }> {
  const dir = teardown.tempDir('outpost-bench-', opts.keep);
  // The node's own defaults except: MD5 only (sipp 3.6 does no other digest), and a flood
  // limit high enough not to throttle one source sending thousands of requests a second.
  const config = writeNodeConfig(
    dir,
    `  auth: { algorithms: [MD5] }
  flood:
    rateLimit: { perSecond: 1000000, burst: 1000000 }
`,
    DOMAIN,
  );
  const t0 = performance.now();
  const store = Store.open({ dataDir: join(dir, 'data') });
  try {
    for (let i = 0; i < USERS; i++) {
      const ext = userExt(i);
      const pw = userPassword(i);
      store.users.upsert({ ext, displayName: '', realm: DOMAIN, site: 'branch-a', ha1Md5: computeHa1(ext, DOMAIN, pw, 'MD5'), ha1Sha256: computeHa1(ext, DOMAIN, pw, 'SHA-256') }, Date.now());
    }
  } finally {
    store.close();
  }
  log(`outpost: ${USERS} users stored in ${Math.round(performance.now() - t0)} ms`);

  let profDir: string | undefined;
  if (cpuProf) {
    profDir = resolve(cpuProfDir ?? tempDir('outpost-cpuprof-')); // outlives the data dir
    mkdirSync(profDir, { recursive: true });
  }
  const node = await startNode(config, dir, diagnostics({ cpuProfDir: profDir }));
  const stop = async () => {
    const code = await stopProcess(node.proc, { graceMs: 15_000 });
    log(`outpost stopped (${code !== null ? `exit ${code}` : `signal ${node.proc.signalCode}`})`);
  };
  teardown.push(stop);
  log(`outpost listening on udp ${node.udp.host}:${node.udp.port} (pid ${node.proc.pid})`);
  let exitInfo: string | undefined;
  node.proc.once('exit', (code, signal) => (exitInfo = `exit code ${code}, signal ${signal}`));
  const target: Target = {
    name: 'outpost',
    udp: node.udp,
    cpuSeconds: () => processCpuSeconds(node.proc.pid!),
    dead: () => exitInfo,
    rssMb: () => processRssMb(node.proc.pid!),
  };
  try {
    const result = await benchServer(target, dir);
    return { version: outpostVersion(), ...result, ...(profDir ? { cpuProfile: profDir } : {}) };
  } finally {
    await teardown.release(stop);
  }
}

async function benchKamailio(): Promise<(ServerResult & { version: string; children: number }) | null> {
  const info = findKamailio();
  if (!info) {
    log('kamailio is not installed: skipping it');
    return null;
  }
  const dir = teardown.tempDir('kamailio-bench-', opts.keep);
  const users: Array<[string, string]> = Array.from({ length: USERS }, (_, i) => [userExt(i), computeHa1(userExt(i), DOMAIN, userPassword(i), 'MD5')]);
  const kam: KamailioProcess = await startKamailio({ info, dir, realm: DOMAIN, users, children: KAMAILIO_CHILDREN, shmMb: Number(opts['kamailio-shm']), memManager: opts['kamailio-mem'] as 'qm' | 'fm' | 'tlsf' | undefined });
  const stop = async () => {
    const code = await kam.stop();
    log(`kamailio stopped (${code !== null ? `exit ${code}` : `signal ${kam.proc.signalCode}`})`);
  };
  teardown.push(stop);
  log(`kamailio ${info.version} listening on udp ${kam.udp.host}:${kam.udp.port} (children=${KAMAILIO_CHILDREN}, pid ${kam.proc.pid})`);
  let exitInfo: string | undefined;
  kam.proc.once('exit', (code, signal) => (exitInfo = `exit code ${code}, signal ${signal}: ${kam.output().slice(-2000)}`));
  const target: Target = { name: 'kamailio', udp: kam.udp, cpuSeconds: () => kam.cpuSeconds(), dead: () => exitInfo };
  try {
    const result = await benchServer(target, dir);
    if (!result.rejectsBadPassword) throw new HarnessError(`the kamailio config accepted a wrong password or did not answer 403; see ${kam.configFile}`);
    const errors = kam.output().split('\n').filter((l) => /\bERROR\b/.test(l));
    if (errors.length) log(`kamailio logged ${errors.length} ERROR lines, first: ${errors[0]}`);
    return { version: info.version, children: KAMAILIO_CHILDREN, ...result };
  } finally {
    await teardown.release(stop);
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  log(`users ${USERS}, ${DURATION_S} s per step, rates ${RATES.join(', ')}${BISECT ? ', one bisection' : ''}`);
  let outpost: Awaited<ReturnType<typeof benchOutpost>> | null = null;
  let kamailio: Awaited<ReturnType<typeof benchKamailio>> = null;
  try {
    if (opts.only !== 'kamailio') outpost = await benchOutpost();
    if (opts.only !== 'outpost') kamailio = await benchKamailio();
  } finally {
    await teardown.runAll();
  }
  const ratio = outpost && kamailio && kamailio.maxRate > 0 ? round(outpost.maxRate / kamailio.maxRate) : null;
  const result = {
    bench: 'register-digest',
    transport: 'udp',
    algorithm: 'MD5',
    users: USERS,
    stepDurationS: DURATION_S,
    quick,
    criterion: { maxFailRatio: MAX_FAIL_RATIO, minOffered: MIN_OFFERED },
    outpost,
    kamailio,
    ratio,
    // False when other processes competed for the cores during a measured step: compare with care.
    quietMachine: [outpost, kamailio].every((r) => !r || r.disturbedSteps === 0),
    machine: machine(),
    sipp: { version: sippVersion(), sameHost: true },
    durationS: Math.round((performance.now() - started) / 1000),
  };
  printResult(result);
}

runMain(main, log, teardown);
