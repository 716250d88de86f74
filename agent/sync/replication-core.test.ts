/**
 * ReplicationCore on real stores (cr-sqlite on temporary directories), driven event by event
 * with a ManualClock; the commands it returns are read, and messages carried by hand between
 * cores. Section names refer to docs/replication.md.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { TempStores } from '../../test/helpers/sim-replicas.ts';
import { SyncRequestSchema } from '../wire/messages.ts';
import { siteStream, topics } from '../wire/topics.ts';
import { HubStrategy } from './hub-strategy.ts';
import { NodeKey } from './node-key.ts';
import { NodeStrategy, type NodeStrategyOptions } from './node-strategy.ts';
import type { Command } from './replication-commands.ts';
import { ReplicationCore, TICK_MS } from './replication-core.ts';

const sync = { batchSize: 100, maxInFlight: 4, pushDelay: 2, requestTimeout: 10, antiEntropy: 5 };
const HUB_URL = 'mqtt://hub.test:1883';
const stores = new TempStores();

type Publish = Extract<Command, { kind: 'publish' }>;
type Replica = ReturnType<typeof replica>;

function replica(id: string, strategy: 'hub' | Omit<NodeStrategyOptions, 'nodeId'>, sip?: string) {
  const { store, dir } = stores.open(`core-${id}`);
  const clock = new ManualClock();
  let requests = 0;
  const site = strategy === 'hub' ? '' : strategy.site;
  const core = new ReplicationCore({
    strategy: strategy === 'hub' ? new HubStrategy({ nodeId: id, brokerUrl: HUB_URL }) : new NodeStrategy({ nodeId: id, ...strategy }),
    nodeId: id,
    site,
    store,
    key: NodeKey.loadOrCreate(dir),
    sync,
    clock,
    logger: createSilentLogger(),
    requestId: () => `${id}-r${++requests}`,
    ...(sip ? { sip } : {}),
  });
  return { id, store, clock, core };
}

const node = (id: string, extra: Partial<NodeStrategyOptions> = {}) => replica(id, { site: 's1', hub: { url: HUB_URL, id: 'hub' }, ...extra });
const publishes = (cmds: Command[]) => cmds.filter((c): c is Publish => c.kind === 'publish');
const requests = (cmds: Command[]) => publishes(cmds).filter((p) => p.topic.endsWith('/sync/request'));
const requestOf = (p: Publish) => SyncRequestSchema.parse(JSON.parse(String(p.payload)));
const ban = (r: Replica, ip: string) => r.store.bans.upsert({ ip, nodeId: r.id, reason: 'test', until: 9e12, createdAt: 1 });

/** Starts `r` and brings its links up; returns what the connects asked for. */
function online(r: Replica, ...links: string[]): Command[] {
  r.core.start();
  return links.flatMap((l) => r.core.linkUp(l));
}

/** `to` hears `from`'s state on `link`. */
function introduce(to: Replica, from: Replica, link: string): Command[] {
  return to.core.message(link, topics.nodeState(from.id), from.core.stateMessage(true));
}

/** `source` answers the catch-up request `req`; `requester` takes the reply. */
function answer(source: Replica, sourceLink: string, req: Publish, requester: Replica, requesterLink: string): Command[] {
  const [reply] = publishes(source.core.message(sourceLink, req.topic, Buffer.from(String(req.payload))));
  return requester.core.message(requesterLink, reply!.topic, reply!.payload as Buffer);
}

/** A box n1 and its hub, both up, the hub following n1's stream and caught up with it. */
function hubFollowingBox(): { n1: Replica; hub: Replica } {
  const n1 = node('n1');
  const hub = replica('hub', 'hub');
  online(n1, 'hub');
  online(hub, 'self');
  introduce(n1, hub, 'hub'); // a request is answered only for a requester the source knows
  const [first] = requests(introduce(hub, n1, 'self'));
  answer(n1, 'hub', first!, hub, 'self');
  return { n1, hub };
}

