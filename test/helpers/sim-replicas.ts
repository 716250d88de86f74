/**
 * A simulated replication network for tests: real Stores (cr-sqlite), real BatchSource and
 * BatchReceiver, real signatures and authority checks, but no MQTT. Messages (batches and
 * catch-up requests) wait in one queue that the test delivers, drops, duplicates or reorders.
 * The routing mirrors replicator.ts: a receiver asks for a catch-up on a gap, clears the
 * stream's request id when a reply page came, and asks for the next page when it has `more`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSilentLogger } from '../../agent/lib/logger.ts';
import { SCHEMA_VERSION } from '../../agent/store/migrations/index.ts';
import { Store } from '../../agent/store/store.ts';
import { BatchReceiver, type ReceiveOutcome } from '../../agent/sync/batch-receiver.ts';
import { BatchSource } from '../../agent/sync/batch-source.ts';
import type { InboundStream } from '../../agent/sync/inbound-stream.ts';
import { NodeKey } from '../../agent/sync/node-key.ts';
import { PeerDirectory } from '../../agent/sync/peer-directory.ts';
import { SyncCounters } from '../../agent/sync/sync-counters.ts';
import { decodeBatchHeader } from '../../agent/wire/change-batch.ts';
import { NodeStateSchema, SyncRequestSchema, type NodeState, type SyncRequest } from '../../agent/wire/messages.ts';
import { siteStream, topics } from '../../agent/wire/topics.ts';

export interface ReplicaSpec {
  id: string;
  role: 'hub' | 'node';
  site: string;
}

export interface Replica extends ReplicaSpec {
  dir: string;
  store: Store;
  key: NodeKey;
  directory: PeerDirectory;
  counters: SyncCounters;
  source: BatchSource;
  receiver: BatchReceiver;
}

export type Message = { kind: 'batch'; to: string; bytes: Buffer } | { kind: 'request'; to: string; json: string };

export interface SimOptions {
  batchSize: number;
  /** Nodes of a site also take each other's `own` stream directly, as real site peers do. */
  peers: boolean;
}

export class SimNetwork {
  readonly replicas = new Map<string, Replica>();
  readonly queue: Message[] = [];
  /** How often each receive outcome happened (to see what a run exercised). */
  readonly outcomes = new Map<string, number>();
  private requests = 0;

  constructor(
    specs: ReplicaSpec[],
    readonly options: SimOptions,
  ) {
    const logger = createSilentLogger();
    const hubId = specs.find((s) => s.role === 'hub')?.id;
    for (const spec of specs) {
      const dir = mkdtempSync(join(tmpdir(), `outpost-sim-${spec.id}-`));
      const store = Store.open({ dataDir: dir, durable: false }); // a test store needs no durability
      const key = NodeKey.loadOrCreate(dir);
      const directory = new PeerDirectory(store, logger);
      const counters = new SyncCounters();
      const source = new BatchSource({ role: spec.role, nodeId: spec.id, store, key, directory, batchSize: options.batchSize });
      const receiver = new BatchReceiver({ role: spec.role, nodeId: spec.id, site: spec.site, ...(spec.role === 'node' && hubId ? { hubId } : {}), store, directory, counters, logger });
      this.replicas.set(spec.id, { ...spec, dir, store, key, directory, counters, source, receiver });
    }
    // Every replica learns every other's state up front; streams are registered as replicator.ts does.
    for (const r of this.replicas.values()) {
      for (const other of this.replicas.values()) {
        if (other === r) continue;
        r.directory.observe(this.state(other), Date.now());
        if (r.role === 'hub' && other.role === 'node') r.receiver.stream(other.id, 'own');
        if (r.role === 'node' && options.peers && other.role === 'node' && other.site === r.site) r.receiver.stream(other.id, 'own');
      }
      if (r.role === 'node' && hubId) {
        r.receiver.stream(hubId, 'global');
        r.receiver.stream(hubId, siteStream(r.site));
      }
    }
  }

  get(id: string): Replica {
    const r = this.replicas.get(id);
    if (!r) throw new Error(`no replica ${id}`);
    return r;
  }

  state(r: Replica): NodeState {
    return NodeStateSchema.parse({
      nodeId: r.id,
      role: r.role,
      site: r.site,
      online: true,
      publicKey: r.key.publicKey,
      siteId: r.store.changes.siteId().toString('hex'),
      schema: SCHEMA_VERSION,
      head: r.store.changes.head().toString(),
      at: Date.now(),
    });
  }

  /** Publishes everything new of `id`: each batch goes to every replica that takes its stream. */
  push(id: string): number {
    const r = this.get(id);
    let sent = 0;
    for (let i = 0; ; i++) {
      if (i > 10_000) throw new Error(`push of ${id} does not end`);
      const { batches, more } = r.source.nextPush();
      for (const b of batches) {
        const h = decodeBatchHeader(b.bytes);
        for (const other of this.replicas.values()) {
          if (!other.receiver.wants(h.sender, h.stream)) continue;
          this.queue.push({ kind: 'batch', to: other.id, bytes: b.bytes });
          sent++;
        }
      }
      if (!more) return sent;
    }
  }

