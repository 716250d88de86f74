/**
 * Replication throughput and latency: hub + two nodes of one site as real processes, on this
 * machine, against the raw local merge rate measured in the same run.
 *
 *   node --import tsx bench/sync.ts [options]      (or: npm run bench:sync)
 *
 * 1. raw   the reference: 100 000 changes (CDR rows, 16 changes each) built in a source store,
 *          read with ChangeLog.page(0, {}, 1e9) and merged into a fresh store with
 *          ChangeLog.apply() (INSERT INTO crsql_changes, one transaction); best of 3.
 * Then, per broker (the hub's embedded aedes; Mosquitto as the hub's external broker if it is
 * installed), with hub, n1 and n2 (site a) running:
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
 * Options:
 *   --changes N          changes per burst (default 100000)
 *   --rows-per-tx N      rows per transaction of a burst (default 100)
 *   --latency-rate R     single-row transactions per second (default 100)
 *   --latency-seconds S  (default 10)
 *   --raw-repeats N      (default 3)
 *   --phases LIST        raw,e2e,latency,backlog (default all)
 *   --only aedes|mosquitto   one broker
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
import { execFileSync, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SyncSection, type SyncConfig } from '../agent/config/sync-schema.ts';
import { Store } from '../agent/store/store.ts';
import type { SyncStatus } from '../agent/sync/sync-status.ts';
import { OUTPOST_BIN, ROOT, tempDir } from '../test/helpers/node-process.ts';
import { processCpuSeconds } from './lib/procs.ts';
import { CpuWindow, waitForQuiet } from './lib/quiet.ts';
import { findMosquitto, freeTcpPort, now, OutpostProcess, runqueueWaitSeconds, startMosquitto, StoreView, waitForRuntimeFile, type LogLine, type MosquittoProcess, type SpawnOptions } from './lib/sync-procs.ts';
import { CDR_INSERT, CHANGES_PER_ROW, cdrRow, SyncWriter, uuidOf } from './lib/sync-writer.ts';

const { values: opts } = parseArgs({
  options: {
    changes: { type: 'string', default: '100000' },
    'rows-per-tx': { type: 'string', default: '100' },
    'latency-rate': { type: 'string', default: '100' },
    'latency-seconds': { type: 'string', default: '10' },
    'raw-repeats': { type: 'string', default: '3' },
    phases: { type: 'string', default: 'raw,e2e,latency,backlog' },
    only: { type: 'string' },
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
for (const p of PHASES) if (!['raw', 'e2e', 'latency', 'backlog'].includes(p)) throw new Error(`unknown phase ${p}`);
if (![CHANGES, ROWS_PER_TX, LAT_RATE, LAT_COUNT, RAW_REPEATS, TIMEOUT_MS].every((n) => Number.isFinite(n) && n > 0)) throw new Error('bad numeric option');
if (opts.only && opts.only !== 'aedes' && opts.only !== 'mosquitto') throw new Error('--only must be aedes or mosquitto');
const SYNC_OVERRIDES: Partial<SyncConfig> = {
  ...(opts['batch-size'] ? { batchSize: Number(opts['batch-size']) } : {}),
  ...(opts['max-in-flight'] ? { maxInFlight: Number(opts['max-in-flight']) } : {}),
  ...(opts['push-delay'] ? { pushDelay: Number(opts['push-delay']) } : {}),
};
/** What hub and nodes run with: their defaults plus the overrides (validated like a config file). */
const SYNC: SyncConfig = SyncSection.parse(SYNC_OVERRIDES);
const cpuProfDir = opts['cpu-prof-dir'] ? resolve(opts['cpu-prof-dir']) : undefined;

const TARGETS = { e2eRatioMin: 0.5, e2eRatioAim: 0.8, latencyP99MaxMs: 250, backlogMaxS: 10, backlogAimS: 2 };

