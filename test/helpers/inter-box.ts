/**
 * A site of boxes for the cross-box and failover call tests (docs/inter-box.md,
 * docs/failover.md): a hub and boxes of site `a` as real processes (sync-cluster.ts), users added
 * at the hub, and the wait until every box has those users and has pinned the others' keys
 * (bench/lib/site.ts, which bench/failover.ts uses). Also: a sipp REGISTER at a box with its
 * message trace, a box's CDRs through the CLI, and a box's view of a peer's liveness.
 */
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { runCli } from '../../bench/lib/node-process.ts';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { waitForSite } from '../../bench/lib/site.ts';
import { describeSipp, freeUdpPorts, SIPP_SCENARIOS, spawnSipp, type Cdr, type SippProcess } from './calls.ts';
import { passwordOf, SyncCluster, type ClusterOptions, type Replica } from './sync-cluster.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

export interface SiteOfTwo {
  cluster: SyncCluster;
  a1: Replica;
  a2: Replica;
}

/**
 * A hub and `nodes` of site `a`, started, with `users` on every box and every box's key pinned
 * by the others; `nodeExtra`: YAML at the top level of each box's config; `where`: the
 * processes' addresses and command prefixes (the partition drills' namespaces); `beforeStart`
 * runs once the configs are written (e.g. to make the site's admin key).
 */
export async function siteCluster(o: {
  nodes: string[];
  users: string[];
  domain: string;
  nodeExtra?: string;
  where?: Pick<ClusterOptions, 'host' | 'prefix' | 'hubPort'>;
  beforeStart?: (cluster: SyncCluster) => Promise<void>;
  /** Listeners besides UDP on every box (['tls']: inter-box over mutual TLS, docs/sip-tls.md). */
  sipListen?: Array<'tcp' | 'tls'>;
}): Promise<SyncCluster> {
  const cluster = await SyncCluster.create({ broker: 'embedded', nodes: o.nodes, site: 'a', domain: o.domain, ...(o.nodeExtra ? { nodeExtra: o.nodeExtra } : {}), ...(o.sipListen ? { sipListen: o.sipListen } : {}), ...o.where });
  try {
    await o.beforeStart?.(cluster);
    await cluster.start();
    await cluster.addUsers(o.users.map((ext) => ({ ext })));
    await cluster.waitForUsers(cluster.nodes, o.users, 20_000);
    await waitForSite(cluster, o.users);
    return cluster;
  } catch (err) {
    await cluster.destroy(false);
    throw err;
  }
}

/** Starts a hub and boxes a1, a2 of site `a` with `users`; resolves once both boxes can route to each other. */
export async function startSiteOfTwo(domain: string, users: string[]): Promise<SiteOfTwo> {
  const cluster = await siteCluster({ nodes: ['a1', 'a2'], users, domain });
  const [a1, a2] = cluster.nodes as [Replica, Replica];
  return { cluster, a1, a2 };
}

/** The sipp injection field for a user's digest credentials. */
export const sippAuth = (ext: string) => `[authentication username=${ext} password=${passwordOf(ext)}]`;

/** Where a sipp phone runs when not on 127.0.0.1: its address, command prefix and media port (the partition drills). */
export interface PhoneHost {
  host: string;
  prefix: string[];
  mediaPort: number;
}

/**
 * REGISTERs `ext` at `box` with sipp from `port` (where that user's sipp then runs); the sipp is
 * pushed to `sipps`. `where`: a phone in another network namespace.
 */
export async function sippRegister(cluster: SyncCluster, sipps: SippProcess[], box: Replica, ext: string, port: number, where?: PhoneHost): Promise<void> {
  const reg = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'register-auth.xml'), dir: cluster.dir, name: `register-${ext}-${port}-${sipps.length}`, port, mediaPort: where?.mediaPort ?? (await freeUdpPorts(4)),
    target: box.sip, injection: [`${ext};${sippAuth(ext)};${cluster.domain}`], calls: 1, timeoutS: 10,
    ...(where ? { host: where.host, prefix: where.prefix } : {}),
  });
  sipps.push(reg);
  const res = await reg.done;
  assert.equal(sippCounts(res.stdout), { successful: 1, failed: 0 }, describeSipp(`REGISTER ${ext}`, reg, res));
}

/** Waits until `box` holds a live binding of `ext` owned by `owner` (whose contact contains `contactPart`, if given). */
export async function waitForBinding(cluster: SyncCluster, box: Replica, ext: string, owner: string, contactPart = ''): Promise<void> {
  const held = (b: string) => b.startsWith(`${ext} `) && b.includes(contactPart) && b.endsWith(` ${owner}`);
  await waitFor(() => [...cluster.snapshot(box).bindings].some(held), `${box.name} to hold ${ext}'s binding at ${owner}`, 20_000, 100);
}

/** The CDRs a box wrote itself (`outpost cdr list --json` lists its peers' too: CDRs replicate), oldest first. */
export async function cdrsOf(box: Replica): Promise<Cdr[]> {
  const res = await runCli(['cdr', 'list', '--json', '--since', '1d', '--config', box.configFile], box.dir);
  if (res.code !== 0) throw new HarnessError(`outpost cdr list failed (${res.code}): ${res.stderr}`);
  return res.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Cdr).filter((c) => c.nodeId === box.name).sort((x, y) => x.startedAt - y.startedAt);
}

/** A CDR in one line, for assertion messages. */
export const cdrSummary = (c: Cdr) => `${c.caller}->${c.callee} ${c.disposition} ${c.endedBy} ${c.codecA}|${c.codecB} ${JSON.stringify(c.media)}`;

/** Polls `outpost status --json` of `box` until its liveness shows `peer` in `state`. */
export async function waitForPeerState(cluster: SyncCluster, box: Replica, peer: string, state: 'up' | 'down', timeoutMs = 15_000): Promise<void> {
  const shown = async () => (await cluster.status(box)).sync?.liveness?.find((p) => p.nodeId === peer)?.state === state;
  await waitFor(shown, `${box.name}'s status to show ${peer} ${state}`, timeoutMs, 100);
}
