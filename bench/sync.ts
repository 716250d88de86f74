/**
 * Replication throughput and latency: hub + two nodes of one site as real processes, on this
 * machine, against the raw local merge rate measured in the same run.
 *
 *   node --import tsx bench/sync.ts [options]      (or: npm run bench:sync)
 *
 * 1. raw   the reference: 100 000 changes (CDR rows, CHANGES_PER_ROW = 17 changes each) built in a source store,
 *          read with ChangeLog.page(0, {}, 1e9) and merged into a fresh store with
 *          ChangeLog.apply() (INSERT INTO crsql_changes, one transaction); best of 3.
 * Then, per broker (the hub's embedded aedes; Mosquitto as the hub's external broker if it is
 * installed) and per transport (MQTT over mutual TLS with enrolled boxes, then plain MQTT, one
 * after the other on the same broker), with hub, n1 and n2 (site a) running:
 * 2. e2e     a burst of the same size written into n1's store by another process (transactions of
 *            100 rows), timed from the first commit until n2's store holds every row.
 * 3. latency single-row transactions on n1 at 100/s for 10 s; n2 (and the hub) polled every
 *            ~1.25 ms (setTimeout 1); visibility time minus commit time, p50/p99/max.
 * 4. backlog n2 stopped (SIGTERM), the burst written on n1 and merged by the hub, n2 started:
 *            time from n2's spawn (and from its "node started" line) until it holds every row.
 *
 * Changes are counted as rows x 16 (the non-primary-key columns of `cdrs`; one crsql_changes
 * row each) and checked against the receiver's cdrs__crsql_clock. Progress goes to stderr;
 * stdout gets exactly one JSON line with the results.
 * This file holds the options, the run per broker and the JSON line; the phases are in
 * bench/lib/sync-raw.ts, sync-e2e.ts, sync-latency.ts and sync-backlog.ts, the cluster in
 * bench/lib/sync-cluster.ts.
 * Options:
 *   --changes N          changes per burst (default 100000)
 *   --rows-per-tx N      rows per transaction of a burst (default 100)
 *   --latency-rate R     single-row transactions per second (default 100)
 *   --latency-seconds S  (default 10)
 *   --raw-repeats N      (default 3)
 *   --phases LIST        raw,e2e,latency,backlog (default all)
 *   --only aedes|mosquitto   one broker
 *   --transport tls|plain|both   (default both): `tlsCost` in the JSON line compares them per
 *                        broker (throughput ratio tls/plain, latency p99 of each)
 *   --skip-mosquitto
 *   --batch-size N, --max-in-flight N, --push-delay MS   the `sync` section of hub and nodes
 *   --nodelay            experiment: TCP_NODELAY on every socket of the Outpost processes (a
 *                        preload patches node:net) and `set_tcp_nodelay true` in Mosquitto
 *   --mosquitto-max-queued N  experiment: Mosquitto's max_queued_messages (default 1000): how many
 *                        QoS 1 batches it keeps for a stopped node's session (1: the backlog must
 *                        come through catch-up requests instead)
 *   --cpu-prof-dir DIR   V8 CPU profiles of hub, n1 and n2 (whole process lifetimes) into DIR
 *   --timeout S          longest wait for rows to arrive (default 120)
 *   --quiet-wait S       longest wait, before each measurement, for other processes to use
 *                        < 0.1 cores (default 120; the machine is shared)
 *   --keep               keep the temporary directories (configs, stores, logs)
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SyncSection, type SyncConfig } from '../agent/config/sync-schema.ts';
import { ROOT } from './lib/node-process.ts';
import { machine, printResult, runMain } from './lib/report.ts';
import { phaseBacklog } from './lib/sync-backlog.ts';
import { Teardown } from './lib/teardown.ts';
import { type BrokerKind, dead, diagnose, profileDirName, startCluster, waitForRows } from './lib/sync-cluster.ts';
import { log, sleep, TARGETS, type SyncBenchConfig } from './lib/sync-config.ts';
import { phaseE2e } from './lib/sync-e2e.ts';
import { phaseLatency } from './lib/sync-latency.ts';
import { findMosquitto } from './lib/mosquitto.ts';
import { now } from './lib/outpost-process.ts';
import { rawMerge, type RawResult } from './lib/sync-raw.ts';
import { CHANGES_PER_ROW } from './lib/sync-writer.ts';
import { HarnessError } from './lib/harness-error.ts';

const { values: opts } = parseArgs({
  options: {
    changes: { type: 'string', default: '100000' },
    'rows-per-tx': { type: 'string', default: '100' },
    'latency-rate': { type: 'string', default: '100' },
    'latency-seconds': { type: 'string', default: '10' },
    'raw-repeats': { type: 'string', default: '3' },
    phases: { type: 'string', default: 'raw,e2e,latency,backlog' },
    only: { type: 'string' },
    transport: { type: 'string', default: 'both' },
    'skip-mosquitto': { type: 'boolean', default: false },
    'batch-size': { type: 'string' },
    'max-in-flight': { type: 'string' },
    'push-delay': { type: 'string' },
    nodelay: { type: 'boolean', default: false },
    'mosquitto-max-queued': { type: 'string' },
    'cpu-prof-dir': { type: 'string' },
    timeout: { type: 'string', default: '120' },
    'quiet-wait': { type: 'string', default: '120' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
  allowPositionals: false,
});

const CHANGES = Number(opts.changes);
const ROWS_PER_TX = Number(opts['rows-per-tx']);
const ROWS = Math.ceil(CHANGES / CHANGES_PER_ROW);
const LAT_RATE = Number(opts['latency-rate']);
const LAT_COUNT = Math.round(LAT_RATE * Number(opts['latency-seconds']));
const RAW_REPEATS = Number(opts['raw-repeats']);
const TIMEOUT_MS = Number(opts.timeout) * 1000;
const QUIET_WAIT_S = Number(opts['quiet-wait']);
const PHASES = new Set(opts.phases.split(',').map((s) => s.trim()));
for (const p of PHASES) if (!['raw', 'e2e', 'latency', 'backlog'].includes(p)) throw new HarnessError(`unknown phase ${p}`);
if (![CHANGES, ROWS_PER_TX, LAT_RATE, LAT_COUNT, RAW_REPEATS, TIMEOUT_MS].every((n) => Number.isFinite(n) && n > 0)) throw new HarnessError('bad numeric option');
if (opts.only && opts.only !== 'aedes' && opts.only !== 'mosquitto') throw new HarnessError('--only must be aedes or mosquitto');
type Transport = 'tls' | 'plain';
const TRANSPORTS: Transport[] = opts.transport === 'both' ? ['tls', 'plain'] : opts.transport === 'tls' || opts.transport === 'plain' ? [opts.transport] : [];
if (TRANSPORTS.length === 0) throw new HarnessError('--transport must be tls, plain or both');
const SYNC_OVERRIDES: Partial<SyncConfig> = {
  ...(opts['batch-size'] ? { batchSize: Number(opts['batch-size']) } : {}),
  ...(opts['max-in-flight'] ? { maxInFlight: Number(opts['max-in-flight']) } : {}),
  ...(opts['push-delay'] ? { pushDelay: Number(opts['push-delay']) } : {}),
};
/** What hub and nodes run with: their defaults plus the overrides (validated like a config file). */
const SYNC: SyncConfig = SyncSection.parse(SYNC_OVERRIDES);
const cpuProfDir = opts['cpu-prof-dir'] ? resolve(opts['cpu-prof-dir']) : undefined;

