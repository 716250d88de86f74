import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { topics } from '../wire/topics.ts';
import { sampleTelemetry } from '../../bench/lib/telemetry-sample.ts';
import { classify, FleetView, type NodeFact } from './fleet-view.ts';
import { TelemetryWindow, pointOf } from './fleet-window.ts';

const WINDOW = { samples: 5, maxAge: 60, staleAfter: 30 };
const publish = (view: FleetView, node: string, at: number, seq = 0, over = {}, site = 'a') =>
  view.ingest(topics.nodeTelemetry(node), Buffer.from(JSON.stringify(sampleTelemetry(node, site, at, seq, over))), at);
const fact = (nodeId: string, online: boolean, seenAt: number, site = 'a'): NodeFact => ({ nodeId, site, online, seenAt });

const ingest = suite('FleetView.ingest');

ingest('a valid sample on its own topic is kept', () => {
  const view = new FleetView(WINDOW);
  assert.equal(publish(view, 'b1', 1000), { kind: 'accepted', node: 'b1' });
  assert.equal(view.counters.accepted, 1);
  assert.equal(view.detail('b1', undefined, 1000)!.series!.at, [1000]);
});

ingest('a payload naming another node than its topic is dropped and counted', () => {
  const view = new FleetView(WINDOW);
  const forged = JSON.stringify(sampleTelemetry('victim', 'a', 1));
  assert.equal(view.ingest(topics.nodeTelemetry('attacker'), Buffer.from(forged), 1), { kind: 'dropped', reason: 'wrong-topic' });
  assert.equal(view.counters.wrongTopic, 1);
  assert.equal(view.boxCount, 0);
  assert.equal(view.detail('victim', undefined, 1), undefined);
});

ingest('a payload on a topic other than telemetry is dropped', () => {
  const view = new FleetView(WINDOW);
  const payload = Buffer.from(JSON.stringify(sampleTelemetry('b1', 'a', 1)));
  assert.equal(view.ingest(topics.nodeState('b1'), payload, 1).kind, 'dropped');
  assert.equal(view.ingest('outpost/v1/node/+/telemetry', payload, 1).kind, 'dropped');
  assert.equal(view.counters.wrongTopic, 2);
});

ingest('invalid JSON and schema violations are dropped and counted', () => {
  const view = new FleetView(WINDOW);
  const t = topics.nodeTelemetry('b1');
  assert.equal(view.ingest(t, Buffer.from('{not json'), 1), { kind: 'dropped', reason: 'invalid' });
  assert.equal(view.ingest(t, Buffer.from(JSON.stringify({ ...sampleTelemetry('b1', 'a', 1), v: 2 })), 1).kind, 'dropped');
  const hostile = { ...sampleTelemetry('b1', 'a', 1), node: '<script>' };
  assert.equal(view.ingest(t, Buffer.from(JSON.stringify(hostile)), 1).kind, 'dropped');
  assert.equal(view.counters.invalid, 3);
  assert.equal(view.boxCount, 0);
});

ingest('boxes beyond maxBoxes are dropped; known boxes still update', () => {
  const view = new FleetView({ ...WINDOW, maxBoxes: 2 });
  publish(view, 'b1', 1);
  publish(view, 'b2', 1);
  assert.equal(publish(view, 'b3', 1), { kind: 'dropped', reason: 'too-many-boxes' });
  assert.equal(publish(view, 'b1', 2).kind, 'accepted');
  assert.equal(view.boxCount, 2);
});

ingest.run();

const bounds = suite('TelemetryWindow');

bounds('keeps at most `samples` samples, the newest', () => {
  const view = new FleetView(WINDOW);
  for (let i = 0; i < 12; i++) publish(view, 'b1', 1000 + i * 1000, i);
  const s = view.detail('b1', undefined, 12_000)!.series!;
  assert.equal(s.at, [8000, 9000, 10_000, 11_000, 12_000]);
  assert.equal(s.registrations.length, 5);
});

