/**
 * boxMetrics over a real store on a ManualClock: what every box serves, with and without a
 * switch and replication, and the table digests' cache.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { Store } from '../store/store.ts';
import { boxMetrics } from './box-metrics.ts';

const test = suite('boxMetrics');

let dir: string;
let store: Store;
let clock: ManualClock;

test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'outpost-box-metrics-'));
  store = Store.open({ dataDir: dir });
  clock = new ManualClock();
});

test.after.each(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const lines = async (registry: ReturnType<typeof boxMetrics>) => (await registry.metrics()).split('\n');
const value = (text: string[], sample: string) => text.find((l) => l.startsWith(`${sample} `))?.slice(sample.length + 1);

test('a box without replication serves the process, its switch and its tables', async () => {
  const collect = boxMetrics({
    store,
    clock,
    switch: () => ({ registrations: 3, activeCalls: 2, registrar: { registered: 5, removed: 1, challenged: 4, rejected: 0, shed: 2 } }),
  });
  const text = await lines(collect);
  for (const sample of ['process_start_time_seconds', 'process_cpu_seconds_total', 'process_resident_memory_bytes']) {
    assert.ok(Number(value(text, sample)) > 0, sample);
  }
  assert.is(value(text, 'outpost_registrations'), '3');
  assert.is(value(text, 'outpost_calls_active'), '2');
  assert.is(value(text, 'outpost_registrar_bindings_saved_total'), '5');
  assert.is(value(text, 'outpost_registrar_challenges_total'), '4');
  assert.is(value(text, 'outpost_table_rows{table="users"}'), '0');
  assert.not.ok(text.some((l) => l.startsWith('outpost_sync_')), 'no replication samples');
});

test('the hub (no switch) serves replication when it runs; digests are computed again after 2 s', async () => {
  let replicating = false;
  const collect = boxMetrics({
    store,
    clock,
    sync: () =>
      replicating
        ? {
            role: 'hub', nodeId: 'hub', site: '', head: '7', at: new Date(clock.now()).toISOString(), links: [], peers: [],
            counters: {
              batchesIn: 0, batchesOut: 0, changesApplied: 0, changesRejected: 0, rejectedBy: {}, badSignature: 0,
              unknownSender: 0, malformed: 0, requestsIn: 0, requestsOut: 0, keyMismatches: 0, pendingBatches: 0,
            },
          }
        : undefined,
  });
  assert.not.ok((await lines(collect)).some((l) => l.startsWith('outpost_registrations') || l.startsWith('outpost_sync_')));
  replicating = true;
  store.users.upsert({ ext: '1001', displayName: 'Ann', realm: 'r', ha1Md5: 'x', ha1Sha256: 'y', site: 's' }, clock.now());
  let text = await lines(collect);
  assert.is(value(text, 'outpost_sync_head_version'), '7');
  assert.is(value(text, 'outpost_table_rows{table="users"}'), '0', 'digests of the last 2 s');
  clock.advance(2001);
  text = await lines(collect);
  assert.is(value(text, 'outpost_table_rows{table="users"}'), '1');
});

test.run();
