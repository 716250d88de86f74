/**
 * The receiving half of replication, without any network: takes the bytes of a batch (a push
 * or a catch-up reply), decides from the stream's watermark whether it is a duplicate, leaves a
 * gap, or can be merged; verifies the signature against the sender's pinned key, keeps batches
 * from a newer schema, checks authority, and merges with the watermark in one transaction. The
 * caller (ReplicationCore) asks for catch-ups when told to.
 */
import type { Logger } from '../lib/logger.ts';
import type { AppliedRange, Change } from '../store/change-log.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import type { Store } from '../store/store.ts';
import { decodeBatch, decodeBatchHeader } from '../wire/change-batch.ts';
import type { StreamName } from '../wire/topics.ts';
import { REVOKED_MESSAGE } from '../trust/revocation.ts';
import { checkAuthority } from './authority.ts';
import { InboundStream, streamKey } from './inbound-stream.ts';
import { verifySignature } from './node-key.ts';
import type { PeerDirectory } from './peer-directory.ts';
import type { StreamPolicy } from './replication-strategy.ts';
import type { SyncCounters } from './sync-counters.ts';

export interface BatchReceiverOptions {
  nodeId: string;
  /** This replica's site ('' for the hub): the site of its own rows in a takeover check. */
  site?: string;
  /** Which streams of whom this replica takes, and its hub (node and hub strategies). */
  policy: StreamPolicy;
  store: Store;
  directory: PeerDirectory;
  counters: SyncCounters;
  logger: Logger;
}

export type ReceiveOutcome =
  | { kind: 'unexpected' | 'stale' | 'blocked' | 'unknown-sender' | 'bad-signature' | 'kept' | 'revoked' }
  | { kind: 'duplicate'; stream: InboundStream; reply: boolean; more: boolean; changed: false }
  | { kind: 'applied'; stream: InboundStream; reply: boolean; more: boolean; changed: boolean; merged: Change[]; range: AppliedRange }
  | { kind: 'gap'; stream: InboundStream };

export class BatchReceiver {
  readonly streams = new Map<string, InboundStream>();

  constructor(private readonly o: BatchReceiverOptions) {}

  stream(source: string, stream: StreamName): InboundStream {
    const key = streamKey(source, stream);
    let s = this.streams.get(key);
    if (!s) {
      s = new InboundStream(source, stream, this.o.store.changes.watermark(source, stream));
      this.streams.set(key, s);
    }
    return s;
  }

  /** `source` has a new store (rebuilt): every stream of it starts again from version 0. */
  restart(source: string): void {
    for (const s of this.streams.values()) {
      if (s.source !== source) continue;
      s.watermark = 0n;
      s.requestId = undefined;
      s.behindSince = undefined;
    }
  }

  /** Is `stream` of `source` one this replica takes? */
  wants(source: string, stream: string): boolean {
    return source !== this.o.nodeId && this.o.policy.accepts(source, stream, this.streams.has(streamKey(source, stream)));
  }

