/**
 * The decisions of replication (DESIGN.md section 6, docs/replication.md), without any I/O: what
 * an incoming batch, state or catch-up request means, when and from whom to ask for a catch-up
 * (a gap, a connect, a source that is new or back, a stream behind for a whole anti-entropy
 * interval, a request unanswered for `requestTimeout`), when to push and where. Driven by
 * events (start, link up/down, message, local commit, timer fired, push page sent) with time
 * read from the injected Clock; each event returns the commands its shell executes
 * (replication-commands.ts). What differs between a node and the hub is its strategy.
 * BatchSource makes the batches, BatchReceiver verifies and merges them, CatchUpServer answers
 * other replicas' catch-up requests.
 */
import type { SyncConfig } from '../config/sync-schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { randomHex } from '../lib/random-token.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import type { Store } from '../store/store.ts';
import { NodeStateSchema, type NodeState, type SyncRequest } from '../wire/messages.ts';
import { parseTopic, topics } from '../wire/topics.ts';
import { BatchReceiver, type ReceiveOutcome } from './batch-receiver.ts';
import type { BatchSource } from './batch-source.ts';
import { CatchUpServer } from './catch-up-server.ts';
import type { InboundStream } from './inbound-stream.ts';
import type { NodeKey } from './node-key.ts';
import { PeerDirectory } from './peer-directory.ts';
import type { Command, LinkPlan } from './replication-commands.ts';
import { PushLoop } from './push-loop.ts';
import type { LinkView, ReplicationStrategy } from './replication-strategy.ts';
import { SyncCounters } from './sync-counters.ts';

/** How often the core looks at the store's head (commits of other processes) and its timers. */
export const TICK_MS = 50;

export type ReplicationTimings = Pick<SyncConfig, 'batchSize' | 'maxInFlight' | 'pushDelay' | 'requestTimeout' | 'antiEntropy'>;

export interface ReplicationCoreOptions {
  strategy: ReplicationStrategy;
  nodeId: string;
  /** The node's site ('' for the hub). */
  site: string;
  store: Store;
  key: NodeKey;
  /** Node: its site's admin key, if it holds one. */
  siteAdminKey?: NodeKey;
  sync: ReplicationTimings;
  clock: Clock;
  logger: Logger;
  /** Publishes awaiting their acknowledgement on a link (the hub relays at once only with room). */
  inFlight?: (link: string) => number;
  /** Node: its SIP address for site peers, announced in its state (`sip` of NodeState). */
  sip?: string;
  /** Ids of catch-up requests (16 random hex digits by default). */
  requestId?: () => string;
  /**
   * The fleet's CA (PEM) and this node's certificate (DER base64, announced in its state):
   * states are believed as their certificates say (docs/security.md). Absent: insecure dev mode.
   */
  trust?: { caPem: string; certificate: string };
}

export class ReplicationCore implements LinkView {
  readonly directory: PeerDirectory;
  readonly counters = new SyncCounters();
  private readonly o: ReplicationCoreOptions;
  private readonly strategy: ReplicationStrategy;
  private readonly receiver: BatchReceiver;
  private readonly source: BatchSource;
  private readonly siteIdHex: string;
  /** Every link opened, and whether it is up. */
  private readonly links = new Map<string, { plan: LinkPlan; up: boolean }>();
  private readonly pushes: PushLoop;
  private antiEntropyAt = 0;
  private stateHead = -1n;
  private lastHead = 0n;
  /** The last state of each node whose key was refused (a replacement may let it in later). */
  private readonly refused = new Map<string, NodeState>();
  private readonly catchUps: CatchUpServer;
  private stopped = false;

  constructor(options: ReplicationCoreOptions) {
    this.o = options;
    this.strategy = options.strategy;
    const { nodeId, store, logger } = options;
    this.directory = new PeerDirectory(store, logger, options.trust?.caPem);
    this.receiver = new BatchReceiver({ nodeId, site: options.site, policy: this.strategy, store, directory: this.directory, counters: this.counters, logger });
    this.source = this.strategy.createSource({
      nodeId,
      store,
      key: options.key,
      ...(options.siteAdminKey ? { siteAdminKey: options.siteAdminKey } : {}),
      directory: this.directory,
      batchSize: options.sync.batchSize,
    });
    this.siteIdHex = store.changes.siteId().toString('hex');
    this.catchUps = new CatchUpServer({ directory: this.directory, source: this.source, self: { role: this.strategy.role, site: options.site }, counters: this.counters, logger });
    this.pushes = new PushLoop({
      source: this.source,
      links: this,
      pushLinks: this.strategy.pushLinks,
      sync: options.sync,
      inFlight: options.inFlight ?? (() => 0),
      counters: this.counters,
      logger,
    });
  }

