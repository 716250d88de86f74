/**
 * The sending half of replication, without any network: the batches a replica publishes (a
 * node: its own changes; the hub: what it merged, split by scope stream) and the pages it
 * answers catch-up requests with. Every batch is signed with the node key.
 */
import type { AppliedRange, Change } from '../store/change-log.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import type { Store } from '../store/store.ts';
import { encodeBatch } from '../wire/change-batch.ts';
import type { SyncRequest } from '../wire/messages.ts';
import { siteStream, topics, type StreamName } from '../wire/topics.ts';
import { SyncError } from './errors.ts';
import type { NodeKey } from './node-key.ts';
import type { PeerDirectory } from './peer-directory.ts';
import { splitByStream } from './scope.ts';
import { replicatedTable } from '../store/replicated-tables.ts';

export interface BatchSourceOptions {
  role: 'node' | 'hub';
  nodeId: string;
  store: Store;
  key: NodeKey;
  /** Node: its site's admin key, when it holds one; every batch then carries its signature too. */
  siteAdminKey?: NodeKey;
  directory: PeerDirectory;
  batchSize: number;
}

export interface OutgoingBatch {
  topic: string;
  bytes: Buffer;
}

export class BatchSource {
  /** Everything up to this version of this replica has been published. */
  pushed: bigint;
  /** Hub: the `to` of the last batch published on each stream. */
  private readonly lastTo = new Map<StreamName, bigint>();
  private readonly siteIdHex: string;

  constructor(private readonly o: BatchSourceOptions) {
    this.pushed = o.store.changes.head();
    this.siteIdHex = o.store.changes.siteId().toString('hex');
  }

  /** The next push batches (empty when nothing new); `more` when another call has more. */
  nextPush(): { batches: OutgoingBatch[]; more: boolean } {
    const o = this.o;
    const changes = o.store.changes;
    const page = o.role === 'hub' ? changes.page(this.pushed, {}, o.batchSize) : changes.page(this.pushed, { onlySite: changes.siteId() }, o.batchSize);
    const batches: OutgoingBatch[] = [];
    if (page.changes.length > 0) {
      if (o.role === 'hub') {
        for (const [stream, list] of this.split(page.changes)) {
          batches.push({ topic: topics.hubChanges(stream), bytes: this.encode('push', stream, this.lastTo.get(stream) ?? this.pushed, page.to, false, '', list) });
          this.lastTo.set(stream, page.to);
        }
      } else {
        batches.push({ topic: topics.nodeChanges(o.nodeId), bytes: this.encode('push', 'own', this.pushed, page.to, false, '', page.changes) });
      }
    }
    this.pushed = page.to;
    return { batches, more: page.more };
  }

  /**
   * Hub: the push batches for changes it just merged, without reading them back from the store.
   * Possible only when everything before the merge was already published and the merge took
   * the versions (before, after]; otherwise undefined, and the next nextPush() reads them.
   * Relayed changes carry the hub's version `after` (receivers filter by it in the hub's space).
   */
  relay(merged: readonly Change[], range: AppliedRange): OutgoingBatch[] | undefined {
    if (this.o.role !== 'hub' || range.before !== this.pushed || range.after <= range.before) return undefined;
    const changes = merged.map((c) => ({ ...c, dbVersion: range.after }));
    const batches: OutgoingBatch[] = [];
    for (const [stream, list] of this.split(changes)) {
      batches.push({ topic: topics.hubChanges(stream), bytes: this.encode('push', stream, this.lastTo.get(stream) ?? this.pushed, range.after, false, '', list) });
      this.lastTo.set(stream, range.after);
    }
    this.pushed = range.after;
    return batches;
  }

  /** Skips what was written while nobody listened; receivers catch up by pulling. */
  skipToHead(): void {
    this.pushed = this.o.store.changes.head();
  }

  /** The page answering a catch-up request (the request was validated by the caller). */
  reply(req: SyncRequest): Buffer {
    const o = this.o;
    const since = BigInt(req.since);
    const limit = Math.min(req.limit, o.batchSize);
    const changes = o.store.changes;
    if (req.stream === 'own') {
      const page = changes.page(since, { onlySite: changes.siteId() }, limit);
      return this.encode('reply', 'own', since, page.to, page.more, req.requestId, page.changes);
    }
    if (o.role !== 'hub') throw new SyncError('sync.payload', `only the hub serves stream ${req.stream}`);
    const requester = o.directory.get(req.requester);
    const page = changes.page(since, requester ? { excludeSite: Buffer.from(requester.siteId, 'hex') } : {}, limit);
    const stream = req.stream as StreamName;
    return this.encode('reply', stream, since, page.to, page.more, req.requestId, this.split(page.changes).get(stream) ?? []);
  }

  private split(changes: readonly Change[]): Map<StreamName, Change[]> {
    const store = this.o.store;
    const streams = splitByStream(
      changes,
      (t, pk, col) => store.changes.column(t, pk, col),
      (siteId) => (siteId === this.siteIdHex ? undefined : this.o.directory.nodeOfSiteId(siteId)?.site),
    );
    // A user or route that moved to another site (or was re-created in one) travels whole, to
    // its new site (whose boxes may never have had it) and to the site it left, whose boxes
    // replace their copy with one of the new site (which they then refuse to authenticate).
    // The resent changes carry the page's newest version, so receivers that filter by their
    // watermark take them (a merge ignores the version number; it assigns its own).
    const newest = changes.reduce((v, c) => (c.dbVersion > v ? c.dbVersion : v), 0n);
    for (const m of this.movedRows(changes)) {
      const whole = store.changes.rowChanges(m.table, m.pk).map((c) => ({ ...c, dbVersion: newest }));
      for (const stream of new Set([m.from, m.to])) {
        let list = streams.get(stream);
        if (!list) streams.set(stream, (list = []));
        list.push(...whole);
      }
    }
    return streams;
  }

  /** Admin rows in `changes` whose site differs from the one they were last published to. */
  private movedRows(changes: readonly Change[]): Array<{ table: string; pk: Uint8Array; from: StreamName; to: StreamName }> {
    const log = this.o.store.changes;
    const seen = new Set<string>();
    const out: Array<{ table: string; pk: Uint8Array; from: StreamName; to: StreamName }> = [];
    log.inTransaction(() => {
      for (const c of changes) {
        const t = replicatedTable(c.table);
        const key = `${c.table}:${Buffer.from(c.pk).toString('hex')}`;
        if (!t?.siteColumn || seen.has(key)) continue;
        seen.add(key);
        const current = log.column(c.table, c.pk, t.siteColumn);
        if (typeof current !== 'string') continue; // deleted: the delete travels on global
        const before = log.publishedSite(c.table, c.pk);
        const stream = (site: string): StreamName => (site === '' ? 'global' : siteStream(site));
        if (before !== undefined && before !== current) out.push({ table: c.table, pk: c.pk, from: stream(before), to: stream(current) });
        if (before !== current) log.recordPublishedSite(c.table, c.pk, current);
      }
    });
    return out;
  }

  private encode(kind: 'push' | 'reply', stream: StreamName, from: bigint, to: bigint, more: boolean, requestId: string, changes: Change[]): Buffer {
    const o = this.o;
    const admin = o.siteAdminKey;
    return encodeBatch({ kind, sender: o.nodeId, stream, requestId, schema: SCHEMA_VERSION, from, to, more, changes }, (b) => o.key.sign(b), admin && ((b) => admin.sign(b)));
  }
}