/** Fires `r`'s push timer and sends every page; returns the batches published. */
function push(r: Replica): Array<{ topic: string; bytes: Buffer }> {
  const out: Array<{ topic: string; bytes: Buffer }> = [];
  let cmds = r.core.timerFired('push');
  for (;;) {
    const page = cmds.find((c) => c.kind === 'push-page');
    if (!page) return out;
    out.push(...page.batches);
    cmds = r.core.pushPageSent(page.batches.length * page.links.length, page.more);
  }
}

const test = suite('ReplicationCore');
test.after.each(() => stores.closeAll());

test('start opens the strategy links with the offline state as will, and arms the tick', () => {
  const n1 = node('n1', { ownBrokerUrl: 'mqtt://n1.test:1883' });
  const cmds = n1.core.start();
  const connects = cmds.flatMap((c) => (c.kind === 'connect' ? [c.link] : []));
  assert.equal(connects.map((l) => [l.name, l.clientId]), [['hub', 'outpost-n1-hub'], ['self', 'outpost-n1-self']]);
  const will = JSON.parse(connects[0]!.will.payload.toString());
  assert.equal([connects[0]!.will.topic, will.online, will.mqtt], [topics.nodeState('n1'), false, 'mqtt://n1.test:1883']);
  assert.ok(cmds.some((c) => c.kind === 'schedule' && c.timer === 'tick' && c.ms === TICK_MS));
  assert.equal(n1.core.streams().map((s) => s.key), ['hub global', 'hub site/s1']);
});

test('a link that comes up announces the state and catches up every stream it serves (Pull: a link connects)', () => {
  const n1 = node('n1');
  n1.core.start();
  const cmds = n1.core.linkUp('hub');
  const state = publishes(cmds).find((p) => p.topic === topics.nodeState('n1'))!;
  assert.ok(state.retain);
  assert.is(JSON.parse(String(state.payload)).online, true);
  assert.equal(requests(cmds).map((p) => [p.link, p.topic, requestOf(p).stream, requestOf(p).since]), [
    ['hub', topics.syncRequest('hub'), 'global', '0'],
    ['hub', topics.syncRequest('hub'), 'site/s1', '0'],
  ]);
  assert.ok(cmds.some((c) => c.kind === 'schedule' && c.timer === 'push'), 'and pushes what it has');
  assert.ok(n1.core.isConnectedTo('hub'));
  n1.core.linkDown('hub');
  assert.not.ok(n1.core.isConnectedTo('hub'));
});

test('a push goes to every connected push link; with none the source skips to its head (Push)', () => {
  const n1 = node('n1', { ownBrokerUrl: 'mqtt://n1.test:1883' });
  online(n1, 'hub', 'self');
  assert.equal(push(n1), [], 'the connects armed a push: nothing yet');
  ban(n1, '10.0.0.1');
  assert.equal(n1.core.committed().filter((c) => c.kind === 'schedule'), [{ kind: 'schedule', timer: 'push', ms: sync.pushDelay }]);
  assert.equal(n1.core.committed(), [], 'one push timer at a time');
  const page = n1.core.timerFired('push').find((c) => c.kind === 'push-page')!;
  assert.equal(page.links, ['hub', 'self']);
  assert.equal(page.batches.map((b) => b.topic), [topics.nodeChanges('n1')]);
  // A commit while a page is out pushes again after it.
  ban(n1, '10.0.0.2');
  assert.equal(n1.core.committed(), []);
  const after = n1.core.pushPageSent(2, false);
  assert.equal(after, [{ kind: 'schedule', timer: 'push', ms: sync.pushDelay }]);
  assert.is(n1.core.counters.batchesOut, 2);
  n1.core.linkDown('hub');
  n1.core.linkDown('self');
  assert.equal(push(n1), [], 'nobody listens: nothing queued');
  n1.core.linkUp('hub');
  ban(n1, '10.0.0.3');
  assert.is(push(n1).length, 1, 'the next push starts after the skipped changes');
});