  /**
   * Throws WireError / ZodError-free: only WireError for malformed bytes. `now`: ms, the caller's
   * clock. `topicNode`: the node of the `node/<id>/changes` topic it came on, which must be its sender.
   */
  receive(bytes: Uint8Array, now = Date.now(), topicNode?: string): ReceiveOutcome {
    const o = this.o;
    const h = decodeBatchHeader(bytes);
    if (topicNode !== undefined && topicNode !== h.sender) {
      o.counters.identityRefused++;
      o.logger.error({ node: topicNode, sender: h.sender, stream: h.stream }, 'batch refused: its sender is not the node of its topic');
      return { kind: 'unexpected' };
    }
    if (!this.wants(h.sender, h.stream)) {
      o.counters.unexpected++;
      return { kind: 'unexpected' };
    }
    // Only a node whose state this replica believed has streams (an unknown sender creates none).
    if (!o.directory.get(h.sender)) {
      o.counters.unknownSender++;
      return { kind: 'unknown-sender' };
    }
    // A node whose certificate the hub revoked (docs/security.md, Revocation): nothing of it merges.
    if (o.directory.revoked(h.sender)) {
      o.counters.revokedRefused++;
      o.logger.warn({ node: h.sender, stream: h.stream }, REVOKED_MESSAGE);
      return { kind: 'revoked' };
    }
    const s = this.stream(h.sender, h.stream as StreamName);
    s.batches++;
    o.counters.batchesIn++;
    const reply = h.kind === 'reply';
    if (reply && h.requestId !== s.requestId) return { kind: 'stale' };
    if (s.blocked) return { kind: 'blocked' };
    if (h.to <= s.watermark) {
      s.duplicates++;
      return { kind: 'duplicate', stream: s, reply, more: h.more, changed: false };
    }
    if (h.from > s.watermark) {
      s.gaps++;
      return { kind: 'gap', stream: s };
    }
    const known = o.directory.get(h.sender)!;
    const { batch, signed, signature, adminSignature } = decodeBatch(bytes);
    if (!verifySignature(known.publicKey, signed, signature)) {
      o.counters.badSignature++;
      o.logger.error({ node: h.sender, stream: h.stream }, 'batch with a bad signature; dropped');
      return { kind: 'bad-signature' };
    }
    if (batch.schema > SCHEMA_VERSION) {
      o.store.changes.keepPending(h.sender, batch.schema, bytes);
      s.blocked = true;
      o.logger.warn({ node: h.sender, schema: batch.schema, mine: SCHEMA_VERSION }, 'batch from a newer schema kept until this node is upgraded');
      return { kind: 'kept' };
    }
    const own = o.store.changes.siteId();
    // Only what lies beyond the watermark (a batch may overlap what a catch-up brought), and
    // never this replica's own changes coming back.
    const fresh = batch.changes.filter((c) => c.dbVersion > s.watermark && !own.equals(c.siteId)) as Change[];
    const signerIsHub = o.policy.hubId !== undefined && h.sender === o.policy.hubId && known.role === 'hub';
    const adminOfSite = adminSignature && this.siteAdminSigned(known.site, signed, adminSignature, h.sender) ? known.site : undefined;
    const signer = { nodeId: h.sender, siteId: known.siteId, isHub: signerIsHub, site: known.site, ...(adminOfSite ? { adminOfSite } : {}) };
    const siteOf = (nodeId: string) => (nodeId === o.nodeId ? o.site : o.directory.get(nodeId)?.site);
    const verdict = checkAuthority(fresh, signer, (t, pk, col) => o.store.changes.column(t, pk, col), siteOf);
    if (verdict.rejected.length > 0) {
      s.rejected += verdict.rejected.length;
      o.counters.reject(h.sender, verdict.rejected.length);
      const first = verdict.rejected[0]!;
      o.logger.error({ node: h.sender, rejected: verdict.rejected.length, table: first.change.table, reason: first.reason }, 'refused changes a node may not make');
    }
    const range = o.store.changes.apply(verdict.accepted, { source: h.sender, stream: h.stream, version: h.to });
    s.watermark = h.to;
    s.applied += verdict.accepted.length;
    s.lastAppliedAt = now;
    s.track(known.head, s.lastAppliedAt);
    o.counters.changesApplied += verdict.accepted.length;
    return { kind: 'applied', stream: s, reply, more: h.more, changed: verdict.accepted.length > 0, merged: verdict.accepted, range };
  }

  /** Does the admin signature verify with the admin key the hub registered for the sender's site? */
  private siteAdminSigned(site: string, signed: Uint8Array, signature: Uint8Array, sender: string): boolean {
    const key = this.o.store.sites.get(site)?.adminPublicKey;
    if (key && verifySignature(key, signed, signature)) return true;
    this.o.logger.warn({ node: sender, site }, key ? 'site admin signature does not verify' : 'site admin signature, but the site has no admin key');
    return false;
  }
}