bounds('samples older than maxAge leave at prune, and a box left empty is forgotten', () => {
  const clock = new ManualClock(0);
  const view = new FleetView(WINDOW);
  publish(view, 'b1', clock.now());
  clock.advance(20_000);
  publish(view, 'b1', clock.now(), 1);
  publish(view, 'b2', clock.now());
  clock.advance(45_000);
  view.prune(clock.now());
  assert.equal(view.detail('b1', undefined, clock.now())!.series!.at, [20_000]);
  clock.advance(20_000);
  view.prune(clock.now());
  assert.equal(view.boxCount, 0);
});

bounds('a box without a hub link has a gap in the lag series', () => {
  const w = new TelemetryWindow(3);
  w.push(pointOf(sampleTelemetry('b1', 'a', 1, 0, { sync: { hubLagMs: null, hubLinked: false, peers: [] } }), 5));
  w.push(pointOf(sampleTelemetry('b1', 'a', 2), 6));
  assert.equal(w.series().hubLagMs, [null, 120]);
  assert.equal(w.newestAt(), 6);
});

bounds.run();

const states = suite('classify');
const STALE = 30_000;

states('online: state online and fresh telemetry with a hub link', () => {
  assert.is(classify(fact('b1', true, 0), { receivedAt: 90_000, hubLinked: true }, 100_000, STALE).state, 'online');
});

states('partitioned: state online but telemetry stopped', () => {
  const r = classify(fact('b1', true, 0), { receivedAt: 10_000, hubLinked: true }, 100_000, STALE);
  assert.is(r.state, 'partitioned');
  assert.match(r.reason, /no telemetry for 90 s/);
});

states('partitioned: the box reports no link to the hub', () => {
  assert.is(classify(fact('b1', true, 0), { receivedAt: 99_000, hubLinked: false }, 100_000, STALE).state, 'partitioned');
});

states('offline: the state says offline and no telemetry came after it', () => {
  assert.is(classify(fact('b1', false, 50_000), { receivedAt: 40_000, hubLinked: true }, 60_000, STALE).state, 'offline');
  assert.is(classify(fact('b1', false, 50_000), undefined, 60_000, STALE).state, 'offline');
});

states('a box whose telemetry came after its offline state is judged by the telemetry', () => {
  assert.is(classify(fact('b1', false, 50_000), { receivedAt: 55_000, hubLinked: true }, 60_000, STALE).state, 'online');
});

states('without a state: fresh telemetry is online, stale is offline', () => {
  assert.is(classify(undefined, { receivedAt: 59_000, hubLinked: true }, 60_000, STALE).state, 'online');
  assert.is(classify(undefined, { receivedAt: 1000, hubLinked: true }, 60_000, STALE).state, 'offline');
});

states('with an injected clock: a box goes online → partitioned as time passes without samples', () => {
  const clock = new ManualClock(1_000_000);
  const view = new FleetView(WINDOW);
  const facts = [fact('b1', true, clock.now()), fact('b2', false, clock.now(), 'z')];
  publish(view, 'b1', clock.now());
  assert.is(view.row('b1', facts[0], clock.now()).state, 'online');
  clock.advance(STALE + 1000);
  const o = view.overview(facts, clock.now());
  assert.equal(o.sites.map((s) => s.site), ['a', 'z']);
  assert.equal(o.totals, { boxes: 2, online: 0, partitioned: 1, offline: 1, registrations: 4, activeCalls: 0, alarms: 2 });
  const alarms = view.alarms(facts, clock.now());
  assert.equal(alarms.map((a) => [a.nodeId, a.code]), [['b2', 'hub.offline'], ['b1', 'hub.partitioned']]);
});

states("the box's own alarms appear with its node and site", () => {
  const view = new FleetView(WINDOW);
  publish(view, 'b1', 5, 0, { alarms: [{ code: 'sync.key-mismatch', severity: 'critical', message: 'x', since: 1 }] });
  const a = view.alarms([fact('b1', true, 5)], 5);
  assert.equal(a.map((x) => [x.nodeId, x.site, x.code, x.source]), [['b1', 'a', 'sync.key-mismatch', 'box']]);
});

states.run();
