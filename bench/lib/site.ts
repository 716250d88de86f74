/**
 * A site of boxes for the benches and tests that call across boxes (bench/failover.ts; the
 * test helpers in test/helpers/inter-box.ts build on it): a hub and boxes of site `a` as real
 * processes (cluster.ts), users added at the hub, and the waits until every box has those users
 * and has pinned every other box's key (having seen its state, and with it its SIP address).
 * Also a sipp REGISTER of one user at one box. Every wait polls with a deadline.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../agent/store/store.ts';
import { Cluster } from './cluster.ts';
import { HarnessError } from './harness-error.ts';
import { runCli } from './node-process.ts';
import type { OutpostProcess } from './outpost-process.ts';
import { freeUdpPort } from './procs.ts';
import { sippCounts, startSipp } from './sipp.ts';
import type { Teardown } from './teardown.ts';
import { waitFor } from './wait-for.ts';

/** The password of each user of a site (the sync tests' users have the same). */
export const sitePassword = (ext: string) => `pw-${ext}-secret`;

const REGISTER_SCENARIO = join(import.meta.dirname, 'sipp/register-auth.xml');

/** The `sip` lines of a site box: MD5 digest (sipp), room for many contacts of one user. */
export const SITE_NODE_SIP = '  auth: { algorithms: [MD5] }\n  registrar: { maxContactsPerAor: 100 }\n';

export interface SiteOptions {
  dir: string;
  nodes: string[];
  users: string[];
  domain: string;
  /** YAML at the top level of each box's config (after its own broker). */
  nodeExtra?: string;
  /** Owns every process spawned, and destroys the cluster. */
  teardown: Teardown;
}

/** Starts a hub and `nodes` of site `a`, with `users` on every box and every box's key pinned by the others. */
export async function startSite(o: SiteOptions): Promise<Cluster> {
  const cluster = await Cluster.prepare({
    dir: o.dir, broker: 'embedded', nodes: o.nodes, site: 'a', domain: o.domain, logLevel: 'info',
    nodeSip: SITE_NODE_SIP,
    nodeExtra: `mqtt: { listen: "mqtt://127.0.0.1:0" }\n${o.nodeExtra ?? ''}`,
    spawn: () => ({ onSpawn: (p) => o.teardown.own(p.proc!) }),
  });
  o.teardown.push(() => cluster.destroy(true));
  await cluster.start();
  await addSiteUsers(cluster, o.users);
  await waitForSite(cluster, o.users);
  return cluster;
}

/** `outpost user add` of each user at the hub, two CLI processes at a time. */
export async function addSiteUsers(cluster: Cluster, exts: string[]): Promise<void> {
  const queue = [...exts];
  await Promise.all([0, 1].map(async () => {
    for (let ext = queue.shift(); ext; ext = queue.shift()) {
      const res = await runCli(['user', 'add', ext, '--password', sitePassword(ext), '--config', cluster.hub.configFile], cluster.dir);
      if (res.code !== 0) throw new HarnessError(`user add ${ext} failed (${res.code}): ${res.stderr}`);
    }
  }));
}

/** Waits until every box holds `exts` and has pinned every other box's key. */
export async function waitForSite(cluster: Cluster, exts: string[], timeoutMs = 20_000): Promise<void> {
  const boxes = cluster.nodes;
  await waitFor(() => boxes.every((b) => readStore(b, (s) => exts.every((e) => s.users.get(e)))), 'the users on every box', timeoutMs, 200);
  const everyPair = () => boxes.every((box) => boxes.every((peer) => peer === box || pinned(box, peer.name)));
  await waitFor(everyPair, 'the boxes to know each other', timeoutMs, 200);
}

/** True once `box` has pinned `peer`'s node key. */
export function pinned(box: OutpostProcess, peer: string): boolean {
  return readStore(box, (s) => s.changes.knownKey(peer) !== undefined);
}

/**
 * REGISTERs `ext` (password sitePassword) at `box` with sipp from `port`, where that user's sipp
 * then runs; resolves on one successful registration, throws HarnessError otherwise.
 */
export async function sippRegister(o: { dir: string; domain: string; box: OutpostProcess; ext: string; port?: number }): Promise<number> {
  const port = o.port ?? (await freeUdpPort());
  const inf = join(o.dir, `register-${o.ext}-${port}.csv`);
  writeFileSync(inf, `SEQUENTIAL\n${o.ext};${sitePassword(o.ext)};${o.domain}\n`);
  const reg = startSipp({
    args: [`${o.box.sip.host}:${o.box.sip.port}`, '-sf', REGISTER_SCENARIO, '-inf', inf, '-m', '1', '-p', String(port), '-t', 'u1', '-i', '127.0.0.1', '-timeout', '10s', '-timeout_error'],
    cwd: o.dir, deadlineS: 20,
  });
  const res = await reg.done;
  const counts = sippCounts(res.stdout);
  if (counts.successful !== 1) throw new HarnessError(`REGISTER ${o.ext} at ${o.box.name} failed (${JSON.stringify(counts)}): ${res.stderr}${res.stdout.slice(-1500)}`);
  return port;
}

function readStore<T>(box: OutpostProcess, read: (s: Store) => T): T {
  const store = Store.open({ dataDir: box.dataDir, mustExist: true });
  try {
    return read(store);
  } finally {
    store.close();
  }
}