  deliver(index: number): void {
    const [m] = this.queue.splice(index, 1);
    if (!m) return;
    const r = this.get(m.to);
    if (m.kind === 'request') {
      const req = SyncRequestSchema.parse(JSON.parse(m.json));
      if (req.replyTo !== topics.syncResponse(req.requester)) throw new Error(`bad replyTo ${req.replyTo}`);
      this.queue.push({ kind: 'batch', to: req.requester, bytes: r.source.reply(req) });
      return;
    }
    this.follow(r, this.receive(r, m.bytes));
  }

  /** Delivers every queued message (and what they cause) in queue order. */
  drain(limit = 100_000): void {
    for (let i = 0; this.queue.length > 0; i++) {
      if (i > limit) throw new Error('the queue does not drain');
      this.deliver(0);
    }
  }

  /** As Replicator.onConnect: asks for a catch-up on every stream of `id`. */
  catchUpAll(id: string): void {
    const r = this.get(id);
    for (const s of r.receiver.streams.values()) this.requestCatchUp(r, s, true);
  }

  private receive(r: Replica, bytes: Buffer): ReceiveOutcome {
    const outcome = r.receiver.receive(bytes);
    this.outcomes.set(outcome.kind, (this.outcomes.get(outcome.kind) ?? 0) + 1);
    return outcome;
  }

  /** Replicator.follow, without the timers. */
  private follow(r: Replica, outcome: ReceiveOutcome): void {
    if (outcome.kind === 'gap') return this.requestCatchUp(r, outcome.stream, false);
    if (outcome.kind !== 'applied' && outcome.kind !== 'duplicate') return;
    if (outcome.reply) {
      outcome.stream.requestId = undefined;
      if (outcome.more) this.requestCatchUp(r, outcome.stream, true);
    }
  }

  private request(r: Replica, s: InboundStream): SyncRequest {
    const req: SyncRequest = {
      requester: r.id,
      stream: s.stream,
      since: s.watermark.toString(),
      limit: this.options.batchSize,
      replyTo: topics.syncResponse(r.id),
      requestId: `req-${++this.requests}`,
    };
    s.requestId = req.requestId;
    return req;
  }

  private requestCatchUp(r: Replica, s: InboundStream, force: boolean): void {
    if (s.blocked || (s.pulling && !force)) return;
    this.queue.push({ kind: 'request', to: s.source, json: JSON.stringify(this.request(r, s)) });
  }

  /** The streams whose watermark is not their source's head. */
  lagging(): string[] {
    const out: string[] = [];
    for (const r of this.replicas.values()) {
      for (const s of r.receiver.streams.values()) {
        const head = this.get(s.source).store.changes.head();
        if (s.watermark !== head) out.push(`${r.id} <- ${s.source} ${s.stream} at ${s.watermark} of ${head}`);
      }
    }
    return out;
  }

  /**
   * Heals the network: delivers what is queued, then pulls every stream (following `more`)
   * round after round, until a round merges nothing and every watermark is at its source's
   * head. Returns the number of rounds; throws when it does not settle.
   */
  heal(maxRounds = 50): number {
    this.drain();
    for (let round = 1; round <= maxRounds; round++) {
      let changed = false;
      const moved: string[] = [];
      for (const r of this.replicas.values()) {
        for (const s of r.receiver.streams.values()) {
          for (let page = 0; ; page++) {
            if (page > 10_000) throw new Error(`catch-up of ${r.id} <- ${s.source} ${s.stream} does not end`);
            const bytes = this.get(s.source).source.reply(this.request(r, s));
            const outcome = this.receive(r, bytes);
            if (outcome.kind !== 'applied' && outcome.kind !== 'duplicate') throw new Error(`heal: ${r.id} <- ${s.source} ${s.stream}: ${outcome.kind}`);
            s.requestId = undefined;
            changed ||= outcome.changed;
            if (outcome.changed) moved.push(`${r.id} <- ${s.source} ${s.stream} (${outcome.stream.applied} applied so far)`);
            if (!outcome.more) break;
          }
        }
      }
      const lagging = this.lagging();
      if (!changed && lagging.length === 0) return round;
      if (round === maxRounds) throw new Error(`the network did not settle in ${maxRounds} rounds; the last one merged into ${moved.join(', ') || 'nothing'}; behind: ${lagging.join(', ') || 'none'}`);
    }
    throw new Error('unreachable');
  }

  close(): void {
    for (const r of this.replicas.values()) {
      r.store.close();
      rmSync(r.dir, { recursive: true, force: true });
    }
  }
}
