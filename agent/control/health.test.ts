/**
 * decideHealth and the alarms: each failed condition is a reason; alarms keep their start.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SyncStatus } from '../sync/sync-status.ts';
import { AlarmSchema } from '../wire/telemetry.ts';
import { AlarmTracker, alarmConditions } from './alarms.ts';
import { decideHealth, LOOP_LAG_BOUND_MS } from './health.ts';

const fine = { sipListening: true, store: true as const, loopLagMs: 3, revoked: false };

test('all conditions met: healthy, no reasons', () => {
  assert.equal(decideHealth(fine), { healthy: true, reasons: [] });
});

test('each failed condition makes the box unhealthy with its reason', () => {
  assert.equal(decideHealth({ ...fine, sipListening: false }).reasons, ['SIP is not listening']);
  assert.equal(decideHealth({ ...fine, store: 'database is locked' }).reasons, ['the store does not open: database is locked']);
  assert.equal(decideHealth({ ...fine, loopLagMs: LOOP_LAG_BOUND_MS + 0.4 }).reasons, [`event loop lags ${LOOP_LAG_BOUND_MS} ms (bound ${LOOP_LAG_BOUND_MS} ms)`]);
  assert.is(decideHealth({ ...fine, loopLagMs: LOOP_LAG_BOUND_MS }).healthy, true, 'the bound itself is still healthy');
  const all = decideHealth({ sipListening: false, store: 'x', loopLagMs: 5000, revoked: true });
  assert.is(all.healthy, false);
  assert.is(all.reasons.length, 4);
  assert.ok(all.reasons.includes("this box's certificate is revoked"));
});

const sync = (over: Partial<SyncStatus['counters']> = {}, extra: Partial<SyncStatus> = {}): SyncStatus => ({
  role: 'node', nodeId: 'a1', site: 's', head: '1', at: '', links: [{ name: 'hub', url: 'mqtts://hub:8883', connected: true, inFlight: 0, published: 0 }], peers: [],
  counters: { batchesIn: 0, batchesOut: 0, changesApplied: 0, changesRejected: 0, rejectedBy: {}, badSignature: 0, unknownSender: 0, malformed: 0, requestsIn: 0, requestsOut: 0, keyMismatches: 0, pendingBatches: 0, ...over },
  ...extra,
});

test('alarms: none on a quiet box; rejected changes, key problems, hub down, peers down, revoked', () => {
  assert.equal(alarmConditions({ sync: sync(), hubConfigured: true, revoked: false }), []);
  assert.equal(alarmConditions({ sync: undefined, hubConfigured: false, revoked: false }), []);
  assert.equal(alarmConditions({ sync: undefined, hubConfigured: false, revoked: false, httpUnavailable: 'cannot listen for http on 0.0.0.0:8080: address in use' }).map((a) => a.code), ['http.unavailable']);
  const codes = alarmConditions({
    sync: sync({ changesRejected: 2, rejectedBy: { a3: 2 }, keyMismatches: 1 }, {
      links: [{ name: 'hub', url: 'mqtts://hub:8883', connected: false, inFlight: 0, published: 0 }],
      liveness: [{ nodeId: 'a2', state: 'down', since: '', sip: null }, { nodeId: 'a4', state: 'up', since: '', sip: null }],
    }),
    hubConfigured: true,
    revoked: true,
  });
  assert.equal(codes.map((a) => a.code), ['node.revoked', 'sync.rejected-change', 'sync.key-problem', 'hub.unreachable', 'peer.down']);
  assert.match(codes[1]!.message, '2 replicated changes rejected since start (a3: 2)');
  assert.match(codes[4]!.message, 'a2');
});

test('AlarmTracker keeps the start of a condition while it holds, forgets it when it clears', () => {
  const t = new AlarmTracker();
  const down = { code: 'peer.down', severity: 'warning' as const, message: 'site peer a2 is down' };
  assert.is(t.update([down], 1000)[0]!.since, 1000);
  const again = t.update([down, { ...down, message: 'site peer a3 is down' }], 5000);
  assert.equal(again.map((a) => a.since), [1000, 5000]);
  for (const a of again) assert.ok(AlarmSchema.safeParse(a).success);
  t.update([], 6000);
  assert.is(t.update([down], 7000)[0]!.since, 7000);
});

test.run();
