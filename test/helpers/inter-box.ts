/**
 * Helpers for the integration tests of calls across the boxes of a site (docs/inter-box.md,
 * docs/failover.md): a hub and boxes of one site (SyncCluster) with the users added and each
 * box knowing the others' keys, REGISTERs with sipp, a box's CDRs and its view of a peer's
 * liveness through the CLI.
 */
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { runCli } from '../../bench/lib/node-process.ts';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { Store } from '../../agent/store/store.ts';
import { describeSipp, freeUdpPorts, spawnSipp, SIPP_SCENARIOS, type Cdr, type SippProcess } from './calls.ts';
import { passwordOf, SyncCluster, type Replica } from './sync-cluster.ts';

/**
 * A hub and `nodes` of site `a`, started, with `users` on every box and every box's key pinned
 * by the others; `nodeExtra`: YAML at the top level of each box's config.
 */
export async function siteCluster(o: { nodes: string[]; users: string[]; domain: string; nodeExtra?: string }): Promise<SyncCluster> {
  const cluster = await SyncCluster.create({ broker: 'embedded', nodes: o.nodes, site: 'a', domain: o.domain, ...(o.nodeExtra ? { nodeExtra: o.nodeExtra } : {}) });
  await cluster.start();
  await cluster.addUsers(o.users.map((ext) => ({ ext })));
  await cluster.waitForUsers(cluster.nodes, o.users, 20_000);
  // Each box has pinned the others' keys: it has seen their states, and with them their SIP addresses.
  const everyPair = () => cluster.nodes.every((box) => cluster.nodes.every((peer) => peer === box || pinned(box, peer.name)));
  await waitFor(everyPair, 'the boxes to know each other', 20_000, 200);
  return cluster;
}

function pinned(box: Replica, peer: string): boolean {
  const store = Store.open({ dataDir: box.dataDir, mustExist: true });
  try {
    return store.changes.knownKey(peer) !== undefined;
  } finally {
    store.close();
  }
}

/** sipp's `[authentication ...]` keyword for a user of SyncCluster. */
export const sippAuth = (ext: string) => `[authentication username=${ext} password=${passwordOf(ext)}]`;

/** REGISTERs `ext` at `box` with sipp from `port` (where that user's sipp then runs); the sipp is added to `sipps`. */
export async function registerWithSipp(cluster: SyncCluster, sipps: SippProcess[], box: Replica, ext: string, port: number): Promise<void> {
  const reg = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'register-auth.xml'), dir: cluster.dir, name: `register-${ext}-${port}`, port, mediaPort: await freeUdpPorts(4),
    target: box.sip, injection: [`${ext};${sippAuth(ext)};${cluster.domain}`], calls: 1, timeoutS: 10,
  });
  sipps.push(reg);
  const res = await reg.done;
  assert.equal(sippCounts(res.stdout), { successful: 1, failed: 0 }, describeSipp(`REGISTER ${ext}`, reg, res));
}

/** The box's CDRs (`outpost cdr list --json`), oldest first. */
export async function cdrsOf(box: Replica): Promise<Cdr[]> {
  const res = await runCli(['cdr', 'list', '--json', '--since', '1d', '--config', box.configFile], box.dir);
  if (res.code !== 0) throw new Error(`outpost cdr list failed (${res.code}): ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Cdr).sort((x, y) => x.startedAt - y.startedAt);
}

/** Polls `outpost status --json` of `box` until its liveness shows `peer` in `state`. */
export async function waitForPeerState(cluster: SyncCluster, box: Replica, peer: string, state: 'up' | 'down', timeoutMs = 15_000): Promise<void> {
  const shown = async () => (await cluster.status(box)).sync?.liveness?.find((p) => p.nodeId === peer)?.state === state;
  await waitFor(shown, `${box.name}'s status to show ${peer} ${state}`, timeoutMs, 100);
}
