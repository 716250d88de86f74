/**
 * The hub's CPU and memory with many boxes publishing telemetry (issue 13, docs/bench-telemetry.md):
 * a real hub (`outpost hub`, embedded aedes over mutual TLS, its fleet view and dashboard) and
 * N simulated certified boxes (bench/lib/sim-box.ts: each its own key and certificate from the
 * hub's CA) in `--swarms` separate client processes (telemetry-swarm.ts).
 *
 *   nice -n 19 node --import tsx bench/telemetry-hub.ts [options]
 *
 * Phases, on one fresh hub:
 * 1. idle: the hub started, no box; RSS from /proc and the heap after a full GC (SIGUSR2 →
 *    memory-report-preload.mjs).
 * 2. connected: every box connected and its retained certified state published (the hub
 *    checks each certificate), then `--baseline` seconds with no telemetry: the hub's CPU.
 * 3. telemetry: each box publishes a sample (QoS 0) every `--interval` s, at its own phase, for
 *    `--duration` s: the hub's CPU over that span, then its memory with the window filled that far.
 * 4. check: the samples the hub's fleet view took (GET /api/fleet as a dashboard admin).
 * Progress goes to stderr; stdout gets exactly one JSON line.
 * Options:
 *   --clients N (1000)  --interval S (10)  --duration S (70)  --baseline S (15)
 *   --swarms N (2)  --concurrency N (20 connects in flight per client process)  --keep
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Cluster } from './lib/cluster.ts';
import { HarnessError } from './lib/harness-error.ts';
import { askChild } from './lib/child-ask.ts';
import { runCli } from './lib/node-process.ts';
import { processCpuSeconds, stopProcess } from './lib/procs.ts';
import { machine, outpostVersion, printResult, runMain } from './lib/report.ts';
import { issueSimBoxes } from './lib/sim-box.ts';
import { Teardown } from './lib/teardown.ts';
import type { TelemetrySwarmConnect, TelemetrySwarmConnected, TelemetrySwarmPublished } from './lib/telemetry-swarm.ts';
import { waitFor } from './lib/wait-for.ts';

const { values: opts } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '10' },
    duration: { type: 'string', default: '70' },
    baseline: { type: 'string', default: '15' },
    swarms: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});
const N = Number(opts.clients);
const INTERVAL_MS = Number(opts.interval) * 1000;
const DURATION_MS = Number(opts.duration) * 1000;
const BASELINE_MS = Number(opts.baseline) * 1000;
const SWARMS = Number(opts.swarms);
const CONCURRENCY = Number(opts.concurrency);
if (![N, INTERVAL_MS, DURATION_MS, BASELINE_MS, SWARMS, CONCURRENCY].every((n) => Number.isInteger(n) && n > 0) || N > 5000 || SWARMS > 8 || DURATION_MS > 600_000) {
  throw new HarnessError('bad numeric option (clients ≤ 5000, swarms ≤ 8, duration ≤ 600 s)');
}

const log = (msg: string) => process.stderr.write(`[bench:telemetry] ${msg}\n`);
const teardown = new Teardown(log).install();
const PRELOAD = pathToFileURL(join(import.meta.dirname, 'lib', 'memory-report-preload.mjs')).href;
const SWARM = join(import.meta.dirname, 'lib', 'telemetry-swarm.ts');
const SITES = 50;

const kb = (b: number) => Math.round(b / 1024);

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new HarnessError(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

async function memoryOf(pid: number, file: string): Promise<{ rssKb: number; heapUsedKb: number; externalKb: number }> {
  const asked = Date.now();
  process.kill(pid, 'SIGUSR2');
  const m = await waitFor(() => {
    if (!existsSync(file)) return undefined;
    const r = JSON.parse(readFileSync(file, 'utf8')) as { at: number; gc: boolean; heapUsed: number; external: number };
    return r.at >= asked ? r : undefined;
  }, 'the hub memory report', 10_000);
  if (!m.gc) throw new HarnessError('the hub ran without --expose-gc');
  return { rssKb: rssKb(pid), heapUsedKb: kb(m.heapUsed), externalKb: kb(m.external) };
}


/** The hub's CPU, % of one core, over `ms` of doing nothing here. */
async function cpuOver(pid: number, ms: number): Promise<{ cpuS: number; pct: number }> {
  const c0 = processCpuSeconds(pid);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const cpuS = processCpuSeconds(pid) - c0;
  return { cpuS, pct: Math.round((cpuS / ((performance.now() - t0) / 1000)) * 1000) / 10 };
}

