import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncStatus } from '../sync/sync-status.ts';
import { BoxRegistry } from './box-registry.ts';
import { registerSyncMetrics, registerTableMetrics } from './sync-metrics.ts';

const status: SyncStatus = {
  role: 'node',
  nodeId: 'a1',
  site: 'branch-a',
  head: '42',
  at: '2026-11-22T00:00:00.000Z',
  links: [
    { name: 'hub', url: 'mqtt://127.0.0.1:1883', connected: true, inFlight: 0, published: 7 },
    { name: 'peer:a2', url: 'mqtt://127.0.0.1:1884', connected: false, inFlight: 0, published: 0 },
  ],
  peers: [
    {
      nodeId: 'hub',
      role: 'hub',
      site: '',
      connected: true,
      online: true,
      head: '50',
      streams: [{ stream: 'site/branch-a', watermark: '45', lagVersions: '5', lagSeconds: 1.5, pulling: false, blocked: false, applied: 120, rejected: 0 }],
    },
  ],
  liveness: [
    { nodeId: 'a2', state: 'down', since: '2026-11-22T00:00:00.000Z', sip: 'udp:127.0.0.1:5072' },
    { nodeId: 'a3', state: 'up', since: '2026-11-22T00:00:00.000Z', sip: 'udp:127.0.0.1:5074' },
  ],
  counters: {
    batchesIn: 3,
    batchesOut: 4,
    changesApplied: 120,
    changesRejected: 2,
    rejectedBy: { a3: 2 },
    badSignature: 0,
    unknownSender: 1,
    malformed: 0,
    requestsIn: 0,
    requestsOut: 1,
    keyMismatches: 0,
    pendingBatches: 0,
  },
};

test('replication status and table digests become Prometheus samples', async () => {
  const registry = new BoxRegistry();
  registerSyncMetrics(registry, () => status);
  registerTableMetrics(registry, () => [{ table: 'users', rows: 2, digest: 'abc123' }]);
  const text = await registry.metrics();
  for (const line of [
    'outpost_sync_head_version 42',
    'outpost_sync_link_up{link="hub"} 1',
    'outpost_sync_link_up{link="peer:a2"} 0',
    'outpost_sync_peer_connected{peer="hub",role="hub"} 1',
    'outpost_sync_watermark_version{peer="hub",stream="site/branch-a"} 45',
    'outpost_sync_lag_versions{peer="hub",stream="site/branch-a"} 5',
    'outpost_sync_lag_seconds{peer="hub",stream="site/branch-a"} 1.5',
    'outpost_sync_changes_rejected_total 2',
    'outpost_sync_changes_rejected_by_node_total{node="a3"} 2',
    'outpost_sync_unknown_sender_total 1',
    'outpost_peer_up{peer="a2"} 0',
    'outpost_peer_up{peer="a3"} 1',
    'outpost_table_rows{table="users"} 2',
    'outpost_table_digest_info{table="users",digest="abc123"} 1',
  ]) {
    assert.ok(text.split('\n').includes(line), `missing: ${line}`);
  }
  assert.ok(text.includes('# TYPE outpost_sync_changes_applied_total counter'));
});

test('without a snapshot (replication not running) no sync sample is exported', async () => {
  const registry = new BoxRegistry();
  registerSyncMetrics(registry, () => undefined);
  const text = await registry.metrics();
  assert.not.ok(text.split('\n').some((l) => l.startsWith('outpost_')), text);
});

test.run();
