import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import type { SipRequest } from '../../sip/message/sip-message.ts';
import { NodeKey, verifySignature } from '../../sync/node-key.ts';
import { NODE_HEADER, NodeAssertion, type PeerKey } from './node-assertion.ts';
import { sip } from './test-support.ts';

const keyA1 = NodeKey.loadOrCreate(mkdtempSync(join(tmpdir(), 'outpost-assert-a1-')));
const keyA2 = NodeKey.loadOrCreate(mkdtempSync(join(tmpdir(), 'outpost-assert-a2-')));
const keyB1 = NodeKey.loadOrCreate(mkdtempSync(join(tmpdir(), 'outpost-assert-b1-')));

/** Box a1 (the sender) and box a2 (the receiver) of site branch-a, and b1 of branch-b, on one clock. */
function boxes(pinned: Record<string, PeerKey> = {}) {
  const clock = new ManualClock();
  const keys: Record<string, PeerKey> = {
    a1: { publicKey: keyA1.publicKey, site: 'branch-a', role: 'node' },
    b1: { publicKey: keyB1.publicKey, site: 'branch-b', role: 'node' },
    ...pinned,
  };
  const box = (nodeId: string, site: string, signer: NodeKey) =>
    new NodeAssertion({ nodeId, site, signer, keyOf: (id) => keys[id], verify: verifySignature, clock });
  return { clock, a1: box('a1', 'branch-a', keyA1), a2: box('a2', 'branch-a', keyA2), b1: box('b1', 'branch-b', keyB1) };
}

function invite(callId = 'c1@outpost', from = '2001'): SipRequest {
  return sip([
    'INVITE sip:2002@127.0.0.1:5062 SIP/2.0',
    'Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1;rport',
    'Max-Forwards: 69',
    `From: "Ann" <sip:${from}@branch-a.example>;tag=f1`,
    'To: <sip:2002@branch-a.example>',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
  ]) as SipRequest;
}

function stamped(by: NodeAssertion, req = invite()): SipRequest {
  req.headers.set(NODE_HEADER, by.stamp(req));
  return req;
}

const test = suite('NodeAssertion');

test('a request stamped by a node of the site verifies; the header names the node, a timestamp and a signature', () => {
  const { a1, a2, clock } = boxes();
  const req = stamped(a1);
  assert.match(req.headers.get(NODE_HEADER)!, new RegExp(`^a1;ts=${Math.floor(clock.now() / 1000)};sig=[A-Za-z0-9+/]{86}==$`));
  assert.equal(a2.verify(req), { kind: 'verified', node: 'a1', link: '' });
});

test('a CDR link rides in the signed header: verified with it; changed, dropped or added later: bad signature; not a UUID: not stamped, malformed', () => {
  const { a1, a2 } = boxes();
  const link = '01a20011-8153-737e-9e34-74aa050b84ca';
  const req = invite();
  req.headers.set(NODE_HEADER, a1.stamp(req, link));
  assert.match(req.headers.get(NODE_HEADER)!, new RegExp(`^a1;ts=\\d+;link=${link};sig=`));
  assert.equal(a2.check(req), { kind: 'verified', node: 'a1', link });
  const value = req.headers.get(NODE_HEADER)!;
  const other = invite();
  other.headers.set(NODE_HEADER, value.replace(link, '01a20011-0000-737e-9e34-74aa050b84ca'));
  assert.equal(a2.check(other), { kind: 'refused', node: 'a1', reason: 'bad-signature' }, 'another link');
  other.headers.set(NODE_HEADER, value.replace(`;link=${link}`, ''));
  assert.equal(a2.check(other), { kind: 'refused', node: 'a1', reason: 'bad-signature' }, 'link dropped');
  const plain = stamped(a1);
  plain.headers.set(NODE_HEADER, plain.headers.get(NODE_HEADER)!.replace(';sig=', `;link=${link};sig=`));
  assert.equal(a2.check(plain), { kind: 'refused', node: 'a1', reason: 'bad-signature' }, 'link added to an unlinked stamp');
  assert.is(a1.stamp(invite(), 'not a uuid!'), '', 'nothing to stamp with a bad link');
  other.headers.set(NODE_HEADER, value.replace(link, 'a;b'));
  assert.equal(a2.check(other).kind, 'refused');
});

test('no header: an ordinary request', () => {
  const { a2 } = boxes();
  assert.equal(a2.verify(invite()), { kind: 'none' });
});

test('signed with another key than the one pinned for the node: bad signature', () => {
  const { a2, clock } = boxes();
  const forger = new NodeAssertion({ nodeId: 'a1', site: 'branch-a', signer: keyB1, keyOf: () => undefined, verify: verifySignature, clock });
  assert.equal(a2.verify(stamped(forger)), { kind: 'refused', node: 'a1', reason: 'bad-signature' });
});

