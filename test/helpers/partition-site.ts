/**
 * A site in a network lab, for the partition drills (test/integration/partition-drills.test.ts,
 * docs/partition-drills.md): a hub and boxes a1, a2 of site `a`, each in its own network
 * namespace of a bench/lib/netns.ts lab, and sipp phones in a namespace of their own (`phones`),
 * so that a box's phones stay reachable from its peer when the box is cut off. The site has an
 * admin key (`outpost site add a --admin-key-out`) that both boxes hold (`sync.siteAdminKey`).
 *
 * Inside the lab's namespaces nothing else listens, so the phones use fixed ports handed out
 * in turn (SIP from 5100, media from 30000). The test process itself stays in its own
 * namespace: it reads the stores and the runtime files, runs the CLI and spawns through
 * `ip netns exec`.
 */
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { Store } from '../../agent/store/store.ts';
import type { CdrRecord } from '../../agent/store/cdrs.ts';
import { NetLab } from '../../bench/lib/netns.ts';
import { runCli } from '../../bench/lib/node-process.ts';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';
import { describeSipp, spawnSipp, SIPP_SCENARIOS, udpPortBound, type SippProcess } from './calls.ts';
import { sippAuth, sippRegister, siteCluster, type PhoneHost } from './inter-box.ts';
import { passwordOf, type Replica, type SyncCluster } from './sync-cluster.ts';
import type { SippResult } from '../../bench/lib/sipp.ts';

export const HOSTS = ['hub', 'a1', 'a2', 'phones'] as const;
export type Host = (typeof HOSTS)[number];

export interface LabSite {
  lab: NetLab;
  cluster: SyncCluster;
  hub: Replica;
  a1: Replica;
  a2: Replica;
}

