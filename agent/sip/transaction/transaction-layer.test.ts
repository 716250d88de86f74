import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { createSilentLogger } from '../../lib/logger.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { TransactionError } from './errors.ts';
import { InviteServerTransaction } from './invite-server-transaction.ts';
import { NonInviteServerTransaction } from './non-invite-server-transaction.ts';
import { FakeTransport, PEER, RecordingUser, flushMicrotasks, makeRequest, makeResponse } from './test-support.ts';
import { TransactionLayer, type RequestDisposition, type ServerTransaction } from './transaction-layer.ts';

function setup() {
  const clock = new ManualClock();
  const udp = new FakeTransport(clock);
  const tcp = new FakeTransport(clock, { reliable: true });
  const picked: Endpoint[] = [];
  const layer = new TransactionLayer({
    clock,
    logger: createSilentLogger(),
    transportFor: (dest): Transport => {
      picked.push(dest);
      return dest.protocol === 'tcp' ? tcp : udp;
    },
  });
  return { clock, udp, tcp, layer, picked };
}

function asTransaction(d: RequestDisposition): ServerTransaction {
  if (typeof d === 'string') throw new Error(`expected a transaction, got ${d}`);
  return d;
}

const server = suite('TransactionLayer server side');

server('RFC 3261 §17.2.3: a retransmitted INVITE matches by branch + sent-by + method and is absorbed', () => {
  const { layer, udp } = setup();
  const ist = asTransaction(layer.handleRequest(makeRequest('INVITE'), PEER, udp));
  assert.ok(ist instanceof InviteServerTransaction);
  ist.respond(makeResponse(ist.request, 180));
  assert.is(layer.handleRequest(makeRequest('INVITE'), PEER, udp), 'absorbed');
  assert.equal(udp.times(180), [0, 0], 'the retransmission got the last provisional');
  const other = layer.handleRequest(makeRequest('INVITE', { sentBy: 'elsewhere.example.com' }), PEER, udp);
  assert.ok(other instanceof InviteServerTransaction, 'same branch from another sent-by is a new transaction');
  assert.equal(layer.counts(), { ict: 0, nict: 0, ist: 2, nist: 0, total: 2 });
});

server('RFC 3261 §17.2.3: the ACK of a non-2xx matches the INVITE transaction and is absorbed (→ Confirmed)', () => {
  const { layer, udp, clock } = setup();
  const ist = asTransaction(layer.handleRequest(makeRequest('INVITE'), PEER, udp));
  ist.respond(makeResponse(ist.request, 486));
  assert.is(layer.handleRequest(makeRequest('ACK', { toTag: 'a6c85cf' }), PEER, udp), 'absorbed');
  assert.is(ist.state, 'Confirmed');
  clock.advance(5_000);
  assert.is(layer.counts().total, 0, 'Timer I removed it from the map');
});

server('RFC 3261 §13.2.2.4, §17.2.3: the ACK of a 2xx (own branch) has no transaction and goes to the TU', () => {
  const { layer, udp } = setup();
  const ist = asTransaction(layer.handleRequest(makeRequest('INVITE'), PEER, udp));
  ist.respond(makeResponse(ist.request, 200));
  assert.is(ist.state, 'Accepted');
  assert.is(layer.handleRequest(makeRequest('ACK', { branch: 'z9hG4bKack2xx', toTag: 'a6c85cf' }), PEER, udp), 'ack-no-transaction');
  assert.is(layer.handleRequest(makeRequest('ACK', { toTag: 'a6c85cf' }), PEER, udp), 'ack-no-transaction', 'same-branch ACK in Accepted also goes up (RFC 6026 §7.1)');
  assert.is(layer.handleRequest(makeRequest('INVITE'), PEER, udp), 'absorbed', 'INVITE retransmission in Accepted');
  assert.equal(udp.times(200), [0]);
});

server('RFC 3261 §9.2: a CANCEL is its own NIST and finds the INVITE transaction it cancels', () => {
  const { layer, udp } = setup();
  const ist = asTransaction(layer.handleRequest(makeRequest('INVITE'), PEER, udp));
  const cancel = makeRequest('CANCEL');
  const nist = asTransaction(layer.handleRequest(cancel, PEER, udp));
  assert.ok(nist instanceof NonInviteServerTransaction);
  assert.is(layer.findInviteServerTransaction(cancel), ist);
  assert.is(layer.findInviteServerTransaction(makeRequest('CANCEL', { branch: 'z9hG4bKother' })), undefined);
  nist.respond(makeResponse(cancel, 200));
  assert.is(layer.handleRequest(makeRequest('CANCEL'), PEER, udp), 'absorbed', 'CANCEL retransmission');
  assert.equal(udp.times(200), [0, 0]);
  assert.is(ist.state, 'Proceeding', 'the CANCEL itself does not touch the INVITE transaction');
  assert.equal(layer.counts(), { ict: 0, nist: 1, ist: 1, nict: 0, total: 2 });
});