test('a lost push leaves a gap: one catch-up, another only after requestTimeout (Pull: a gap)', () => {
  const { n1, hub } = hubFollowingBox();
  ban(n1, '10.0.0.1');
  push(n1); // lost
  ban(n1, '10.0.0.2');
  const [second] = push(n1);
  const cmds = hub.core.message('self', second!.topic, second!.bytes);
  assert.equal(requests(cmds).map((p) => [p.link, p.topic, requestOf(p).since]), [['self', topics.syncRequest('n1'), '0']]);
  assert.is(hub.core.streams()[0]!.gaps, 1);
  assert.equal(requests(hub.core.message('self', second!.topic, second!.bytes)), [], 'a request is open');
  hub.clock.advance(sync.requestTimeout * 1000);
  const again = requests(hub.core.message('self', second!.topic, second!.bytes));
  assert.is(again.length, 1, 'it got no reply in time');
  answer(n1, 'hub', again[0]!, hub, 'self');
  assert.is(hub.store.changes.watermark('n1', 'own'), n1.store.changes.head());
});

test('a catch-up request is answered on the link it came on; the reply fills the gap and is relayed by the hub', () => {
  const n1 = node('n1');
  const hub = replica('hub', 'hub');
  online(n1, 'hub');
  online(hub, 'self');
  introduce(hub, n1, 'self');
  introduce(n1, hub, 'hub');
  ban(n1, '10.0.0.1');
  ban(n1, '10.0.0.2');
  const [req] = requests(hub.core.linkUp('self'));
  const reply = publishes(n1.core.message('hub', req!.topic, Buffer.from(String(req!.payload))));
  assert.equal(reply.map((p) => [p.link, p.topic]), [['hub', topics.syncResponse('hub')]]);
  assert.is(n1.core.counters.requestsIn, 1);
  const cmds = hub.core.message('self', reply[0]!.topic, reply[0]!.payload as Buffer);
  assert.ok(cmds.some((c) => c.kind === 'applied'));
  const relayed = publishes(cmds);
  assert.equal(relayed.map((p) => [p.link, p.topic]), [['self', topics.hubChanges(siteStream('s1'))]], 'relayed at once to the site stream');
  assert.is(hub.store.changes.watermark('n1', 'own'), n1.store.changes.head());
  assert.not.ok(hub.core.streams()[0]!.pulling, 'the reply closed the request');
});

test('a request of a requester not known yet is answered when its state is believed, not before', () => {
  const n1 = node('n1');
  const hub = replica('hub', 'hub');
  online(n1, 'hub');
  online(hub, 'self');
  ban(n1, '10.0.0.1');
  const [req] = requests(introduce(hub, n1, 'self'));
  assert.equal(publishes(n1.core.message('hub', req!.topic, Buffer.from(String(req!.payload)))), [], 'the hub is not known to n1 yet');
  assert.is(n1.core.counters.requestsRefused, 1);
  const replies = publishes(introduce(n1, hub, 'hub')).filter((p) => p.topic === topics.syncResponse('hub'));
  assert.is(replies.length, 1, 'answered once the hub\'s state arrived');
  hub.core.message('self', replies[0]!.topic, replies[0]!.payload as Buffer);
  assert.is(hub.store.changes.watermark('n1', 'own'), n1.store.changes.head());
});

test('a reply page with `more` asks for the next page at once', () => {
  const n1 = node('n1');
  const hub = replica('hub', 'hub');
  online(n1, 'hub');
  online(hub, 'self');
  for (let i = 0; i < 150; i++) hub.store.users.upsert({ ext: `${1000 + i}`, displayName: 'x', realm: 'pbx', ha1Md5: 'a', ha1Sha256: 'a', site: '' }, i);
  introduce(n1, hub, 'hub');
  introduce(hub, n1, 'self');
  const [req] = requests(n1.core.linkUp('hub')).filter((p) => requestOf(p).stream === 'global');
  const [reply] = publishes(hub.core.message('self', req!.topic, Buffer.from(String(req!.payload))));
  const next = requests(n1.core.message('hub', reply!.topic, reply!.payload as Buffer));
  assert.is(next.length, 1);
  assert.ok(BigInt(requestOf(next[0]!).since) > 0n, 'from the new watermark');
});

