/**
 * peerVouches: which packets at the flood guard's edge a peer box of the site signed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { parseMessage } from '../../sip/message/parse-message.ts';
import { serializeMessage } from '../../sip/message/serialize-message.ts';
import type { SipRequest } from '../../sip/message/sip-message.ts';
import { NodeKey, verifySignature } from '../../sync/node-key.ts';
import { NODE_HEADER, NodeAssertion } from './node-assertion.ts';
import { peerVouches } from './peer-vouch.ts';
import { SitePeers } from './site-peers.ts';
import { sip } from './test-support.ts';

const keyA1 = NodeKey.loadOrCreate(mkdtempSync(join(tmpdir(), 'outpost-vouch-a1-')));
const keyA2 = NodeKey.loadOrCreate(mkdtempSync(join(tmpdir(), 'outpost-vouch-a2-')));

/** a2 receiving; a1 (at 10.0.0.1) signing. */
function site() {
  const clock = new ManualClock();
  const keyOf = (id: string) => (id === 'a1' ? { publicKey: keyA1.publicKey, site: 'a', role: 'node' } : undefined);
  const a1 = new NodeAssertion({ nodeId: 'a1', site: 'a', signer: keyA1, keyOf, verify: verifySignature, clock });
  const a2 = new NodeAssertion({ nodeId: 'a2', site: 'a', signer: keyA2, keyOf, verify: verifySignature, clock });
  const peers = new SitePeers();
  peers.learn({ nodeId: 'a1', sip: 'udp:10.0.0.1:5060' });
  return { a1, deps: { peers, assertion: a2 } };
}

function invite(signer?: NodeAssertion, header?: string): Buffer {
  const req = sip([
    'INVITE sip:2002@10.0.0.2:5060 SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-v1;rport',
    'Max-Forwards: 69',
    'From: <sip:2001@a.example>;tag=f1',
    'To: <sip:2002@a.example>',
    'Call-ID: vouch-1@a1',
    'CSeq: 1 INVITE',
  ]) as SipRequest;
  if (signer) req.headers.set(NODE_HEADER, signer.stamp(req));
  if (header) req.headers.set(NODE_HEADER, header);
  return serializeMessage(req);
}

const test = suite('peerVouches');

test('an INVITE a peer signed, from the address the peer announced: vouched for, and the signature is not spent', () => {
  const { a1, deps } = site();
  const data = invite(a1);
  assert.is(peerVouches(deps, '10.0.0.1', data), true);
  assert.is(peerVouches(deps, '10.0.0.1', data), true, 'a retransmission before admission');
  const parsed = parseMessage(data);
  assert.ok(parsed.ok);
  assert.is(deps.assertion.verify(parsed.message as SipRequest).kind, 'verified', 'call admission still verifies it');
});

test('not vouched for: another source address, no header, a bad signature, a response, garbage', () => {
  const { a1, deps } = site();
  assert.is(peerVouches(deps, '10.0.0.9', invite(a1)), false, 'a phone elsewhere replaying a peer\'s INVITE');
  assert.is(peerVouches(deps, '10.0.0.1', invite()), false, 'a phone behind the peer\'s address');
  assert.is(peerVouches(deps, '10.0.0.1', invite(undefined, `a1;ts=${Math.floor(Date.now() / 1000)};sig=${Buffer.alloc(64, 7).toString('base64')}`)), false);
  assert.is(peerVouches(deps, '10.0.0.1', Buffer.from('SIP/2.0 200 OK\r\nOutpost-Node: a1\r\n\r\n')), false);
  assert.is(peerVouches(deps, '10.0.0.1', Buffer.from('outpost-node garbage')), false);
});

test.run();