const log = (msg: string) => process.stderr.write(`[bench:sync] ${msg}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup --------------------------------------------------------------------------------

const cleanups: Array<() => Promise<unknown>> = [];
const children = new Set<ChildProcess>();
let interrupted = false;

async function cleanupAll(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      log(`cleanup: ${(err as Error).message}`);
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    interrupted = true;
    log(`${sig}: stopping everything`);
    void cleanupAll().then(() => process.exit(130));
  });
}
// Last resort (an exception, process.exit): no child outlives the bench.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
const own = (c: ChildProcess) => {
  children.add(c);
  c.once('exit', () => children.delete(c));
};

// ---- CPU accounting -------------------------------------------------------------------------

/**
 * CPU seconds (and seconds spent waiting for a core) of the bench's children by role; keeps the
 * last reading of a process that left, so a role's totals survive a restart.
 */
class CpuBook {
  private readonly pids = new Map<string, number>();
  private readonly last = new Map<string, [number, number]>();
  private readonly retired = new Map<string, [number, number]>();

  track(role: string, pid: number): void {
    const prev = this.pids.get(role);
    if (prev !== undefined && prev !== pid) {
      const [c, w] = this.read1(role, prev);
      const [rc, rw] = this.retired.get(role) ?? [0, 0];
      this.retired.set(role, [rc + c, rw + w]);
    }
    this.pids.set(role, pid);
  }

  private read1(role: string, pid: number): [number, number] {
    const key = `${role}:${pid}`;
    const [lc, lw] = this.last.get(key) ?? [0, 0];
    const v: [number, number] = [Math.max(processCpuSeconds(pid), lc), Math.max(runqueueWaitSeconds(pid), lw)];
    this.last.set(key, v);
    return v;
  }

  /** Cumulative [CPU seconds, runqueue-wait seconds] per role (every process that held the role). */
  snapshot(): Record<string, [number, number]> {
    const out: Record<string, [number, number]> = {};
    for (const [role, pid] of this.pids) {
      const [c, w] = this.read1(role, pid);
      const [rc, rw] = this.retired.get(role) ?? [0, 0];
      out[role] = [rc + c, rw + w];
    }
    return out;
  }

  total(): number {
    return Object.values(this.snapshot()).reduce((a, [c]) => a + c, 0);
  }
}

/**
 * Average cores per role between two snapshots: `cpu` used, and `wait`: cores' worth of time its
 * threads were runnable but not running (starved by other processes on this 2-core machine).
 */
function coresBetween(
  a: Record<string, [number, number]>,
  b: Record<string, [number, number]>,
  wallMs: number,
): { cpu: Record<string, number>; wait: Record<string, number>; cpuMs: Record<string, number> } {
  const cpu: Record<string, number> = {};
  const wait: Record<string, number> = {};
  const cpuMs: Record<string, number> = {};
  for (const k of Object.keys(b)) {
    const used = b[k]![0] - (a[k]?.[0] ?? 0);
    cpu[k] = round(used / (wallMs / 1000), 2);
    wait[k] = round((b[k]![1] - (a[k]?.[1] ?? 0)) / (wallMs / 1000), 2);
    cpuMs[k] = Math.round(used * 1000);
  }
  return { cpu, wait, cpuMs };
}

// ---- 1. raw merge ---------------------------------------------------------------------------

interface RawResult {
  changes: number;
  rows: number;
  buildMs: number;
  readMs: number;
  applyMs: number[];
  bestMs: number;
  changesPerS: number;
  /** CPU time of the merge per change (best run): a cost that does not depend on contention. */
  cpuUsPerChange: number;
  /** The same changes applied as the receivers get them: one transaction per sync.batchSize page. */
  batched: { batches: number; bestMs: number; changesPerS: number; cpuUsPerChange: number };
}

async function rawMerge(base: string): Promise<RawResult> {
  const srcDir = join(base, 'raw-source');
  const src = Store.open({ dataDir: srcDir });
  const t0 = now();
  const insert = src.db.prepare(CDR_INSERT);
  const tx = src.db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(...cdrRow(uuidOf('r-', i), 'n1', Date.now(), i));
  });
  for (let from = 0; from < ROWS; from += ROWS_PER_TX) tx(from, Math.min(ROWS, from + ROWS_PER_TX));
  const buildMs = now() - t0;
  const t1 = now();
  const page = src.changes.page(0n, {}, 1e9);
  const readMs = now() - t1;
  const changes = page.changes;
  const pages = [];
  for (let since = 0n; ; ) {
    const p = src.changes.page(since, {}, SYNC.batchSize);
    if (p.changes.length) pages.push(p.changes);
    since = p.to;
    if (!p.more) break;
  }
  src.close();
  log(`raw: ${changes.length} changes (${ROWS} rows) built in ${Math.round(buildMs)} ms, read in ${Math.round(readMs)} ms`);

  const applyMs: number[] = [];
  const batchedMs: number[] = [];
  const applyCpuUs: number[] = [];
  const batchedCpuUs: number[] = [];
  for (let r = 0; r < RAW_REPEATS; r++) {
    for (const batched of [false, true]) {
      const dir = join(base, `raw-target-${r}-${batched ? 'b' : 'w'}`);
      const target = Store.open({ dataDir: dir });
      await waitForQuiet(() => 0, log, 0.1, QUIET_WAIT_S);
      const cpu0 = process.cpuUsage();
      const t = now();
      if (batched) pages.forEach((p, i) => target.changes.apply(p, { source: 'src', stream: 'own', version: BigInt(i + 1) }));
      else target.changes.apply(changes);
      const ms = now() - t;
      const cu = process.cpuUsage(cpu0);
      (batched ? batchedCpuUs : applyCpuUs).push((cu.user + cu.system) / changes.length);
      const rows = (target.db.prepare('SELECT count(*) AS n FROM cdrs').get() as { n: number }).n;
      target.close();
      rmSync(dir, { recursive: true, force: true });
      if (rows !== ROWS) throw new Error(`raw merge: target holds ${rows} rows, expected ${ROWS}`);
      (batched ? batchedMs : applyMs).push(ms);
      log(`raw: apply ${batched ? `in ${pages.length} transactions` : 'in one transaction'} #${r + 1}: ${Math.round(ms)} ms = ${Math.round(changes.length / (ms / 1000))} changes/s`);
    }
  }
  rmSync(srcDir, { recursive: true, force: true });
  const bestMs = Math.min(...applyMs);
  const bestBatched = Math.min(...batchedMs);
  return {
    changes: changes.length,
    rows: ROWS,
    buildMs: Math.round(buildMs),
    readMs: Math.round(readMs),
    applyMs: applyMs.map((m) => Math.round(m)),
    bestMs: Math.round(bestMs),
    changesPerS: Math.round(changes.length / (bestMs / 1000)),
    cpuUsPerChange: round(Math.min(...applyCpuUs), 1),
    batched: {
      batches: pages.length,
      bestMs: Math.round(bestBatched),
      changesPerS: Math.round(changes.length / (bestBatched / 1000)),
      cpuUsPerChange: round(Math.min(...batchedCpuUs), 1),
    },
  };
}

