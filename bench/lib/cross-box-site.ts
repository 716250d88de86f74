/**
 * The system under test of bench/cross-box.ts: a hub and boxes a1 and a2 of site `a`
 * (cluster.ts) with callers 5000+i, callees 6000+i registered at a1 and callees 7000+i
 * registered at a2, every callee's binding pointing at the one sipp callee (each callee
 * REGISTERs from that sipp's port with sipp). A call from a caller at a1 to 6000+i stays on a1;
 * one to 7000+i crosses to a2 (docs/inter-box.md). The boxes log at `info`, so that the bench
 * sees when a1's peer liveness declares a2 down (its calls to a2's users then get 480).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../agent/store/store.ts';
import { Cluster } from './cluster.ts';
import { runCli } from './node-process.ts';
import type { OutpostProcess } from './outpost-process.ts';
import { freeUdpPort } from './procs.ts';
import { sippCounts, startSipp } from './sipp.ts';
import type { Teardown } from './teardown.ts';
import { waitFor } from './wait-for.ts';
import { HarnessError } from './harness-error.ts';

const REGISTER_SCENARIO = join(import.meta.dirname, 'sipp/register-auth.xml');
export const callerExt = (i: number) => String(5000 + i);
export const calleeExt = (i: number, where: 'same' | 'cross') => String((where === 'same' ? 6000 : 7000) + i);
export const password = (ext: string) => `pw-${ext}-bench`;

export interface SiteOptions {
  dir: string;
  domain: string;
  /** Callers, and callees on each box. */
  users: number;
  teardown: Teardown;
  log: (msg: string) => void;
}

export class CrossBoxSite {
  private constructor(
    readonly cluster: Cluster,
    readonly a1: OutpostProcess,
    readonly a2: OutpostProcess,
    readonly uasPort: number,
  ) {}

  static async start(o: SiteOptions): Promise<CrossBoxSite> {
    // The boxes' defaults except: MD5 only (sipp), no flood throttling of the one sipp source,
    // call limits above anything the bench offers, no media timeout (the calls carry no RTP).
    const cluster = await Cluster.prepare({
      dir: o.dir, broker: 'embedded', nodes: ['a1', 'a2'], site: 'a', domain: o.domain, logLevel: 'info',
      nodeSip: '  auth: { algorithms: [MD5] }\n  flood:\n    rateLimit: { perSecond: 1000000, burst: 1000000 }\n',
      nodeExtra: 'mqtt: { listen: "mqtt://127.0.0.1:0" }\nrtp: { timeout: 300 }\ncalls: { maxPerUser: 100, maxTotal: 20000 }\n',
      spawn: () => ({ onSpawn: (p) => o.teardown.own(p.proc!) }),
    });
    o.teardown.push(() => cluster.destroy());
    await cluster.start();
    const [a1, a2] = [cluster.node('a1'), cluster.node('a2')];
    const users = Array.from({ length: o.users }, (_, i) => [callerExt(i), calleeExt(i, 'same'), calleeExt(i, 'cross')]).flat();
    const queue = [...users];
    await Promise.all([0, 1].map(async () => {
      for (let ext = queue.shift(); ext; ext = queue.shift()) {
        const res = await runCli(['user', 'add', ext, '--password', password(ext), '--config', cluster.hub.configFile], o.dir);
        if (res.code !== 0) throw new HarnessError(`user add ${ext} failed (${res.code}): ${res.stderr}`);
      }
    }));
    await waitFor(() => [a1, a2].every((b) => readStore(b, (s) => users.every((u) => s.users.get(u)))), 'the users on both boxes', 60_000, 250);
    await waitFor(() => readStore(a1, (s) => s.changes.knownKey('a2')) && readStore(a2, (s) => s.changes.knownKey('a1')), 'a1 and a2 to know each other', 30_000, 200);
    const uasPort = await freeUdpPort();
    for (const [box, where] of [[a1, 'same'], [a2, 'cross']] as const) {
      const rows = Array.from({ length: o.users }, (_, i) => `${calleeExt(i, where)};${password(calleeExt(i, where))};${o.domain}`);
      const reg = startSipp({
        args: [`${box.sip.host}:${box.sip.port}`, '-sf', REGISTER_SCENARIO, '-inf', writeRows(o.dir, `register-${box.name}.csv`, rows), '-m', String(o.users), '-p', String(uasPort), '-t', 'u1', '-i', '127.0.0.1', '-timeout', '30s', '-timeout_error'],
        cwd: o.dir, deadlineS: 40,
      });
      const res = await reg.done;
      if (sippCounts(res.stdout).successful !== o.users) throw new HarnessError(`registering the callees at ${box.name} failed: ${res.stderr}${res.stdout.slice(-1500)}`);
    }
    // a1 routes a call to 7000+i to a2 once it holds those bindings, owned by a2.
    const owned = (s: Store, node: string, where: 'same' | 'cross') => {
      const live = s.registrations.allLive(Date.now());
      return Array.from({ length: o.users }, (_, i) => calleeExt(i, where)).every((ext) => live.some((b) => b.aor === ext && b.nodeId === node));
    };
    await waitFor(() => readStore(a1, (s) => owned(s, 'a1', 'same') && owned(s, 'a2', 'cross')), 'a1 to hold every callee binding', 30_000, 200);
    o.log(`site up: a1 ${a1.sip.host}:${a1.sip.port}, a2 ${a2.sip.host}:${a2.sip.port}, ${o.users} callers, ${o.users} callees on each box -> sipp callee 127.0.0.1:${uasPort}`);
    return new CrossBoxSite(cluster, a1, a2, uasPort);
  }

  /** The caller's injection rows: caller i calls callee i on a1 (`same`) or on a2 (`cross`). */
  rows(where: 'same' | 'cross', users: number, domain: string): Array<[string, string, string, string]> {
    return Array.from({ length: users }, (_, i) => [callerExt(i), password(callerExt(i)), domain, calleeExt(i, where)]);
  }

  /** How many times a1 has declared a2 down so far (peer liveness, `peer down` in its log). */
  peerDowns(): number {
    return this.a1.logs.filter((l) => l.line['msg'] === 'peer down' && l.line['peer'] === 'a2').length;
  }

  /** Which box process has died, if any. */
  dead(): string | undefined {
    return [this.a1, this.a2, this.cluster.hub].find((p) => p.proc === undefined || p.proc.exitCode !== null || p.proc.signalCode !== null)?.name;
  }
}

function readStore<T>(box: OutpostProcess, read: (s: Store) => T): T {
  const store = Store.open({ dataDir: box.dataDir, mustExist: true });
  try {
    return read(store);
  } finally {
    store.close();
  }
}

/** A sipp injection file (SEQUENTIAL) in `dir`. */
function writeRows(dir: string, name: string, rows: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `SEQUENTIAL\n${rows.join('\n')}\n`);
  return file;
}
