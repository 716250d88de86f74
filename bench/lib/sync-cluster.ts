/**
 * The cluster of bench/sync.ts for one broker: hub (embedded aedes, or Mosquitto as its external
 * broker), n1 and n2 of site `a` as `outpost` processes, the writer process on n1's store and
 * read-only views of the three stores; plus the waits and diagnostics the phases share.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { OUTPOST_BIN, ROOT, tempDir } from './node-process.ts';
import { waitForQuiet } from './quiet.ts';
import type { Teardown } from './sync-cleanup.ts';
import { log, sleep, type SyncBenchConfig } from './sync-config.ts';
import { readStatus } from './sync-counters.ts';
import { CpuBook } from './sync-cpu.ts';
import { freeTcpPort, now, OutpostProcess, startMosquitto, StoreView, waitForRuntimeFile, type MosquittoProcess, type SpawnOptions } from './sync-procs.ts';
import { SyncWriter } from './sync-writer.ts';

const NODELAY_PRELOAD =
  'data:text/javascript,' +
  encodeURIComponent(`import net from 'node:net';
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) { this.setNoDelay(true); return connect.apply(this, args); };
const createServer = net.createServer;
net.createServer = function (o, l) { return typeof o === 'object' && o !== null ? createServer.call(this, { noDelay: true, ...o }, l) : createServer.call(this, { noDelay: true }, o); };`);

export type BrokerKind = 'aedes' | 'mosquitto';

export interface Cluster {
  cfg: SyncBenchConfig;
  teardown: Teardown;
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

type ClusterBase = Pick<Cluster, 'cfg' | 'teardown' | 'dir' | 'kind' | 'cpu' | 'profiles'>;

function syncYaml(cfg: SyncBenchConfig): string {
  const entries = Object.entries(cfg.syncOverrides).map(([k, v]) => `${k}: ${v}`);
  return entries.length ? `sync: { ${entries.join(', ')} }\n` : '';
}

function spawnOptions(cfg: SyncBenchConfig, kind: BrokerKind, role: string): SpawnOptions {
  const execArgv: string[] = [];
  const env = { ...process.env };
  if (cfg.nodelay) execArgv.push('--import', NODELAY_PRELOAD);
  if (cfg.cpuProfDir) {
    const dir = join(cfg.cpuProfDir, kind, role);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--import', pathToFileURL(join(import.meta.dirname, 'cpu-profile-preload.mjs')).href);
    env['OUTPOST_BENCH_CPU_PROF_DIR'] = dir;
  }
  return { execArgv, env };
}

function nodeYaml(cfg: SyncBenchConfig, id: string, hubUrl: string): string {
  return `node: { id: ${id}, site: a }
dataDir: ./${id}
log: { level: info }
sip: { domain: bench.local, listen: ["udp:127.0.0.1:0"] }
hub: { url: "${hubUrl}" }
${syncYaml(cfg)}`;
}

/**
 * Spawns `outpost node` for `id` with its config in the cluster's directory (same data directory
 * on a restart) and accounts for it; `profileRole` names it in the list of profiled processes.
 */
export function spawnNode(c: ClusterBase, id: 'n1' | 'n2', profileRole: string = id): OutpostProcess {
  const p = new OutpostProcess(id, OUTPOST_BIN, 'node', join(c.dir, `${id}.yaml`), c.dir, spawnOptions(c.cfg, c.kind, id));
  c.teardown.own(p.proc);
  c.cpu.track(id, p.pid);
  c.profiles.push({ role: profileRole, pid: p.pid });
  return p;
}

async function startNodeProc(c: ClusterBase, id: 'n1' | 'n2'): Promise<OutpostProcess> {
  const p = spawnNode(c, id);
  c.teardown.push(() => p.stop());
  await p.waitForLog('node started', 30_000);
  return p;
}