// ---- the cluster ----------------------------------------------------------------------------

const NODELAY_PRELOAD =
  'data:text/javascript,' +
  encodeURIComponent(`import net from 'node:net';
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) { this.setNoDelay(true); return connect.apply(this, args); };
const createServer = net.createServer;
net.createServer = function (o, l) { return typeof o === 'object' && o !== null ? createServer.call(this, { noDelay: true, ...o }, l) : createServer.call(this, { noDelay: true }, o); };`);

type BrokerKind = 'aedes' | 'mosquitto';

interface Cluster {
  kind: BrokerKind;
  dir: string;
  hubUrl: string;
  hub: OutpostProcess;
  n1: OutpostProcess;
  n2: OutpostProcess;
  mosquitto?: MosquittoProcess;
  views: { hub: StoreView; n1: StoreView; n2: StoreView };
  writer: SyncWriter;
  cpu: CpuBook;
  profiles: Array<{ role: string; pid: number }>;
}

function syncYaml(): string {
  const entries = Object.entries(SYNC_OVERRIDES).map(([k, v]) => `${k}: ${v}`);
  return entries.length ? `sync: { ${entries.join(', ')} }\n` : '';
}

function spawnOptions(kind: BrokerKind, role: string): SpawnOptions {
  const execArgv: string[] = [];
  const env = { ...process.env };
  if (opts.nodelay) execArgv.push('--import', NODELAY_PRELOAD);
  if (cpuProfDir) {
    const dir = join(cpuProfDir, kind, role);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--import', pathToFileURL(join(import.meta.dirname, 'lib/cpu-profile-preload.mjs')).href);
    env['OUTPOST_BENCH_CPU_PROF_DIR'] = dir;
  }
  return { execArgv, env };
}

function nodeYaml(id: string, hubUrl: string): string {
  return `node: { id: ${id}, site: a }
dataDir: ./${id}
log: { level: info }
sip: { domain: bench.local, listen: ["udp:127.0.0.1:0"] }
hub: { url: "${hubUrl}" }
${syncYaml()}`;
}

async function startNodeProc(c: { dir: string; kind: BrokerKind; cpu: CpuBook; profiles: Array<{ role: string; pid: number }> }, id: 'n1' | 'n2'): Promise<OutpostProcess> {
  const p = new OutpostProcess(id, OUTPOST_BIN, 'node', join(c.dir, `${id}.yaml`), c.dir, spawnOptions(c.kind, id));
  own(p.proc);
  cleanups.push(() => p.stop());
  c.cpu.track(id, p.pid);
  c.profiles.push({ role: id, pid: p.pid });
  await p.waitForLog('node started', 30_000);
  return p;
}

