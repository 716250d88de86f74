import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { NonInviteClientTransaction } from './non-invite-client-transaction.ts';
import { FakeTransport, PEER, RecordingUser, flushMicrotasks, makeRequest, makeResponse, testContext } from './test-support.ts';

function setup(reliable = false, method = 'OPTIONS') {
  const clock = new ManualClock();
  const transport = new FakeTransport(clock, { reliable });
  const user = new RecordingUser(clock);
  const request = makeRequest(method);
  const tx = new NonInviteClientTransaction(`z9hG4bK776asdhds|${method}`, request, PEER, transport, user, testContext(clock, reliable));
  tx.start();
  return { clock, transport, user, request, tx };
}

const nict = suite('NonInviteClientTransaction');

nict('RFC 3261 §17.1.2.2: Timer E doubles from T1 up to T2; Timer F times out at 64*T1 after 11 sends', () => {
  const { clock, transport, user, tx } = setup();
  clock.advance(31_999);
  assert.equal(transport.times('OPTIONS'), [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  assert.is(tx.state, 'Trying');
  clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.is(user.timeouts.length, 1);
  assert.is(user.timeouts[0]!.at, 32_000);
  assert.is(user.timeouts[0]!.error.code, 'transaction.timer-f');
  assert.is(user.timeouts[0]!.error.sipStatus, 408);
  clock.advance(60_000);
  assert.is(transport.sent.length, 11);
  assert.is(clock.pendingCount, 0);
});

nict('RFC 3261 §17.1.2.2: reliable transport sends once (no Timer E); Timer F still 64*T1', () => {
  const { clock, transport, user, tx } = setup(true);
  assert.not.ok(tx.hasTimer('E'));
  clock.advance(32_000);
  assert.equal(transport.times('OPTIONS'), [0]);
  assert.is(user.timeouts.length, 1);
});

nict('RFC 3261 §17.1.2.2: in Proceeding Timer E is reset to T2 each time it fires; F still applies', () => {
  const { clock, transport, user, request, tx } = setup();
  clock.advance(600); // sends at 0 and 500; E next due at 1500 (interval 1000)
  tx.receiveResponse(makeResponse(request, 100));
  assert.is(tx.state, 'Proceeding');
  assert.equal(user.responses.map((r) => r.status), [100]);
  clock.advance(31_399);
  assert.equal(transport.times('OPTIONS'), [0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500]);
  assert.is(user.timeouts.length, 0);
  clock.advance(1);
  assert.is(tx.state, 'Terminated');
  assert.is(user.timeouts.length, 1);
});

nict('RFC 3261 §17.1.2.2: a final response → Completed, retransmissions absorbed, Timer K = T4 on UDP', () => {
  const { clock, transport, user, request, tx } = setup(false, 'REGISTER');
  clock.advance(800);
  tx.receiveResponse(makeResponse(request, 200));
  assert.is(tx.state, 'Completed');
  tx.receiveResponse(makeResponse(request, 200));
  assert.is(user.responses.length, 1, 'retransmitted final response absorbed');
  clock.advance(4_999);
  assert.is(tx.state, 'Completed');
  clock.advance(1);
  assert.is(tx.state, 'Terminated', 'Timer K = T4 = 5 s');
  clock.advance(60_000);
  assert.equal(transport.times('REGISTER'), [0, 500], 'E and F stopped');
  assert.is(user.timeouts.length, 0);
});

nict('RFC 3261 §17.1.2.2: Timer K is zero on a reliable transport', () => {
  const { clock, request, tx, user } = setup(true);
  tx.receiveResponse(makeResponse(request, 404));
  assert.is(tx.state, 'Terminated');
  assert.equal(user.responses.map((r) => r.status), [404]);
  assert.is(clock.pendingCount, 0);
});

nict('RFC 3261 §17.1.2.2: T1/T2 overrides change the schedule (T1=100, T2=400)', () => {
  const clock = new ManualClock();
  const transport = new FakeTransport(clock);
  const user = new RecordingUser(clock);
  const tx = new NonInviteClientTransaction('k', makeRequest('BYE'), PEER, transport, user, testContext(clock, false, { t1: 100, t2: 400 }));
  tx.start();
  clock.advance(6_400);
  assert.equal(transport.times('BYE'), [0, 100, 300, 700, 1100, 1500, 1900, 2300, 2700, 3100, 3500, 3900, 4300, 4700, 5100, 5500, 5900, 6300]);
  assert.is(user.timeouts[0]!.at, 6_400);
});

nict('RFC 3261 §17.1.4: a transport failure on a retransmission informs the TU and terminates', async () => {
  const { clock, transport, user, tx } = setup();
  transport.failWith = new Error('ENETUNREACH');
  clock.advance(500);
  await flushMicrotasks();
  assert.is(tx.state, 'Terminated');
  assert.is(user.transportErrors.length, 1);
  assert.is(user.transportErrors[0]!.sipStatus, 503);
  assert.is(clock.pendingCount, 0);
});

nict.run();
