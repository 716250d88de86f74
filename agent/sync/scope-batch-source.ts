/**
 * The hub's sending half (DESIGN.md section 5): it publishes everything it holds, split by
 * scope stream (`global`, `site/{id}`) on `hub/changes/{stream}`, republishes a merge straight
 * from the merged changes when it can, and serves the scope streams on request, leaving out
 * what came from the requester. A user or route that moved to another site travels whole.
 */
import type { AppliedRange, Change } from '../store/change-log.ts';
import { replicatedTable } from '../store/replicated-tables.ts';
import type { SyncRequest } from '../wire/messages.ts';
import { siteStream, topics, type StreamName } from '../wire/topics.ts';
import { BatchSource, type BatchSourceOptions, type OutgoingBatch } from './batch-source.ts';
import { splitByStream } from './scope.ts';

export class ScopeBatchSource extends BatchSource {
  /** The `to` of the last batch published on each stream. */
  private readonly lastTo = new Map<StreamName, bigint>();
  private readonly siteIdHex: string;

  constructor(o: BatchSourceOptions) {
    super(o);
    this.siteIdHex = o.store.changes.siteId().toString('hex');
  }

  override nextPush(): { batches: OutgoingBatch[]; more: boolean } {
    const page = this.o.store.changes.page(this.pushed, {}, this.o.batchSize);
    const batches = this.publish(page.changes, page.to);
    this.pushed = page.to;
    return { batches, more: page.more };
  }

  /**
   * Possible only when everything before the merge was already published and the merge took
   * the versions (before, after]; otherwise undefined, and the next nextPush() reads them.
   * Relayed changes carry the hub's version `after` (receivers filter by it in the hub's space).
   */
  override relay(merged: readonly Change[], range: AppliedRange): OutgoingBatch[] | undefined {
    if (range.before !== this.pushed || range.after <= range.before) return undefined;
    const batches = this.publish(
      merged.map((c) => ({ ...c, dbVersion: range.after })),
      range.after,
    );
    this.pushed = range.after;
    return batches;
  }

  protected override replyScope(req: SyncRequest, since: bigint, limit: number): Buffer {
    // The requester's own changes, by the site id it names (its store now, even when this hub
    // still knows an older one: a rebuilt box must get back what its old store wrote).
    const requester = req.siteId ?? this.o.directory.get(req.requester)?.siteId;
    const page = this.o.store.changes.page(since, requester ? { excludeSite: Buffer.from(requester, 'hex') } : {}, limit);
    const stream = req.stream as StreamName;
    return this.encode('reply', stream, since, page.to, page.more, req.requestId, this.split(page.changes).get(stream) ?? []);
  }

  /** One push batch per stream with changes, each starting where that stream's last one ended. */
  private publish(changes: readonly Change[], to: bigint): OutgoingBatch[] {
    if (changes.length === 0) return [];
    const batches: OutgoingBatch[] = [];
    for (const [stream, list] of this.split(changes)) {
      batches.push({ topic: topics.hubChanges(stream), bytes: this.encode('push', stream, this.lastTo.get(stream) ?? this.pushed, to, false, '', list) });
      this.lastTo.set(stream, to);
    }
    return batches;
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
}
