/**
 * Replication as Prometheus samples: per peer stream watermark and lag, link state, counters,
 * and per replicated table its row count and content digest (as a label of an info gauge, so
 * two replicas are identical when the digest labels match).
 */
import type { TableDigest } from '../store/table-digest.ts';
import type { SyncStatus } from '../sync/sync-status.ts';
import type { MetricSample } from './metrics-server.ts';

export function syncMetrics(s: SyncStatus, tables: TableDigest[]): MetricSample[] {
  const out: MetricSample[] = [];
  const g = (name: string, help: string, value: number, labels?: Record<string, string>) =>
    out.push({ name, help, type: 'gauge', value, ...(labels ? { labels } : {}) });
  const c = (name: string, help: string, value: number, labels?: Record<string, string>) =>
    out.push({ name, help, type: 'counter', value, ...(labels ? { labels } : {}) });
  g('outpost_sync_head_version', 'db_version of this replica', Number(s.head));
  for (const l of s.links) g('outpost_sync_link_up', 'broker link connected (1) or not (0)', l.connected ? 1 : 0, { link: l.name });
  for (const p of s.peers) {
    g('outpost_sync_peer_connected', 'peer reachable now (1) or not (0)', p.connected ? 1 : 0, { peer: p.nodeId, role: p.role });
    for (const st of p.streams) {
      const labels = { peer: p.nodeId, stream: st.stream };
      g('outpost_sync_watermark_version', 'merged everything of the stream up to this version of the peer', Number(st.watermark), labels);
      g('outpost_sync_lag_versions', 'peer head minus watermark, in versions of the peer', Number(st.lagVersions), labels);
      g('outpost_sync_lag_seconds', 'how long the stream has been behind the peer head', st.lagSeconds, labels);
      c('outpost_sync_stream_changes_applied_total', 'changes merged from this stream', st.applied, labels);
    }
  }
  for (const p of s.liveness ?? []) g('outpost_peer_up', 'site peer up by keep-alive or MQTT state (1), down or unknown (0)', p.state === 'up' ? 1 : 0, { peer: p.nodeId });
  const k = s.counters;
  c('outpost_sync_batches_received_total', 'change batches received', k.batchesIn);
  c('outpost_sync_batches_sent_total', 'change batches published', k.batchesOut);
  c('outpost_sync_changes_applied_total', 'changes merged into the store', k.changesApplied);
  c('outpost_sync_changes_rejected_total', 'changes refused by the authority check', k.changesRejected);
  for (const [node, n] of Object.entries(k.rejectedBy)) c('outpost_sync_changes_rejected_by_node_total', 'refused changes per offending node', n, { node });
  c('outpost_sync_bad_signatures_total', 'batches dropped for a bad signature', k.badSignature);
  c('outpost_sync_malformed_total', 'sync messages refused as malformed', k.malformed);
  c('outpost_sync_requests_received_total', 'catch-up requests served', k.requestsIn);
  c('outpost_sync_requests_sent_total', 'catch-up requests sent', k.requestsOut);
  c('outpost_sync_unknown_sender_total', 'batches dropped because the sender is not known yet', k.unknownSender);
  c('outpost_sync_key_mismatches_total', 'announcements with a key other than the pinned one', k.keyMismatches);
  c('outpost_sync_identity_refused_total', 'node states and batches refused for disagreeing with a certificate', k.identityRefused ?? 0);
  c('outpost_sync_revoked_refused_total', 'node states, batches and requests refused for a revoked certificate', k.revokedRefused ?? 0);
  c('outpost_broker_revoked_refused_total', 'MQTT connects and publishes refused for a revoked certificate', s.broker?.refusedRevoked ?? 0);
  c('outpost_sync_requests_refused_total', 'catch-up requests refused (unknown requester or stream not entitled)', k.requestsRefused ?? 0);
  g('outpost_sync_pending_batches', 'batches kept until a schema migration', k.pendingBatches);
  out.push(...tableMetrics(tables));
  return out;
}

/** Row count and content digest (the label of an info gauge) of each replicated table. */
export function tableMetrics(tables: TableDigest[]): MetricSample[] {
  return tables.flatMap((t): MetricSample[] => [
    { name: 'outpost_table_rows', help: 'rows in a replicated table', type: 'gauge', value: t.rows, labels: { table: t.table } },
    { name: 'outpost_table_digest_info', help: 'content digest of a replicated table (label)', type: 'gauge', value: 1, labels: { table: t.table, digest: t.digest } },
  ]);
}
