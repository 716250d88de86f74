/**
 * TelemetryService on a ManualClock: a sample at start and every interval, published on
 * node/<id>/telemetry while the hub link takes it, kept as `last` either way; temperatures read
 * in the background at most every TEMPS_EVERY_MS; nothing after stop().
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { TelemetrySchema } from '../wire/telemetry.ts';
import { TelemetrySampler } from './telemetry-core.ts';
import { TelemetryService, TEMPS_EVERY_MS } from './telemetry-service.ts';

test('samples every interval, publishes while the link is up, keeps the last, stops', async () => {
  const clock = new ManualClock(1_700_000_000_000);
  const sent: Array<{ topic: string; payload: string }> = [];
  let linkUp = false;
  let tempReads = 0;
  let service: TelemetryService;
  const sampler = new TelemetrySampler(
    { loadavg: () => [0, 0, 0], cpuTimes: () => ({ idle: 0, total: 0 }), memory: () => ({ totalB: 1, availableB: 1 }), netBytes: () => ({ rx: 0, tx: 0 }), disk: () => ({ totalB: 1, freeB: 1 }), rssB: () => 1 },
    { node: 'a1', site: 's', version: '0.1.0', uptimeS: () => 1, loopDelayMs: () => 0, tempsC: () => service.temps, sip: () => ({ registrations: 0, activeCalls: 0 }), sync: () => ({ hubLagMs: null, hubLinked: linkUp, peers: [] }), alarms: () => [] },
    clock,
  );
  service = new TelemetryService({
    nodeId: 'a1', sampler, intervalMs: 10_000, clock, logger: createSilentLogger(),
    publish: (topic, payload) => (linkUp ? (sent.push({ topic, payload }), true) : false),
    readTemps: async () => (tempReads++, [51]),
  });
  service.start();
  assert.ok(service.last, 'a sample at start');
  assert.is(sent.length, 0, 'no link: nothing published');
  await Promise.resolve();
  linkUp = true;
  clock.advance(10_000);
  assert.is(sent.length, 1);
  assert.is(sent[0]!.topic, 'outpost/v1/node/a1/telemetry');
  const sample = TelemetrySchema.parse(JSON.parse(sent[0]!.payload));
  assert.equal(sample.tempsC, [51]);
  assert.is(service.published, 1);
  clock.advance(20_000);
  assert.is(sent.length, 3);
  assert.is(tempReads, 1, 'temperatures read once within a minute');
  clock.advance(TEMPS_EVERY_MS);
  assert.is(tempReads, 2);
  service.stop();
  const n = sent.length;
  clock.advance(60_000);
  assert.is(sent.length, n, 'nothing after stop()');
  assert.is(service.last!.at, 1_700_000_000_000 + 30_000 + TEMPS_EVERY_MS);
});

test.run();