server('RFC 3261 §17.2.3: RFC 2543 requests (no z9hG4bK) match on URI, tags, Call-ID, CSeq and top Via', () => {
  const { layer, udp } = setup();
  const legacy = { branch: '' };
  const ist = asTransaction(layer.handleRequest(makeRequest('INVITE', legacy), PEER, udp));
  assert.is(layer.handleRequest(makeRequest('INVITE', legacy), PEER, udp), 'absorbed');
  assert.ok(typeof layer.handleRequest(makeRequest('INVITE', { ...legacy, seq: 2 }), PEER, udp) !== 'string', 'new CSeq: new transaction');
  assert.is(layer.findInviteServerTransaction(makeRequest('CANCEL', legacy)), ist);
  ist.respond(makeResponse(ist.request, 404, 'srv-tag'));
  assert.is(layer.handleRequest(makeRequest('ACK', { ...legacy, toTag: 'wrong' }), PEER, udp), 'ack-no-transaction');
  assert.is(ist.state, 'Completed');
  assert.is(layer.handleRequest(makeRequest('ACK', { ...legacy, toTag: 'srv-tag' }), PEER, udp), 'absorbed');
  assert.is(ist.state, 'Confirmed');
});

server('requests without a readable top Via or CSeq are refused with a typed error', () => {
  const { layer, udp } = setup();
  const bad = makeRequest('OPTIONS');
  bad.headers.remove('via');
  assert.throws(() => layer.handleRequest(bad, PEER, udp), (e: TransactionError) => e.code === 'transaction.invalid-request');
  assert.throws(() => layer.handleRequest(makeRequest('OPTIONS', { cseqMethod: 'INFO' }), PEER, udp), (e: unknown) => e instanceof TransactionError);
});

server('RFC 3261 §18.2.2: responses go to the responseDestination given by the transport layer', () => {
  const { layer, udp } = setup();
  const rport: Endpoint = { protocol: 'udp', address: '198.51.100.7', port: 40123 };
  const nist = asTransaction(layer.handleRequest(makeRequest('OPTIONS'), PEER, udp, rport));
  nist.respond(makeResponse(nist.request, 200));
  assert.equal(udp.sent[0]!.dest, rport);
});

server.run();

const client = suite('TransactionLayer client side');

client('RFC 3261 §17.1.3: responses match on branch + CSeq method; INVITE and CANCEL stay apart', () => {
  const { layer, udp } = setup();
  const inviteUser = new RecordingUser(new ManualClock());
  const cancelUser = new RecordingUser(new ManualClock());
  const invite = makeRequest('INVITE');
  const cancel = makeRequest('CANCEL');
  layer.createClientTransaction(invite, PEER, udp, inviteUser);
  layer.createClientTransaction(cancel, PEER, udp, cancelUser);
  assert.ok(layer.handleResponse(makeResponse(cancel, 200)));
  assert.ok(layer.handleResponse(makeResponse(invite, 487)));
  assert.equal(cancelUser.responses.map((r) => r.status), [200]);
  assert.equal(inviteUser.responses.map((r) => r.status), [487]);
  assert.equal(udp.times('ACK').length, 1);
});

client('RFC 3261 §18.1.2: a response with no matching transaction is reported unmatched (dropped)', () => {
  const { layer, udp } = setup();
  const user = new RecordingUser(new ManualClock());
  const options = makeRequest('OPTIONS');
  layer.createClientTransaction(options, PEER, udp, user);
  assert.not.ok(layer.handleResponse(makeResponse(makeRequest('OPTIONS', { branch: 'z9hG4bKunknown' }), 200)));
  assert.not.ok(layer.handleResponse(makeResponse(makeRequest('INFO'), 200)), 'same branch, other method');
  const noVia = makeResponse(options, 200);
  noVia.headers.remove('via');
  assert.not.ok(layer.handleResponse(noVia));
  assert.is(user.responses.length, 0);
});

client('RFC 3261 §17.1: ACK, a missing branch and a duplicate key are refused', () => {
  const { layer, udp } = setup();
  const user = new RecordingUser(new ManualClock());
  const code = (e: TransactionError) => e.code;
  assert.throws(() => layer.createClientTransaction(makeRequest('ACK'), PEER, udp, user), (e: TransactionError) => code(e) === 'transaction.invalid-request');
  assert.throws(() => layer.createClientTransaction(makeRequest('BYE', { branch: 'nocookie' }), PEER, udp, user), (e: TransactionError) => code(e) === 'transaction.invalid-request');
  layer.createClientTransaction(makeRequest('BYE'), PEER, udp, user);
  assert.throws(() => layer.createClientTransaction(makeRequest('BYE'), PEER, udp, user), (e: TransactionError) => code(e) === 'transaction.duplicate');
});