test('a request naming another replyTo is refused and counted as malformed', () => {
  const n1 = node('n1');
  online(n1, 'hub');
  const req = { requester: 'n2', stream: 'own', since: '0', limit: 10, replyTo: topics.syncResponse('n3'), requestId: 'x' };
  assert.equal(n1.core.message('hub', topics.syncRequest('n1'), Buffer.from(JSON.stringify(req))), []);
  assert.equal(n1.core.message('hub', topics.nodeState('n2'), Buffer.from('{not json')), []);
  assert.is(n1.core.counters.malformed, 2);
  assert.equal(n1.core.message('hub', 'outpost/v1/node/n2/telemetry', Buffer.from('x')), [], 'other topics are not replication');
  assert.is(n1.core.counters.malformed, 2);
});

test('the hub follows a box it hears of, records it, and asks it at once (Pull: a source new or back)', () => {
  const hub = replica('hub', 'hub');
  const n1 = node('n1');
  online(hub, 'self');
  const cmds = introduce(hub, n1, 'self');
  const record = cmds.find((c) => c.kind === 'record-node')!;
  assert.equal(record.node.id, 'n1');
  assert.equal(requests(cmds).map((p) => requestOf(p).stream), ['own']);
  assert.equal(requests(introduce(hub, n1, 'self')), [], 'seen before: no new request');
  hub.core.message('self', topics.nodeState('n1'), n1.core.stateMessage(false));
  assert.equal(requests(introduce(hub, n1, 'self')).length, 1, 'back online');
  assert.equal(introduce(hub, hub, 'self'), [], 'its own state');
});

test('a box opens a link to a site peer that announces a broker, and follows it when it moves', () => {
  const n1 = node('n1');
  const n2 = node('n2', { ownBrokerUrl: 'mqtt://n2.test:1' });
  const n3 = node('n3', { site: 's2', ownBrokerUrl: 'mqtt://n3.test:1' });
  online(n1, 'hub');
  const cmds = introduce(n1, n2, 'hub');
  const connect = cmds.find((c) => c.kind === 'connect')!;
  assert.equal([connect.link.name, connect.link.url], ['peer:n2', 'mqtt://n2.test:1']);
  assert.ok(n1.core.streams().some((s) => s.key === 'n2 own'));
  assert.equal(introduce(n1, n3, 'hub').filter((c) => c.kind === 'connect'), [], 'another site');
  // The peer's catch-up goes over its own broker once that link is up, else through the hub.
  const viaPeer = requests(n1.core.linkUp('peer:n2'));
  assert.equal(viaPeer.map((p) => [p.link, p.topic]), [['peer:n2', topics.syncRequest('n2')]]);
  const moved = node('n2b', { ownBrokerUrl: 'mqtt://n2.test:2' });
  const state = JSON.parse(moved.core.stateMessage(true).toString());
  const again = n1.core.message('hub', topics.nodeState('n2'), Buffer.from(JSON.stringify({ ...state, nodeId: 'n2', publicKey: JSON.parse(n2.core.stateMessage(true).toString()).publicKey })));
  assert.equal(again.filter((c) => c.kind === 'disconnect' || c.kind === 'connect').map((c) => c.kind), ['disconnect', 'connect']);
});