/** Builds the lab, then the site inside it (started, users everywhere, keys pinned). */
export async function startLabSite(users: string[]): Promise<LabSite> {
  const lab = NetLab.create({ hosts: [...HOSTS] });
  try {
    const cluster = await siteCluster({
      nodes: ['a1', 'a2'],
      users,
      domain: 'drills.example',
      nodeExtra: 'sync: { siteAdminKey: ./site-a.key }\n',
      // The namespaces are the lab's own: the hub's broker may take a fixed port.
      where: { host: (name) => lab.addr(name), prefix: (name) => lab.prefix(name), hubPort: 1883 },
      beforeStart: async (c) => {
        const res = await runCli(['site', 'add', 'a', '--admin-key-out', 'site-a.key', '--config', c.hub.configFile], c.dir);
        if (res.code !== 0) throw new HarnessError(`site add failed (${res.code}): ${res.stderr}`);
      },
    });
    return { lab, cluster, hub: cluster.hub, a1: cluster.node('a1'), a2: cluster.node('a2') };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

/** sipp phones in the lab's `phones` namespace; every sipp started is kept for the teardown. */
export class Phones {
  readonly sipps: SippProcess[] = [];
  private nextSip = 5100;
  private nextMedia = 30000;

  constructor(private readonly site: LabSite) {}

  /** A fresh SIP port for a phone. */
  port(): number {
    return this.nextSip++;
  }

  private where(): PhoneHost {
    const mediaPort = this.nextMedia;
    this.nextMedia += 4;
    return { host: this.site.lab.addr('phones'), prefix: this.site.lab.prefix('phones'), mediaPort };
  }

  /** REGISTER (digest) of `ext` at `box` from `port`; asserts the 200. */
  async register(box: Replica, ext: string, port: number): Promise<void> {
    await sippRegister(this.site.cluster, this.sipps, box, ext, port, this.where());
  }

  /**
   * `count` REGISTERs of `ext` at `box` from one new port, one after the other at `rate` per
   * second: each refresh is a commit, so a push, at the box. Asserts that every one got 200.
   */
  async registerBurst(box: Replica, ext: string, count: number, rate: number): Promise<void> {
    const w = this.where();
    const port = this.port();
    const reg = spawnSipp({
      scenario: join(SIPP_SCENARIOS, 'register-auth.xml'), dir: this.site.cluster.dir, name: `burst-${port}`, port, mediaPort: w.mediaPort,
      target: box.sip, injection: [`${ext};${sippAuth(ext)};${this.site.cluster.domain}`], calls: count, rate, maxConcurrent: 1, timeoutS: 30, host: w.host, prefix: w.prefix,
    });
    this.sipps.push(reg);
    const res = await reg.done;
    assert.equal(sippCounts(res.stdout), { successful: count, failed: 0 }, describeSipp(`${count} REGISTERs of ${ext}`, reg, res));
  }

  /**
   * A callee answering one call on `port` (the port `ext` registered from), echoing RTP; with
   * `hangUpAfterMs`, it hangs up itself that long after the answer (call-uas-bye-after.xml).
   */
  async callee(port: number, hangUpAfterMs?: number): Promise<SippProcess> {
    const w = this.where();
    const uas = spawnSipp({
      scenario: join(SIPP_SCENARIOS, hangUpAfterMs === undefined ? 'call-uas.xml' : 'call-uas-bye-after.xml'), dir: this.site.cluster.dir,
      name: `uas-${port}-${this.sipps.length}`, port, mediaPort: w.mediaPort, calls: 1, rtpEcho: true, timeoutS: 60, host: w.host, prefix: w.prefix,
      ...(hangUpAfterMs === undefined ? {} : { extra: ['-d', String(hangUpAfterMs)] }),
    });
    this.sipps.push(uas);
    await waitFor(() => uas.proc.pid !== undefined && udpPortBound(port, uas.proc.pid), `the sipp callee on ${port} to listen`, 5_000);
    return uas;
  }

  /** A caller: `caller` authenticates at `box` and calls `callee` (call-uac.xml plays G.711 audio). */
  caller(box: Replica, caller: string, callee: string, scenario = 'call-uac.xml'): SippProcess {
    const w = this.where();
    const port = this.port();
    const uac = spawnSipp({
      scenario: join(SIPP_SCENARIOS, scenario), dir: this.site.cluster.dir, name: `uac-${port}`, port, mediaPort: w.mediaPort,
      target: box.sip, injection: [`${caller};${sippAuth(caller)};${this.site.cluster.domain};${callee}`], calls: 1, timeoutS: 30, host: w.host, prefix: w.prefix,
    });
    this.sipps.push(uac);
    return uac;
  }

  /** A call from `caller` at `box` to `callee`'s phone on `calleePort`; asserts both sipps succeeded. */
  async call(box: Replica, caller: string, callee: string, calleePort: number): Promise<void> {
    const uas = await this.callee(calleePort);
    const uac = this.caller(box, caller, callee);
    const [uacRes, uasRes] = [await uac.done, await uas.done];
    assertSucceeded('caller', uac, uacRes);
    assertSucceeded('callee', uas, uasRes);
  }

  killAll(): void {
    for (const s of this.sipps) s.kill();
  }
}

export function assertSucceeded(name: string, sipp: SippProcess, res: SippResult): void {
  assert.equal(sippCounts(res.stdout), { successful: 1, failed: 0 }, describeSipp(name, sipp, res));
}

/** What a replica's store holds: its users, its CDRs (every node's) and the checkpoints of calls in progress of a1 or a2. */
export function storeOf(r: Replica): { users: Set<string>; cdrs: CdrRecord[]; checkpoints: (node: string) => Array<{ uuid: string; state: string }> } {
  const store = Store.open({ dataDir: r.dataDir, mustExist: true });
  try {
    const cps = new Map<string, Array<{ uuid: string; state: string }>>();
    for (const node of ['a1', 'a2']) cps.set(node, store.cdrs.checkpointsOf(node).map((c) => ({ uuid: c.callUuid, state: c.state })));
    return {
      users: new Set(store.users.list().map((u) => u.ext)),
      cdrs: store.cdrs.since(0, 10_000),
      checkpoints: (node) => cps.get(node) ?? [],
    };
  } finally {
    store.close();
  }
}

/** The CDRs of `node` in `r`'s store that are not among `before` (uuids). */
export function newCdrs(r: Replica, node: string, before: Set<string>): CdrRecord[] {
  return storeOf(r).cdrs.filter((c) => c.nodeId === node && !before.has(c.uuid));
}

/** Uuids of every CDR `r` holds now. */
export const cdrUuids = (r: Replica) => new Set(storeOf(r).cdrs.map((c) => c.uuid));

/** `outpost user add EXT` run with box `box`'s config: the box writes it with the site admin key. */
export async function addUserAtBox(box: Replica, ext: string): Promise<void> {
  const res = await runCli(['user', 'add', ext, '--password', passwordOf(ext), '--config', box.configFile], box.dir);
  if (res.code !== 0) throw new HarnessError(`user add ${ext} at ${box.name} failed (${res.code}): ${res.stderr}`);
}

/** Waits for `box` to log `peer <state>` for `peer` at or after log index `from`; returns when it decided (epoch ms). */
export async function peerState(box: Replica, peer: string, state: 'up' | 'down', from: number, timeoutMs = 20_000): Promise<number> {
  const line = await waitFor(() => box.findLog(`peer ${state}`, from, (l) => l['peer'] === peer), `${box.name} to log "peer ${state}" for ${peer}`, timeoutMs, 5);
  return Number(line.line['at']);
}