async function startCluster(kind: BrokerKind, mosquittoBin?: string): Promise<Cluster> {
  const dir = tempDir(`outpost-sync-${kind}-`);
  if (!opts.keep) cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  else log(`${kind}: keeping ${dir}`);
  const cpu = new CpuBook();
  const profiles: Array<{ role: string; pid: number }> = [];
  let mosquitto: MosquittoProcess | undefined;
  let mqtt = `{ listen: "mqtt://127.0.0.1:0" }`;
  if (kind === 'mosquitto') {
    const port = await freeTcpPort();
    mosquitto = await startMosquitto(mosquittoBin!, dir, port, opts.nodelay, opts['mosquitto-max-queued'] ? Number(opts['mosquitto-max-queued']) : undefined);
    own(mosquitto.proc);
    cpu.track('mosquitto', mosquitto.proc.pid!);
    const m = mosquitto;
    cleanups.push(() => m.stop());
    mqtt = `{ url: "${mosquitto.url}" }`;
    log(`mosquitto listening on ${mosquitto.url} (pid ${mosquitto.proc.pid})`);
  }
  writeFileSync(join(dir, 'hub.yaml'), `dataDir: ./hub\nlog: { level: info }\nmqtt: ${mqtt}\nsip: { domain: bench.local }\n${syncYaml()}`);
  const hub = new OutpostProcess('hub', OUTPOST_BIN, 'hub', join(dir, 'hub.yaml'), dir, spawnOptions(kind, 'hub'));
  own(hub.proc);
  cpu.track('hub', hub.pid);
  profiles.push({ role: 'hub', pid: hub.pid });
  cleanups.push(() => hub.stop());
  const info = await waitForRuntimeFile(hub, join(dir, 'hub'), 30_000);
  const hubUrl = info.mqtt!;
  log(`${kind}: hub started (pid ${hub.pid}), broker ${hubUrl}`);
  for (const id of ['n1', 'n2']) writeFileSync(join(dir, `${id}.yaml`), nodeYaml(id, hubUrl));
  const base = { dir, kind, cpu, profiles };
  const n1 = await startNodeProc(base, 'n1');
  const n2 = await startNodeProc(base, 'n2');
  // views and writer are filled in below, once the nodes run.
  const c: Cluster = { kind, dir, hubUrl, hub, n1, n2, ...(mosquitto ? { mosquitto } : {}), views: undefined!, writer: undefined!, cpu, profiles };
  // n2 is restarted by the backlog phase: stop whichever process then holds the role.
  cleanups.push(() => c.n2.stop());
  log(`${kind}: n1 (pid ${n1.pid}) and n2 (pid ${n2.pid}) started`);
  c.writer = await SyncWriter.open(ROOT, join(dir, 'n1'));
  own(c.writer.proc);
  cpu.track('writer', c.writer.pid);
  cleanups.push(() => c.writer.close());
  c.views = { hub: new StoreView(join(dir, 'hub')), n1: new StoreView(join(dir, 'n1')), n2: new StoreView(join(dir, 'n2')) };
  cleanups.push(async () => Object.values(c.views).forEach((v) => v.close()));
  return c;
}

function readStatus(dataDir: string): SyncStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'sync-status.json'), 'utf8')) as SyncStatus;
  } catch {
    return undefined;
  }
}

const COUNTERS = ['batchesIn', 'batchesOut', 'changesApplied', 'requestsIn', 'requestsOut', 'malformed', 'badSignature', 'unknownSender'] as const;
type Counters = Record<(typeof COUNTERS)[number], number>;
function counters(dataDir: string): Counters | undefined {
  const s = readStatus(dataDir);
  if (!s) return undefined;
  return Object.fromEntries(COUNTERS.map((k) => [k, s.counters[k]])) as Counters;
}
function counterDelta(a: Counters | undefined, b: Counters | undefined): Partial<Counters> | undefined {
  if (!b) return undefined;
  return Object.fromEntries(COUNTERS.map((k) => [k, b[k] - (a?.[k] ?? 0)]).filter(([, v]) => v !== 0));
}
/** The status file is rewritten each second: wait for one written after `t`. */
async function freshCounters(dataDir: string, t: number): Promise<Counters | undefined> {
  const deadline = now() + 3000;
  while (now() < deadline) {
    const s = readStatus(dataDir);
    if (s && Date.parse(s.at) > t) return counters(dataDir);
    await sleep(100);
  }
  return counters(dataDir);
}

function dead(c: Cluster): string | undefined {
  for (const p of [c.hub, c.n1, c.n2]) if (p.exitInfo && !p.stopping) return `${p.name} died: ${p.exitInfo}\n${p.tail()}`;
  return undefined;
}

/** Diagnostics for a wait that timed out: counts, stream states and the logs' last lines. */
function diagnose(c: Cluster, prefix: string, expected: number): string {
  const lines = [`rows with prefix ${prefix}: n1 ${c.views.n1.count(prefix)}, hub ${c.views.hub.count(prefix)}, n2 ${c.views.n2.count(prefix)} (expected ${expected})`];
  for (const id of ['hub', 'n1', 'n2']) {
    const s = readStatus(join(c.dir, id));
    if (s) lines.push(`${id} sync-status: head ${s.head}, links ${JSON.stringify(s.links)}, streams ${JSON.stringify(s.peers.map((p) => ({ peer: p.nodeId, head: p.head, streams: p.streams })))}, counters ${JSON.stringify(s.counters)}`);
  }
  for (const p of [c.hub, c.n1, c.n2]) lines.push(`${p.name} log tail:\n${p.tail(10)}`);
  return lines.join('\n');
}

/** Polls `count()` every `intervalMs` until it reaches `expected`; returns the time it did. */
async function waitForRows(c: Cluster, what: string, count: () => number, expected: number, intervalMs: number, onPoll?: (t: number, n: number) => void): Promise<number> {
  const deadline = now() + TIMEOUT_MS;
  let lastLog = now();
  for (;;) {
    const t = now();
    const n = count();
    onPoll?.(t, n);
    if (n >= expected) return t;
    const d = dead(c);
    if (d) throw new Error(d);
    if (interrupted) throw new Error('interrupted');
    if (t > deadline) throw new Error(`${what}: ${n}/${expected} rows after ${TIMEOUT_MS / 1000} s`);
    if (t - lastLog > 5000) {
      log(`  ${what}: ${n}/${expected} rows`);
      lastLog = t;
    }
    await sleep(intervalMs);
  }
}