export async function startCluster(cfg: SyncBenchConfig, teardown: Teardown, kind: BrokerKind, mosquittoBin?: string): Promise<Cluster> {
  const dir = tempDir(`outpost-sync-${kind}-`);
  if (!cfg.keep) teardown.push(async () => rmSync(dir, { recursive: true, force: true }));
  else log(`${kind}: keeping ${dir}`);
  const cpu = new CpuBook();
  const profiles: Array<{ role: string; pid: number }> = [];
  let mosquitto: MosquittoProcess | undefined;
  let mqtt = `{ listen: "mqtt://127.0.0.1:0" }`;
  if (kind === 'mosquitto') {
    const port = await freeTcpPort();
    mosquitto = await startMosquitto(mosquittoBin!, dir, port, cfg.nodelay, cfg.mosquittoMaxQueued);
    teardown.own(mosquitto.proc);
    cpu.track('mosquitto', mosquitto.proc.pid!);
    const m = mosquitto;
    teardown.push(() => m.stop());
    mqtt = `{ url: "${mosquitto.url}" }`;
    log(`mosquitto listening on ${mosquitto.url} (pid ${mosquitto.proc.pid})`);
  }
  writeFileSync(join(dir, 'hub.yaml'), `dataDir: ./hub\nlog: { level: info }\nmqtt: ${mqtt}\nsip: { domain: bench.local }\n${syncYaml(cfg)}`);
  const hub = new OutpostProcess('hub', OUTPOST_BIN, 'hub', join(dir, 'hub.yaml'), dir, spawnOptions(cfg, kind, 'hub'));
  teardown.own(hub.proc);
  cpu.track('hub', hub.pid);
  profiles.push({ role: 'hub', pid: hub.pid });
  teardown.push(() => hub.stop());
  const info = await waitForRuntimeFile(hub, join(dir, 'hub'), 30_000);
  const hubUrl = info.mqtt!;
  log(`${kind}: hub started (pid ${hub.pid}), broker ${hubUrl}`);
  for (const id of ['n1', 'n2']) writeFileSync(join(dir, `${id}.yaml`), nodeYaml(cfg, id, hubUrl));
  const base: ClusterBase = { cfg, teardown, dir, kind, cpu, profiles };
  const n1 = await startNodeProc(base, 'n1');
  const n2 = await startNodeProc(base, 'n2');
  // views and writer are filled in below, once the nodes run.
  const c: Cluster = { ...base, hubUrl, hub, n1, n2, ...(mosquitto ? { mosquitto } : {}), views: undefined!, writer: undefined! };
  // n2 is restarted by the backlog phase: stop whichever process then holds the role.
  teardown.push(() => c.n2.stop());
  log(`${kind}: n1 (pid ${n1.pid}) and n2 (pid ${n2.pid}) started`);
  c.writer = await SyncWriter.open(ROOT, join(dir, 'n1'));
  teardown.own(c.writer.proc);
  cpu.track('writer', c.writer.pid);
  teardown.push(() => c.writer.close());
  c.views = { hub: new StoreView(join(dir, 'hub')), n1: new StoreView(join(dir, 'n1')), n2: new StoreView(join(dir, 'n2')) };
  teardown.push(async () => Object.values(c.views).forEach((v) => v.close()));
  return c;
}

/** Why the cluster cannot go on (a process died without being asked to stop), if it cannot. */
export function dead(c: Cluster): string | undefined {
  for (const p of [c.hub, c.n1, c.n2]) if (p.exitInfo && !p.stopping) return `${p.name} died: ${p.exitInfo}\n${p.tail()}`;
  return undefined;
}

/** Diagnostics for a wait that timed out: counts, stream states and the logs' last lines. */
export function diagnose(c: Cluster, prefix: string, expected: number): string {
  const lines = [`rows with prefix ${prefix}: n1 ${c.views.n1.count(prefix)}, hub ${c.views.hub.count(prefix)}, n2 ${c.views.n2.count(prefix)} (expected ${expected})`];
  for (const id of ['hub', 'n1', 'n2']) {
    const s = readStatus(join(c.dir, id));
    if (s) lines.push(`${id} sync-status: head ${s.head}, links ${JSON.stringify(s.links)}, streams ${JSON.stringify(s.peers.map((p) => ({ peer: p.nodeId, head: p.head, streams: p.streams })))}, counters ${JSON.stringify(s.counters)}`);
  }
  for (const p of [c.hub, c.n1, c.n2]) lines.push(`${p.name} log tail:\n${p.tail(10)}`);
  return lines.join('\n');
}

/** Throws if a process died or the bench was interrupted. */
export function checkAlive(c: Cluster): void {
  const d = dead(c);
  if (d) throw new Error(d);
  if (c.teardown.interrupted) throw new Error('interrupted');
}

/** Polls `count()` every `intervalMs` until it reaches `expected`; returns the time it did. */
export async function waitForRows(c: Cluster, what: string, count: () => number, expected: number, intervalMs: number, onPoll?: (t: number, n: number) => void): Promise<number> {
  const timeoutMs = c.cfg.timeoutMs;
  const deadline = now() + timeoutMs;
  let lastLog = now();
  for (;;) {
    const t = now();
    const n = count();
    onPoll?.(t, n);
    if (n >= expected) return t;
    checkAlive(c);
    if (t > deadline) throw new Error(`${what}: ${n}/${expected} rows after ${timeoutMs / 1000} s`);
    if (t - lastLog > 5000) {
      log(`  ${what}: ${n}/${expected} rows`);
      lastLog = t;
    }
    await sleep(intervalMs);
  }
}

/** Waits for the machine to be quiet (other processes < 0.1 cores); returns their last load. */
export async function quiet(c: Cluster): Promise<number> {
  return waitForQuiet(() => c.cpu.total(), log, 0.1, c.cfg.quietWaitS);
}
