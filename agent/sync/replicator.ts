/**
 * Replication of the store over MQTT (DESIGN.md section 6), for a node and for the hub: the
 * shell around ReplicationCore (replication-core.ts), which makes every decision. This class
 * owns the broker links (broker-link.ts) and the timers (on the injected Clock), feeds the
 * core its events (messages, connects, commits, timers) and executes the commands it returns.
 * The node or hub strategy is chosen here, once.
 */
import type { PeerConfig, SyncConfig } from '../config/sync-schema.ts';
import { createSystemClock, type Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import { topics } from '../wire/topics.ts';
import type { Credentials } from '../trust/credentials.ts';
import { BrokerLink } from './broker-link.ts';
import { expectedServer, linkTlsOptions } from './link-tls.ts';
import { derOfPem } from '../trust/verify-certificate.ts';
import { CoreTimers } from './core-timers.ts';
import type { InboundStream } from './inbound-stream.ts';
import type { NodeKey } from './node-key.ts';
import type { KnownNode, PeerDirectory } from './peer-directory.ts';
import type { Command, LinkSpec } from './replication-commands.ts';
import { ReplicationCore } from './replication-core.ts';
import type { ReplicationStrategy } from './replication-strategy.ts';
import { strategyFor } from './strategy-for.ts';
import type { SyncCounters } from './sync-counters.ts';

/**
 * A link full of unacknowledged publishes (`sync.maxInFlight`) with no acknowledgement for this
 * long is stalled: a push page skips it (sendPage). A healthy broker acknowledges in
 * milliseconds; a silent one is dropped by the MQTT keep-alive only after up to 15 s.
 */
export const LINK_STALL_MS = 2_000;

export interface ReplicatorOptions {
  role: 'node' | 'hub';
  nodeId: string;
  /** The node's site ('' for the hub). */
  site: string;
  store: Store;
  key: NodeKey;
  /** Node: its site's admin key, if it holds one. */
  siteAdminKey?: NodeKey;
  /** Node: the hub it joins. */
  hub?: { url: string; id: string };
  /** Node: static site peers. */
  peers?: PeerConfig[];
  /** The broker this replica runs or uses itself (node: for its peers; hub: the hub's broker). */
  ownBrokerUrl?: string;
  sync: SyncConfig;
  /** Default LINK_STALL_MS (tests shorten it). */
  linkStallMs?: number;
  logger: Logger;
  /** Node: its SIP address for site peers, announced in its state. */
  sipAddress?: string;
  /** Called with each state of a peer it reports on (a box: its site's nodes). */
  onPeerState?: (peer: { nodeId: string; online: boolean; sip: string | undefined }) => void;
  /** Called when the link to a peer's own broker drops. */
  onPeerLinkLost?: (nodeId: string) => void;
  /** Called after a merge changed the store (caches of users and bans). */
  onApplied?: () => void;
  /** Real time by default. */
  clock?: Clock;
  /** The node's certificate, key and CA: links to `mqtts://` brokers use them (docs/security.md). */
  tls?: Credentials;
}

export class Replicator {
  readonly options: ReplicatorOptions;
  readonly core: ReplicationCore;
  private readonly strategy: ReplicationStrategy;
  private readonly links = new Map<string, BrokerLink>();
  private readonly timers: CoreTimers;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(options: ReplicatorOptions) {
    this.options = options;
    this.log = options.logger;
    const clock = options.clock ?? createSystemClock();
    this.clock = clock;
    this.strategy = strategyFor(options);
    // Certificates decide identity only when every broker is mqtts: a replica in the insecure
    // dev mode (any plain mqtt:// link) keeps trust on first use for its peers' keys.
    const urls = [options.hub?.url, options.ownBrokerUrl, ...(options.peers ?? []).map((p) => p.url)].filter((u): u is string => u !== undefined);
    const certified = options.tls !== undefined && urls.every((u) => u.startsWith('mqtts:'));
    this.core = new ReplicationCore({
      strategy: this.strategy,
      nodeId: options.nodeId,
      site: options.site,
      store: options.store,
      key: options.key,
      ...(options.siteAdminKey ? { siteAdminKey: options.siteAdminKey } : {}),
      sync: options.sync,
      clock,
      logger: options.logger,
      inFlight: (link) => this.links.get(link)?.inFlight ?? 0,
      ...(options.sipAddress ? { sip: options.sipAddress } : {}),
      ...(certified && options.tls ? { trust: { caPem: options.tls.ca, certificate: derOfPem(options.tls.cert) } } : {}),
    });
    this.timers = new CoreTimers(clock, (timer) => this.run(this.core.timerFired(timer)));
  }

  /**
   * Renewed credentials (docs/enrolment.md "Renewal"): the state announces the new certificate
   * and every mqtts link reconnects with it (each announces the state again when it is back).
   */
  async useCredentials(tls: Credentials): Promise<void> {
    const o = this.options;
    if (!o.tls) return;
    o.tls = tls;
    this.core.useCertificate(derOfPem(tls.cert));
    await Promise.all([...this.links.values()].filter((l) => l.url.startsWith('mqtts:')).map((l) =>
      l.useTls(linkTlsOptions(tls, expectedServer(l.name, { nodeId: o.nodeId, role: o.role, hubId: o.hub?.id })))));
  }

  get directory(): PeerDirectory {
    return this.core.directory;
  }

  /** Live config (docs/config-push.md): the sync tunables read at each use; batchSize waits for a restart. */
  reconfigure(section: SyncConfig): void {
    const { maxInFlight, pushDelay, requestTimeout, antiEntropy } = section;
    Object.assign(this.options.sync, { maxInFlight, pushDelay, requestTimeout, antiEntropy });
  }

  get counters(): SyncCounters {
    return this.core.counters;
  }

  start(): void {
    this.run(this.core.start());
    this.options.store.writes.onCommit = () => this.run(this.core.committed());
  }

  /**
   * Resolves once every local commit so far has been published and acknowledged on every
   * connected link, or after `timeoutMs`: a node stopping cleanly lets its last CDRs reach its
   * peers before its offline state, so they do not take over calls it closed itself.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    const drained = () => this.core.pushedAll() && [...this.links.values()].every((l) => !l.connected || l.inFlight === 0);
    while (!drained()) {
      if (this.clock.now() >= deadline) return false;
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 10));
    }
    return true;
  }

  async stop(): Promise<void> {
    this.run(this.core.stop());
    this.options.store.writes.onCommit = undefined;
    // Announce offline on every link before leaving (a clean disconnect sends no will).
    const offline = this.core.stateMessage(false);
    await Promise.all(
      [...this.links.values()].map(async (l) => {
        if (l.connected) await l.publishWithin(topics.nodeState(this.options.nodeId), offline, true, 500);
        await l.stop();
      }),
    );
    this.links.clear();
  }

  // ---- status --------------------------------------------------------------------------------

  /** A QoS 0 publish on the hub link (a node's telemetry); false when the box has no hub link up. */
  publishToHub(topic: string, payload: Buffer | string): boolean {
    return this.links.get('hub')?.publishBestEffort(topic, payload) ?? false;
  }

  linkStatus(): Array<{ name: string; url: string; connected: boolean; inFlight: number; published: number }> {
    return [...this.links.values()].map((l) => ({ name: l.name, url: l.url, connected: l.connected, inFlight: l.inFlight, published: l.published }));
  }

  streamStatus(): InboundStream[] {
    return this.core.streams();
  }

  isConnectedTo(nodeId: string): boolean {
    return this.core.isConnectedTo(nodeId);
  }

  /** Is `node` one of the peers status reports on (the hub: every box; a box: its site's)? */
  reportsOn(node: KnownNode): boolean {
    return this.strategy.reportsOn(node);
  }

  // ---- commands ------------------------------------------------------------------------------

  private run(commands: Command[]): void {
    for (const c of commands) {
      switch (c.kind) {
        case 'connect':
          this.connect(c.link);
          break;
        case 'disconnect': {
          const link = this.links.get(c.link);
          this.links.delete(c.link);
          void link?.stop(0);
          break;
        }
        case 'publish':
          this.links.get(c.link)?.publish(c.topic, c.payload, c.retain).catch(() => undefined);
          break;
        case 'push-page':
          void this.sendPage(c);
          break;
        case 'record-node': {
          const { store } = this.options;
          void store.writes
            .submit(() => store.nodes.upsert(c.node, c.at))
            .catch((err: Error) => this.log.error({ err: err.message }, 'cannot record node'));
          break;
        }
        case 'applied':
          this.options.onApplied?.();
          break;
        case 'peer-state':
          this.options.onPeerState?.({ nodeId: c.nodeId, online: c.online, sip: c.sip });
          break;
        case 'peer-link-lost':
          this.options.onPeerLinkLost?.(c.nodeId);
          break;
        case 'schedule':
          this.timers.schedule(c.timer, c.ms);
          break;
        case 'cancel':
          this.timers.cancel(c.timer);
          break;
      }
    }
  }

  private connect(spec: LinkSpec): void {
    // Events of a link that was replaced (a peer that moved) are not the new link's.
    const current = (l: BrokerLink) => this.links.get(l.name) === l;
    const o = this.options;
    const secure = spec.url.startsWith('mqtts:');
    if (!secure) this.log.warn({ link: spec.name, url: spec.url }, 'insecure MQTT link: no TLS, no certificate (dev mode only; docs/security.md)');
    else if (!o.tls) this.log.error({ link: spec.name, url: spec.url }, 'mqtts link without a certificate: enrol this node (outpost enrol join)');
    const tls = secure && o.tls ? linkTlsOptions(o.tls, expectedServer(spec.name, { nodeId: o.nodeId, role: o.role, hubId: o.hub?.id })) : undefined;
    const link = new BrokerLink({
      name: spec.name,
      url: spec.url,
      ...(tls ? { tls } : {}),
      clientId: spec.clientId,
      will: spec.will,
      subscriptions: spec.subscriptions,
      onMessage: (topic, payload, l) => current(l) && this.run(this.core.message(l.name, topic, payload)),
      onConnect: (l) => current(l) && this.run(this.core.linkUp(l.name)),
      onDisconnect: (l) => current(l) && this.run(this.core.linkDown(l.name)),
      logger: this.log,
    });
    this.links.set(spec.name, link);
    link.start();
  }

  /**
   * A push page on each link in turn, each batch waiting for room under `maxInFlight`. A link
   * that stays full with no acknowledgement for LINK_STALL_MS (its broker went silent: the hub
   * cut off, before the keep-alive drops the link) gets no more of the page, so that it does
   * not hold back the site peers on the box's own broker.
   */
  private async sendPage(page: Extract<Command, { kind: 'push-page' }>): Promise<void> {
    let published = 0;
    try {
      for (const name of page.links) {
        const link = this.links.get(name);
        for (const b of page.batches) {
          if (!link) break;
          if (!(await link.waitForRoom(this.options.sync.maxInFlight, this.options.linkStallMs ?? LINK_STALL_MS))) break;
          link.publish(b.topic, b.bytes).catch(() => undefined);
          published++;
        }
      }
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'push failed');
    }
    this.run(this.core.pushPageSent(published, page.more));
  }
}
