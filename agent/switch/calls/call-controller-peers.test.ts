import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import { NodeKey, verifySignature } from '../../sync/node-key.ts';
import { NODE_HEADER, NodeAssertion, type PeerKey } from './node-assertion.ts';
import { CALLEE, CALLER, callWorld, flush, sdp } from './test-support.ts';

/** Box a2 of the site, at PEER; the world under test is box a1. */
const PEER: Endpoint = { protocol: 'udp', address: '198.51.100.2', port: 5060 };
const keyA1 = NodeKey.loadOrCreate(mkdtempSync(join(tmpdir(), 'outpost-peers-a1-')));
const keyA2 = NodeKey.loadOrCreate(mkdtempSync(join(tmpdir(), 'outpost-peers-a2-')));
const pinned: Record<string, PeerKey> = {
  a1: { publicKey: keyA1.publicKey, site: 'branch-a', role: 'node' },
  a2: { publicKey: keyA2.publicKey, site: 'branch-a', role: 'node' },
};

/** The node assertion of box `nodeId` of branch-a (its clock starts where the world's does). */
const assertionOf = (nodeId: string, signer: NodeKey | undefined) =>
  new NodeAssertion({ nodeId, site: 'branch-a', ...(signer ? { signer } : {}), keyOf: (id) => pinned[id], verify: verifySignature, clock: new ManualClock() });

/**
 * Box a1 with peer a2 at PEER; `signer` false: a1 has no node key; `calls` overrides config.
 * `down` holds the peers liveness has declared down.
 */
function box(signer = true, calls: Record<string, number> = {}, peersOnlyTls = false) {
  const down = new Set<string>();
  const w = callWorld(calls, { assertion: assertionOf('a1', signer ? keyA1 : undefined), peers: { sipOf: (id) => (id === 'a2' ? PEER : undefined), isUp: (id) => !down.has(id) }, peersOnlyTls });
  const bindAt = (node: string, aor: string, ip: string) =>
    w.store.registrations.upsert({
      aor, contact: `sip:${aor}@${ip}:5062`, nodeId: node, expiresAt: w.clock.now() + 3_600_000, q: 1, callId: `reg-${node}-${aor}`, cseq: 1,
      path: '', userAgent: 'test', received: `udp:${ip}:5062`, instanceId: '', regId: 0, updatedAt: w.clock.now(),
    });
  return { w, bindAt, down };
}

const receiving = suite('CallController: an INVITE from a box of the site');

receiving('verified Outpost-Node: no digest challenge, rings the local phone without the header, the CDR names the caller', async () => {
  const { w } = box();
  const req = w.invite({ auth: false });
  req.headers.set(NODE_HEADER, assertionOf('a2', keyA2).stamp(req));
  const { b } = await w.dial(req);
  assert.not.ok(w.statusesTo(CALLER).includes(407), 'no challenge');
  assert.is(b.headers.get(NODE_HEADER), undefined, 'the trust header never reaches a phone');
  w.receive(w.calleeResponse(b, 200, 'OK', sdp(CALLEE.address, 40000)), CALLEE);
  assert.is(w.statusesTo(CALLER).at(-1), 200);
  await w.controller.stop();
  assert.equal(await w.cdr('caller', 'callee'), ['1001', '1002']);
  await w.close();
});

receiving('the CDR link the forwarding box signed is stored on this box\'s CDR', async () => {
  const { w } = box();
  const req = w.invite({ auth: false });
  req.headers.set(NODE_HEADER, assertionOf('a2', keyA2).stamp(req, '01a20011-8153-737e-9e34-74aa050b84ca'));
  const { b } = await w.dial(req);
  w.receive(w.calleeResponse(b, 486, 'Busy Here'), CALLEE);
  assert.equal(await w.cdr('disposition', 'link'), ['busy', '01a20011-8153-737e-9e34-74aa050b84ca']);
  await w.close();
});

receiving('over TLS the connection\'s certificate must name the signing node: another node is refused 403, the signer is taken', async () => {
  const { w } = box();
  const wrong = w.invite({ auth: false });
  wrong.headers.set(NODE_HEADER, assertionOf('a2', keyA2).stamp(wrong));
  w.receive(wrong, { ...CALLER, certifiedNode: 'a9' });
  await flush();
  assert.equal(w.statusesTo(CALLER), [403]);
  assert.is(w.requestsTo(CALLEE, 'INVITE').length, 0);
  const right = w.invite({ auth: false });
  right.headers.set(NODE_HEADER, assertionOf('a2', keyA2).stamp(right));
  w.receive(right, { ...CALLER, certifiedNode: 'a2' });
  await flush();
  assert.is(w.requestsTo(CALLEE, 'INVITE').length, 1, 'the certified signer rings the phone');
  await w.close();
});