  // ---- events --------------------------------------------------------------------------------

  /** Opens the strategy's links, replays batches kept for this schema, starts the tick. */
  start(): Command[] {
    const out: Command[] = [];
    this.lastHead = this.source.pushed;
    const { links, streams } = this.strategy.initial();
    for (const s of streams) this.receiver.stream(s.source, s.stream);
    for (const plan of links) out.push(this.open(plan));
    this.replayPending(out);
    out.push({ kind: 'schedule', timer: 'tick', ms: TICK_MS });
    return out;
  }

  /** Stops deciding; the shell then announces `stateMessage(false)` and closes its links. */
  stop(): Command[] {
    this.stopped = true;
    return [
      { kind: 'cancel', timer: 'tick' },
      { kind: 'cancel', timer: 'push' },
    ];
  }

  /** A link (re)connected and subscribed: announce, and catch up every stream it serves. */
  linkUp(link: string): Command[] {
    const entry = this.links.get(link);
    if (!entry || this.stopped) return [];
    entry.up = true;
    const out: Command[] = [{ kind: 'publish', link, topic: topics.nodeState(this.o.nodeId), payload: this.stateMessage(true), retain: true }];
    // After a restart or a partition.
    for (const s of this.receiver.streams.values()) {
      if (this.strategy.linkFor(s.source, this) === link) this.requestCatchUp(s, true, out);
    }
    this.schedulePush(out);
    return out;
  }

  /** A link dropped; for the link to a peer's own broker, liveness hears of it (a hint). */
  linkDown(link: string): Command[] {
    const entry = this.links.get(link);
    if (entry) entry.up = false;
    return entry && !this.stopped && link.startsWith('peer:') ? [{ kind: 'peer-link-lost', nodeId: link.slice('peer:'.length) }] : [];
  }

  /** A message on one of the links; a malformed or refused one is counted and logged. */
  message(link: string, topic: string, payload: Buffer): Command[] {
    const out: Command[] = [];
    if (this.stopped) return out;
    try {
      const t = parseTopic(topic);
      if (t?.kind === 'nodeState') this.onState(payload, out);
      else if (t?.kind === 'syncRequest') this.catchUps.serve(payload, link, out);
      // Telemetry is the fleet view's (hub/), not replication.
      else if (t && t.kind !== 'nodeTelemetry') this.follow(this.receiver.receive(payload, this.o.clock.now(), t.kind === 'nodeChanges' ? t.nodeId : undefined), out);
    } catch (err) {
      this.counters.malformed++;
      this.o.logger.warn({ topic, err: (err as Error).message }, 'refused a sync message');
    }
    return out;
  }

  /** The process committed to the store: push soon. */
  committed(): Command[] {
    const out: Command[] = [];
    this.schedulePush(out);
    return out;
  }

  timerFired(timer: 'tick' | 'push'): Command[] {
    const out: Command[] = [];
    if (this.stopped) return out;
    if (timer === 'push') this.pushes.fire(out);
    else {
      this.tick(out);
      out.push({ kind: 'schedule', timer: 'tick', ms: TICK_MS });
    }
    return out;
  }

  /** The last push page went out (`published` batches in all); the next one, if any. */
  pushPageSent(published: number, more: boolean): Command[] {
    const out: Command[] = [];
    this.pushes.pageSent(published, more, out);
    return this.stopped ? [] : out;
  }

  // ---- queries -------------------------------------------------------------------------------

  /** Has every local commit so far been handed to the links (no push armed or running)? */
  pushedAll(): boolean {
    return this.pushes.idle && this.source.pushed >= this.o.store.changes.head();
  }