async function fleetOf(cluster: Cluster, dashboard: string): Promise<{ counters: Record<string, number>; totals: Record<string, number> }> {
  const made = await runCli(['dashboard', 'passwd', 'bench', '--generate', '--config', cluster.hub.configFile], cluster.dir);
  const password = /^password: (\S+)$/m.exec(made.stdout)?.[1];
  if (made.code !== 0 || !password) throw new HarnessError(`dashboard passwd failed (${made.code}): ${made.stderr}`);
  const login = await fetch(new URL('/login', dashboard), { method: 'POST', body: new URLSearchParams({ user: 'bench', password }), redirect: 'manual' });
  const cookie = login.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new HarnessError(`dashboard login failed: ${login.status}`);
  const res = await fetch(new URL('/api/fleet', dashboard), { headers: { cookie } });
  return (await res.json()) as { counters: Record<string, number>; totals: Record<string, number> };
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadAtStart = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  const dir = teardown.tempDir('outpost-telemetry-hub-', opts.keep);
  const memoryFile = join(dir, 'hub-memory.json');
  const cluster = await Cluster.prepare({
    dir,
    broker: 'embedded',
    nodes: [],
    secure: true,
    logLevel: 'warn',
    hubExtra: 'dashboard: { listen: "127.0.0.1:0" }\n',
    spawn: () => ({ execArgv: ['--expose-gc', '--import', PRELOAD], env: { ...process.env, OUTPOST_BENCH_MEMORY_FILE: memoryFile }, onSpawn: (p) => teardown.own(p.proc!) }),
  });
  teardown.push(() => cluster.destroy());
  await cluster.start();
  const pid = cluster.hub.pid;
  const url = cluster.hubUrl!;
  const dashboard = cluster.hub.info?.dashboard;
  if (!dashboard) throw new HarnessError('the hub wrote no dashboard address to node.json');
  log(`hub pid ${pid}, broker ${url}, dashboard ${dashboard}`);

  const t0 = performance.now();
  const issued = await issueSimBoxes(cluster.hub.dataDir, Array.from({ length: N }, (_, i) => ({ id: `t${String(i + 1).padStart(4, '0')}`, site: `s${String(i % SITES).padStart(2, '0')}` })));
  log(`${N} certificates issued in ${Math.round(performance.now() - t0)} ms`);
  const swarms = Array.from({ length: SWARMS }, () => {
    const child = fork(SWARM, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    teardown.own(child);
    teardown.push(() => stopProcess(child, { graceMs: 2000 }));
    return child;
  });
  const idle = await memoryOf(pid, memoryFile);

  const connectCpu0 = processCpuSeconds(pid);
  const connects = await Promise.all(
    swarms.map((s, k) => {
      const req: TelemetrySwarmConnect = { url, ca: issued.ca, boxes: issued.boxes.filter((_, i) => i % SWARMS === k), concurrency: CONCURRENCY, state: true };
      return askChild<TelemetrySwarmConnected>(s, { connect: req }, 'connected', 300_000);
    }),
  );
  const connected = connects.reduce((a, c) => a + c.connected, 0);
  const connectCpuS = processCpuSeconds(pid) - connectCpu0;
  log(`${connected}/${N} connected with their states (hub CPU ${connectCpuS.toFixed(1)} s)`);
  if (connected === 0) throw new HarnessError(`no box connected: ${connects.flatMap((c) => c.errors).join('; ')}`);
  const baseline = await cpuOver(pid, BASELINE_MS);
  const withConnections = await memoryOf(pid, memoryFile);
  log(`baseline: hub CPU ${baseline.pct} % with ${connected} idle connections`);

  const c0 = processCpuSeconds(pid);
  const p0 = performance.now();
  const published = await Promise.all(swarms.map((s) => askChild<TelemetrySwarmPublished>(s, { publish: { intervalMs: INTERVAL_MS, durationMs: DURATION_MS } }, 'published', DURATION_MS + 60_000)));
  const spanS = (performance.now() - p0) / 1000;
  const cpuS = processCpuSeconds(pid) - c0;
  const sent = published.reduce((a, p) => a + p.published, 0);
  log(`telemetry: ${sent} samples in ${spanS.toFixed(1)} s, hub CPU ${cpuS.toFixed(1)} s`);
  const withTelemetry = await memoryOf(pid, memoryFile);
  const fleet = await fleetOf(cluster, dashboard);
  const extraCpuS = Math.max(0, cpuS - (baseline.cpuS / (BASELINE_MS / 1000)) * spanS);

  printResult({
    bench: 'telemetry-hub',
    version: outpostVersion(),
    options: { clients: N, sites: SITES, intervalS: INTERVAL_MS / 1000, durationS: DURATION_MS / 1000, baselineS: BASELINE_MS / 1000, swarms: SWARMS, concurrency: CONCURRENCY },
    connected,
    connectErrors: connects.flatMap((c) => c.errors).slice(0, 5),
    connect: { wallMs: Math.max(...connects.map((c) => c.wallMs)), hubCpuS: Math.round(connectCpuS * 10) / 10 },
    telemetry: { sent, failed: published.reduce((a, p) => a + p.failed, 0), perS: Math.round(sent / spanS), senderLateP99Ms: Math.max(...published.map((p) => p.lateP99Ms)) },
    hub: {
      accepted: fleet.counters['accepted'],
      invalid: fleet.counters['invalid'],
      wrongTopic: fleet.counters['wrongTopic'],
      boxes: fleet.totals['boxes'],
      online: fleet.totals['online'],
      cpu: {
        baselinePct: baseline.pct,
        telemetryPct: Math.round((cpuS / spanS) * 1000) / 10,
        perSampleUs: fleet.counters['accepted'] ? Math.round((extraCpuS / fleet.counters['accepted']!) * 1e6) : null,
      },
      memory: {
        idle,
        connected: withConnections,
        telemetry: withTelemetry,
        telemetryMinusConnectedKb: { rss: withTelemetry.rssKb - withConnections.rssKb, heapUsed: withTelemetry.heapUsedKb - withConnections.heapUsedKb },
        perBoxKb: { rss: Math.round(((withTelemetry.rssKb - idle.rssKb) / connected) * 10) / 10, heapUsed: Math.round(((withTelemetry.heapUsedKb - idle.heapUsedKb) / connected) * 10) / 10 },
      },
    },
    loadAvgAtStart: loadAtStart,
    loadAvgAtEnd: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
    machine: machine(),
    durationS: Math.round((performance.now() - started) / 1000),
  });
  await Promise.all(swarms.map((s) => askChild<number>(s, { close: true }, 'closed', 30_000).catch((err: Error) => log(err.message))));
  await teardown.runAll();
}

runMain(main, log, teardown);
