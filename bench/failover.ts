/**
 * Benchmark (a) of issue 11: failover. From the SIGKILL of the box that owns the callee's
 * binding to the first answered call placed at another box of the site (docs/bench-failover.md).
 *
 *   node --import tsx bench/failover.ts [--trials N] [--interval MS]   (or: npm run bench:failover)
 *
 * A hub and boxes a1, a2 of site `a` as real processes (bench/lib/site.ts). Each trial:
 * a2 is (re)started and a1 sees it up; a sipp callee registers 2002 at a2 and then answers
 * every call on that port; once a1 holds the fresh binding, a2 is killed (SIGKILL) and calls
 * from 2001 to 2002 are placed at a1 every `--interval` ms (bench/lib/sip-caller.ts), each
 * CANCELled when not answered within a second, until one is answered. A call placed before a1
 * declares a2 down goes to a2 first and rings the phone directly once a1 does (docs/failover.md);
 * one placed after goes straight to the phone.
 * The failover time is the first 200's arrival minus the SIGKILL; a1's `peer down` decision is
 * reported too. Progress goes to stderr; stdout gets one JSON line. Targets (issue 11): p99
 * under 2 s, aim under 500 ms; reported, not asserted.
 */
import { parseArgs } from 'node:util';
import { Store } from '../agent/store/store.ts';
import { startBenchCallee } from './lib/calls-box.ts';
import type { Cluster } from './lib/cluster.ts';
import { tempDir } from './lib/node-process.ts';
import { now, type OutpostProcess } from './lib/outpost-process.ts';
import { freeUdpPort, udpPortBound } from './lib/procs.ts';
import { sippRegister, sitePassword, startSite } from './lib/site.ts';
import { machine, outpostVersion, printResult, runMain } from './lib/report.ts';
import { placeCall, type CallAttempt } from './lib/sip-caller.ts';
import { sippVersion } from './lib/sipp.ts';
import { Teardown } from './lib/teardown.ts';
import { waitFor } from './lib/wait-for.ts';

const { values: opts } = parseArgs({
  options: {
    trials: { type: 'string', default: '20' },
    interval: { type: 'string', default: '50' },
  },
});
const TRIALS = Number(opts.trials);
const INTERVAL_MS = Number(opts.interval);
/** A call not answered within this is CANCELled (it went to the dead box). */
const ATTEMPT_MS = 1_000;
/** A trial with no answered call within this fails. */
const TRIAL_MS = 15_000;
const CALLER = '2001';
const CALLEE = '2002';

const log = (msg: string) => process.stderr.write(`failover: ${msg}\n`);
const teardown = new Teardown(log).install();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Trial {
  /** SIGKILL of a2 -> the first 200 at the caller. */
  failoverMs: number | null;
  /** SIGKILL of a2 -> a1's `peer down` decision. */
  detectMs: number | null;
  /** Calls placed until the answered one (included). */
  attempts: number;
  /** The final responses those calls got, by status line, or `cancelled` (none by then). */
  statuses: Record<string, number>;
}

/** A fresh binding of 2002 owned by a2 (REGISTERed at or after `since`), as a1's store holds it. */
function holdsFresh(a1: OutpostProcess, since: number): boolean {
  const store = Store.open({ dataDir: a1.dataDir, mustExist: true });
  try {
    return store.registrations.live(CALLEE, Date.now()).some((b) => b.nodeId === 'a2' && b.updatedAt >= since);
  } finally {
    store.close();
  }
}

