import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import type { TimeoutError, TransactionError } from './errors.ts';
import { InviteServerTransaction } from './invite-server-transaction.ts';
import { FakeTransport, PEER, flushMicrotasks, makeRequest, makeResponse, testContext } from './test-support.ts';

function setup(reliable = false) {
  const clock = new ManualClock();
  const transport = new FakeTransport(clock, { reliable });
  const invite = makeRequest('INVITE', { toTag: '' });
  const tx = new InviteServerTransaction('ist-key', invite, PEER, transport, testContext(clock, reliable));
  const timeouts: TimeoutError[] = [];
  const transportErrors: TransactionError[] = [];
  tx.user = { onTimeout: (e) => timeouts.push(e), onTransportError: (e) => transportErrors.push(e) };
  tx.start();
  return { clock, transport, invite, tx, timeouts, transportErrors };
}

const ist = suite('InviteServerTransaction');

ist('RFC 3261 §17.2.1: 100 Trying goes out after 200 ms when the TU is silent (§8.2.6.1 fields)', () => {
  const { clock, transport, invite, tx } = setup();
  clock.advance(199);
  assert.is(transport.sent.length, 0);
  clock.advance(1);
  assert.equal(transport.times(100), [200]);
  const trying = transport.sent[0]!.message;
  assert.is(trying.type, 'response');
  assert.equal(trying.headers.getAll('via'), invite.headers.getAll('via'));
  assert.is(trying.headers.get('cseq'), invite.headers.get('cseq'));
  assert.is(trying.headers.get('call-id'), invite.headers.get('call-id'));
  assert.equal(transport.sent[0]!.dest, PEER);
  assert.is(tx.state, 'Proceeding');
});

ist('RFC 3261 §17.2.1: no automatic 100 Trying when the TU answers within 200 ms', () => {
  const { clock, transport, invite, tx } = setup();
  clock.advance(150);
  tx.respond(makeResponse(invite, 180));
  clock.advance(10_000);
  assert.equal(transport.times(100), []);
  assert.equal(transport.times(180), [150]);
});

ist('RFC 3261 §17.2.1: an INVITE retransmission in Proceeding re-sends the most recent provisional', () => {
  const { clock, transport, invite, tx } = setup();
  tx.receiveRetransmission(invite);
  assert.is(transport.sent.length, 0, 'nothing to resend yet');
  clock.advance(200);
  tx.receiveRetransmission(invite);
  tx.respond(makeResponse(invite, 180));
  clock.advance(300);
  tx.receiveRetransmission(invite);
  assert.equal(transport.sent.map((r) => (r.message.type === 'response' ? r.message.status : 0)), [100, 100, 180, 180]);
});

ist('RFC 3261 §17.2.1: Timer G retransmits a 486 at 0.5, 1.5, 3.5, 7.5, 11.5 … 31.5 s; Timer H ends it at 64*T1', () => {
  const { clock, transport, invite, tx, timeouts } = setup();
  tx.respond(makeResponse(invite, 486));
  assert.is(tx.state, 'Completed');
  clock.advance(31_999);
  assert.equal(transport.times(486), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.is(timeouts.length, 0);
  clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.is(timeouts.length, 1);
  assert.is(timeouts[0]!.code, 'transaction.timer-h');
  clock.advance(60_000);
  assert.is(transport.times(486).length, 11);
  assert.is(clock.pendingCount, 0);
});

ist('RFC 3261 §17.2.1: an INVITE retransmission in Completed re-sends the final response', () => {
  const { clock, transport, invite, tx } = setup();
  tx.respond(makeResponse(invite, 404));
  clock.advance(200);
  tx.receiveRetransmission(invite);
  assert.equal(transport.times(404), [0, 200]);
  assert.equal(transport.times(100), [], 'no 100 Trying after a final response');
});

ist('RFC 3261 §17.2.1: ACK → Confirmed stops G and H; Timer I = T4 on UDP absorbs ACK retransmissions', () => {
  const { clock, transport, invite, tx, timeouts } = setup();
  tx.respond(makeResponse(invite, 480));
  clock.advance(1_000);
  const ack = makeRequest('ACK', { toTag: 'a6c85cf' });
  assert.is(tx.receiveAck(ack), 'absorbed');
  assert.is(tx.state, 'Confirmed');
  assert.is(tx.receiveAck(ack), 'absorbed');
  clock.advance(4_999);
  assert.is(tx.state, 'Confirmed');
  clock.advance(1);
  assert.is(tx.state, 'Terminated', 'Timer I = 5 s');
  assert.equal(transport.times(480), [0, 500]);
  assert.is(timeouts.length, 0);
});

ist('RFC 3261 §17.2.1: reliable transport: no Timer G, H still 64*T1, Timer I zero', () => {
  const a = setup(true);
  a.tx.respond(makeResponse(a.invite, 486));
  assert.not.ok(a.tx.hasTimer('G'));
  a.clock.advance(32_000);
  assert.equal(a.transport.times(486), [0]);
  assert.is(a.timeouts.length, 1);
  const b = setup(true);
  b.tx.respond(makeResponse(b.invite, 486));
  assert.is(b.tx.receiveAck(makeRequest('ACK')), 'absorbed');
  assert.is(b.tx.state, 'Terminated', 'Timer I = 0');
  assert.is(b.clock.pendingCount, 0);
});

ist('RFC 6026 §7.1: 2xx → Accepted; INVITE retransmissions absorbed, TU 2xx retransmissions sent, Timer L ends it', () => {
  const { clock, transport, invite, tx } = setup();
  const ok = makeResponse(invite, 200);
  tx.respond(ok);
  assert.is(tx.state, 'Accepted');
  clock.advance(500);
  tx.receiveRetransmission(invite);
  tx.respond(ok); // the TU's own 2xx retransmission (RFC 3261 §13.3.1.4)
  tx.respond(makeResponse(invite, 500)); // a non-2xx in Accepted is discarded
  assert.equal(transport.times(200), [0, 500]);
  assert.equal(transport.times(500), []);
  assert.is(tx.receiveAck(makeRequest('ACK', { toTag: 'a6c85cf' })), 'pass-to-tu');
  clock.advance(31_499);
  assert.is(tx.state, 'Accepted');
  clock.advance(1);
  assert.is(tx.state, 'Terminated', 'Timer L = 64*T1 after the 2xx');
});

ist('RFC 3261 §17.2.1: a second final response from the TU is discarded in Completed', () => {
  const { transport, invite, tx } = setup();
  tx.respond(makeResponse(invite, 486));
  tx.respond(makeResponse(invite, 200));
  assert.equal(transport.times(200), []);
  assert.is(tx.state, 'Completed');
  assert.throws(() => tx.respond(makeResponse(invite, 99)), (e: TransactionError) => e.code === 'transaction.invalid-response');
});

ist('RFC 6026 §8.8: a transport failure is reported once and the state is kept; Timer H still ends it', async () => {
  const { clock, transport, invite, tx, transportErrors, timeouts } = setup();
  transport.failWith = new Error('EPERM');
  tx.respond(makeResponse(invite, 503));
  clock.advance(1_500);
  await flushMicrotasks();
  assert.is(transportErrors.length, 1);
  assert.is(transportErrors[0]!.code, 'transaction.transport');
  assert.is(tx.state, 'Completed');
  clock.advance(30_500);
  assert.is(tx.state, 'Terminated');
  assert.is(timeouts.length, 1);
});

ist.run();
