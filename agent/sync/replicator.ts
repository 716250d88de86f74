/**
 * Replication of the store over MQTT (DESIGN.md section 6), for a node and for the hub: the
 * network half. BatchSource makes the batches, BatchReceiver merges them; this class owns the
 * broker links, routes messages, asks for catch-ups and announces the node's state.
 *
 * A node publishes its own changes (`node/{id}/changes`) on the hub's broker and on its own
 * broker (for site peers), and receives the hub's `global` and `site/{site}` streams and its
 * site peers' own streams. The hub receives every node's own stream and republishes what it
 * merged per scope. A receiver pulls a catch-up after a gap, a (re)connect, a restart, or when
 * a source announces a head beyond its watermark.
 */
import { randomHex } from '../lib/random-token.ts';
import type { Logger } from '../lib/logger.ts';
import type { AppliedRange, Change } from '../store/change-log.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import type { Store } from '../store/store.ts';
import type { SyncConfig, PeerConfig } from '../config/sync-schema.ts';
import { NodeStateSchema, SyncRequestSchema, type NodeState, type SyncRequest } from '../wire/messages.ts';
import { siteStream, topics, TOPIC_ROOT } from '../wire/topics.ts';
import { BatchReceiver, type ReceiveOutcome } from './batch-receiver.ts';
import { BatchSource } from './batch-source.ts';
import { BrokerLink } from './broker-link.ts';
import { SyncError } from './errors.ts';
import type { InboundStream } from './inbound-stream.ts';
import type { NodeKey } from './node-key.ts';
import { PeerDirectory } from './peer-directory.ts';
import { SyncCounters } from './sync-counters.ts';

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
  logger: Logger;
  /** Called after a merge changed the store (caches of users and bans). */
  onApplied?: () => void;
}

export class Replicator {
  readonly options: ReplicatorOptions;
  readonly directory: PeerDirectory;
  readonly counters = new SyncCounters();
  private readonly receiver: BatchReceiver;
  private readonly source: BatchSource;
  private readonly links = new Map<string, BrokerLink>();
  private readonly log: Logger;
  private readonly siteIdHex: string;
  private pushTimer: NodeJS.Timeout | undefined;
  private pushing = false;
  private pushAgain = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private antiEntropyAt = 0;
  private stateHead = -1n;
  private lastHead = 0n;
  private stopped = false;

  constructor(options: ReplicatorOptions) {
    this.options = options;
    this.log = options.logger;
    const { role, nodeId, site, store } = options;
    this.directory = new PeerDirectory(store, options.logger);
    this.receiver = new BatchReceiver({ role, nodeId, site, ...(options.hub ? { hubId: options.hub.id } : {}), store, directory: this.directory, counters: this.counters, logger: this.log });
    this.source = new BatchSource({
      role,
      nodeId,
      store,
      key: options.key,
      ...(options.siteAdminKey ? { siteAdminKey: options.siteAdminKey } : {}),
      directory: this.directory,
      batchSize: options.sync.batchSize,
    });
    this.siteIdHex = store.changes.siteId().toString('hex');
  }

