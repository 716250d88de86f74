/**
 * SyncStatusFile on a ManualClock: written each interval, once more on stop(), never after.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { readSyncStatus, type SyncStatus } from '../sync/sync-status.ts';
import { SyncStatusFile } from './sync-status-file.ts';

const test = suite('SyncStatusFile');

let dataDir: string;
let clock: ManualClock;
let head = 1;

test.before.each(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'outpost-status-file-'));
  clock = new ManualClock();
  head = 1;
});

test.after.each(() => rmSync(dataDir, { recursive: true, force: true }));

const snapshot = (): SyncStatus => ({
  role: 'node',
  nodeId: 'n1',
  site: 'a',
  head: String(head),
  at: new Date(clock.now()).toISOString(),
  links: [],
  peers: [],
  counters: {
    batchesIn: 0, batchesOut: 0, changesApplied: 0, changesRejected: 0, rejectedBy: {}, badSignature: 0,
    unknownSender: 0, malformed: 0, requestsIn: 0, requestsOut: 0, keyMismatches: 0, pendingBatches: 0,
  },
});

test('writes the snapshot every interval on the clock and once more on stop()', () => {
  const file = new SyncStatusFile({ dataDir, status: snapshot, clock, logger: createSilentLogger() });
  file.start();
  clock.advance(999);
  assert.not.ok(existsSync(join(dataDir, 'sync-status.json')), 'nothing before the first interval');
  clock.advance(1);
  assert.is(readSyncStatus(dataDir)?.head, '1');
  head = 2;
  clock.advance(1000);
  assert.is(readSyncStatus(dataDir)?.head, '2');
  head = 3;
  file.stop();
  assert.is(readSyncStatus(dataDir)?.head, '3', 'the last snapshot on stop()');
  head = 4;
  clock.advance(5000);
  file.stop();
  assert.is(readSyncStatus(dataDir)?.head, '3', 'nothing after stop()');
  assert.is(clock.pendingCount, 0, 'no timer left');
});

test('writes nothing while there is no snapshot, and stop() before start() does nothing', () => {
  const file = new SyncStatusFile({ dataDir, status: () => undefined, clock, logger: createSilentLogger() });
  file.stop();
  file.start();
  clock.advance(3000);
  file.stop();
  assert.not.ok(existsSync(join(dataDir, 'sync-status.json')));
});

test.run();
