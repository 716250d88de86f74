/**
 * Memory per MQTT connection on the hub's broker, over mutual TLS and plain, for many connected
 * boxes (issue 12): a real hub (`outpost hub`, cluster.ts with no nodes) and N simulated boxes
 * on 127.0.0.1, each a distinct certified node with its own key and certificate from the hub's
 * CA, connected and subscribed as a box does, from a few client processes (mqtt-swarm.ts).
 *
 *   node --import tsx bench/tls-connections.ts [options]      (or: npm run bench:tls)
 *
 * Per broker (the hub's embedded aedes; Mosquitto with require_certificate as the hub's external
 * broker, the reference, if installed) and per transport (tls, then plain), on a fresh hub:
 * 1. certificates: N P-256 keys and certificates (CN b0001…, site `a`, role node) issued in this
 *    process by the hub's own CA (agent/trust/ca.ts, loaded from the hub's data directory).
 * 2. before: the broker process idle; RSS from /proc, and for the hub also process.memoryUsage()
 *    after a full GC (a preload, memory-report-preload.mjs, answers SIGUSR2).
 * 3. connect: the clients split over the swarm processes, `--concurrency` connects at a time in
 *    each (connect() → SUBACK of the box's five subscriptions, QoS 1), and the broker's CPU time
 *    over that span per connection.
 * 4. after: the same measure with every client connected (after `--settle` seconds), and the
 *    difference divided by the connected clients.
 * Progress goes to stderr; stdout gets exactly one JSON line.
 * Options:
 *   --clients N        (default 1000)       --swarms N       client processes (default 2)
 *   --concurrency N    connects in flight per client process (default 20)
 *   --transport tls|plain|both (default both)   --only embedded|mosquitto
 *   --settle S         wait before each memory reading (default 3)
 *   --timeout S        longest wait for all clients to connect (default 120)
 *   --keep             keep the temporary directories
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CertificateAuthority } from '../agent/trust/ca.ts';
import { newTlsKey } from '../agent/trust/credentials.ts';
import { spkiOfKey } from '../agent/trust/x509.ts';
import { createSystemClock } from '../agent/lib/clock.ts';
import { Cluster, type Broker } from './lib/cluster.ts';
import { HarnessError } from './lib/harness-error.ts';
import { askChild } from './lib/child-ask.ts';
import { findMosquitto } from './lib/mosquitto.ts';
import type { SwarmReply, SwarmRequest } from './lib/mqtt-swarm.ts';
import { processCpuSeconds, stopProcess } from './lib/procs.ts';
import { machine, printResult, runMain } from './lib/report.ts';
import { Teardown } from './lib/teardown.ts';
import { waitFor } from './lib/wait-for.ts';

const { values: opts } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    swarms: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '20' },
    transport: { type: 'string', default: 'both' },
    only: { type: 'string' },
    settle: { type: 'string', default: '3' },
    timeout: { type: 'string', default: '120' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});
const N = Number(opts.clients);
const SWARMS = Number(opts.swarms);
const CONCURRENCY = Number(opts.concurrency);
const SETTLE_MS = Number(opts.settle) * 1000;
const TIMEOUT_MS = Number(opts.timeout) * 1000;
if (![N, SWARMS, CONCURRENCY, TIMEOUT_MS].every((n) => Number.isInteger(n) && n > 0) || N > 20_000 || SWARMS > 8) throw new HarnessError('bad numeric option (clients ≤ 20000, swarms ≤ 8)');
type Transport = 'tls' | 'plain';
const TRANSPORTS: Transport[] = opts.transport === 'both' ? ['tls', 'plain'] : opts.transport === 'tls' || opts.transport === 'plain' ? [opts.transport] : [];
if (TRANSPORTS.length === 0) throw new HarnessError('--transport must be tls, plain or both');
if (opts.only && opts.only !== 'embedded' && opts.only !== 'mosquitto') throw new HarnessError('--only must be embedded or mosquitto');

const log = (msg: string) => process.stderr.write(`[bench:tls] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const teardown = new Teardown(log).install();
const PRELOAD = pathToFileURL(join(import.meta.dirname, 'lib', 'memory-report-preload.mjs')).href;
const SWARM = join(import.meta.dirname, 'lib', 'mqtt-swarm.ts');
const SITE = 'a';

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new HarnessError(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

interface Memory {
  rssKb: number;
  heapUsedKb?: number;
  externalKb?: number;
  arrayBuffersKb?: number;
}

/** The broker's memory: RSS, and for the hub its heap after a full GC (SIGUSR2 → preload). */
async function memoryOf(pid: number, hubMemoryFile: string | undefined): Promise<Memory> {
  if (!hubMemoryFile) return { rssKb: rssKb(pid) };
  const asked = Date.now();
  process.kill(pid, 'SIGUSR2');
  const m = await waitFor(() => {
    if (!existsSync(hubMemoryFile)) return undefined;
    const r = JSON.parse(readFileSync(hubMemoryFile, 'utf8')) as { at: number; gc: boolean; heapUsed: number; external: number; arrayBuffers: number };
    return r.at >= asked ? r : undefined;
  }, 'the hub memory report', 10_000);
  if (!m.gc) throw new HarnessError('the hub ran without --expose-gc');
  const kb = (b: number) => Math.round(b / 1024);
  return { rssKb: rssKb(pid), heapUsedKb: kb(m.heapUsed), externalKb: kb(m.external), arrayBuffersKb: kb(m.arrayBuffers) };
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 10) / 10 : null;
};

