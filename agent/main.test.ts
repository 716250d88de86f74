/**
 * buildNode as a standalone box (no hub, no peers, no broker): it serves /metrics when
 * `http` is configured, and does not replicate.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config/schema.ts';
import { createSilentLogger } from './lib/logger.ts';
import { buildNode } from './main.ts';

const test = suite('buildNode');

test('a standalone box with `http` serves its process, switch and table samples, and nothing of sync', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'outpost-main-test-'));
  const config = ConfigSchema.parse({
    node: { id: 'n1', site: 'a' },
    dataDir,
    sip: { domain: 'box.test', listen: ['udp:127.0.0.1:0'] },
    rtp: { address: '127.0.0.1' },
    http: { listen: '127.0.0.1:0' },
  });
  const node = buildNode(config, createSilentLogger());
  try {
    await node.start();
    assert.is(node.broker, undefined);
    assert.ok(node.metrics && node.metrics.port > 0);
    const res = await fetch(`http://127.0.0.1:${node.metrics.port}/metrics`);
    assert.is(res.status, 200);
    const text = (await res.text()).split('\n');
    for (const line of ['outpost_registrations 0', 'outpost_calls_active 0', 'outpost_table_rows{table="users"} 0']) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
    assert.ok(text.some((l) => l.startsWith('process_resident_memory_bytes ')));
    assert.not.ok(text.some((l) => l.startsWith('outpost_sync_')), 'no replication samples');
  } finally {
    await node.stop();
    assert.not.ok(existsSync(join(dataDir, 'sync-status.json')), 'a box that does not replicate writes no sync status');
    assert.not.ok(existsSync(join(dataDir, 'node.key')), 'nor a node key');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