async function quiet(c: Cluster): Promise<number> {
  return waitForQuiet(() => c.cpu.total(), log, 0.1, QUIET_WAIT_S);
}

// ---- 2. end-to-end burst --------------------------------------------------------------------

async function phaseE2e(c: Cluster, rawPerS: number | undefined) {
  const prefix = 'e-';
  const otherBefore = await quiet(c);
  const n2Clock0 = c.views.n2.cdrChanges();
  const hub0 = counters(join(c.dir, 'hub'));
  const n10 = counters(join(c.dir, 'n1'));
  const n20 = counters(join(c.dir, 'n2'));
  const cpu0 = c.cpu.snapshot();
  const win = new CpuWindow(() => c.cpu.total());
  const t0 = now();
  log(`${c.kind} e2e: writing ${ROWS} rows (${ROWS * CHANGES_PER_ROW} changes) on n1 in transactions of ${ROWS_PER_TX}`);
  const burstP = c.writer.burst(prefix, 'n1', ROWS, ROWS_PER_TX);
  let hubAllAt = 0;
  const timeline: Array<[number, number, number, number]> = [];
  let nextSample = t0;
  const n2AllAt = await waitForRows(c, 'e2e n2', () => c.views.n2.count(prefix), ROWS, 5, (t) => {
    if (!hubAllAt && c.views.hub.count(prefix) >= ROWS) hubAllAt = t;
    if (t >= nextSample) {
      timeline.push([Math.round(t - t0), c.views.n1.count(prefix), c.views.hub.count(prefix), c.views.n2.count(prefix)]);
      nextSample += 250;
    }
  });
  const burst = await burstP;
  const wallMs = now() - t0;
  const { cpu, wait, cpuMs } = coresBetween(cpu0, c.cpu.snapshot(), wallMs);
  const w = win.read();
  const changes = ROWS * CHANGES_PER_ROW;
  const e2eMs = n2AllAt - burst.firstCommitAt;
  const n2Merged = c.views.n2.cdrChanges() - n2Clock0;
  const hubAfter = await freshCounters(join(c.dir, 'hub'), n2AllAt);
  const n1After = counters(join(c.dir, 'n1'));
  const n2After = counters(join(c.dir, 'n2'));
  const result = {
    changes,
    rows: ROWS,
    txs: burst.txs,
    writeMs: Math.round(burst.lastCommitAt - burst.startedAt),
    writeChangesPerS: Math.round(changes / ((burst.lastCommitAt - burst.startedAt) / 1000)),
    hubAllMs: hubAllAt ? Math.round(hubAllAt - burst.firstCommitAt) : null,
    e2eMs: Math.round(e2eMs),
    changesPerS: Math.round(changes / (e2eMs / 1000)),
    ratioToRaw: rawPerS ? round(changes / (e2eMs / 1000) / rawPerS, 3) : null,
    n2ChangesMerged: n2Merged,
    cores: cpu,
    runqueueWaitCores: wait,
    /** CPU time per process over the phase (10 ms ticks): a cost that does not depend on contention. */
    cpuMs,
    cpuUsPerChange: round(Object.entries(cpuMs).reduce((t, [k, v]) => (k === 'writer' ? t : t + v), 0) / changes * 1000, 1),
    otherCpu: w.other,
    otherCpuBefore: otherBefore,
    /** Sync counters during the burst: batches, catch-up requests (requestsOut: asked, requestsIn: served). */
    counters: { n1: counterDelta(n10, n1After), hub: counterDelta(hub0, hubAfter), n2: counterDelta(n20, n2After) },
    /** [ms since the burst began, rows on n1, hub, n2], every 250 ms. */
    timeline,
  };
  log(
    `${c.kind} e2e: written in ${result.writeMs} ms, hub had all after ${result.hubAllMs} ms, n2 after ${result.e2eMs} ms = ${result.changesPerS} changes/s` +
      `${result.ratioToRaw !== null ? ` (${result.ratioToRaw} of raw)` : ''}; cores ${JSON.stringify(cpu)}, waiting for a core ${JSON.stringify(wait)}, other processes ${w.other}`,
  );
  if (n2Merged !== changes) log(`${c.kind} e2e: WARNING n2 merged ${n2Merged} column versions of cdrs, expected ${changes}`);
  return result;
}

// ---- 3. propagation latency -----------------------------------------------------------------

function stats(xs: number[]) {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: round(q(0.5)), p90: round(q(0.9)), p99: round(q(0.99)), max: round(s[s.length - 1]!), min: round(s[0]!), mean: round(s.reduce((a, b) => a + b, 0) / s.length) };
}

