import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSilentLogger } from '../lib/logger.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import { TempStores } from '../../test/helpers/sim-replicas.ts';
import type { NodeState } from '../wire/messages.ts';
import { NodeStrategy } from './node-strategy.ts';
import { PeerDirectory } from './peer-directory.ts';
import type { LinkView } from './replication-strategy.ts';

const P = 'outpost/v1';
const hub = { url: 'mqtt://hub:1883', id: 'hub' };
const up = (...names: string[]): LinkView => ({ isConnected: (l) => names.includes(l) });
const state = (nodeId: string, site: string, extra: Partial<NodeState> = {}): NodeState => ({
  nodeId,
  role: 'node',
  site,
  online: true,
  publicKey: 'k'.repeat(44),
  siteId: '0'.repeat(32),
  schema: SCHEMA_VERSION,
  head: '0',
  at: 0,
  ...extra,
});

const test = suite('NodeStrategy');

test('subscribes each link as docs/mqtt/sync.md lists it, and follows the hub and listed peers', () => {
  const s = new NodeStrategy({ nodeId: 'a1', site: 'br', hub, ownBrokerUrl: 'mqtt://a1:1', peers: [{ id: 'a2', url: 'mqtt://a2:1' }, { id: 'a1', url: 'mqtt://a1:1' }] });
  const { links, streams } = s.initial();
  assert.equal(links, [
    { name: 'hub', url: hub.url, subscriptions: [`${P}/hub/changes/global`, `${P}/hub/changes/site/br`, `${P}/node/+/state`, `${P}/node/a1/sync/request`, `${P}/node/a1/sync/response`] },
    { name: 'self', url: 'mqtt://a1:1', subscriptions: [`${P}/node/a1/sync/request`] },
    { name: 'peer:a2', url: 'mqtt://a2:1', subscriptions: [`${P}/node/a2/changes`, `${P}/node/a2/state`, `${P}/node/a1/sync/response`] },
  ]);
  assert.equal(streams, [{ source: 'hub', stream: 'global' }, { source: 'hub', stream: 'site/br' }, { source: 'a2', stream: 'own' }]);
  assert.equal([s.hubId, s.announcedBroker, s.relays, s.pushLinks], ['hub', 'mqtt://a1:1', false, ['hub', 'self']]);
});

test('a standalone-with-peers box has no hub link', () => {
  const { links, streams } = new NodeStrategy({ nodeId: 'a1', site: 'br' }).initial();
  assert.equal([links, streams], [[], []]);
});

test('opens a link to an announced site peer with a broker; not to listed peers, other sites or the hub', () => {
  const s = new NodeStrategy({ nodeId: 'a1', site: 'br', hub, peers: [{ id: 'a3', url: 'mqtt://a3:1' }] });
  assert.equal(s.onState(state('a2', 'br', { mqtt: 'mqtt://a2:9' })), { follow: ['own'], peerLink: { name: 'peer:a2', url: 'mqtt://a2:9', subscriptions: [`${P}/node/a2/changes`, `${P}/node/a2/state`, `${P}/node/a1/sync/response`] }, record: false });
  assert.equal(s.onState(state('a2', 'br')), { follow: [], record: false }, 'no broker: through the hub relay');
  assert.equal(s.onState(state('a3', 'br', { mqtt: 'mqtt://a3:9' })), { follow: [], record: false }, 'listed: keeps its address');
  assert.equal(s.onState(state('b1', 'other', { mqtt: 'mqtt://b1:9' })), { follow: [], record: false });
  assert.equal(s.onState(state('hub', '', { role: 'hub' })), { follow: [], record: false });
});

test('takes the hub\'s global and site streams, and a peer\'s own stream once followed', () => {
  const s = new NodeStrategy({ nodeId: 'a1', site: 'br', hub });
  assert.ok(s.accepts('hub', 'global', false));
  assert.ok(s.accepts('hub', 'site/br', false));
  assert.not.ok(s.accepts('hub', 'site/other', false));
  assert.not.ok(s.accepts('hub', 'own', true));
  assert.ok(s.accepts('a2', 'own', true));
  assert.not.ok(s.accepts('a2', 'own', false), 'not followed');
  assert.not.ok(s.accepts('a2', 'global', true));
});

test('asks a peer over its broker when that link is up, else through the hub', () => {
  const s = new NodeStrategy({ nodeId: 'a1', site: 'br', hub });
  assert.is(s.linkFor('a2', up('hub', 'peer:a2')), 'peer:a2');
  assert.is(s.linkFor('a2', up('hub')), 'hub');
  assert.is(s.linkFor('hub', up('hub', 'peer:a2')), 'hub');
});

test('reaches the hub over its link, a peer over its own or through the hub while it is online', () => {
  const stores = new TempStores();
  const { store } = stores.open('nodestrategy');
  try {
    const directory = new PeerDirectory(store, createSilentLogger());
    directory.observe(state('a2', 'br', { siteId: '1'.repeat(32) }), 1);
    const s = new NodeStrategy({ nodeId: 'a1', site: 'br', hub });
    assert.ok(s.isConnectedTo('hub', up('hub'), directory));
    assert.not.ok(s.isConnectedTo('hub', up('peer:a2'), directory));
    assert.ok(s.isConnectedTo('a2', up('peer:a2'), directory));
    assert.ok(s.isConnectedTo('a2', up('hub'), directory));
    assert.not.ok(s.isConnectedTo('a3', up('hub'), directory), 'never seen');
    assert.ok(s.reportsOn(directory.get('a2')!));
    assert.not.ok(s.reportsOn({ ...directory.get('a2')!, site: 'other' }));
  } finally {
    stores.closeAll();
  }
});

test.run();