  start(): void {
    const o = this.options;
    this.lastHead = this.source.pushed;
    if (o.role === 'hub') {
      this.addLink('self', o.ownBrokerUrl!, [topics.allNodeChanges, topics.allNodeStates, topics.syncRequest(o.nodeId), topics.syncResponse(o.nodeId)]);
    } else {
      if (o.hub) {
        this.receiver.stream(o.hub.id, 'global');
        this.receiver.stream(o.hub.id, siteStream(o.site));
        this.addLink('hub', o.hub.url, [
          topics.hubChanges('global'),
          topics.hubChanges(siteStream(o.site)),
          topics.allNodeStates,
          topics.syncRequest(o.nodeId),
          topics.syncResponse(o.nodeId),
        ]);
      }
      if (o.ownBrokerUrl) this.addLink('self', o.ownBrokerUrl, [topics.syncRequest(o.nodeId)]);
      for (const p of o.peers ?? []) this.addPeer(p.id, p.url);
    }
    this.replayPending();
    o.store.writes.onCommit = () => this.schedulePush();
    this.tickTimer = setInterval(() => this.tick(), 50);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.tickTimer);
    clearTimeout(this.pushTimer);
    this.options.store.writes.onCommit = undefined;
    // Announce offline on every link before leaving (a clean disconnect sends no will).
    const offline = this.stateMessage(false);
    await Promise.all(
      [...this.links.values()].map(async (l) => {
        if (l.connected) await l.publishWithin(topics.nodeState(this.options.nodeId), offline, true, 500);
        await l.stop();
      }),
    );
    this.links.clear();
  }

  // ---- links -------------------------------------------------------------------------------

  private addLink(name: string, url: string, subscriptions: string[]): BrokerLink {
    const o = this.options;
    const link = new BrokerLink({
      name,
      url,
      clientId: `outpost-${o.nodeId}-${name.replace(/[^a-z0-9-]/g, '-')}`,
      will: { topic: topics.nodeState(o.nodeId), payload: this.stateMessage(false) },
      subscriptions,
      onMessage: (topic, payload, l) => this.onMessage(topic, payload, l),
      onConnect: (l) => this.onConnect(l),
      logger: this.log,
    });
    this.links.set(name, link);
    link.start();
    return link;
  }

  private addPeer(peerId: string, url: string): void {
    if (peerId === this.options.nodeId) return;
    const existing = this.links.get(`peer:${peerId}`);
    if (existing?.url === url) return;
    if (existing) {
      // The peer announced another address (it restarted on a new port): follow it.
      this.log.info({ peer: peerId, from: existing.url, to: url }, 'peer moved');
      this.links.delete(`peer:${peerId}`);
      void existing.stop(0);
    }
    this.receiver.stream(peerId, 'own');
    this.addLink(`peer:${peerId}`, url, [topics.nodeChanges(peerId), topics.nodeState(peerId), topics.syncResponse(this.options.nodeId)]);
  }

  private onConnect(link: BrokerLink): void {
    void link.publish(topics.nodeState(this.options.nodeId), this.stateMessage(true), true).catch(() => undefined);
    // Catch up every stream this link serves: after a restart or a partition.
    for (const s of this.receiver.streams.values()) {
      if (this.linkFor(s.source) === link) this.requestCatchUp(s, true);
    }
    this.schedulePush();
  }

  /** The link to ask `source` for a catch-up on: a peer's own broker first, else the hub's. */
  private linkFor(source: string): BrokerLink | undefined {
    if (this.options.role === 'hub') return this.links.get('self');
    const peer = this.links.get(`peer:${source}`);
    if (peer?.connected) return peer;
    return this.links.get('hub');
  }

  linkStatus(): Array<{ name: string; url: string; connected: boolean; inFlight: number; published: number }> {
    return [...this.links.values()].map((l) => ({ name: l.name, url: l.url, connected: l.connected, inFlight: l.inFlight, published: l.published }));
  }

  streamStatus(): InboundStream[] {
    return [...this.receiver.streams.values()];
  }

  isConnectedTo(nodeId: string): boolean {
    if (this.options.role === 'hub') return this.links.get('self')?.connected === true && this.directory.get(nodeId)?.online === true;
    if (nodeId === this.options.hub?.id) return this.links.get('hub')?.connected === true;
    if (this.links.get(`peer:${nodeId}`)?.connected) return true;
    return this.links.get('hub')?.connected === true && this.directory.get(nodeId)?.online === true;
  }

  // ---- incoming ------------------------------------------------------------------------------

  private onMessage(topic: string, payload: Buffer, link: BrokerLink): void {
    try {
      if (topic.endsWith('/state')) this.onState(payload);
      else if (topic.endsWith('/sync/request')) this.serve(payload, link);
      else if (topic.endsWith('/changes') || topic.startsWith(`${TOPIC_ROOT}/hub/changes/`) || topic.endsWith('/sync/response')) this.onBatch(payload);
    } catch (err) {
      this.counters.malformed++;
      this.log.warn({ topic, err: (err as Error).message }, 'refused a sync message');
    }
  }

  private onBatch(bytes: Buffer): void {
    const outcome = this.receiver.receive(bytes);
    this.follow(outcome);
  }

  private follow(outcome: ReceiveOutcome): void {
    if (outcome.kind === 'gap') return this.requestCatchUp(outcome.stream, false);
    if (outcome.kind !== 'applied' && outcome.kind !== 'duplicate') return;
    if (outcome.kind === 'applied' && outcome.changed) {
      this.options.onApplied?.();
      if (this.options.role === 'hub') this.relay(outcome.merged, outcome.range);
    }
    if (outcome.reply) {
      outcome.stream.requestId = undefined;
      if (outcome.more) this.requestCatchUp(outcome.stream, true);
    }
  }

  private onState(payload: Buffer): void {
    if (payload.length === 0) return;
    const state = NodeStateSchema.parse(JSON.parse(payload.toString('utf8')));
    const o = this.options;
    if (state.nodeId === o.nodeId) return;
    const now = Date.now();
    const result = this.directory.observe(state, now);
    if (result === 'key-mismatch') return;
    if (o.role === 'hub') {
      if (state.role !== 'node') return;
      this.receiver.stream(state.nodeId, 'own');
      void o.store.writes
        .submit(() => o.store.nodes.upsert({ id: state.nodeId, site: state.site, role: state.role, siteId: state.siteId, publicKey: state.publicKey }, now))
        .catch((err: Error) => this.log.error({ err: err.message }, 'cannot record node'));
    } else if (state.role === 'node' && state.site === o.site) {
      // A statically listed peer keeps its configured address; others follow their announcement.
      const listed = o.peers?.some((p) => p.id === state.nodeId) === true;
      // A peer without a broker of its own reaches this box only through the hub's relay.
      if (state.mqtt && !listed) this.addPeer(state.nodeId, state.mqtt);
    }
    // A source that (re)appeared cannot answer what was asked of it before: ask again now.
    const fresh = result === 'new' || result === 'back';
    for (const s of this.receiver.streams.values()) {
      if (s.source !== state.nodeId) continue;
      if (!state.online) s.requestId = undefined;
      else if (fresh) this.requestCatchUp(s, true);
      else s.track(BigInt(state.head), now); // behind for a whole interval: anti-entropy pulls
    }
  }

  private requestCatchUp(s: InboundStream, force: boolean): void {
    const now = Date.now();
    if (s.blocked || this.stopped) return;
    if (s.pulling && !force && now - s.requestedAt < this.options.sync.requestTimeout * 1000) return;
    const link = this.linkFor(s.source);
    if (!link?.connected) return;
    const o = this.options;
    const req: SyncRequest = {
      requester: o.nodeId,
      stream: s.stream,
      since: s.watermark.toString(),
      limit: o.sync.batchSize,
      replyTo: topics.syncResponse(o.nodeId),
      requestId: randomHex(8),
    };
    s.requestId = req.requestId;
    s.requestedAt = now;
    this.counters.requestsOut++;
    link.publish(topics.syncRequest(s.source), JSON.stringify(req)).catch(() => undefined);
  }

  /** Kept batches from a newer schema, now that a migration may have run. */
  private replayPending(): void {
    const changes = this.options.store.changes;
    for (const p of changes.pendingUpTo(SCHEMA_VERSION)) {
      try {
        this.follow(this.receiver.receive(p.payload));
      } catch (err) {
        this.log.warn({ node: p.source, err: (err as Error).message }, 'kept batch could not be replayed; a catch-up fetches it again');
      }
      changes.dropPending(p.id);
    }
  }

  private serve(payload: Buffer, link: BrokerLink): void {
    const req = SyncRequestSchema.parse(JSON.parse(payload.toString('utf8')));
    if (req.replyTo !== topics.syncResponse(req.requester)) throw new SyncError('sync.payload', `replyTo must be ${topics.syncResponse(req.requester)}`);
    this.counters.requestsIn++;
    const bytes = this.source.reply(req);
    this.counters.batchesOut++;
    link.publish(req.replyTo, bytes).catch(() => undefined);
  }

  // ---- pushing --------------------------------------------------------------------------------

  schedulePush(): void {
    if (this.stopped) return;
    if (this.pushing) {
      this.pushAgain = true;
      return;
    }
    if (this.pushTimer) return;
    this.pushTimer = setTimeout(() => {
      this.pushTimer = undefined;
      void this.push();
    }, this.options.sync.pushDelay);
  }

  /** Hub: republish what was just merged straight away, or leave it to the push loop. */
  private relay(merged: Change[], range: AppliedRange): void {
    const targets = this.pushTargets();
    const room = targets.every((t) => t.inFlight < this.options.sync.maxInFlight);
    const batches = targets.length > 0 && room && !this.pushing ? this.source.relay(merged, range) : undefined;
    if (!batches) return this.schedulePush();
    for (const t of targets) {
      for (const b of batches) {
        t.publish(b.topic, b.bytes).catch(() => undefined);
        this.counters.batchesOut++;
      }
    }
  }

  private pushTargets(): BrokerLink[] {
    return [...this.links.values()].filter((l) => l.connected && (l.name === 'hub' || l.name === 'self'));
  }

  private async push(): Promise<void> {
    this.pushing = true;
    try {
      for (;;) {
        const targets = this.pushTargets();
        if (targets.length === 0) {
          this.source.skipToHead();
          break;
        }
        const { batches, more } = this.source.nextPush();
        for (const t of targets) {
          for (const b of batches) {
            await t.waitForRoom(this.options.sync.maxInFlight);
            if (!t.connected) break;
            t.publish(b.topic, b.bytes).catch(() => undefined);
            this.counters.batchesOut++;
          }
        }
        if (!more) break;
      }
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'push failed');
    } finally {
      this.pushing = false;
      if (this.pushAgain) {
        this.pushAgain = false;
        this.schedulePush();
      }
    }
  }

  // ---- state and housekeeping --------------------------------------------------------------------

  private stateMessage(online: boolean): Buffer {
    const o = this.options;
    const state: NodeState = {
      nodeId: o.nodeId,
      role: o.role,
      site: o.site,
      online,
      publicKey: o.key.publicKey,
      siteId: this.siteIdHex,
      schema: SCHEMA_VERSION,
      head: o.store.changes.head().toString(),
      ...(o.role === 'node' && o.ownBrokerUrl ? { mqtt: o.ownBrokerUrl } : {}),
      at: Date.now(),
    };
    return Buffer.from(JSON.stringify(state));
  }

  private tick(): void {
    if (this.stopped) return;
    const now = Date.now();
    let head: bigint;
    try {
      head = this.options.store.changes.head();
    } catch {
      return; // the store is closing
    }
    if (head > this.lastHead) {
      this.lastHead = head;
      this.schedulePush();
    }
    if (now < this.antiEntropyAt) return;
    this.antiEntropyAt = now + this.options.sync.antiEntropy * 1000;
    if (head !== this.stateHead) {
      this.stateHead = head;
      const state = this.stateMessage(true);
      for (const l of this.links.values()) if (l.connected) l.publish(topics.nodeState(this.options.nodeId), state, true).catch(() => undefined);
    }
    // Anti-entropy: a stream still behind its source's announced head a whole interval after
    // it fell behind lost something on the way (pushes in flight are not yet a loss).
    const interval = this.options.sync.antiEntropy * 1000;
    for (const s of this.receiver.streams.values()) {
      const sourceHead = this.directory.get(s.source)?.head ?? 0n;
      s.track(sourceHead, now);
      const stuck = s.behindSince !== undefined && now - s.behindSince >= interval;
      if (s.pulling ? now - s.requestedAt >= this.options.sync.requestTimeout * 1000 : stuck) this.requestCatchUp(s, true);
    }
  }
}