receiving('sip.tls.peersOnly: a signed INVITE over UDP or TCP, or over TLS without the signer\'s certificate, gets 403 with the reason; over mutual TLS it rings', async () => {
  const { w } = box(true, {}, true);
  const signed = () => {
    const r = w.invite({ auth: false });
    r.headers.set(NODE_HEADER, assertionOf('a2', keyA2).stamp(r));
    return r;
  };
  w.receive(signed(), CALLER);
  w.receive(signed(), { ...CALLER, protocol: 'tcp' });
  w.receive(signed(), { ...CALLER, protocol: 'tls' });
  await flush();
  assert.equal(w.responsesTo(CALLER).map((r) => `${r.status} ${r.reason}`), Array(3).fill('403 TLS Required Between Site Peers'));
  assert.is(w.requestsTo(CALLEE, 'INVITE').length, 0);
  w.receive(signed(), { ...CALLER, protocol: 'tls', certifiedNode: 'a2' });
  await flush();
  assert.is(w.requestsTo(CALLEE, 'INVITE').length, 1, 'over mutual TLS the peer rings the phone');
  await w.close();
});

receiving('a header that does not verify (another key, an unknown node, garbage): 403 and no call, even with valid digest credentials', async () => {
  const { w } = box();
  const forged = w.invite({ auth: false });
  forged.headers.set(NODE_HEADER, new NodeAssertion({ nodeId: 'a2', site: 'branch-a', signer: keyA1, keyOf: () => undefined, verify: verifySignature, clock: new ManualClock() }).stamp(forged));
  const stranger = w.invite();
  stranger.headers.set(NODE_HEADER, assertionOf('x9', keyA2).stamp(stranger));
  const garbage = w.invite();
  garbage.headers.set(NODE_HEADER, 'a2');
  for (const r of [forged, stranger, garbage]) w.receive(r);
  await flush();
  assert.equal(w.statusesTo(CALLER), [403, 403, 403]);
  assert.is(w.requestsTo(CALLEE, 'INVITE').length, 0);
  await w.close();
});

receiving('a verified request still meets the limits: calls.maxTotal reached gives 503, as for a phone', async () => {
  const { w } = box(true, { maxTotal: 1 });
  await w.dial();
  const req = w.invite({ auth: false, from: '1003' });
  req.headers.set(NODE_HEADER, assertionOf('a2', keyA2).stamp(req));
  w.receive(req);
  await flush();
  assert.equal(w.responsesTo(CALLER).map((r) => r.status).filter((s) => s >= 400), [503]);
  await w.close();
});

const sending = suite('CallController: a callee registered on another box of the site');

sending('the INVITE goes to that box\'s address, signed with the node key, offering this box\'s relay', async () => {
  const { w, bindAt } = box();
  bindAt('a2', '1003', '192.0.2.30');
  w.receive(w.invite({ callee: '1003' }));
  await flush();
  const [inv] = w.requestsTo(PEER, 'INVITE');
  assert.ok(inv, `a2 got an INVITE (caller got ${w.statusesTo(CALLER).join(',')})`);
  assert.is(inv!.uri, 'sip:1003@198.51.100.2:5060');
  const verdict = assertionOf('a2', keyA2).verify(inv!);
  assert.equal(verdict.kind === 'verified' && verdict.node, 'a1', 'a2 verifies it');
  assert.match(inv!.body.toString(), 'm=audio 30002 ', 'media anchored at this box: the relay\'s leg b');
  w.receive(w.calleeResponse(inv!, 180, 'Ringing'), PEER);
  w.receive(w.calleeResponse(inv!, 200, 'OK', sdp('198.51.100.2', 41000)), PEER);
  assert.is(w.statusesTo(CALLER).at(-1), 200);
  const session = w.relay.sessions[0]!;
  assert.equal([session.updates.b.at(-1)!.address, session.updates.b.at(-1)!.rtpPort], ['198.51.100.2', 41000], 'leg b relays to a2\'s relay');
  await w.controller.stop();
  const [uuid, link] = await w.cdr('uuid', 'link');
  assert.equal(verdict.kind === 'verified' && verdict.link, uuid, 'the signed link is this box\'s CDR uuid');
  assert.is(link, uuid, 'and this box\'s CDR carries it too');
  await w.close();
});

sending('bindings here and on a2: fork to the local phone and to a2; the first answer wins and the other is cancelled', async () => {
  const { w, bindAt } = box();
  bindAt('a2', '1002', '192.0.2.30');
  w.receive(w.invite());
  await flush();
  const [local] = w.requestsTo(CALLEE, 'INVITE');
  const [remote] = w.requestsTo(PEER, 'INVITE');
  assert.ok(local && remote, 'both forks rang');
  assert.is(local!.headers.get(NODE_HEADER), undefined, 'the phone\'s fork is not signed');
  w.receive(w.calleeResponse(remote!, 180, 'Ringing'), PEER);
  w.receive(w.calleeResponse(local!, 180, 'Ringing'), CALLEE);
  w.receive(w.calleeResponse(local!, 200, 'OK', sdp(CALLEE.address, 40000)), CALLEE);
  assert.is(w.requestsTo(PEER, 'CANCEL').length, 1, 'a2\'s fork is cancelled');
  await w.close();
});

