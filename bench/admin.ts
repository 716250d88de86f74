/**
 * The admin API through the hub (docs/bench-admin.md): a real hub (`outpost hub`, mutual TLS,
 * its CA) with one real box of site `a` enrolled by claim code (cluster.ts) and `--boxes`
 * simulated boxes of the same site connected and subscribed as boxes are (mqtt-swarm.ts, each
 * with its own certificate from the hub's CA), so every change the hub commits also goes out to
 * them. An admin certified by the same CA (role admin) sends signed requests one after another
 * over its own mTLS connection (agent/admin/admin-client.ts), as `outpost admin` does:
 * 1. read: `user.list` round trips (sign → publish → verify → run → response);
 * 2. write: `user.add` of a new user each (also the group commit's fsync), round trips;
 * 3. applied: for each write, the time from sending the request until the user is in the real
 *    box's store (replication hub → box), read through a connection of this process.
 *
 *   nice -n 19 node --import tsx bench/admin.ts [--boxes 50] [--requests 200] [--keep]
 *
 * Progress goes to stderr; stdout gets exactly one JSON line.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AdminClient } from '../agent/admin/admin-client.ts';
import { createSystemClock } from '../agent/lib/clock.ts';
import { Store } from '../agent/store/store.ts';
import { CertificateAuthority } from '../agent/trust/ca.ts';
import { newTlsKey } from '../agent/trust/credentials.ts';
import { spkiOfKey } from '../agent/trust/x509.ts';
import { Cluster } from './lib/cluster.ts';
import { HarnessError } from './lib/harness-error.ts';
import type { SwarmReply, SwarmRequest } from './lib/mqtt-swarm.ts';
import { processCpuSeconds, stopProcess } from './lib/procs.ts';
import { machine, printResult, runMain } from './lib/report.ts';
import { Teardown } from './lib/teardown.ts';
import { waitFor } from './lib/wait-for.ts';

const { values: opts } = parseArgs({
  options: {
    boxes: { type: 'string', default: '50' },
    requests: { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
  },
  strict: true,
});
const BOXES = Number(opts.boxes);
const REQUESTS = Number(opts.requests);
if (![BOXES, REQUESTS].every((n) => Number.isInteger(n) && n > 0) || BOXES > 5000) throw new HarnessError('bad numeric option (boxes ≤ 5000)');

const log = (msg: string) => process.stderr.write(`[bench:admin] ${msg}\n`);
const teardown = new Teardown(log).install();
const SITE = 'a';
const SWARM = join(import.meta.dirname, 'lib', 'mqtt-swarm.ts');

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]! * 100) / 100 : null;
};
const summary = (xs: number[]) => ({ n: xs.length, p50Ms: pct(xs, 0.5), p90Ms: pct(xs, 0.9), p99Ms: pct(xs, 0.99), maxMs: pct(xs, 1) });

async function issue(ca: CertificateAuthority, id: string, role: 'node' | 'admin'): Promise<{ id: string; key: string; cert: string }> {
  const key = newTlsKey();
  const cert = await ca.issue({ identity: { nodeId: id, site: role === 'node' ? SITE : '', role, nodeKey: undefined }, publicKey: spkiOfKey(createPrivateKey(key)), days: 1 });
  return { id, key, cert };
}

function swarm(req: SwarmRequest): Promise<{ child: ChildProcess; reply: SwarmReply }> {
  const child = fork(SWARM, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  teardown.own(child);
  teardown.push(() => stopProcess(child, { graceMs: 2000 }));
  return new Promise((resolve, reject) => {
    child.once('exit', () => reject(new HarnessError('the swarm process exited')));
    child.on('message', (m: { reply?: SwarmReply }) => m.reply && resolve({ child, reply: m.reply }));
    child.send({ run: req });
  });
}

async function main(): Promise<void> {
  const started = performance.now();
  const dir = teardown.tempDir('outpost-bench-admin-', opts.keep);
  const cluster = await Cluster.prepare({ dir, broker: 'embedded', nodes: ['b1'], site: SITE, logLevel: 'warn', spawn: () => ({ onSpawn: (p) => teardown.own(p.proc!) }) });
  teardown.push(() => cluster.destroy());
  await cluster.start();
  const url = cluster.hubUrl!;
  log(`hub ${url}, box b1 enrolled`);
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: cluster.hub.dataDir, hubId: 'hub', caDays: 1, clock: createSystemClock() });
  const clients = await Promise.all(Array.from({ length: BOXES }, (_, i) => issue(ca, `s${String(i + 1).padStart(4, '0')}`, 'node')));
  const { reply } = await swarm({ url, ca: ca.certificatePem, site: SITE, clients, concurrency: 10, timeoutMs: 30_000 });
  if (reply.connected !== BOXES) throw new HarnessError(`only ${reply.connected}/${BOXES} simulated boxes connected: ${reply.errors.join('; ')}`);
  log(`${BOXES} simulated boxes connected`);
  const admin = await issue(ca, 'bench-admin', 'admin');
  const client = new AdminClient({ credential: { name: admin.id, key: admin.key, cert: admin.cert, ca: ca.certificatePem, broker: url }, timeoutMs: 15_000 });
  await client.connect();
  teardown.push(() => client.close());
  const box = Store.open({ dataDir: cluster.node('b1').dataDir, mustExist: true });
  teardown.push(async () => box.close());

  const hubCpu0 = processCpuSeconds(cluster.hub.pid);
  const read: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const r = await client.request('user.list', {});
    if (!r.ok) throw new HarnessError(`user.list: ${r.problems.join('; ')}`);
    read.push(performance.now() - t0);
  }
  log(`read round trip p50 ${pct(read, 0.5)} ms`);
  const write: number[] = [];
  const applied: number[] = [];
  const afterResponse: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const ext = String(100_000 + i);
    const t0 = performance.now();
    const r = await client.request('user.add', { ext, password: 'bench-secret', site: SITE });
    const t1 = performance.now();
    if (!r.ok) throw new HarnessError(`user.add: ${r.problems.join('; ')}`);
    write.push(t1 - t0);
    // The repository caches users: drop the cache before each look (as the node does on a merge).
    await waitFor(() => {
      box.users.invalidate();
      return box.users.get(ext) !== undefined;
    }, `user ${ext} at box b1`, 15_000, 1);
    const t2 = performance.now();
    applied.push(t2 - t0);
    afterResponse.push(t2 - t1);
  }
  const hubCpuMs = (processCpuSeconds(cluster.hub.pid) - hubCpu0) * 1000;
  log(`write round trip p50 ${pct(write, 0.5)} ms, applied at the box p50 ${pct(applied, 0.5)} ms`);
  await teardown.runAll();
  printResult({
    bench: 'admin',
    options: { boxes: BOXES, requests: REQUESTS, transport: 'mqtts (mutual TLS)', broker: 'embedded aedes' },
    simulatedBoxes: { connected: reply.connected, connectP50Ms: pct(reply.connectMs, 0.5) },
    roundTrip: { read: summary(read), write: summary(write) },
    appliedAtBox: { fromRequest: summary(applied), fromResponse: summary(afterResponse) },
    hubCpuMsPerRequest: Math.round((hubCpuMs / (2 * REQUESTS)) * 100) / 100,
    machine: machine(),
    durationS: Math.round((performance.now() - started) / 1000),
  });
}

runMain(main, log, teardown);
