/** sip.tls.peersOnly: which inter-box requests are taken, and which peer addresses calls may use. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { peerTransportRefusal, routablePeerState } from './tls-peers.ts';

const test = suite('TLS between site peers');

test('without the option every transport is taken', () => {
  assert.is(peerTransportRefusal(false, { protocol: 'udp' }, 'a2'), undefined);
  assert.is(peerTransportRefusal(false, { protocol: 'tcp' }, 'a2'), undefined);
  assert.is(peerTransportRefusal(false, { protocol: 'tls' }, 'a2'), undefined);
});

test('with it, a signed request over UDP or TCP is refused with the reason', () => {
  assert.match(peerTransportRefusal(true, { protocol: 'udp' }, 'a2') ?? '', /a2 must use TLS, not udp/);
  assert.match(peerTransportRefusal(true, { protocol: 'tcp' }, 'a2') ?? '', /a2 must use TLS, not tcp/);
});

test('with it, TLS is taken only when the client certificate names the signer', () => {
  assert.is(peerTransportRefusal(true, { protocol: 'tls', certifiedNode: 'a2' }, 'a2'), undefined);
  assert.match(peerTransportRefusal(true, { protocol: 'tls' }, 'a2') ?? '', /no certificate of a2/);
  assert.match(peerTransportRefusal(true, { protocol: 'tls', certifiedNode: 'a3' }, 'a2') ?? '', /no certificate of a2/);
});

test('with it, routing knows only peers announcing a tls: address', () => {
  const udp = { nodeId: 'a2', online: true, sip: 'udp:10.0.0.2:5060' };
  const tls = { nodeId: 'a3', online: true, sip: 'tls:10.0.0.3:5061' };
  assert.equal(routablePeerState(true, udp), { ...udp, sip: undefined });
  assert.equal(routablePeerState(true, tls), tls);
  assert.equal(routablePeerState(false, udp), udp);
  assert.equal(routablePeerState(true, { nodeId: 'a4', online: false, sip: undefined }).sip, undefined);
});

test.run();