async function phaseLatency(c: Cluster) {
  const prefix = 'l-';
  const otherBefore = await quiet(c);
  const cpu0 = c.cpu.snapshot();
  const win = new CpuWindow(() => c.cpu.total());
  const t0 = now();
  log(`${c.kind} latency: ${LAT_COUNT} single-row transactions on n1 at ${LAT_RATE}/s`);
  const seenHub = new Map<string, number>();
  const seenN2 = new Map<string, number>();
  let lastHub = '';
  let lastN2 = '';
  let polls = 0;
  let writerDone = false;
  const trickleP = c.writer.trickle(prefix, 'n1', LAT_RATE, LAT_COUNT).finally(() => (writerDone = true));
  const deadline = t0 + LAT_COUNT * (1000 / LAT_RATE) + TIMEOUT_MS;
  while (seenN2.size < LAT_COUNT || seenHub.size < LAT_COUNT || !writerDone) {
    const t = now();
    for (const u of c.views.hub.rowsAfter(prefix, lastHub)) {
      seenHub.set(u, t);
      lastHub = u;
    }
    for (const u of c.views.n2.rowsAfter(prefix, lastN2)) {
      seenN2.set(u, t);
      lastN2 = u;
    }
    polls++;
    if (t > deadline) break;
    const d = dead(c);
    if (d) throw new Error(d);
    if (interrupted) throw new Error('interrupted');
    await sleep(1);
  }
  const { commits, starts } = await trickleP;
  const pollMs = (now() - t0) / polls;
  const wallMs = now() - t0;
  const n2Lat: number[] = [];
  const n2FromStart: number[] = [];
  const hubLat: number[] = [];
  const hubToN2: number[] = [];
  const commitMs: number[] = [];
  commits.forEach((at, i) => {
    const u = uuidOf(prefix, i);
    const h = seenHub.get(u);
    const n = seenN2.get(u);
    commitMs.push(at - starts[i]!);
    if (h !== undefined) hubLat.push(h - at);
    if (n !== undefined) n2Lat.push(n - at);
    if (n !== undefined) n2FromStart.push(n - starts[i]!);
    if (h !== undefined && n !== undefined) hubToN2.push(n - h);
  });
  const { cpu, wait } = coresBetween(cpu0, c.cpu.snapshot(), wallMs);
  const writeGaps = commits.slice(1).map((t, i) => t - commits[i]!);
  const result = {
    transactions: LAT_COUNT,
    rate: LAT_RATE,
    achievedRate: round((commits.length - 1) / ((commits[commits.length - 1]! - commits[0]!) / 1000)),
    maxWriteGapMs: round(Math.max(...writeGaps)),
    pollIntervalMs: round(pollMs, 2),
    /** n1 commit returned -> row visible on n2 (the headline number). */
    n2: stats(n2Lat),
    /** Just before the INSERT -> visible on n2: never below the truth (includes the commit itself). */
    n2FromInsert: stats(n2FromStart),
    /** How long the single-row commit took on n1 (WAL, synchronous=FULL). */
    commit: stats(commitMs),
    /** n1 commit -> visible on the hub (includes n1's up-to-50 ms head check). */
    hub: stats(hubLat),
    /** Visible on the hub -> visible on n2: the relay hop alone (negative: n2 got it from n1 directly). */
    hubToN2: stats(hubToN2),
    missingOnN2: LAT_COUNT - n2Lat.length,
    cores: cpu,
    runqueueWaitCores: wait,
    otherCpu: win.read().other,
    otherCpuBefore: otherBefore,
  };
  log(`${c.kind} latency (ms, commit -> visible): n2 ${JSON.stringify(result.n2)}; hub ${JSON.stringify(result.hub)}; poll every ${result.pollIntervalMs} ms`);
  if (result.missingOnN2) log(`${c.kind} latency: ${result.missingOnN2} rows never reached n2\n${diagnose(c, prefix, LAT_COUNT)}`);
  return result;
}

// ---- 4. backlog catch-up --------------------------------------------------------------------

