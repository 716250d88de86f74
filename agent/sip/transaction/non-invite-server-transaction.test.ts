import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import type { TransactionError } from './errors.ts';
import { NonInviteServerTransaction } from './non-invite-server-transaction.ts';
import { FakeTransport, PEER, flushMicrotasks, makeRequest, makeResponse, testContext } from './test-support.ts';

function setup(reliable = false, method = 'REGISTER') {
  const clock = new ManualClock();
  const transport = new FakeTransport(clock, { reliable });
  const request = makeRequest(method);
  const tx = new NonInviteServerTransaction('nist-key', request, PEER, transport, testContext(clock, reliable));
  const transportErrors: TransactionError[] = [];
  tx.user = { onTransportError: (e) => transportErrors.push(e) };
  tx.start();
  return { clock, transport, request, tx, transportErrors };
}

const nist = suite('NonInviteServerTransaction');

nist('RFC 3261 §17.2.2: retransmissions in Trying are discarded; no automatic 100', () => {
  const { clock, transport, request, tx } = setup();
  clock.advance(1_000);
  tx.receiveRetransmission(request);
  clock.advance(10_000);
  assert.is(transport.sent.length, 0);
  assert.is(tx.state, 'Trying');
});

nist('RFC 3261 §17.2.2: in Proceeding a retransmission re-sends the last provisional', () => {
  const { clock, transport, request, tx } = setup();
  tx.respond(makeResponse(request, 100));
  assert.is(tx.state, 'Proceeding');
  clock.advance(500);
  tx.receiveRetransmission(request);
  assert.equal(transport.times(100), [0, 500]);
});

nist('RFC 3261 §17.2.2: in Completed every retransmission gets the final response; Timer J = 64*T1 on UDP', () => {
  const { clock, transport, request, tx } = setup();
  clock.advance(100);
  tx.respond(makeResponse(request, 200));
  assert.is(tx.state, 'Completed');
  for (const step of [500, 1_000, 2_000, 4_000]) {
    clock.advance(step);
    tx.receiveRetransmission(request);
  }
  assert.equal(transport.times(200), [100, 600, 1600, 3600, 7600]);
  tx.respond(makeResponse(request, 500));
  assert.equal(transport.times(500), [], 'a later final response is discarded');
  clock.advance(32_000 - 7_500 - 1);
  assert.is(tx.state, 'Completed');
  clock.advance(1);
  assert.is(tx.state, 'Terminated', 'Timer J = 32 s after the final response');
  tx.receiveRetransmission(request);
  assert.is(transport.times(200).length, 5);
});

nist('RFC 3261 §17.2.2: Timer J is zero on a reliable transport', () => {
  const { clock, request, tx, transport } = setup(true);
  tx.respond(makeResponse(request, 200));
  assert.is(tx.state, 'Terminated');
  assert.is(transport.sent.length, 1);
  assert.is(clock.pendingCount, 0);
});

nist('RFC 3261 §9.2: a CANCEL is answered by its own NIST like any non-INVITE', () => {
  const { transport, request, tx } = setup(false, 'CANCEL');
  tx.respond(makeResponse(request, 200));
  assert.is(tx.state, 'Completed');
  assert.is(transport.sent[0]!.message.headers.get('cseq'), '314159 CANCEL');
});

nist('RFC 6026 §8.8: a transport failure is reported once, the state is kept and Timer J still ends it', async () => {
  const { clock, transport, request, tx, transportErrors } = setup();
  transport.failWith = new Error('ECONNRESET');
  tx.respond(makeResponse(request, 200));
  tx.receiveRetransmission(request);
  await flushMicrotasks();
  assert.is(transportErrors.length, 1);
  assert.is(transportErrors[0]!.sipStatus, 503);
  assert.is(tx.state, 'Completed');
  clock.advance(32_000);
  assert.is(tx.state, 'Terminated');
});

nist.run();