/** Certificates for N distinct boxes from the CA in the hub's data directory. */
async function issueClients(hubDataDir: string): Promise<{ ca: string; clients: SwarmRequest['clients']; ms: number }> {
  const t0 = performance.now();
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: hubDataDir, hubId: 'hub', caDays: 1, clock: createSystemClock() });
  const clients: SwarmRequest['clients'] = [];
  for (let i = 1; i <= N; i++) {
    const id = `b${String(i).padStart(4, '0')}`;
    const key = newTlsKey();
    const cert = await ca.issue({ identity: { nodeId: id, site: SITE, role: 'node', nodeKey: undefined }, publicKey: spkiOfKey(createPrivateKey(key)), days: 1 });
    clients.push({ id, key, cert });
  }
  return { ca: ca.certificatePem, clients, ms: Math.round(performance.now() - t0) };
}

function startSwarm(): ChildProcess {
  const child = fork(SWARM, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  teardown.own(child);
  teardown.push(() => stopProcess(child, { graceMs: 2000 }));
  return child;
}


async function runOne(broker: Broker, transport: Transport): Promise<Record<string, unknown>> {
  const secure = transport === 'tls';
  const dir = teardown.tempDir(`outpost-tls-conn-${broker}-${transport}-`, opts.keep);
  const memoryFile = join(dir, 'hub-memory.json');
  const cluster = await Cluster.prepare({
    dir,
    broker,
    nodes: [],
    secure,
    logLevel: 'warn',
    ...(broker === 'embedded' && !secure ? { hubPort: 0 } : {}),
    mosquitto: { onSpawn: (p) => teardown.own(p) },
    spawn: () => ({
      execArgv: ['--expose-gc', '--import', PRELOAD],
      env: { ...process.env, OUTPOST_BENCH_MEMORY_FILE: memoryFile },
      onSpawn: (p) => teardown.own(p.proc!),
    }),
  });
  const stopCluster = teardown.push(() => cluster.destroy());
  await cluster.start();
  const url = cluster.mosquitto?.url ?? cluster.hubUrl!;
  const pid = broker === 'embedded' ? cluster.hub.pid : cluster.mosquitto!.proc!.pid!;
  const hubFile = broker === 'embedded' ? memoryFile : undefined;
  log(`${broker} ${transport}: broker ${url} (pid ${pid})`);
  const certs = secure ? await issueClients(cluster.hub.dataDir) : { ca: undefined, clients: Array.from({ length: N }, (_, i) => ({ id: `b${String(i + 1).padStart(4, '0')}` })), ms: 0 };
  if (secure) log(`${broker} ${transport}: ${N} client certificates issued in ${certs.ms} ms`);
  const swarms = Array.from({ length: SWARMS }, startSwarm);
  await sleep(SETTLE_MS);
  const before = await memoryOf(pid, hubFile);
  const cpu0 = processCpuSeconds(pid);
  const t0 = performance.now();
  const replies = await Promise.all(
    swarms.map((s, k) => {
      const req: SwarmRequest = { url, ...(certs.ca ? { ca: certs.ca } : {}), site: SITE, clients: certs.clients.filter((_, i) => i % SWARMS === k), concurrency: CONCURRENCY, timeoutMs: 30_000 };
      return askChild<SwarmReply>(s, { run: req }, 'reply', TIMEOUT_MS);
    }),
  );
  const wallMs = performance.now() - t0;
  const brokerCpuMs = (processCpuSeconds(pid) - cpu0) * 1000;
  const connected = replies.reduce((a, r) => a + r.connected, 0);
  log(`${broker} ${transport}: ${connected}/${N} connected in ${Math.round(wallMs)} ms`);
  await sleep(SETTLE_MS);
  const after = await memoryOf(pid, hubFile);
  const connectMs = replies.flatMap((r) => r.connectMs);
  const per = (k: keyof Memory) => (after[k] === undefined || before[k] === undefined || connected === 0 ? null : Math.round(((after[k] - before[k]) / connected) * 100) / 100);
  const result = {
    url,
    brokerPid: pid,
    ...(secure ? { certificatesIssued: N, issueMs: certs.ms } : {}),
    connected,
    failed: replies.reduce((a, r) => a + r.failed, 0),
    errors: replies.flatMap((r) => r.errors).slice(0, 5),
    protocols: [...new Set(replies.flatMap((r) => r.protocols))],
    connect: { wallMs: Math.round(wallMs), perS: Math.round(connected / (wallMs / 1000)), p50Ms: pct(connectMs, 0.5), p90Ms: pct(connectMs, 0.9), p99Ms: pct(connectMs, 0.99), maxMs: pct(connectMs, 1), brokerCpuMsPerConnect: connected ? Math.round((brokerCpuMs / connected) * 100) / 100 : null },
    before,
    after,
    perConnectionKb: { rss: per('rssKb'), heapUsed: per('heapUsedKb'), external: per('externalKb'), arrayBuffers: per('arrayBuffersKb') },
  };
  await Promise.all(swarms.map((s) => askChild<number>(s, { close: true }, 'closed', 30_000).catch((err: Error) => log(err.message))));
  await teardown.release(stopCluster);
  return result;
}

async function main(): Promise<void> {
  const started = performance.now();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  const out: Record<string, Record<string, unknown>> = {};
  const brokers: Broker[] = [];
  if (opts.only !== 'mosquitto') brokers.push('embedded');
  const mosq = findMosquitto();
  if (opts.only !== 'embedded' && mosq) brokers.push('mosquitto');
  else if (opts.only !== 'embedded') out['mosquitto'] = { skipped: 'mosquitto is not installed' };
  try {
    for (const b of brokers) {
      out[b] = {};
      for (const t of TRANSPORTS) {
        out[b][t] = await runOne(b, t).catch((err: Error) => {
          if (teardown.interrupted) throw err;
          log(`${b} ${t}: FAILED: ${err.message}`);
          return { error: err.message.split('\n')[0] };
        });
      }
    }
  } finally {
    await teardown.runAll();
  }
  const ratio = (b: string, k: 'rss' | 'heapUsed') => {
    const tls = (out[b]?.['tls'] as { perConnectionKb?: Record<string, number | null> } | undefined)?.perConnectionKb?.[k];
    const plain = (out[b]?.['plain'] as { perConnectionKb?: Record<string, number | null> } | undefined)?.perConnectionKb?.[k];
    return tls == null || plain == null ? null : { tlsKb: tls, plainKb: plain, tlsExtraKb: Math.round((tls - plain) * 100) / 100 };
  };
  printResult({
    bench: 'tls-connections',
    options: { clients: N, swarms: SWARMS, concurrency: CONCURRENCY, transports: TRANSPORTS, settleS: SETTLE_MS / 1000 },
    embedded: out['embedded'] ?? null,
    mosquitto: out['mosquitto'] ?? null,
    ...(mosq ? { mosquittoVersion: mosq.version } : {}),
    perConnection: { embeddedRss: ratio('embedded', 'rss'), embeddedHeap: ratio('embedded', 'heapUsed'), mosquittoRss: ratio('mosquitto', 'rss') },
    loadAvgAtStart: load,
    loadAvgAtEnd: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
    machine: machine(),
    durationS: Math.round((performance.now() - started) / 1000),
  });
}

runMain(main, log, teardown);