async function phaseBacklog(c: Cluster) {
  const prefix = 'k-';
  const changes = ROWS * CHANGES_PER_ROW;
  log(`${c.kind} backlog: stopping n2`);
  c.cpu.snapshot(); // last reading of the old n2
  const stopT = now();
  const code = await c.n2.stop();
  const n2Stop = { exit: code, ms: Math.round(now() - stopT) };
  log(`${c.kind} backlog: n2 stopped (exit ${code}) in ${n2Stop.ms} ms; writing ${ROWS} rows on n1`);
  const n2Clock0 = c.views.n2.cdrChanges();
  const hub0 = counters(join(c.dir, 'hub'));
  const n10 = counters(join(c.dir, 'n1'));
  const burstP = c.writer.burst(prefix, 'n1', ROWS, ROWS_PER_TX);
  const hubAllAt = await waitForRows(c, 'backlog hub', () => c.views.hub.count(prefix), ROWS, 5);
  const burst = await burstP;
  const hubIngestMs = hubAllAt - burst.firstCommitAt;
  log(`${c.kind} backlog: hub had all rows ${Math.round(hubIngestMs)} ms after the first commit`);
  await sleep(1000); // let the hub finish publishing its site stream
  const otherBefore = await quiet(c);
  const hub1 = counters(join(c.dir, 'hub'));
  const n11 = counters(join(c.dir, 'n1'));

  const cpu0 = c.cpu.snapshot();
  const win = new CpuWindow(() => c.cpu.total());
  const n2 = new OutpostProcess('n2', OUTPOST_BIN, 'node', join(c.dir, 'n2.yaml'), c.dir, spawnOptions(c.kind, 'n2'));
  own(n2.proc);
  c.n2 = n2;
  c.cpu.track('n2', n2.pid);
  c.profiles.push({ role: 'n2 (restarted)', pid: n2.pid });
  const spawnAt = n2.spawnedAt;
  let firstRowAt = 0;
  const allAt = await waitForRows(c, 'backlog n2', () => c.views.n2.count(prefix), ROWS, 5, (t, n) => {
    if (!firstRowAt && n > 0) firstRowAt = t;
  });
  const wallMs = now() - spawnAt;
  const { cpu, wait, cpuMs } = coresBetween(cpu0, c.cpu.snapshot(), wallMs);
  const w = win.read();
  // The line's own timestamp (pino, ms): the pipe may deliver it late while n2 is busy merging.
  const logTime = (l: LogLine | undefined) => (l ? (typeof l.line['time'] === 'string' ? Date.parse(l.line['time']) : l.at) : undefined);
  const startedAt = logTime(n2.findLog('node started'));
  const connectedAt = logTime(n2.findLog('broker connected', 0, (l) => l['link'] === 'hub'));
  const n2Merged = c.views.n2.cdrChanges() - n2Clock0;
  const n2After = await freshCounters(join(c.dir, 'n2'), allAt);
  const hubAfter = await freshCounters(join(c.dir, 'hub'), allAt);
  const n1After = counters(join(c.dir, 'n1'));
  const fromSpawnMs = allAt - spawnAt;
  const result = {
    changes,
    rows: ROWS,
    n2Stop,
    writeMs: Math.round(burst.lastCommitAt - burst.startedAt),
    hubIngestMs: Math.round(hubIngestMs),
    hubIngestChangesPerS: Math.round(changes / (hubIngestMs / 1000)),
    fromSpawnMs: Math.round(fromSpawnMs),
    nodeStartedAfterSpawnMs: startedAt ? Math.round(startedAt - spawnAt) : null,
    hubConnectedAfterSpawnMs: connectedAt ? Math.round(connectedAt - spawnAt) : null,
    firstRowAfterSpawnMs: firstRowAt ? Math.round(firstRowAt - spawnAt) : null,
    fromNodeStartedMs: startedAt ? Math.round(allAt - startedAt) : null,
    fromHubConnectedMs: connectedAt ? Math.round(allAt - connectedAt) : null,
    /** Merge rate once rows flow (first row seen on n2 until the last). */
    flowChangesPerS: firstRowAt && allAt > firstRowAt ? Math.round(changes / ((allAt - firstRowAt) / 1000)) : null,
    n2ChangesMerged: n2Merged,
    /** n2's counters since its restart (batches in = queued pushes + catch-up replies). */
    n2Counters: n2After,
    /** The hub's and n1's counters while n2 caught up. */
    hubCounters: counterDelta(hub1, hubAfter),
    n1Counters: counterDelta(n11, n1After),
    /** The hub's and n1's counters while the hub took the burst from n1 (n2 down). */
    hubIngestCounters: { hub: counterDelta(hub0, hub1), n1: counterDelta(n10, n11) },
    cores: cpu,
    runqueueWaitCores: wait,
    cpuMs,
    otherCpu: w.other,
    otherCpuBefore: otherBefore,
  };
  log(
    `${c.kind} backlog: n2 held all rows ${result.fromSpawnMs} ms after spawn (node started at +${result.nodeStartedAfterSpawnMs}, ` +
      `hub link at +${result.hubConnectedAfterSpawnMs}, first row at +${result.firstRowAfterSpawnMs}); from "node started": ${result.fromNodeStartedMs} ms; n2 counters ${JSON.stringify(n2After)}`,
  );
  if (n2Merged !== changes) log(`${c.kind} backlog: WARNING n2 merged ${n2Merged} column versions of cdrs, expected ${changes}`);
  return result;
}

// ---- per broker -----------------------------------------------------------------------------

