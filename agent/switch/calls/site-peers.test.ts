import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SitePeers } from './site-peers.ts';

const peers = suite('SitePeers');

peers('a peer\'s announced address is where its calls go; a state without one forgets it; up by default', () => {
  const p = new SitePeers();
  p.learn({ nodeId: 'a2', sip: 'udp:10.0.0.2:5060' });
  p.learn({ nodeId: 'a3', sip: 'tcp:[2001:db8::3]:5070' });
  assert.equal(p.sipOf('a2'), { protocol: 'udp', address: '10.0.0.2', port: 5060 });
  assert.equal(p.sipOf('a3'), { protocol: 'tcp', address: '2001:db8::3', port: 5070 });
  p.learn({ nodeId: 'a2', sip: undefined });
  assert.is(p.sipOf('a2'), undefined);
  assert.is(p.sipOf('a9'), undefined);
  assert.is(p.isUp('a3'), true);
  assert.is(new SitePeers((id) => id !== 'a3').isUp('a3'), false, 'liveness decides when given');
});

peers('isPeerAddress: the host of an address a peer announced, and no other', () => {
  const p = new SitePeers();
  p.learn({ nodeId: 'a2', sip: 'udp:10.0.0.2:5060' });
  assert.is(p.isPeerAddress('10.0.0.2'), true);
  assert.is(p.isPeerAddress('10.0.0.3'), false);
  p.learn({ nodeId: 'a2', sip: undefined });
  assert.is(p.isPeerAddress('10.0.0.2'), false, 'forgotten with the address');
});

peers.run();
