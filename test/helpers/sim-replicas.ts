/**
 * A simulated replication network for tests: the production ReplicationCore of every replica
 * (real Stores with cr-sqlite, real batches, signatures and authority checks, the node and hub
 * strategies), each on its own ManualClock, with brokers reduced to what the cores rely on:
 * topic filters, retained messages, delivery to every matching subscription. This file only
 * executes the cores' commands and carries messages; every delivery waits in one queue that
 * the test delivers, drops, duplicates or reorders. A replica can be rebuilt on an empty store
 * under its id (a box replaced), with its old key or a new one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../agent/lib/clock.ts';
import { createSilentLogger } from '../../agent/lib/logger.ts';
import { Store } from '../../agent/store/store.ts';
import { CoreTimers } from '../../agent/sync/core-timers.ts';
import type { InboundStream } from '../../agent/sync/inbound-stream.ts';
import { NodeKey } from '../../agent/sync/node-key.ts';
import type { Command } from '../../agent/sync/replication-commands.ts';
import { ReplicationCore, TICK_MS } from '../../agent/sync/replication-core.ts';
import { strategyFor } from '../../agent/sync/strategy-for.ts';
import { parseTopic } from '../../agent/wire/topics.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

export interface ReplicaSpec {
  id: string;
  role: 'hub' | 'node';
  site: string;
}

export interface Replica extends ReplicaSpec {
  dir: string;
  store: Store;
  clock: ManualClock;
  core: ReplicationCore;
  /** Its links: name -> broker url. */
  links: Map<string, string>;
  key: NodeKey;
}

export interface Delivery {
  to: string;
  link: string;
  topic: string;
  payload: Buffer;
}

export interface SimOptions {
  batchSize: number;
  /** Every box runs a broker of its own, so site peers also take each other's `own` stream directly. */
  peers: boolean;
}

/** Stores (cr-sqlite, not durable) on temporary directories for one test, closed and removed together. */
export class TempStores {
  private readonly opened: Array<{ store: Store; dir: string }> = [];

  open(name: string): { store: Store; dir: string } {
    const dir = mkdtempSync(join(tmpdir(), `outpost-${name}-`));
    const store = Store.open({ dataDir: dir, durable: false }); // a test store needs no durability
    this.opened.push({ store, dir });
    return { store, dir };
  }