async function runBroker(kind: BrokerKind, rawPerS: number | undefined, mosquitto?: { bin: string; version: string }) {
  const c = await startCluster(kind, mosquitto?.bin);
  const out: Record<string, unknown> = {
    broker: kind === 'aedes' ? 'aedes (embedded in the hub)' : `mosquitto ${mosquitto!.version} (external)`,
  };
  try {
    // Warm-up: proves the path works (keys pinned, streams known) and warms the JITs.
    const warmRows = 20 * ROWS_PER_TX;
    const t = now();
    await c.writer.burst('w-', 'n1', warmRows, ROWS_PER_TX);
    try {
      await waitForRows(c, 'warm-up n2', () => c.views.n2.count('w-'), warmRows, 5);
    } catch (err) {
      if (interrupted) throw err;
      log(`${kind}: warm-up FAILED: ${(err as Error).message}\n${diagnose(c, 'w-', warmRows)}`);
      throw new Error(`warm-up failed: ${(err as Error).message.split('\n')[0]}`);
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
        if (interrupted) throw err; // the signal handler is tearing everything down
        const msg = (err as Error).message;
        log(`${kind} ${name} FAILED: ${msg}`);
        out[name] = { error: msg.split('\n')[0] };
        if (!/died|interrupted/.test(msg)) log(diagnose(c, name === 'e2e' ? 'e-' : name === 'latency' ? 'l-' : 'k-', name === 'latency' ? LAT_COUNT : ROWS));
        if (dead(c) || interrupted) break;
      }
    }
  } finally {
    // Stop in order (writer, nodes, hub, broker) and report unclean exits.
    await c.writer.close();
    const exits: Record<string, number | null> = {};
    for (const p of [c.n2, c.n1, c.hub]) exits[p.name] = await p.stop();
    if (c.mosquitto) exits['mosquitto'] = await c.mosquitto.stop();
    out['exits'] = exits;
    out['problems'] = Object.fromEntries([c.hub, c.n1, c.n2].map((p) => [p.name, p.problems()]).filter(([, v]) => Object.keys(v as object).length > 0));
    if (c.mosquitto && /error|warning/i.test(c.mosquitto.output())) out['mosquittoLog'] = c.mosquitto.output().split('\n').filter((l) => /error|warning/i.test(l)).slice(-10);
    if (cpuProfDir) out['profiles'] = { dir: join(cpuProfDir, kind), pids: c.profiles };
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
const brokerFailed = (kind: BrokerKind) => (err: unknown): Record<string, unknown> => {
  if (interrupted) throw err;
  const msg = (err as Error).message;
  log(`${kind}: FAILED: ${msg}`);
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

async function main(): Promise<void> {
  const code = codeVersion();
  const started = now();
  log(`changes per burst ${ROWS * CHANGES_PER_ROW} (${ROWS} rows x ${CHANGES_PER_ROW}), ${ROWS_PER_TX} rows per transaction, sync ${JSON.stringify(SYNC)}${opts.nodelay ? ', TCP_NODELAY' : ''}`);
  let raw: RawResult | null = null;
  let aedes: Record<string, unknown> | null = null;
  let mosq: Record<string, unknown> | { skipped: string } | null = null;
  try {
    if (PHASES.has('raw')) {
      const base = tempDir('outpost-sync-raw-');
      cleanups.push(async () => rmSync(base, { recursive: true, force: true }));
      raw = await rawMerge(base);
      log(`raw merge: best ${raw.bestMs} ms = ${raw.changesPerS} changes/s (batched: ${raw.batched.changesPerS} changes/s)`);
    }
    const cluster = ['e2e', 'latency', 'backlog'].some((p) => PHASES.has(p));
    if (cluster && opts.only !== 'mosquitto') {
      aedes = await runBroker('aedes', raw?.changesPerS).catch(brokerFailed('aedes'));
    }
    if (cluster && opts.only !== 'aedes') {
      const m = findMosquitto();
      if (opts['skip-mosquitto']) mosq = { skipped: '--skip-mosquitto' };
      else if (!m) {
        mosq = { skipped: 'mosquitto is not installed' };
        log('mosquitto is not installed: skipping it');
      } else mosq = await runBroker('mosquitto', raw?.changesPerS, m).catch(brokerFailed('mosquitto'));
    }
  } finally {
    await cleanupAll();
  }
  const cpu = cpus();
  const others = [aedes, mosq].flatMap((b) => (b && !('skipped' in b) ? ['e2e', 'latency', 'backlog'].map((p) => (b[p] as { otherCpu?: number } | undefined)?.otherCpu ?? 0) : []));
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
      ...(opts['mosquitto-max-queued'] ? { mosquittoMaxQueued: Number(opts['mosquitto-max-queued']) } : {}),
    },
    raw,
    aedes,
    mosquitto: mosq,
    targets: TARGETS,
    // False when other processes used >= 0.1 cores during a measured phase: compare with care.
    quietMachine: others.every((o) => o < 0.1),
    maxOtherCpu: Math.max(0, ...others),
    machine: { cores: cpu.length, cpu: cpu[0]?.model.trim() ?? 'unknown', node: process.version },
    code,
    durationS: Math.round((now() - started) / 1000),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch(async (err: unknown) => {
  if (interrupted) return; // the signal handler cleans up and exits
  await cleanupAll();
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
