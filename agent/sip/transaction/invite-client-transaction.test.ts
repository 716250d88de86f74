import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { TimeoutError, TransactionError } from './errors.ts';
import { InviteClientTransaction } from './invite-client-transaction.ts';
import { FakeTransport, PEER, RecordingUser, flushMicrotasks, makeRequest, makeResponse, testContext } from './test-support.ts';

function setup(reliable = false) {
  const clock = new ManualClock();
  const transport = new FakeTransport(clock, { reliable });
  const user = new RecordingUser(clock);
  const invite = makeRequest('INVITE');
  const tx = new InviteClientTransaction('z9hG4bK776asdhds|INVITE', invite, PEER, transport, user, testContext(clock, reliable));
  tx.start();
  return { clock, transport, user, invite, tx };
}

const ict = suite('InviteClientTransaction');

ict('RFC 3261 §17.1.1.2: Timer A retransmits at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s; Timer B times out at 64*T1', () => {
  const { clock, transport, user, tx } = setup();
  assert.is(tx.state, 'Calling');
  clock.advance(31_999);
  assert.equal(transport.times('INVITE'), [0, 500, 1500, 3500, 7500, 15500, 31500]);
  assert.is(user.timeouts.length, 0);
  clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.is(user.timeouts.length, 1);
  assert.is(user.timeouts[0]!.at, 32_000);
  assert.ok(user.timeouts[0]!.error instanceof TimeoutError);
  assert.is(user.timeouts[0]!.error.code, 'transaction.timer-b');
  assert.is(user.timeouts[0]!.error.sipStatus, 408);
  clock.advance(120_000);
  assert.is(transport.sent.length, 7, 'nothing sent after Terminated');
  assert.is(clock.pendingCount, 0);
});

ict('RFC 3261 §17.1.1.2: reliable transport sends once (no Timer A), Timer B still 64*T1', () => {
  const { clock, transport, user, tx } = setup(true);
  assert.not.ok(tx.hasTimer('A'));
  clock.advance(31_999);
  assert.equal(transport.times('INVITE'), [0]);
  clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.is(user.timeouts.length, 1);
});

ict('RFC 3261 §17.1.1.2: 1xx moves Calling → Proceeding, stops retransmission and Timer B', () => {
  const { clock, transport, user, invite, tx } = setup();
  clock.advance(600);
  tx.receiveResponse(makeResponse(invite, 100));
  assert.is(tx.state, 'Proceeding');
  tx.receiveResponse(makeResponse(invite, 180));
  assert.equal(user.responses.map((r) => r.status), [100, 180]);
  clock.advance(120_000);
  assert.equal(transport.times('INVITE'), [0, 500]);
  assert.is(user.timeouts.length, 0);
  assert.is(tx.state, 'Proceeding');
});

ict('RFC 3261 §17.1.1.3: a 486 is ACKed with the INVITE top Via, Request-URI, Route and the response To', () => {
  const { transport, user, invite, tx } = setup();
  const busy = makeResponse(invite, 486, 'callee-tag');
  tx.receiveResponse(busy);
  assert.is(tx.state, 'Completed');
  assert.equal(user.responses.map((r) => r.status), [486]);
  const acks = transport.sent.filter((r) => r.message.type === 'request' && r.message.method === 'ACK');
  assert.is(acks.length, 1);
  const ack = acks[0]!.message;
  assert.is(ack.type, 'request');
  if (ack.type !== 'request') return;
  assert.is(ack.uri, invite.uri);
  assert.equal(ack.headers.getAll('via'), [invite.headers.get('via')!]);
  assert.is(ack.headers.get('to'), busy.headers.get('to'));
  assert.is(ack.headers.get('from'), invite.headers.get('from'));
  assert.is(ack.headers.get('call-id'), invite.headers.get('call-id'));
  assert.is(ack.headers.get('cseq'), '314159 ACK');
  assert.equal(ack.headers.getAll('route'), invite.headers.getAll('route'));
  assert.is(ack.body.length, 0);
  assert.equal(acks[0]!.dest, PEER);
});

ict('RFC 3261 §17.1.1.2: in Completed a retransmitted 486 re-sends the ACK only; Timer D ends it after 32 s on UDP', () => {
  const { clock, transport, user, invite, tx } = setup();
  clock.advance(100);
  tx.receiveResponse(makeResponse(invite, 486));
  clock.advance(1_000);
  tx.receiveResponse(makeResponse(invite, 486));
  assert.equal(transport.times('ACK'), [100, 1100]);
  assert.is(user.responses.length, 1, 'retransmission not passed to TU');
  clock.advance(30_999);
  assert.is(tx.state, 'Completed');
  clock.advance(1);
  assert.is(tx.state, 'Terminated', 'Timer D = 32 s after the 486');
  assert.equal(transport.times('INVITE'), [0], 'no INVITE retransmission after the final response');
});

ict('RFC 3261 §17.1.1.2: Timer D is zero on a reliable transport', () => {
  const { invite, tx, clock } = setup(true);
  tx.receiveResponse(makeResponse(invite, 603));
  assert.is(tx.state, 'Terminated');
  assert.is(clock.pendingCount, 0);
});

ict('RFC 6026 §7.2: a 2xx goes to the TU without an ACK; Accepted passes 2xx retransmissions up until Timer M', () => {
  const { clock, transport, user, invite, tx } = setup();
  clock.advance(700);
  tx.receiveResponse(makeResponse(invite, 200));
  assert.is(tx.state, 'Accepted');
  clock.advance(1_000);
  tx.receiveResponse(makeResponse(invite, 200));
  tx.receiveResponse(makeResponse(invite, 180));
  assert.equal(user.responses.map((r) => r.status), [200, 200]);
  assert.equal(transport.times('ACK'), []);
  assert.equal(transport.times('INVITE'), [0, 500]);
  clock.advance(30_999);
  assert.is(tx.state, 'Accepted');
  clock.advance(1);
  assert.is(tx.state, 'Terminated', 'Timer M = 64*T1 after the 2xx');
});

ict('RFC 3261 §17.1.4: a transport failure informs the TU and terminates the transaction', async () => {
  const clock = new ManualClock();
  const transport = new FakeTransport(clock);
  transport.failWith = new Error('EHOSTUNREACH');
  const user = new RecordingUser(clock);
  const tx = new InviteClientTransaction('k', makeRequest('INVITE'), PEER, transport, user, testContext(clock));
  tx.start();
  await flushMicrotasks();
  assert.is(tx.state, 'Terminated');
  assert.is(user.transportErrors.length, 1);
  assert.ok(user.transportErrors[0] instanceof TransactionError);
  assert.is(user.transportErrors[0]!.code, 'transaction.transport');
  assert.is(user.transportErrors[0]!.sipStatus, 503);
  assert.is(clock.pendingCount, 0, 'Timers A and B cancelled');
});

ict.run();
