/**
 * The cluster of bench/sync.ts for one broker: hub (embedded aedes, or Mosquitto as its external
 * broker), n1 and n2 of site `a` (cluster.ts), the writer process on n1's store and read-only
 * views of the three stores; plus the waits and diagnostics the phases share.
 */
import { join } from 'node:path';
import { Cluster as Processes } from './cluster.ts';
import { diagnostics, ROOT } from './node-process.ts';
import type { OutpostProcess } from './outpost-process.ts';
import { waitForQuiet } from './quiet.ts';
import type { Teardown } from './teardown.ts';
import { log, sleep, type SyncBenchConfig } from './sync-config.ts';
import { readStatus } from './sync-counters.ts';
import { CpuBook } from './sync-cpu.ts';
import { now } from './outpost-process.ts';
import { StoreView } from './sync-procs.ts';
import { SyncWriter } from './sync-writer.ts';
import { HarnessError } from './harness-error.ts';

const NODELAY_PRELOAD =
  'data:text/javascript,' +
  encodeURIComponent(`import net from 'node:net';
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) { this.setNoDelay(true); return connect.apply(this, args); };
const createServer = net.createServer;
net.createServer = function (o, l) { return typeof o === 'object' && o !== null ? createServer.call(this, { noDelay: true, ...o }, l) : createServer.call(this, { noDelay: true }, o); };`);

export type BrokerKind = 'aedes' | 'mosquitto';

/** Where --cpu-prof-dir keeps one run's profiles: `<broker>` over TLS, `<broker>-plain` over plain MQTT. */
export const profileDirName = (kind: BrokerKind, secure: boolean) => (secure ? kind : `${kind}-plain`);

export interface Cluster {
  cfg: SyncBenchConfig;
  teardown: Teardown;
  kind: BrokerKind;
  dir: string;
  processes: Processes;
  hub: OutpostProcess;
  n1: OutpostProcess;
  n2: OutpostProcess;
  views: { hub: StoreView; n1: StoreView; n2: StoreView };
  writer: SyncWriter;
  cpu: CpuBook;
  profiles: Array<{ role: string; pid: number }>;
}

function syncYaml(cfg: SyncBenchConfig): string {
  const entries = Object.entries(cfg.syncOverrides).map(([k, v]) => `${k}: ${v}`);
  return entries.length ? `sync: { ${entries.join(', ')} }\n` : '';
}

/** `secure`: MQTT over mutual TLS with enrolled boxes (cluster.ts's default); false: plain MQTT. */
export async function startCluster(cfg: SyncBenchConfig, teardown: Teardown, kind: BrokerKind, secure = true): Promise<Cluster> {
  const dir = teardown.tempDir(`outpost-sync-${kind}-${secure ? 'tls' : 'plain'}-`, cfg.keep);
  const cpu = new CpuBook();
  const profiles: Array<{ role: string; pid: number }> = [];
  const processes = await Processes.prepare({
    dir,
    broker: kind === 'aedes' ? 'embedded' : 'mosquitto',
    secure,
    nodes: ['n1', 'n2'],
    domain: 'bench.local',
    hubPort: kind === 'aedes' ? 0 : undefined,
    hubExtra: syncYaml(cfg),
    nodeExtra: syncYaml(cfg),
    mosquitto: {
      nodelay: cfg.nodelay,
      maxQueued: cfg.mosquittoMaxQueued,
      onSpawn: (proc) => {
        teardown.own(proc);
        cpu.track('mosquitto', proc.pid!);
      },
    },
    spawn: (name) => {
      const d = diagnostics({ cpuProfDir: cfg.cpuProfDir ? join(cfg.cpuProfDir, profileDirName(kind, secure), name) : undefined });
      if (cfg.nodelay) d.execArgv.push('--import', NODELAY_PRELOAD);
      return {
        ...d,
        onSpawn: (p) => {
          teardown.own(p.proc!);
          cpu.track(p.name, p.pid);
          profiles.push({ role: p.runs > 1 ? `${p.name} (restarted)` : p.name, pid: p.pid });
        },
      };
    },
  });
  // Stops whichever process then holds each role (n2 is restarted by the backlog phase).
  teardown.push(() => processes.stop());
  await processes.start();
  const m = processes.mosquitto;
  if (m) log(`mosquitto listening on ${m.url} (pid ${m.proc!.pid})`);
  const [n1, n2] = processes.nodes as [OutpostProcess, OutpostProcess];
  log(`${kind}: hub (pid ${processes.hub.pid}, broker ${processes.hubUrl}), n1 (pid ${n1.pid}) and n2 (pid ${n2.pid}) started`);
  const writer = await SyncWriter.open(ROOT, join(dir, 'n1'));
  teardown.own(writer.proc);
  cpu.track('writer', writer.pid);
  teardown.push(() => writer.close());
  const views = { hub: new StoreView(join(dir, 'hub')), n1: new StoreView(join(dir, 'n1')), n2: new StoreView(join(dir, 'n2')) };
  teardown.push(async () => Object.values(views).forEach((v) => v.close()));
  return { cfg, teardown, kind, dir, processes, hub: processes.hub, n1, n2, views, writer, cpu, profiles };
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
  if (d) throw new HarnessError(d);
  if (c.teardown.interrupted) throw new HarnessError('interrupted');
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
    if (t > deadline) throw new HarnessError(`${what}: ${n}/${expected} rows after ${timeoutMs / 1000} s`);
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