  isConnected(link: string): boolean {
    return this.links.get(link)?.up === true;
  }

  isConnectedTo(nodeId: string): boolean {
    return this.strategy.isConnectedTo(nodeId, this, this.directory);
  }

  streams(): InboundStream[] {
    return [...this.receiver.streams.values()];
  }

  /** The node's certificate was renewed (DER base64): its state announces it from the next publish. */
  useCertificate(certificate: string): void {
    if (this.o.trust) this.o.trust = { ...this.o.trust, certificate };
  }

  /** This replica's NodeState, as published on connect, each anti-entropy round and as the will. */
  stateMessage(online: boolean): Buffer {
    const o = this.o;
    const broker = this.strategy.announcedBroker;
    const state: NodeState = {
      nodeId: o.nodeId,
      role: this.strategy.role,
      site: o.site,
      online,
      publicKey: o.key.publicKey,
      siteId: this.siteIdHex,
      schema: SCHEMA_VERSION,
      head: o.store.changes.head().toString(),
      ...(broker ? { mqtt: broker } : {}),
      ...(o.sip ? { sip: o.sip } : {}),
      at: o.clock.now(),
      ...(o.trust ? { certificate: o.trust.certificate } : {}),
    };
    return Buffer.from(JSON.stringify(state));
  }

  // ---- links ---------------------------------------------------------------------------------

  private open(plan: LinkPlan): Command {
    const o = this.o;
    this.links.set(plan.name, { plan, up: false });
    const clientId = `outpost-${o.nodeId}-${plan.name.replace(/[^a-z0-9-]/g, '-')}`;
    return { kind: 'connect', link: { ...plan, clientId, will: { topic: topics.nodeState(o.nodeId), payload: this.stateMessage(false) } } };
  }

  /** Follows a peer's own stream over a link to its broker; a peer that moved is followed there. */
  private addPeer(peerId: string, plan: LinkPlan, out: Command[]): void {
    if (peerId === this.o.nodeId) return;
    const existing = this.links.get(plan.name);
    if (existing?.plan.url === plan.url) return;
    if (existing) {
      this.o.logger.info({ peer: peerId, from: existing.plan.url, to: plan.url }, 'peer moved');
      this.links.delete(plan.name);
      out.push({ kind: 'disconnect', link: plan.name });
    }
    this.receiver.stream(peerId, 'own');
    out.push(this.open(plan));
  }

  // ---- incoming ------------------------------------------------------------------------------

  private follow(outcome: ReceiveOutcome, out: Command[]): void {
    if (outcome.kind === 'gap') return this.requestCatchUp(outcome.stream, false, out);
    if (outcome.kind !== 'applied' && outcome.kind !== 'duplicate') return;
    if (outcome.kind === 'applied' && outcome.changed) {
      out.push({ kind: 'applied' });
      if (this.strategy.relays) this.pushes.relay(outcome.merged, outcome.range, out);
    }
    if (outcome.reply) {
      outcome.stream.requestId = undefined;
      if (outcome.more) this.requestCatchUp(outcome.stream, true, out);
    }
  }

  private onState(payload: Buffer, out: Command[]): void {
    if (payload.length === 0) return;
    const state = NodeStateSchema.parse(JSON.parse(payload.toString('utf8')));
    if (state.nodeId === this.o.nodeId) return;
    this.observe(state, out);
  }

  /** A refused key may be let in by a replacement the hub recorded since: try those states again. */
  private retryRefused(out: Command[]): void {
    for (const [nodeId, state] of this.refused) {
      if (this.directory.pinDecision(state) === 'refuse') continue;
      this.refused.delete(nodeId);
      this.observe(state, out);
    }
  }

