/**
 * Cross-box call setup rate against same-box call setup rate, in the same run (issue 11, bench b).
 *
 *   node --import tsx bench/cross-box.ts [--quick] [options]     (or: npm run bench:cross-box)
 *
 * A hub and boxes a1, a2 of one site on 127.0.0.1 (bench/lib/cross-box-site.ts). A sipp caller
 * sends every call to a1: INVITE, 407 digest challenge, INVITE with credentials (MD5), 180, 200,
 * ACK, hold --hold-ms, BYE, as bench/calls.ts does. Same-box calls go to callees registered at
 * a1 (a1 -> sipp callee); cross-box calls go to callees registered at a2 (a1 -> a2, signed with
 * a1's node key, -> sipp callee). Each kind climbs the same rate ladder (bench/lib/ladder.ts): a
 * step passes when fewer than 0.1 % of its calls fail or go unanswered and sipp offered at least
 * 95 % of the rate; the climb stops at the first failing step, one bisection refines it. The
 * ratio is the cross-box max rate over the same-box max rate (target >= 0.7; reported only).
 *
 * Progress goes to stderr; stdout gets exactly one JSON line with the results.
 * Options:
 *   --quick          two short steps of each kind (smoke test)
 *   --duration S     seconds per step (default 8; quick 3)
 *   --rates a,b,c    the rate ladder in calls/s
 *   --hold-ms MS     call length (default 1000)
 *   --no-bisect      skip the bisection
 *   --keep           keep the temporary directory (configs, logs, sipp traces)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { callRow, logCallerErrors, offeredCallRate, setupTimes, startBenchCallee, startBenchCaller } from './lib/calls-box.ts';
import { CrossBoxSite } from './lib/cross-box-site.ts';
import { climbAndBisect } from './lib/ladder.ts';
import { CpuWindow } from './lib/quiet.ts';
import { machine, outpostVersion, printResult, runMain } from './lib/report.ts';
import { loadVerdict, sippOutcome, sippVersion, stopAllSipp, type SippLoadStep } from './lib/sipp.ts';
import { Teardown } from './lib/teardown.ts';
import { HarnessError } from './lib/harness-error.ts';

const DOMAIN = 'cross-box.example';
const MAX_CALL_FAIL_RATIO = 0.001;
const MIN_OFFERED_CPS = 0.95;
const TARGET_RATIO = 0.7;
const USERS = 20;
const FULL_RATES = [10, 20, 40, 60, 80, 100, 150, 200, 250, 300, 400, 500];
const QUICK_RATES = [5, 10];

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    rates: { type: 'string' },
    'hold-ms': { type: 'string', default: '1000' },
    'no-bisect': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});
const quick = opts.quick;
const DURATION_S = Number(opts.duration ?? (quick ? 3 : 8));
const RATES = opts.rates ? opts.rates.split(',').map(Number) : quick ? QUICK_RATES : FULL_RATES;
const HOLD_MS = Number(opts['hold-ms']);
const BISECT = !opts['no-bisect'] && !quick;
if (!(DURATION_S > 0) || RATES.some((r) => !(r > 0)) || !(HOLD_MS >= 0)) throw new HarnessError('bad --duration, --rates or --hold-ms');

const log = (msg: string) => process.stderr.write(`[cross-box-bench] ${msg}\n`);
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Kind = 'same' | 'cross';

interface Step extends SippLoadStep {
  kind: Kind;
  /** sipp's rtd per call: first INVITE -> 200 (includes the 407 round trip), ms. */
  setupMs: { p50: number; p99: number; max: number } | null;
  /** Average cores used by each box during the step, and by everything else on the machine but sipp and this script. */
  cpu: { a1: number; a2: number; other: number };
  /** Times a1's peer liveness declared a2 down during the step (a2's users then get 480). */
  peerDowns: number;
  reason?: 'failures' | 'rate-not-offered' | 'box-died';
}

let stepNo = 0;

