/**
 * The sending half of replication, without any network: the batches a replica publishes and the
 * pages it answers catch-up requests with, every batch signed with the node key. BatchSource
 * is a node's: its own changes on `node/{id}/changes`, and its `own` stream on request. The hub's
 * ScopeBatchSource (scope-batch-source.ts) publishes what it merged, split by scope stream. The
 * replica's strategy picks one.
 */
import type { AppliedRange, Change } from '../store/change-log.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import type { Store } from '../store/store.ts';
import { encodeBatch } from '../wire/change-batch.ts';
import type { SyncRequest } from '../wire/messages.ts';
import { topics, type StreamName } from '../wire/topics.ts';
import { SyncError } from './errors.ts';
import type { NodeKey } from './node-key.ts';
import type { PeerDirectory } from './peer-directory.ts';

export interface BatchSourceOptions {
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

  constructor(protected readonly o: BatchSourceOptions) {
    this.pushed = o.store.changes.head();
  }

  /** The next push batches (empty when nothing new); `more` when another call has more. */
  nextPush(): { batches: OutgoingBatch[]; more: boolean } {
    const o = this.o;
    const changes = o.store.changes;
    const page = changes.page(this.pushed, { onlySite: changes.siteId() }, o.batchSize);
    const batches = page.changes.length > 0 ? [{ topic: topics.nodeChanges(o.nodeId), bytes: this.encode('push', 'own', this.pushed, page.to, false, '', page.changes) }] : [];
    this.pushed = page.to;
    return { batches, more: page.more };
  }

  /**
   * The push batches for changes just merged, without reading them back from the store, when
   * this source republishes merges (the hub); otherwise undefined.
   */
  relay(_merged: readonly Change[], _range: AppliedRange): OutgoingBatch[] | undefined {
    return undefined;
  }

  /** Skips what was written while nobody listened; receivers catch up by pulling. */
  skipToHead(): void {
    this.pushed = this.o.store.changes.head();
  }

  /** The page answering a catch-up request (the request was validated by the caller). */
  reply(req: SyncRequest): Buffer {
    const since = BigInt(req.since);
    const limit = Math.min(req.limit, this.o.batchSize);
    if (req.stream === 'own') {
      const changes = this.o.store.changes;
      const page = changes.page(since, { onlySite: changes.siteId() }, limit);
      return this.encode('reply', 'own', since, page.to, page.more, req.requestId, page.changes);
    }
    return this.replyScope(req, since, limit);
  }

  /** A scope stream's page: only the hub serves them. */
  protected replyScope(req: SyncRequest, _since: bigint, _limit: number): Buffer {
    throw new SyncError('sync.payload', `only the hub serves stream ${req.stream}`);
  }

  protected encode(kind: 'push' | 'reply', stream: StreamName, from: bigint, to: bigint, more: boolean, requestId: string, changes: Change[]): Buffer {
    const o = this.o;
    const admin = o.siteAdminKey;
    return encodeBatch({ kind, sender: o.nodeId, stream, requestId, schema: SCHEMA_VERSION, from, to, more, changes }, (b) => o.key.sign(b), admin && ((b) => admin.sign(b)));
  }
}