test('outside ±30 s of the receiver\'s clock: expired (either way)', () => {
  const { a1, a2, clock } = boxes();
  const old = stamped(a1, invite('old@outpost'));
  clock.advance(30_999);
  assert.equal(a2.verify(old), { kind: 'refused', node: 'a1', reason: 'expired' });
  const early = stamped(a1, invite('early@outpost'));
  clock.advance(-31_000 + 1);
  assert.is(a2.verify(early).kind, 'verified', 'a sender 30 s ahead is still within the window');
});

test('a node of another site, an unknown node, a hub, or the box itself: refused', () => {
  const { a1, a2, b1, clock } = boxes({ hub: { publicKey: keyA2.publicKey, site: '', role: 'hub' } });
  assert.equal(a2.verify(stamped(b1)), { kind: 'refused', node: 'b1', reason: 'other-site' });
  const stranger = new NodeAssertion({ nodeId: 'x9', site: 'branch-a', signer: keyA1, keyOf: () => undefined, verify: verifySignature, clock });
  assert.equal(a2.verify(stamped(stranger)), { kind: 'refused', node: 'x9', reason: 'unknown-node' });
  const hub = new NodeAssertion({ nodeId: 'hub', site: 'branch-a', signer: keyA2, keyOf: () => undefined, verify: verifySignature, clock });
  assert.equal(a2.verify(stamped(hub)), { kind: 'refused', node: 'hub', reason: 'unknown-node' });
  assert.equal(a1.verify(stamped(a1)), { kind: 'refused', node: 'a1', reason: 'self' });
  const siteless = new NodeAssertion({ nodeId: 'a2', site: undefined, keyOf: () => ({ publicKey: keyA1.publicKey, site: 'branch-a', role: 'node' }), verify: verifySignature, clock });
  assert.equal(siteless.verify(stamped(a1)), { kind: 'refused', node: 'a1', reason: 'other-site' }, 'a box without a site trusts no peer');
});

test('a tampered Call-ID, CSeq, From tag, caller or Request-URI: bad signature', () => {
  const { a1, a2 } = boxes();
  const tamper: Array<(r: SipRequest) => void> = [
    (r) => r.headers.set('Call-ID', 'other@outpost'),
    (r) => r.headers.set('CSeq', '2 INVITE'),
    (r) => r.headers.set('From', '"Ann" <sip:2001@branch-a.example>;tag=f2'),
    (r) => r.headers.set('From', '"Ann" <sip:2009@branch-a.example>;tag=f1'),
    (r) => void (r.uri = 'sip:2003@127.0.0.1:5062'),
  ];
  tamper.forEach((change, i) => {
    const req = stamped(a1, invite(`t${i}@outpost`));
    change(req);
    assert.equal(a2.verify(req), { kind: 'refused', node: 'a1', reason: 'bad-signature' }, `change ${i}`);
  });
});

test('the same signature twice (a captured INVITE sent again): replayed', () => {
  const { a1, a2 } = boxes();
  const req = stamped(a1);
  assert.is(a2.verify(req).kind, 'verified');
  assert.equal(a2.verify(req), { kind: 'refused', node: 'a1', reason: 'replayed' });
});

test('check() runs every check but does not spend the signature: verify() afterwards still verifies once', () => {
  const { a1, a2, b1 } = boxes();
  const req = stamped(a1);
  assert.equal(a2.check(req), { kind: 'verified', node: 'a1', link: '' });
  assert.equal(a2.check(req), { kind: 'verified', node: 'a1', link: '' });
  assert.is(a2.verify(req).kind, 'verified');
  assert.equal(a2.check(req), { kind: 'refused', node: 'a1', reason: 'replayed' }, 'a spent signature is refused by check() too');
  assert.equal(b1.check(stamped(a1)), { kind: 'refused', node: 'a1', reason: 'other-site' });
});

test('malformed values, or two headers: malformed', () => {
  const { a1, a2 } = boxes();
  for (const value of ['a1', 'a1;ts=abc;sig=AAAA', 'a1;ts=1700000000;sig=short', ';ts=1;sig=x', 'a 1;ts=1700000000;sig=x']) {
    const req = invite();
    req.headers.set(NODE_HEADER, value);
    assert.is((a2.verify(req) as { reason?: string }).reason, 'malformed', value);
  }
  const twice = stamped(a1);
  twice.headers.append(NODE_HEADER, twice.headers.get(NODE_HEADER)!);
  assert.equal(a2.verify(twice), { kind: 'refused', node: 'a1', reason: 'malformed' });
});

test.run();