client('abandon (the TU gives up before Timer F): no more retransmissions, no TU callback, a late response is stray', () => {
  const { layer, udp, clock } = setup();
  const user = new RecordingUser(new ManualClock());
  const options = makeRequest('OPTIONS');
  const tx = layer.createClientTransaction(options, PEER, udp, user);
  clock.advance(250);
  tx.abandon();
  assert.is(tx.state, 'Terminated');
  assert.is(layer.counts().total, 0, 'the layer forgot it');
  clock.advance(64_000);
  assert.is(udp.times('OPTIONS').length, 1, 'Timer E stopped with it');
  assert.not.ok(layer.handleResponse(makeResponse(options, 200)));
  assert.equal([user.responses.length, user.timeouts.length, user.transportErrors.length], [0, 0, 0]);
});

client('transportFor picks the transport when none is given; TCP gets reliable timers (§17.1.1.2)', () => {
  const { layer, tcp, picked, clock } = setup();
  const dest: Endpoint = { protocol: 'tcp', address: '192.0.2.20', port: 5060 };
  const tx = layer.createClientTransaction(makeRequest('INVITE'), dest, undefined, new RecordingUser(clock));
  assert.equal(picked, [dest]);
  assert.is(tx.transport, tcp);
  clock.advance(10_000);
  assert.equal(tcp.times('INVITE'), [0], 'no Timer A on a reliable transport');
});

client('RFC 3261 §8.1.3.1 via §17.1.4: a transport error reaches the TU as a 503-mapped error and frees the slot', async () => {
  const { layer, udp, clock } = setup();
  udp.failWith = new Error('send failed');
  const user = new RecordingUser(clock);
  layer.createClientTransaction(makeRequest('MESSAGE'), PEER, udp, user);
  assert.is(layer.counts().nict, 1);
  await flushMicrotasks();
  assert.is(user.transportErrors[0]!.sipStatus, 503);
  assert.is(layer.counts().total, 0);
  assert.is(clock.pendingCount, 0);
});

client('RFC 3261 §17.1.1.2: Timer B timeout reaches the TU as 408 and the maps do not leak', () => {
  const { layer, udp, clock } = setup();
  const user = new RecordingUser(clock);
  layer.createClientTransaction(makeRequest('INVITE'), PEER, udp, user);
  clock.advance(32_000);
  assert.is(user.timeouts[0]!.error.sipStatus, 408);
  assert.is(layer.counts().total, 0);
  assert.not.ok(layer.handleResponse(makeResponse(makeRequest('INVITE'), 180)), 'late response: no transaction');
});

client.run();

const lifecycle = suite('TransactionLayer lifecycle');

lifecycle('every transaction ends in Terminated and leaves the maps (RFC 3261 §17.1.1.2 … §17.2.2 timers)', () => {
  const { layer, udp, clock } = setup();
  const user = new RecordingUser(clock);
  const invite = makeRequest('INVITE', { branch: 'z9hG4bKout1' });
  layer.createClientTransaction(invite, PEER, udp, user);
  layer.handleResponse(makeResponse(invite, 200)); // ICT → Accepted (Timer M)
  const ist = asTransaction(layer.handleRequest(makeRequest('INVITE'), PEER, udp));
  ist.respond(makeResponse(ist.request, 486)); // IST → Completed (G, H)
  const nist = asTransaction(layer.handleRequest(makeRequest('SUBSCRIBE'), PEER, udp));
  nist.respond(makeResponse(nist.request, 202)); // NIST → Completed (J)
  assert.equal(layer.counts(), { ict: 1, nict: 0, ist: 1, nist: 1, total: 3 });
  clock.advance(32_000);
  assert.equal(layer.counts(), { ict: 0, nict: 0, ist: 0, nist: 0, total: 0 });
  assert.is(clock.pendingCount, 0);
});

lifecycle('stop() disposes of every transaction and cancels every timer without TU callbacks', () => {
  const { layer, udp, clock } = setup();
  const user = new RecordingUser(clock);
  layer.createClientTransaction(makeRequest('INVITE', { branch: 'z9hG4bKa' }), PEER, udp, user);
  layer.createClientTransaction(makeRequest('OPTIONS', { branch: 'z9hG4bKb' }), PEER, udp, user);
  layer.handleRequest(makeRequest('INVITE'), PEER, udp);
  assert.ok(clock.pendingCount > 0);
  layer.stop();
  assert.is(clock.pendingCount, 0);
  assert.is(layer.counts().total, 0);
  clock.advance(100_000);
  assert.is(user.timeouts.length, 0);
  assert.is(layer.handleRequest(makeRequest('OPTIONS'), PEER, udp), 'absorbed', 'dropped after stop');
  assert.throws(() => layer.createClientTransaction(makeRequest('BYE'), PEER, udp, user), (e: TransactionError) => e.code === 'transaction.stopped');
});

lifecycle.run();