async function trial(cluster: Cluster, calleePort: number, first: boolean): Promise<Trial> {
  const [a1, a2] = [cluster.node('a1'), cluster.node('a2')];
  let from = first ? 0 : a1.logs.length;
  if (!first) await a2.start();
  await waitFor(() => a1.findLog('peer up', from, (l) => l['peer'] === 'a2'), 'a1 to see a2 up', 20_000, 20);
  const since = Date.now() - 1_000;
  await sippRegister({ dir: cluster.dir, domain: cluster.domain, box: a2, ext: CALLEE, port: calleePort });
  await waitFor(() => holdsFresh(a1, since), 'a1 to hold 2002\'s fresh binding at a2', 20_000, 50);
  const uas = await startBenchCallee(calleePort, cluster.dir, 500, 120, false);
  const stopUas = teardown.push(async () => uas.kill());
  await waitFor(() => udpPortBound(calleePort), 'the sipp callee to listen', 5_000);

  from = a1.logs.length;
  const killedAt = now();
  await a2.kill();
  const attempts: CallAttempt[] = [];
  const statuses: Record<string, number> = {};
  let answered: { at: number } | undefined;
  const target = a1.sip;
  while (!answered && now() - killedAt < TRIAL_MS) {
    const call = placeCall({ target, domain: cluster.domain, caller: CALLER, password: sitePassword(CALLER), callee: CALLEE });
    attempts.push(call);
    void call.final.then((f) => {
      const key = f.status === 0 ? 'cancelled' : `${f.status} ${f.reason}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (f.status === 200 && !answered) answered = { at: f.at };
    });
    setTimeout(() => call.cancel(), ATTEMPT_MS).unref();
    await sleep(INTERVAL_MS);
  }
  for (const a of attempts) a.cancel();
  // a1's log arrives through a pipe: its `peer down` line may still be on the way when the 200 is.
  const down = await waitFor(() => a1.findLog('peer down', from, (l) => l['peer'] === 'a2'), 'a1 to log "peer down"', 2_000, 20).catch(() => undefined);
  await teardown.release(stopUas);
  await sleep(300);
  return {
    failoverMs: answered ? Math.round(answered.at - killedAt) : null,
    detectMs: down ? Math.round(Number(down.line['at']) - killedAt) : null,
    attempts: attempts.length,
    statuses,
  };
}

function stats(values: Array<number | null>): { n: number; failed: number; p50: number | null; p99: number | null; max: number | null } {
  const ok = values.filter((v): v is number => v !== null).sort((x, y) => x - y);
  const q = (p: number) => (ok.length ? ok[Math.min(ok.length - 1, Math.ceil(p * ok.length) - 1)]! : null);
  return { n: ok.length, failed: values.length - ok.length, p50: q(0.5), p99: q(0.99), max: ok.length ? ok[ok.length - 1]! : null };
}

async function main(): Promise<void> {
  log(`${TRIALS} trials, a call every ${INTERVAL_MS} ms`);
  // Calls placed while a2 is not yet declared down wait on it: the limits must not refuse the next ones.
  const cluster = await startSite({
    dir: tempDir('outpost-failover-'), nodes: ['a1', 'a2'], users: [CALLER, CALLEE], domain: 'failover.example', nodeExtra: 'calls: { maxPerUser: 100 }\n', teardown,
  });
  const calleePort = await freeUdpPort();
  const trials: Trial[] = [];
  for (let i = 0; i < TRIALS; i++) {
    teardown.check();
    const t = await trial(cluster, calleePort, i === 0);
    log(`trial ${i + 1}: failover ${t.failoverMs} ms, a2 declared down after ${t.detectMs} ms, ${t.attempts} calls ${JSON.stringify(t.statuses)}`);
    trials.push(t);
  }
  await teardown.runAll();
  printResult({
    bench: 'failover',
    outpost: outpostVersion(),
    machine: machine(),
    sipp: sippVersion(),
    trials: TRIALS,
    intervalMs: INTERVAL_MS,
    failoverMs: stats(trials.map((t) => t.failoverMs)),
    detectMs: stats(trials.map((t) => t.detectMs)),
    attempts: stats(trials.map((t) => t.attempts)),
    targetMs: 2000,
    aimMs: 500,
  });
}

runMain(main, log, teardown);