  closeAll(): void {
    for (const { store, dir } of this.opened.splice(0)) {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Short intervals, so a heal takes few clock steps (sync.antiEntropy and requestTimeout, s). */
const SYNC = { maxInFlight: 16, pushDelay: 0, requestTimeout: 1, antiEntropy: 1 };
const HUB_BROKER = 'mqtt://hub.sim';

interface Subscription {
  replica: string;
  link: string;
  filters: string[];
}

/** MQTT topic filter matching (`+` one level, `#` the rest). */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

export class SimNetwork {
  readonly replicas = new Map<string, Replica>();
  readonly queue: Delivery[] = [];
  private readonly subscriptions = new Map<string, Subscription[]>();
  private readonly retained = new Map<string, Map<string, Buffer>>();
  private readonly timers = new Map<string, CoreTimers>();
  private readonly stores = new TempStores();

  private readonly hubId: string | undefined;

  constructor(
    specs: ReplicaSpec[],
    readonly options: SimOptions,
  ) {
    this.hubId = specs.find((s) => s.role === 'hub')?.id;
    for (const spec of specs) this.build(spec);
    for (const r of this.replicas.values()) this.run(r, r.core.start());
    // Everyone learns everyone's state before the test starts.
    this.drain();
  }

  /** A replica on a new store (and `key`, else a new one), not started. */
  private build(spec: ReplicaSpec, key?: NodeKey): Replica {
    const { store, dir } = this.stores.open(`sim-${spec.id}`);
    const nodeKey = key ?? NodeKey.loadOrCreate(dir);
    const clock = new ManualClock();
    let requests = 0;
    const ownBrokerUrl = spec.role === 'hub' ? HUB_BROKER : this.options.peers ? `mqtt://${spec.id}.sim` : undefined;
    const hub = spec.role === 'node' && this.hubId ? { hub: { url: HUB_BROKER, id: this.hubId } } : {};
    const strategy = strategyFor({ ...spec, nodeId: spec.id, ...hub, ...(ownBrokerUrl ? { ownBrokerUrl } : {}) });
    const core = new ReplicationCore({
      strategy,
      nodeId: spec.id,
      site: spec.site,
      store,
      key: nodeKey,
      sync: { ...SYNC, batchSize: this.options.batchSize },
      clock,
      logger: createSilentLogger(),
      requestId: () => `${spec.id}-${++requests}`,
    });
    const replica: Replica = { ...spec, dir, store, clock, core, links: new Map(), key: nodeKey };
    this.timers.get(spec.id)?.cancel('tick');
    this.timers.get(spec.id)?.cancel('push');
    this.timers.set(spec.id, new CoreTimers(clock, (timer) => this.run(replica, core.timerFired(timer))));
    this.replicas.set(spec.id, replica);
    if (ownBrokerUrl && !this.subscriptions.has(ownBrokerUrl)) this.subscriptions.set(ownBrokerUrl, []);
    return replica;
  }

  /**
   * `id` dies and comes back on an empty store under the same id (a box replaced): with its old
   * key when `keepKey`, else a new one. Its old links and deliveries are gone; the new one starts.
   */
  rebuild(id: string, keepKey: boolean): Replica {
    const old = this.get(id);
    for (const link of [...old.links.keys()]) this.unsubscribe(old, link);
    this.queue.splice(0, this.queue.length, ...this.queue.filter((d) => d.to !== id));
    const r = this.build(old, keepKey ? old.key : undefined);
    this.run(r, r.core.start());
    return r;
  }

  get(id: string): Replica {
    const r = this.replicas.get(id);
    if (!r) throw new HarnessError(`no replica ${id}`);
    return r;
  }

  /** A stream as `id` follows it. */
  stream(id: string, source: string, stream: string): InboundStream {
    const s = this.get(id).core.streams().find((x) => x.source === source && x.stream === stream);
    if (!s) throw new HarnessError(`${id} does not follow ${source} ${stream}`);
    return s;
  }

  // ---- driving -------------------------------------------------------------------------------

  /**
   * `id` pushes what it wrote (as its write queue reports a commit), now. Returns the number of
   * batch deliveries this queued.
   */
  push(id: string): number {
    const r = this.get(id);
    const before = this.queue.length;
    this.run(r, r.core.committed());
    r.clock.advance(SYNC.pushDelay);
    return this.queue.slice(before).filter((d) => parseTopic(d.topic)?.kind !== 'nodeState').length;
  }

  /** Moves `id`'s clock: its tick, push and anti-entropy run as they fall due. */
  advance(id: string, ms: number): void {
    this.get(id).clock.advance(ms);
  }

  /** Every link of `id` drops and comes back (a partition that heals, a restart of the broker). */
  reconnect(id: string): void {
    const r = this.get(id);
    for (const link of r.links.keys()) this.run(r, r.core.linkDown(link));
    for (const [link, url] of r.links) this.linkUp(r, link, url);
  }

  /** Alias of reconnect: a connect asks for a catch-up of every stream the link serves. */
  catchUpAll(id: string): void {
    this.reconnect(id);
  }

  deliver(index: number): void {
    const [d] = this.queue.splice(index, 1);
    if (!d) return;
    const r = this.get(d.to);
    if (!r.links.has(d.link)) return; // the link was closed meanwhile
    this.run(r, r.core.message(d.link, d.topic, d.payload));
  }

  /** Delivers every queued message (and what they cause) in queue order, firing timers due now. */
  drain(limit = 100_000): void {
    for (let i = 0; ; i++) {
      if (i > limit) throw new HarnessError('the queue does not drain');
      if (this.queue.length > 0) this.deliver(0);
      else {
        for (const r of this.replicas.values()) r.clock.advance(0);
        if (this.queue.length === 0) return;
      }
    }
  }

  /** The streams whose watermark is not their source's head. */
  lagging(): string[] {
    const out: string[] = [];
    for (const r of this.replicas.values()) {
      for (const s of r.core.streams()) {
        const head = this.get(s.source).store.changes.head();
        if (s.watermark !== head) out.push(`${r.id} <- ${s.source} ${s.stream} at ${s.watermark} of ${head}`);
      }
    }
    return out;
  }

  /**
   * Heals the network: every link reconnects, then time runs on every replica (ticks, pushes,
   * anti-entropy, request timeouts) with lossless delivery, until the queue is empty and every
   * watermark is at its source's head. Returns the anti-entropy rounds it took; throws when it
   * does not settle.
   */
  heal(maxRounds = 50): number {
    for (const id of this.replicas.keys()) this.reconnect(id);
    const steps = (SYNC.antiEntropy * 1000) / TICK_MS;
    for (let round = 1; round <= maxRounds; round++) {
      for (let step = 0; step < steps; step++) {
        this.drain();
        if (this.lagging().length === 0) return round;
        for (const r of this.replicas.values()) r.clock.advance(TICK_MS);
      }
    }
    throw new HarnessError(`the network did not settle in ${maxRounds} rounds; behind: ${this.lagging().join(', ')}`);
  }

  close(): void {
    for (const r of this.replicas.values()) this.run(r, r.core.stop());
    this.stores.closeAll();
  }

  // ---- the shell's part: commands ------------------------------------------------------------

  private run(r: Replica, commands: Command[]): void {
    for (const c of commands) {
      switch (c.kind) {
        case 'connect':
          r.links.set(c.link.name, c.link.url);
          this.subscriptions.get(c.link.url)?.push({ replica: r.id, link: c.link.name, filters: c.link.subscriptions });
          this.linkUp(r, c.link.name, c.link.url);
          break;
        case 'disconnect':
          this.unsubscribe(r, c.link);
          r.links.delete(c.link);
          break;
        case 'publish':
          this.publish(r.links.get(c.link), c.topic, Buffer.from(c.payload), c.retain);
          break;
        case 'push-page': {
          for (const link of c.links) for (const b of c.batches) this.publish(r.links.get(link), b.topic, b.bytes, false);
          this.run(r, r.core.pushPageSent(c.links.length * c.batches.length, c.more));
          break;
        }
        case 'record-node':
          r.store.nodes.upsert(c.node, c.at);
          this.run(r, r.core.committed()); // as the write queue reports its commit
          break;
        case 'applied':
          break;
        case 'schedule':
          this.timers.get(r.id)!.schedule(c.timer, c.ms);
          break;
        case 'cancel':
          this.timers.get(r.id)!.cancel(c.timer);
          break;
      }
    }
  }

  /** A link (re)connects: its subscriptions get the retained messages, the core its event. */
  private linkUp(r: Replica, link: string, url: string): void {
    const sub = this.subscriptions.get(url)?.find((s) => s.replica === r.id && s.link === link);
    if (!sub) return; // no such broker: the link never comes up
    this.run(r, r.core.linkUp(link));
    for (const [topic, payload] of this.retained.get(url) ?? []) {
      if (sub.filters.some((f) => matches(f, topic))) this.queue.push({ to: r.id, link, topic, payload });
    }
  }

  private unsubscribe(r: Replica, link: string): void {
    const url = r.links.get(link);
    const subs = url ? this.subscriptions.get(url) : undefined;
    if (subs) this.subscriptions.set(url!, subs.filter((s) => !(s.replica === r.id && s.link === link)));
  }

  private publish(url: string | undefined, topic: string, payload: Buffer, retain: boolean): void {
    if (!url) return;
    if (retain) {
      let kept = this.retained.get(url);
      if (!kept) this.retained.set(url, (kept = new Map()));
      kept.set(topic, payload);
    }
    for (const s of this.subscriptions.get(url) ?? []) {
      if (s.filters.some((f) => matches(f, topic))) this.queue.push({ to: s.replica, link: s.link, topic, payload });
    }
  }
}