const cfg: SyncBenchConfig = {
  rows: ROWS,
  rowsPerTx: ROWS_PER_TX,
  latRate: LAT_RATE,
  latCount: LAT_COUNT,
  rawRepeats: RAW_REPEATS,
  timeoutMs: TIMEOUT_MS,
  quietWaitS: QUIET_WAIT_S,
  syncOverrides: SYNC_OVERRIDES,
  sync: SYNC,
  nodelay: opts.nodelay,
  mosquittoMaxQueued: opts['mosquitto-max-queued'] ? Number(opts['mosquitto-max-queued']) : undefined,
  cpuProfDir,
  keep: opts.keep,
};

const teardown = new Teardown(log).install();

// ---- per broker -----------------------------------------------------------------------------

async function runBroker(kind: BrokerKind, transport: Transport, rawPerS: number | undefined, mosquitto?: { version: string }) {
  const c = await startCluster(cfg, teardown, kind, transport === 'tls');
  const out: Record<string, unknown> = {
    broker: kind === 'aedes' ? 'aedes (embedded in the hub)' : `mosquitto ${mosquitto!.version} (external)`,
    transport: transport === 'tls' ? 'MQTT over mutual TLS, boxes enrolled (mqtts://)' : 'plain MQTT (insecure dev mode)',
  };
  try {
    // Warm-up: proves the path works (keys pinned, streams known) and warms the JITs.
    const warmRows = 20 * ROWS_PER_TX;
    const t = now();
    await c.writer.burst('w-', 'n1', warmRows, ROWS_PER_TX);
    try {
      await waitForRows(c, 'warm-up n2', () => c.views.n2.count('w-'), warmRows, 5);
    } catch (err) {
      if (teardown.interrupted) throw err;
      log(`${kind}: warm-up FAILED: ${(err as Error).message}\n${diagnose(c, 'w-', warmRows)}`);
      throw new HarnessError(`warm-up failed: ${(err as Error).message.split('\n')[0]}`);
    }
    out['warmup'] = { rows: warmRows, ms: Math.round(now() - t) };
    log(`${kind}: warm-up ${warmRows} rows reached n2 in ${Math.round(now() - t)} ms`);
    const phases: Array<[string, () => Promise<unknown>]> = [];
    if (PHASES.has('e2e')) phases.push(['e2e', () => phaseE2e(c, rawPerS)]);
    if (PHASES.has('latency')) phases.push(['latency', () => phaseLatency(c)]);
    if (PHASES.has('backlog')) phases.push(['backlog', () => phaseBacklog(c)]);
    for (const [name, fn] of phases) {
      await sleep(1000);
      try {
        out[name] = await fn();
      } catch (err) {
        if (teardown.interrupted) throw err; // the signal handler is tearing everything down
        const msg = (err as Error).message;
        log(`${kind} ${name} FAILED: ${msg}`);
        out[name] = { error: msg.split('\n')[0] };
        if (!/died|interrupted/.test(msg)) log(diagnose(c, name === 'e2e' ? 'e-' : name === 'latency' ? 'l-' : 'k-', name === 'latency' ? LAT_COUNT : ROWS));
        if (dead(c) || teardown.interrupted) break;
      }
    }
  } finally {
    // Stop in order (writer, nodes, hub, broker) and report unclean exits.
    await c.writer.close();
    out['exits'] = await c.processes.stop();
    out['problems'] = Object.fromEntries([c.hub, c.n1, c.n2].map((p) => [p.name, p.problems()]).filter(([, v]) => Object.keys(v as object).length > 0));
    const mosquittoLog = c.processes.mosquitto?.tail(1000) ?? '';
    if (/error|warning/i.test(mosquittoLog)) out['mosquittoLog'] = mosquittoLog.split('\n').filter((l) => /error|warning/i.test(l)).slice(-10);
    if (cpuProfDir) out['profiles'] = { dir: join(cpuProfDir, profileDirName(kind, transport === 'tls')), pids: c.profiles };
  }
  const e2e = out['e2e'] as { ratioToRaw?: number | null } | undefined;
  const lat = out['latency'] as { n2?: { p99: number } | null } | undefined;
  const bl = out['backlog'] as { fromSpawnMs?: number; fromNodeStartedMs?: number | null } | undefined;
  out['targets'] = {
    e2eRatio: e2e?.ratioToRaw == null ? null : e2e.ratioToRaw >= TARGETS.e2eRatioAim ? 'aim' : e2e.ratioToRaw >= TARGETS.e2eRatioMin ? 'pass' : 'fail',
    latencyP99: lat?.n2 ? (lat.n2.p99 < TARGETS.latencyP99MaxMs ? 'pass' : 'fail') : null,
    backlog: bl?.fromSpawnMs === undefined ? null : bl.fromSpawnMs < TARGETS.backlogAimS * 1000 ? 'aim' : bl.fromSpawnMs < TARGETS.backlogMaxS * 1000 ? 'pass' : 'fail',
    backlogFromNodeStarted: bl?.fromNodeStartedMs == null ? null : bl.fromNodeStartedMs < TARGETS.backlogAimS * 1000 ? 'aim' : bl.fromNodeStartedMs < TARGETS.backlogMaxS * 1000 ? 'pass' : 'fail',
  };
  return out;
}