test('a box announces its SIP address; the states of its site peers (not others) go to liveness', () => {
  const n1 = node('n1');
  const n2 = replica('n2', { site: 's1', hub: { url: HUB_URL, id: 'hub' } }, 'udp:10.0.0.2:5060');
  const n3 = replica('n3', { site: 's2', hub: { url: HUB_URL, id: 'hub' } }, 'udp:10.0.0.3:5060');
  assert.is(JSON.parse(n2.core.stateMessage(true).toString()).sip, 'udp:10.0.0.2:5060');
  assert.is(JSON.parse(n1.core.stateMessage(true).toString()).sip, undefined, 'none without one');
  online(n1, 'hub');
  const heard = (cmds: Command[]) => cmds.filter((c) => c.kind === 'peer-state');
  assert.equal(heard(introduce(n1, n2, 'hub')), [{ kind: 'peer-state', nodeId: 'n2', online: true, sip: 'udp:10.0.0.2:5060' }]);
  assert.equal(heard(n1.core.message('hub', topics.nodeState('n2'), n2.core.stateMessage(false))), [{ kind: 'peer-state', nodeId: 'n2', online: false, sip: 'udp:10.0.0.2:5060' }], 'its will');
  assert.equal(heard(introduce(n1, n3, 'hub')), [], 'another site');
  const bad = { ...JSON.parse(n2.core.stateMessage(true).toString()), sip: 'sip:n2@10.0.0.2' };
  assert.equal(heard(n1.core.message('hub', topics.nodeState('n2'), Buffer.from(JSON.stringify(bad)))), [], 'a malformed address refuses the state');
  assert.is(n1.core.counters.malformed, 1);
  const n1b = node('n1b', { peers: [{ id: 'n2', url: 'mqtt://n2.test:1' }] });
  online(n1b, 'hub', 'peer:n2');
  assert.equal(n1b.core.linkDown('peer:n2'), [{ kind: 'peer-link-lost', nodeId: 'n2' }], 'a lost peer link is a hint');
  assert.equal(n1b.core.linkDown('hub'), []);
});

test('anti-entropy pulls a stream behind its source\'s announced head for a whole interval, not before', () => {
  const { n1, hub } = hubFollowingBox();
  ban(n1, '10.0.0.1');
  push(n1); // lost
  introduce(hub, n1, 'self'); // announces the new head
  const tickRequests = () => requests(hub.core.timerFired('tick'));
  assert.equal(tickRequests(), [], 'just fell behind (a push may be in flight)');
  hub.clock.advance(sync.antiEntropy * 1000 - 1);
  assert.equal(tickRequests(), [], 'behind for less than an interval');
  hub.clock.advance(1);
  const [req] = tickRequests();
  assert.equal(requestOf(req!).since, '0');
  hub.clock.advance(sync.requestTimeout * 1000 - 1);
  assert.equal(tickRequests(), [], 'the request is open');
  hub.clock.advance(sync.antiEntropy * 1000);
  assert.is(tickRequests().length, 1, 'no reply within requestTimeout: asked again at the next round');
});

test('the tick pushes commits of other processes and announces a new head once an interval', () => {
  const n1 = node('n1');
  online(n1, 'hub');
  push(n1);
  assert.is(publishes(n1.core.timerFired('tick')).length, 1, 'the first round announces the head');
  ban(n1, '10.0.0.1'); // not through the write queue: only the tick sees it
  const cmds = n1.core.timerFired('tick');
  assert.ok(cmds.some((c) => c.kind === 'schedule' && c.timer === 'push'));
  assert.equal(publishes(cmds), [], 'the state waits for the next round');
  n1.clock.advance(sync.antiEntropy * 1000);
  const state = publishes(n1.core.timerFired('tick')).find((p) => p.topic === topics.nodeState('n1'))!;
  assert.is(JSON.parse(String(state.payload)).head, n1.store.changes.head().toString());
});

test('after stop nothing is decided and both timers are cancelled', () => {
  const n1 = node('n1');
  online(n1, 'hub');
  assert.equal(n1.core.stop(), [{ kind: 'cancel', timer: 'tick' }, { kind: 'cancel', timer: 'push' }]);
  ban(n1, '10.0.0.1');
  assert.equal(n1.core.committed(), []);
  assert.equal(n1.core.timerFired('tick'), []);
  assert.equal(n1.core.linkUp('hub'), []);
});

test.run();
