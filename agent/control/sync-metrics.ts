/**
 * Replication as Prometheus metrics: per peer stream watermark and lag, link state, counters,
 * and per replicated table its row count and content digest (as a label of an info gauge, so
 * two replicas are identical when the digest labels match). Every value is read from one
 * snapshot per scrape; no snapshot (replication not running): no samples.
 */
import type { TableDigest } from '../store/table-digest.ts';
import type { SyncStatus } from '../sync/sync-status.ts';
import { readMetric, type Reading } from './box-registry.ts';
import type { Registry } from 'prom-client';

export function registerSyncMetrics(registry: Registry, status: () => SyncStatus | undefined): void {
  const g = (name: string, help: string, read: (s: SyncStatus) => number | Reading[], labels: string[] = []) =>
    readMetric(registry, 'gauge', name, help, () => { const s = status(); return s ? read(s) : undefined; }, labels);
  const c = (name: string, help: string, read: (s: SyncStatus) => number | Reading[], labels: string[] = []) =>
    readMetric(registry, 'counter', name, help, () => { const s = status(); return s ? read(s) : undefined; }, labels);
  const streams = (s: SyncStatus, value: (st: SyncStatus['peers'][number]['streams'][number]) => number) =>
    s.peers.flatMap((p) => p.streams.map((st) => ({ labels: { peer: p.nodeId, stream: st.stream }, value: value(st) })));
  g('outpost_sync_head_version', 'db_version of this replica', (s) => Number(s.head));
  g('outpost_sync_link_up', 'broker link connected (1) or not (0)', (s) => s.links.map((l) => ({ labels: { link: l.name }, value: l.connected ? 1 : 0 })), ['link']);
  g('outpost_sync_peer_connected', 'peer reachable now (1) or not (0)', (s) => s.peers.map((p) => ({ labels: { peer: p.nodeId, role: p.role }, value: p.connected ? 1 : 0 })), ['peer', 'role']);
  g('outpost_sync_watermark_version', 'merged everything of the stream up to this version of the peer', (s) => streams(s, (st) => Number(st.watermark)), ['peer', 'stream']);
  g('outpost_sync_lag_versions', 'peer head minus watermark, in versions of the peer', (s) => streams(s, (st) => Number(st.lagVersions)), ['peer', 'stream']);
  g('outpost_sync_lag_seconds', 'how long the stream has been behind the peer head', (s) => streams(s, (st) => st.lagSeconds), ['peer', 'stream']);
  c('outpost_sync_stream_changes_applied_total', 'changes merged from this stream', (s) => streams(s, (st) => st.applied), ['peer', 'stream']);
  g('outpost_peer_up', 'site peer up by keep-alive or MQTT state (1), down or unknown (0)', (s) => (s.liveness ?? []).map((p) => ({ labels: { peer: p.nodeId }, value: p.state === 'up' ? 1 : 0 })), ['peer']);
  c('outpost_sync_batches_received_total', 'change batches received', (s) => s.counters.batchesIn);
  c('outpost_sync_batches_sent_total', 'change batches published', (s) => s.counters.batchesOut);
  c('outpost_sync_changes_applied_total', 'changes merged into the store', (s) => s.counters.changesApplied);
  c('outpost_sync_changes_rejected_total', 'changes refused by the authority check', (s) => s.counters.changesRejected);
  c('outpost_sync_changes_rejected_by_node_total', 'refused changes per offending node', (s) => Object.entries(s.counters.rejectedBy).map(([node, n]) => ({ labels: { node }, value: n })), ['node']);
  c('outpost_sync_bad_signatures_total', 'batches dropped for a bad signature', (s) => s.counters.badSignature);
  c('outpost_sync_malformed_total', 'sync messages refused as malformed', (s) => s.counters.malformed);
  c('outpost_sync_requests_received_total', 'catch-up requests served', (s) => s.counters.requestsIn);
  c('outpost_sync_requests_sent_total', 'catch-up requests sent', (s) => s.counters.requestsOut);
  c('outpost_sync_unknown_sender_total', 'batches dropped because the sender is not known yet', (s) => s.counters.unknownSender);
  c('outpost_sync_key_mismatches_total', 'announcements with a key other than the pinned one', (s) => s.counters.keyMismatches);
  c('outpost_sync_identity_refused_total', 'node states and batches refused for disagreeing with a certificate', (s) => s.counters.identityRefused ?? 0);
  c('outpost_sync_revoked_refused_total', 'node states, batches and requests refused for a revoked certificate', (s) => s.counters.revokedRefused ?? 0);
  c('outpost_broker_revoked_refused_total', 'MQTT connects and publishes refused for a revoked certificate', (s) => s.broker?.refusedRevoked ?? 0);
  c('outpost_sync_requests_refused_total', 'catch-up requests refused (unknown requester or stream not entitled)', (s) => s.counters.requestsRefused ?? 0);
  g('outpost_sync_pending_batches', 'batches kept until a schema migration', (s) => s.counters.pendingBatches);
}

/** Row count and content digest (the label of an info gauge) of each replicated table. */
export function registerTableMetrics(registry: Registry, tables: () => TableDigest[]): void {
  readMetric(registry, 'gauge', 'outpost_table_rows', 'rows in a replicated table', () => tables().map((t) => ({ labels: { table: t.table }, value: t.rows })), ['table']);
  readMetric(registry, 'gauge', 'outpost_table_digest_info', 'content digest of a replicated table (label)', () => tables().map((t) => ({ labels: { table: t.table, digest: t.digest }, value: 1 })), ['table', 'digest']);
}