/** A broker's run that could not even start or warm up: recorded in the JSON, the bench goes on. */
const brokerFailed = (kind: BrokerKind, transport: Transport) => (err: unknown): Record<string, unknown> => {
  if (teardown.interrupted) throw err;
  const msg = (err as Error).message;
  log(`${kind} ${transport}: FAILED: ${msg}`);
  return { error: msg.split('\n')[0] };
};

/**
 * The code measured: HEAD's commit and whether agent/ differs from it (the tree may be edited
 * while the bench runs). Read-only git; GIT_OPTIONAL_LOCKS=0 keeps git from refreshing the index.
 */
function codeVersion(): { commit: string; agentModified: boolean } | null {
  const git = (args: string[]) => execFileSync('git', args, { cwd: ROOT, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' }, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git(['rev-parse', '--short', 'HEAD']).toString().trim();
    let agentModified = false;
    try {
      git(['diff', '--quiet', 'HEAD', '--', 'agent']);
    } catch {
      agentModified = true;
    }
    return { commit, agentModified };
  } catch {
    return null;
  }
}

/** TLS against plain on one broker, when both ran: throughput ratio, p99 latencies, backlog times. */
function tlsCost(b: Record<string, unknown> | null): Record<string, number | null> | null {
  const tls = b?.['tls'] as Record<string, unknown> | undefined;
  const plain = b?.['plain'] as Record<string, unknown> | undefined;
  if (!tls || !plain) return null;
  const rate = (r: Record<string, unknown>) => (r['e2e'] as { changesPerS?: number } | undefined)?.changesPerS ?? null;
  const p99 = (r: Record<string, unknown>) => (r['latency'] as { n2?: { p99: number } | null } | undefined)?.n2?.p99 ?? null;
  const backlog = (r: Record<string, unknown>) => (r['backlog'] as { fromSpawnMs?: number } | undefined)?.fromSpawnMs ?? null;
  const ratio = (a: number | null, z: number | null) => (a === null || z === null || z === 0 ? null : Math.round((a / z) * 1000) / 1000);
  return {
    e2eChangesPerSTls: rate(tls),
    e2eChangesPerSPlain: rate(plain),
    throughputRatioTlsToPlain: ratio(rate(tls), rate(plain)),
    latencyP99TlsMs: p99(tls),
    latencyP99PlainMs: p99(plain),
    latencyP99RatioTlsToPlain: ratio(p99(tls), p99(plain)),
    backlogFromSpawnTlsMs: backlog(tls),
    backlogFromSpawnPlainMs: backlog(plain),
  };
}

async function main(): Promise<void> {
  const code = codeVersion();
  const started = now();
  log(`changes per burst ${ROWS * CHANGES_PER_ROW} (${ROWS} rows x ${CHANGES_PER_ROW}), ${ROWS_PER_TX} rows per transaction, sync ${JSON.stringify(SYNC)}${opts.nodelay ? ', TCP_NODELAY' : ''}`);
  let raw: RawResult | null = null;
  let aedes: Record<string, unknown> | null = null;
  let mosq: Record<string, unknown> | { skipped: string } | null = null;
  // Per broker, one run per transport (TLS first), each on a fresh cluster.
  const perTransport = async (kind: BrokerKind, m?: { version: string }) => {
    const out: Record<string, unknown> = {};
    for (const t of TRANSPORTS) out[t] = await runBroker(kind, t, raw?.changesPerS, m).catch(brokerFailed(kind, t));
    return out;
  };
  try {
    if (PHASES.has('raw')) {
      const base = teardown.tempDir('outpost-sync-raw-');
      raw = await rawMerge(cfg, base);
      log(`raw merge: best ${raw.bestMs} ms = ${raw.changesPerS} changes/s (batched: ${raw.batched.changesPerS} changes/s)`);
    }
    const cluster = ['e2e', 'latency', 'backlog'].some((p) => PHASES.has(p));
    if (cluster && opts.only !== 'mosquitto') {
      aedes = await perTransport('aedes');
    }
    if (cluster && opts.only !== 'aedes') {
      const m = findMosquitto();
      if (opts['skip-mosquitto']) mosq = { skipped: '--skip-mosquitto' };
      else if (!m) {
        mosq = { skipped: 'mosquitto is not installed' };
        log('mosquitto is not installed: skipping it');
      } else mosq = await perTransport('mosquitto', m);
    }
  } finally {
    await teardown.runAll();
  }
  const runs = [aedes, mosq].flatMap((b) => (b && !('skipped' in b) ? TRANSPORTS.map((t) => b[t] as Record<string, unknown> | undefined).filter((r) => r !== undefined) : []));
  const others = runs.flatMap((r) => ['e2e', 'latency', 'backlog'].map((p) => (r[p] as { otherCpu?: number } | undefined)?.otherCpu ?? 0));
  const result = {
    bench: 'sync',
    changesCounted: `rows x ${CHANGES_PER_ROW} (non-pk columns of cdrs = crsql_changes rows), checked against the receiver's cdrs__crsql_clock`,
    options: {
      changes: ROWS * CHANGES_PER_ROW,
      rows: ROWS,
      rowsPerTx: ROWS_PER_TX,
      latencyRate: LAT_RATE,
      latencyTransactions: LAT_COUNT,
      sync: SYNC,
      nodelay: opts.nodelay,
      transports: TRANSPORTS,
      ...(opts['mosquitto-max-queued'] ? { mosquittoMaxQueued: Number(opts['mosquitto-max-queued']) } : {}),
    },
    raw,
    aedes,
    mosquitto: mosq,
    // What TLS costs, per broker: tls ÷ plain e2e throughput, and the latency p99s (n1 → n2).
    tlsCost: { aedes: tlsCost(aedes), mosquitto: tlsCost(mosq) },
    targets: TARGETS,
    // False when other processes used >= 0.1 cores during a measured phase: compare with care.
    quietMachine: others.every((o) => o < 0.1),
    maxOtherCpu: Math.max(0, ...others),
    machine: machine(),
    code,
    durationS: Math.round((now() - started) / 1000),
  };
  printResult(result);
}

runMain(main, log, teardown);
