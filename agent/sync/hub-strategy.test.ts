import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSilentLogger } from '../lib/logger.ts';
import { SCHEMA_VERSION } from '../store/migrations/index.ts';
import { TempStores } from '../../test/helpers/sim-replicas.ts';
import type { NodeState } from '../wire/messages.ts';
import { HubStrategy } from './hub-strategy.ts';
import { PeerDirectory } from './peer-directory.ts';

const P = 'outpost/v1';
const state = (nodeId: string, role: 'node' | 'hub'): NodeState => ({ nodeId, role, site: 'br', online: true, publicKey: 'k'.repeat(44), siteId: '2'.repeat(32), schema: SCHEMA_VERSION, head: '3', at: 0 });

const test = suite('HubStrategy');

test('one link to its broker with every box\'s changes and states, and its own requests and replies', () => {
  const s = new HubStrategy({ nodeId: 'hub', brokerUrl: 'mqtt://h:1' });
  assert.equal(s.initial(), {
    links: [{ name: 'self', url: 'mqtt://h:1', subscriptions: [`${P}/node/+/changes`, `${P}/node/+/state`, `${P}/node/hub/sync/request`, `${P}/node/hub/sync/response`] }],
    streams: [],
  });
  assert.equal([s.hubId, s.announcedBroker, s.relays, s.pushLinks], [undefined, undefined, true, ['self']]);
  assert.is(s.linkFor(), 'self');
});

test('follows and records every box, ignores other hubs', () => {
  const s = new HubStrategy({ nodeId: 'hub', brokerUrl: 'mqtt://h:1' });
  assert.equal(s.onState(state('a1', 'node')), { follow: ['own'], record: true });
  assert.is(s.onState(state('hub2', 'hub')), undefined);
});

test('takes every box\'s own stream and nothing else; publishes by scope', () => {
  const s = new HubStrategy({ nodeId: 'hub', brokerUrl: 'mqtt://h:1' });
  assert.ok(s.accepts('a1', 'own'));
  assert.not.ok(s.accepts('a1', 'global'));
  assert.is(s.hubId, undefined, 'trusts no relay');
});

test('a box is reachable while the broker link is up and the box online', () => {
  const stores = new TempStores();
  const { store } = stores.open('hubstrategy');
  try {
    const directory = new PeerDirectory(store, createSilentLogger());
    directory.observe(state('a1', 'node'), 1);
    const s = new HubStrategy({ nodeId: 'hub', brokerUrl: 'mqtt://h:1' });
    assert.ok(s.isConnectedTo('a1', { isConnected: (l) => l === 'self' }, directory));
    assert.not.ok(s.isConnectedTo('a1', { isConnected: () => false }, directory));
    directory.markOffline('a1');
    assert.not.ok(s.isConnectedTo('a1', { isConnected: () => true }, directory));
    assert.ok(s.reportsOn(directory.get('a1')!));
  } finally {
    stores.closeAll();
  }
});

test.run();