async function runStep(site: CrossBoxSite, dir: string, kind: Kind, rate: number, durationS: number): Promise<Step> {
  const attempts = Math.max(1, Math.round(rate * durationS));
  const cwd = join(dir, `step-${String(++stepNo).padStart(3, '0')}-${kind}-${rate}`);
  mkdirSync(cwd, { recursive: true });
  const deadlineS = Math.ceil(durationS * 2 + HOLD_MS / 1000 + 40);
  const cpu0 = { a1: site.a1.cpuSeconds(), a2: site.a2.cpuSeconds() };
  const downs0 = site.peerDowns();
  const window = new CpuWindow(() => site.a1.cpuSeconds() + site.a2.cpuSeconds());
  const uas = await startBenchCallee(site.uasPort, cwd, attempts, deadlineS, false);
  const rows = site.rows(kind, USERS, DOMAIN).map((r) => callRow(...r));
  const uac = startBenchCaller(site.a1.sip, cwd, rows, { calls: attempts, rate, holdMs: HOLD_MS, maxConcurrent: Math.max(200, Math.ceil(rate * (HOLD_MS / 1000 + 5))), deadlineS, trace: false });
  const res = await uac.done;
  const w = window.read();
  const cpu = { a1: round((site.a1.cpuSeconds() - cpu0.a1) / w.wallS, 2), a2: round((site.a2.cpuSeconds() - cpu0.a2) / w.wallS, 2), other: w.other };
  // The callee has seen every call of this step once the caller is done: stop it.
  if (!(await Promise.race([uas.done, sleep(3000).then(() => undefined)]))) await uas.stop();
  const { stats: st, failed, unanswered, failRatio, elapsedS } = sippOutcome(res, attempts, w.wallS);
  const setup = setupTimes(uac.file('_rtt.csv'));
  const offeredRate = offeredCallRate(setup, attempts, st.created, elapsedS, HOLD_MS);
  const step: Step = {
    kind, rate, attempts, successful: st.successful, failed, unanswered, failRatio: round(failRatio, 5),
    offeredRate: round(offeredRate, 1), achievedRate: round(offeredRate * (st.successful / Math.max(1, st.created)), 1), elapsedS: round(elapsedS, 2),
    retransmissions: st.retransmissions, peakConcurrent: st.peakConcurrent, setupMs: setup ? { p50: setup.p50, p99: setup.p99, max: setup.max } : null,
    cpu, peerDowns: site.peerDowns() - downs0, pass: true, sippExit: res.code,
  };
  const died = site.dead();
  Object.assign(step, loadVerdict({ died: died ? 'box-died' : undefined, failRatio, maxFailRatio: MAX_CALL_FAIL_RATIO, offeredRate, minOfferedRate: MIN_OFFERED_CPS * rate }));
  log(
    `${kind}-box ${rate}/s: ${st.successful}/${attempts} ok, ${failed} failed, ${unanswered} unanswered, offered ${step.offeredRate}/s, retrans ${st.retransmissions}, ` +
      `setup p50 ${setup?.p50 ?? '?'} p99 ${setup?.p99 ?? '?'} ms, cpu a1 ${cpu.a1} a2 ${cpu.a2} other ${cpu.other}, a2 declared down ${step.peerDowns}x -> ${step.pass ? 'pass' : `FAIL (${step.reason}${died ? `: ${died}` : ''})`}`,
  );
  if (!step.pass) logCallerErrors(uac, log);
  return step;
}

interface KindResult {
  maxRate: number;
  saturated: boolean;
  /** Setup time at the max rate, ms. */
  setupMsAtMax: Step['setupMs'];
  cpuAtMax: Step['cpu'] | null;
  /** Times a1 declared a2 down over all the steps of this kind. */
  peerDowns: number;
  steps: Step[];
}

async function climb(site: CrossBoxSite, dir: string, kind: Kind): Promise<KindResult> {
  log(`${kind}-box: warm-up at ${RATES[0]}/s`);
  await runStep(site, dir, kind, RATES[0]!, 2);
  const { lastGood, firstBad, steps } = await climbAndBisect({
    loads: RATES,
    measure: (rate) => runStep(site, dir, kind, rate, DURATION_S),
    check: () => teardown.check(),
    pauseMs: 2000,
    ...(BISECT ? { bisect: { steps: 1, quantum: 10, pauseMs: 2000, canGo: () => site.dead() === undefined } } : {}),
  });
  const best = steps.find((s) => s.pass && s.rate === lastGood);
  return { maxRate: lastGood, saturated: firstBad !== undefined, setupMsAtMax: best?.setupMs ?? null, cpuAtMax: best?.cpu ?? null, peerDowns: steps.reduce((n, s) => n + s.peerDowns, 0), steps };
}

const teardown = new Teardown(log).install();
teardown.first(stopAllSipp);

runMain(async () => {
  const started = Date.now();
  const dir = teardown.tempDir('outpost-cross-box-', opts.keep);
  const site = await CrossBoxSite.start({ dir, domain: DOMAIN, users: USERS, teardown, log });
  const same = await climb(site, dir, 'same');
  const cross = await climb(site, dir, 'cross');
  const ratio = same.maxRate > 0 ? round(cross.maxRate / same.maxRate, 2) : null;
  log(`same-box max ${same.maxRate} calls/s, cross-box max ${cross.maxRate} calls/s, ratio ${ratio} (target >= ${TARGET_RATIO})`);
  await teardown.runAll();
  printResult({
    bench: 'cross-box',
    at: new Date(started).toISOString(),
    machine: machine(),
    outpost: outpostVersion(),
    sipp: sippVersion(),
    quick,
    durationS: DURATION_S,
    holdMs: HOLD_MS,
    sameBox: same,
    crossBox: cross,
    ratio,
    target: TARGET_RATIO,
    meetsTarget: ratio !== null && ratio >= TARGET_RATIO,
    wallS: round((Date.now() - started) / 1000, 1),
  });
}, log, teardown);