sending('a box without a node key does not ring peers: 480 as before', async () => {
  const { w, bindAt } = box(false);
  bindAt('a2', '1003', '192.0.2.30');
  w.receive(w.invite({ callee: '1003' }));
  await flush();
  assert.equal(w.statusesTo(CALLER).at(-1), 480);
  assert.is(w.requestsTo(PEER, 'INVITE').length, 0);
  await w.close();
});

const peerDown = suite('CallController: the peer box a fork goes through is declared down while it rings');

/** a1 rings 1003 through a2 (a2 owns 1003's binding at PHONE); `trying`: a2 answered 100. */
async function ringingThroughA2(trying: boolean) {
  const t = box();
  t.bindAt('a2', '1003', PHONE.address);
  t.w.receive(t.w.invite({ callee: '1003' }));
  await flush();
  const [inv] = t.w.requestsTo(PEER, 'INVITE');
  assert.ok(inv, 'a2 got the INVITE');
  if (trying) t.w.receive(t.w.calleeResponse(inv!, 100, 'Trying'), PEER);
  return { ...t, inv: inv! };
}
const PHONE: Endpoint = { protocol: 'udp', address: '192.0.2.30', port: 5062 };

peerDown('before any response: the fork is dropped at once (no retransmission, no Timer B) and the phone rings directly; its answer reaches the caller', async () => {
  const { w, down, inv } = await ringingThroughA2(false);
  w.clock.advance(200);
  down.add('a2');
  w.controller.peerDown('a2');
  const [direct] = w.requestsTo(PHONE, 'INVITE');
  assert.ok(direct, 'the phone got an INVITE at once');
  assert.is(direct!.uri, 'sip:1003@192.0.2.30:5062', 'its registered contact');
  assert.is(direct!.headers.get(NODE_HEADER), undefined, 'not signed: a phone');
  const toPeer = w.requestsTo(PEER, 'INVITE').length;
  w.clock.advance(4000);
  assert.is(w.requestsTo(PEER, 'INVITE').length, toPeer, 'no more INVITE retransmissions to the dead box');
  assert.is(w.requestsTo(PEER, 'CANCEL').length, 0, 'no CANCEL before a provisional (RFC 3261 §9.1)');
  w.receive(w.calleeResponse(direct!, 180, 'Ringing'), PHONE);
  w.receive(w.calleeResponse(direct!, 200, 'OK', sdp(PHONE.address, 42000)), PHONE);
  assert.is(w.statusesTo(CALLER).at(-1), 200);
  assert.is(inv.headers.get('call-id') === direct!.headers.get('call-id'), false, 'a fork of its own');
  await w.close();
});

peerDown('after a provisional: the fork is CANCELled and the phone rings directly', async () => {
  const { w, down } = await ringingThroughA2(true);
  down.add('a2');
  w.controller.peerDown('a2');
  assert.is(w.requestsTo(PEER, 'CANCEL').length, 1);
  assert.is(w.requestsTo(PHONE, 'INVITE').length, 1);
  assert.not.ok(w.statusesTo(CALLER).some((s) => s >= 300), 'the call goes on ringing');
  await w.close();
});

peerDown('no binding of the callee left to ring directly: the caller gets its failure at once, not after Timer B', async () => {
  const { w, down } = await ringingThroughA2(true);
  w.store.registrations.removeAll('1003', 'a2');
  down.add('a2');
  w.controller.peerDown('a2');
  assert.is(w.statusesTo(CALLER).at(-1), 480);
  assert.equal(await w.cdr('disposition', 'callee'), ['failed', '1003']);
  await w.close();
});

peerDown('another box, or a call that does not ring through the box, is left alone', async () => {
  const { w, down } = await ringingThroughA2(false);
  w.controller.peerDown('a3');
  assert.is(w.requestsTo(PHONE, 'INVITE').length, 0);
  down.add('a2');
  const local = box();
  const { b } = await local.w.dial();
  local.w.controller.peerDown('a2');
  assert.is(local.w.requestsTo(CALLEE, 'INVITE').length, 1, 'a local call rings on');
  local.w.receive(local.w.calleeResponse(b, 200, 'OK', sdp(CALLEE.address, 40000)), CALLEE);
  assert.is(local.w.statusesTo(CALLER).at(-1), 200);
  await local.w.close();
  await w.close();
});

receiving.run();
sending.run();
peerDown.run();