  private observe(state: NodeState, out: Command[]): void {
    const now = this.o.clock.now();
    const result = this.directory.observe(state, now);
    if (result === 'identity-refused') return;
    if (result === 'key-mismatch') {
      this.refused.set(state.nodeId, state);
      return;
    }
    this.catchUps.believed(state.nodeId, out);
    this.refused.delete(state.nodeId);
    if (result === 'rebuilt') {
      this.receiver.restart(state.nodeId);
      this.o.logger.warn({ node: state.nodeId, siteId: state.siteId }, 'node announced a new store; its streams start again from 0');
    }
    if (this.strategy.reportsOn(this.directory.get(state.nodeId)!)) out.push({ kind: 'peer-state', nodeId: state.nodeId, online: state.online, sip: state.sip });
    const reaction = this.strategy.onState(state);
    if (!reaction) return;
    if (reaction.peerLink) this.addPeer(state.nodeId, reaction.peerLink, out);
    else for (const stream of reaction.follow) this.receiver.stream(state.nodeId, stream);
    if (reaction.record) {
      out.push({ kind: 'record-node', node: { id: state.nodeId, site: state.site, role: state.role, siteId: state.siteId, publicKey: state.publicKey }, at: now });
    }
    // A source that (re)appeared cannot answer what was asked of it before: ask again now.
    const fresh = result === 'new' || result === 'back' || result === 'rebuilt';
    for (const s of this.receiver.streams.values()) {
      if (s.source !== state.nodeId) continue;
      if (!state.online) s.requestId = undefined;
      else if (fresh) this.requestCatchUp(s, true, out);
      else s.track(BigInt(state.head), now); // behind for a whole interval: anti-entropy pulls
    }
  }

  private requestCatchUp(s: InboundStream, force: boolean, out: Command[]): void {
    const o = this.o;
    const now = o.clock.now();
    if (s.blocked || this.stopped) return;
    if (s.pulling && !force && now - s.requestedAt < o.sync.requestTimeout * 1000) return;
    const link = this.strategy.linkFor(s.source, this);
    if (!this.isConnected(link)) return;
    const req: SyncRequest = {
      requester: o.nodeId,
      stream: s.stream,
      since: s.watermark.toString(),
      limit: o.sync.batchSize,
      replyTo: topics.syncResponse(o.nodeId),
      requestId: o.requestId?.() ?? randomHex(8),
      siteId: this.siteIdHex,
    };
    s.requestId = req.requestId;
    s.requestedAt = now;
    this.counters.requestsOut++;
    out.push({ kind: 'publish', link, topic: topics.syncRequest(s.source), payload: JSON.stringify(req), retain: false });
  }

  /** Kept batches from a newer schema, now that a migration may have run. */
  private replayPending(out: Command[]): void {
    const changes = this.o.store.changes;
    for (const p of changes.pendingUpTo(SCHEMA_VERSION)) {
      try {
        this.follow(this.receiver.receive(p.payload, this.o.clock.now()), out);
      } catch (err) {
        this.o.logger.warn({ node: p.source, err: (err as Error).message }, 'kept batch could not be replayed; a catch-up fetches it again');
      }
      changes.dropPending(p.id);
    }
  }

  private schedulePush(out: Command[]): void {
    if (!this.stopped) this.pushes.schedule(out);
  }

  // ---- housekeeping --------------------------------------------------------------------------

  /** New head (a commit by another process), the state each anti-entropy round, stuck streams. */
  private tick(out: Command[]): void {
    const o = this.o;
    const now = o.clock.now();
    let head: bigint;
    try {
      head = o.store.changes.head();
    } catch {
      return; // the store is closing
    }
    if (head !== this.lastHead) {
      if (head > this.lastHead) this.schedulePush(out);
      this.lastHead = head;
      if (this.refused.size > 0) this.retryRefused(out);
    }
    if (now < this.antiEntropyAt) return;
    const interval = o.sync.antiEntropy * 1000;
    this.antiEntropyAt = now + interval;
    if (head !== this.stateHead) {
      this.stateHead = head;
      const state = this.stateMessage(true);
      for (const [link, l] of this.links) if (l.up) out.push({ kind: 'publish', link, topic: topics.nodeState(o.nodeId), payload: state, retain: true });
    }
    // Anti-entropy: a stream still behind its source's announced head a whole interval after
    // it fell behind lost something on the way (pushes in flight are not yet a loss).
    for (const s of this.receiver.streams.values()) {
      s.track(this.directory.get(s.source)?.head ?? 0n, now);
      const stuck = s.behindSince !== undefined && now - s.behindSince >= interval;
      if (s.pulling ? now - s.requestedAt >= o.sync.requestTimeout * 1000 : stuck) this.requestCatchUp(s, true, out);
    }
  }
}
