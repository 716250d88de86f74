import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { expiryDelayMs } from '../../sip/dialog/session-timer.ts';
import { tagOf } from '../../sip/transaction/header-fields.ts';
import { parseSdp } from '../sdp/session-description.ts';
import { CALLEE, CALLER, callWorld, flush, sdp, sip, type CallWorld } from './test-support.ts';

const sdpOf = (body: Buffer) => {
  const parsed = parseSdp(body);
  if (parsed instanceof Error) throw parsed;
  return parsed;
};

const admission = suite('CallController: admission of a new INVITE');

admission('without credentials: 407 with Proxy-Authenticate, no call, no CDR (RFC 3261 §22.3)', async () => {
  const w = callWorld();
  w.receive(w.invite({ auth: false }));
  await flush();
  const [res] = w.responsesTo(CALLER);
  assert.is(res!.status, 407);
  assert.match(res!.headers.get('proxy-authenticate')!, 'Digest realm="branch-a.example"');
  assert.is(w.requestsTo(CALLEE, 'INVITE').length, 0);
  assert.is(w.controller.activeCalls, 0);
  assert.is(w.store.cdrs.since(0).length, 0);
  await w.close();
});

admission('a wrong password: 403', async () => {
  const w = callWorld();
  const req = w.invite();
  req.headers.set('Proxy-Authorization', req.headers.get('proxy-authorization')!.replace(/response="[0-9a-f]+"/, `response="${'0'.repeat(32)}"`));
  w.receive(req);
  await flush();
  assert.equal(w.statusesTo(CALLER), [403]);
  await w.close();
});

admission('calls.maxTotal reached: 503 with Retry-After; calls.maxPerUser reached by the caller: 486', async () => {
  const w = callWorld({ maxTotal: 1, maxPerUser: 1 });
  await w.dial();
  w.receive(w.invite({ from: '1003', callee: '1002' }));
  await flush();
  const busyBox = w.responsesTo(CALLER).at(-1)!;
  assert.is(busyBox.status, 503);
  assert.is(busyBox.reason, 'Call limit of this box reached');
  assert.is(busyBox.headers.get('retry-after'), '30');
  await w.close();

  const v = callWorld({ maxPerUser: 1 });
  await v.dial();
  v.receive(v.invite({ callee: '1003' }));
  await flush();
  assert.equal([v.responsesTo(CALLER).at(-1)!.status, v.responsesTo(CALLER).at(-1)!.reason], [486, 'Call limit reached for caller']);
  v.receive(v.invite({ from: '1003', callee: '1002' }));
  await flush();
  assert.equal([v.responsesTo(CALLER).at(-1)!.status, v.responsesTo(CALLER).at(-1)!.reason], [486, 'Busy Here'], 'the callee is at its limit');
  await v.close();
});

admission('Max-Forwards 0: 483; the box\'s own outgoing Call-ID: 482 (RFC 3261 §16.3, §8.2.2.2)', async () => {
  const w = callWorld();
  const { b } = await w.dial();
  const hops = w.invite();
  hops.headers.set('Max-Forwards', '0');
  w.receive(hops);
  const loop = w.invite();
  loop.headers.set('Call-ID', b.headers.get('call-id')!);
  w.receive(loop);
  await flush();
  assert.equal(w.statusesTo(CALLER).slice(-2), [483, 482]);
  await w.close();
});

admission('a callee without binding: 480; a number no route matches: 404; no SDP offer: 488', async () => {
  const w = callWorld();
  w.receive(w.invite({ callee: '1003' }));
  w.receive(w.invite({ callee: '555' }));
  w.receive(w.invite({ body: '' }));
  await flush();
  assert.equal(w.responsesTo(CALLER).map((r) => `${r.status} ${r.reason}`), ['480 1003 is not registered', '404 No route to 555', '488 An SDP offer is required']);
  await w.close();
});

const call = suite('CallController: a call');

call('rings the binding with a new INVITE, relays 180 and the answer, ACKs the 2xx on both legs (RFC 3261 §13.2.2.4, §13.3.1.4)', async () => {
  const w = callWorld();
  const { req, b } = await w.dial();
  assert.is(b.uri, 'sip:1002@192.0.2.20:5062', 'the Request-URI is the binding\'s contact');
  assert.is(b.headers.get('from')!.replace(/;tag=.*/, ''), '"Ann Example" <sip:1001@branch-a.example>');
  assert.is(b.headers.get('to'), '<sip:1002@branch-a.example>');
  assert.is(b.headers.get('max-forwards'), '69');
  assert.is.not(b.headers.get('call-id'), req.headers.get('call-id'), 'leg b has its own Call-ID (a B2BUA)');
  const offer = sdpOf(b.body);
  assert.equal([offer.streams[0]!.address, offer.streams[0]!.port], ['203.0.113.1', 30002], 'the callee is offered the relay\'s leg b');

  w.receive(w.calleeResponse(b, 180, 'Ringing'), CALLEE);
  assert.is(w.statusesTo(CALLER).at(-1), 180);
  w.receive(w.calleeResponse(b, 200, 'OK', sdp(CALLEE.address, 40000)), CALLEE);
  const ok = w.responsesTo(CALLER).at(-1)!;
  assert.is(ok.status, 200);
  assert.ok(tagOf(ok.headers.get('to')) !== '', 'the 2xx carries the box\'s To tag');
  const answer = sdpOf(ok.body);
  assert.equal([answer.streams[0]!.address, answer.streams[0]!.port], ['203.0.113.1', 30000], 'the caller gets the relay\'s leg a');
  const [ack] = w.requestsTo(CALLEE, 'ACK');
  assert.is(ack!.headers.get('cseq'), '1 ACK');
  const session = w.relay.sessions[0]!;
  assert.equal([session.updates.b.at(-1)!.address, session.updates.b.at(-1)!.rtpPort], [CALLEE.address, 40000]);
  assert.equal([session.updates.a.at(-1)!.address, session.updates.a.at(-1)!.rtpPort], [CALLER.address, 20000]);

  w.clock.advance(500);
  assert.is(w.statusesTo(CALLER).filter((s) => s === 200).length, 2, 'the 2xx is retransmitted at T1 until the ACK');
  w.receive(w.fromCaller(ok, 'ACK', 1));
  w.clock.advance(10_000);
  assert.is(w.statusesTo(CALLER).filter((s) => s === 200).length, 2, 'no retransmission after the ACK');
  assert.is(w.controller.activeCalls, 1);
  await w.close();
});

call('CANCEL before the answer: 200 to the CANCEL, 487 to the INVITE, CANCEL to the ringing fork, CDR cancelled (RFC 3261 §9.1, §9.2)', async () => {
  const w = callWorld();
  const { req, b } = await w.dial();
  w.receive(w.calleeResponse(b, 180, 'Ringing'), CALLEE);
  const cancel = sip([
    `CANCEL ${req.uri} SIP/2.0`, `Via: ${req.headers.get('via')}`, 'Max-Forwards: 70', `From: ${req.headers.get('from')}`,
    `To: ${req.headers.get('to')}`, `Call-ID: ${req.headers.get('call-id')}`, 'CSeq: 1 CANCEL',
  ]);
  w.receive(cancel);
  const statuses = w.statusesTo(CALLER);
  assert.ok(statuses.includes(200) && statuses.at(-1) === 487, `200 to the CANCEL, then 487 (got ${statuses.join(',')})`);
  const [fork] = w.requestsTo(CALLEE, 'CANCEL');
  assert.is(fork!.headers.get('via'), b.headers.get('via'), 'the CANCEL matches the fork\'s INVITE transaction');
  assert.is(fork!.headers.get('cseq'), '1 CANCEL');
  assert.equal(await w.cdr('disposition', 'sipStatus', 'endedBy', 'caller', 'callee'), ['cancelled', 487, 'caller', '1001', '1002']);
  assert.is(w.controller.activeCalls, 0);
  assert.ok(w.relay.sessions[0]!.released, 'the relay ports are freed');
  await w.close();
});

call('BYE from the caller: 200, BYE on the callee\'s leg, CDR answered with the talk time (RFC 3261 §15.1.2)', async () => {
  const w = callWorld();
  const { ok, b } = await w.answeredCall();
  w.clock.advance(5_000);
  w.receive(w.fromCaller(ok, 'BYE', 2));
  assert.is(w.statusesTo(CALLER).at(-1), 200);
  const [bye] = w.requestsTo(CALLEE, 'BYE');
  assert.is(bye!.headers.get('call-id'), b.headers.get('call-id'));
  assert.match(bye!.headers.get('reason')!, 'caller hung up');
  assert.equal(await w.cdr('disposition', 'endedBy', 'durationMs', 'codecA', 'codecB', 'bCallId'), ['answered', 'caller', 5_000, 'PCMU/8000', 'PCMU/8000', b.headers.get('call-id')]);
  await w.close();
});

call('BYE from the callee: 200 on its leg, BYE to the caller, CDR ended by the callee', async () => {
  const w = callWorld();
  const { b } = await w.answeredCall();
  const bye = w.fromCallee(b, 'BYE', 7);
  w.receive(bye, CALLEE);
  const res = w.responsesTo(CALLEE).at(-1)!;
  assert.equal([res.status, tagOf(res.headers.get('to'))], [200, tagOf(b.headers.get('from'))]);
  const [toCaller] = w.requestsTo(CALLER, 'BYE');
  assert.match(toCaller!.headers.get('reason')!, 'callee hung up');
  assert.equal(await w.cdr('disposition', 'endedBy'), ['answered', 'callee']);
  await w.close();
});

call('a busy callee: 486 to the caller, CDR busy ended by the callee (RFC 3261 §16.7 step 6)', async () => {
  const w = callWorld();
  const { b } = await w.dial();
  w.receive(w.calleeResponse(b, 486, 'Busy Here'), CALLEE);
  assert.is(w.statusesTo(CALLER).at(-1), 486);
  assert.is(w.requestsTo(CALLEE, 'ACK').length, 1, 'the transaction ACKs the non-2xx itself (RFC 3261 §17.1.1.3)');
  assert.equal(await w.cdr('disposition', 'endedBy'), ['busy', 'callee']);
  await w.close();
});

call('a callee answering with a format it was not offered: ACK and BYE to it, 488 to the caller (RFC 3264 §6)', async () => {
  const w = callWorld();
  const { b } = await w.dial();
  const pcma = sdp(CALLEE.address, 40000).replace('RTP/AVP 0 101', 'RTP/AVP 8').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000').replace('a=rtpmap:101 telephone-event/8000\r\n', '');
  w.receive(w.calleeResponse(b, 200, 'OK', pcma), CALLEE);
  assert.is(w.requestsTo(CALLEE, 'ACK').length, 1);
  assert.is(w.requestsTo(CALLEE, 'BYE').length, 1);
  assert.is(w.statusesTo(CALLER).at(-1), 488);
  assert.equal(await w.cdr('disposition', 'answeredAt'), ['failed', null]);
  await w.close();
});

const inDialog = suite('CallController: requests inside a call');

inDialog('a re-INVITE putting the call on hold crosses to the callee, and the answer comes back (RFC 3264 §8.4)', async () => {
  const w = callWorld();
  const { ok, b } = await w.answeredCall();
  const session = w.relay.sessions[0]!;
  w.receive(w.fromCaller(ok, 'INVITE', 2, sdp(CALLER.address, 20000, 'sendonly', 2)));
  assert.is(session.updates.a.at(-1)!.sending, false, 'the caller\'s leg is on hold in the relay');
  const reinvite = w.requestsTo(CALLEE, 'INVITE').at(-1)!;
  assert.is.not(reinvite, b);
  assert.is(tagOf(reinvite.headers.get('to')), 'callee-tag', 'sent in the callee\'s dialog');
  assert.is(sdpOf(reinvite.body).streams[0]!.direction, 'sendonly');
  w.receive(w.calleeResponse(reinvite, 200, 'OK', sdp(CALLEE.address, 40000, 'recvonly', 2)), CALLEE);
  assert.is(w.requestsTo(CALLEE, 'ACK').at(-1)!.headers.get('cseq'), `${reinvite.headers.get('cseq')!.split(' ')[0]} ACK`);
  const answer = w.responsesTo(CALLER).at(-1)!;
  assert.is(answer.status, 200);
  assert.equal([sdpOf(answer.body).streams[0]!.direction, sdpOf(answer.body).streams[0]!.port], ['recvonly', 30000]);
  assert.is(session.updates.b.at(-1)!.sending, false);
  await w.close();
});

inDialog('a re-INVITE without SDP is a session refresh: 200 with the SDP the caller has, o= version unchanged (RFC 3264 §8, RFC 4028 §7.4)', async () => {
  const w = callWorld();
  const { ok } = await w.answeredCall();
  w.receive(w.fromCaller(ok, 'INVITE', 2));
  const refresh = w.responsesTo(CALLER).at(-1)!;
  assert.is(refresh.status, 200);
  assert.is(sdpOf(refresh.body).tree.origin!.sessionVersion, sdpOf(ok.body).tree.origin!.sessionVersion);
  assert.is(w.requestsTo(CALLEE, 'INVITE').length, 1, 'nothing crosses to the callee');
  await w.close();
});

inDialog('a second offer while one is pending gets 491; a refused offer puts the media back (RFC 3261 §14.1, §14.2)', async () => {
  const w = callWorld();
  const { ok, b } = await w.answeredCall();
  const session = w.relay.sessions[0]!;
  w.receive(w.fromCaller(ok, 'INVITE', 2, sdp(CALLER.address, 20002, 'sendrecv', 2)));
  const reinvite = w.requestsTo(CALLEE, 'INVITE').at(-1)!;
  w.receive(w.fromCallee(b, 'UPDATE', 8, sdp(CALLEE.address, 40002, 'sendrecv', 2)), CALLEE);
  assert.is(w.responsesTo(CALLEE).at(-1)!.status, 491, 'glare');
  w.receive(w.calleeResponse(reinvite, 488, 'Not Acceptable Here'), CALLEE);
  assert.is(w.statusesTo(CALLER).at(-1), 488);
  assert.is(session.updates.a.at(-1)!.rtpPort, 20000, 'the caller\'s media is back where it was');
  await w.close();
});

inDialog('a request in an unknown dialog gets 481; after the call it gets 481 too (RFC 3261 §12.2.2)', async () => {
  const w = callWorld();
  const { ok } = await w.answeredCall();
  const stranger = w.fromCaller(ok, 'BYE', 2);
  stranger.headers.set('To', ok.headers.get('to')!.replace(/tag=[^;]+/, 'tag=nosuchtag'));
  w.receive(stranger);
  assert.is(w.statusesTo(CALLER).at(-1), 481);
  w.receive(w.fromCaller(ok, 'BYE', 3));
  assert.is(w.statusesTo(CALLER).at(-1), 200);
  w.receive(w.fromCaller(ok, 'INFO', 4));
  assert.is(w.statusesTo(CALLER).at(-1), 481, 'the dialog is terminated');
  await w.close();
});

inDialog('two callers that chose the same Call-ID are told apart by their tags (RFC 3261 §12)', async () => {
  const w = callWorld();
  const first = await w.answeredCall();
  const second = w.invite({ from: '1003' });
  second.headers.set('Call-ID', first.req.headers.get('call-id')!);
  const { b } = await w.dial(second);
  w.receive(w.calleeResponse(b, 200, 'OK', sdp(CALLEE.address, 40002)), CALLEE);
  const ok = w.responsesTo(CALLER).at(-1)!;
  assert.is.not(tagOf(ok.headers.get('to')), tagOf(first.ok.headers.get('to')));
  w.receive(w.fromCaller(ok, 'BYE', 2));
  assert.is(w.requestsTo(CALLEE, 'BYE').at(-1)!.headers.get('call-id'), b.headers.get('call-id'), 'the BYE ends the second call');
  assert.is(w.controller.activeCalls, 1, 'the first call goes on');
  await w.close();
});

inDialog('INFO is passed through to the other party and its answer comes back', async () => {
  const w = callWorld();
  const { ok } = await w.answeredCall();
  w.receive(w.fromCaller(ok, 'INFO', 2));
  const info = w.requestsTo(CALLEE, 'INFO').at(-1)!;
  w.receive(w.calleeResponse(info, 200, 'OK'), CALLEE);
  assert.is(w.statusesTo(CALLER).at(-1), 200);
  await w.close();
});

/** The box hung up an answered call: one BYE to each party, the CDR says why; closes the world. */
async function endedByBox(w: CallWorld, reason: string): Promise<void> {
  assert.is(w.requestsTo(CALLER, 'BYE').length, 1);
  assert.is(w.requestsTo(CALLEE, 'BYE').length, 1);
  assert.equal(await w.cdr('disposition', 'endedBy', 'sipReason'), ['answered', 'system', reason]);
  await w.close();
}

const timers = suite('CallController: timers on the injected clock');

timers('no answer within calls.ringTimeout: 480 to the caller, CANCEL to the fork, CDR no-answer', async () => {
  const w = callWorld({ ringTimeout: 20 });
  const { b } = await w.dial();
  w.receive(w.calleeResponse(b, 180, 'Ringing'), CALLEE);
  w.clock.advance(19_999);
  assert.is(w.requestsTo(CALLEE, 'CANCEL').length, 0);
  w.clock.advance(1);
  assert.is(w.statusesTo(CALLER).at(-1), 480);
  assert.is(w.requestsTo(CALLEE, 'CANCEL').length, 1);
  assert.equal(await w.cdr('disposition', 'endedBy', 'sipStatus'), ['no-answer', 'system', 480]);
  await w.close();
});

timers('session timer: a refresh restarts it; without one the call ends at expiry with BYE to both (RFC 4028 §10)', async () => {
  const w = callWorld({ sessionExpires: 300, minSE: 90 });
  const req = w.invite({ headers: ['Supported: timer', 'Session-Expires: 300;refresher=uac'] });
  const { b } = await w.dial(req);
  w.receive(w.calleeResponse(b, 200, 'OK', sdp(CALLEE.address, 40000)), CALLEE);
  const ok = w.responsesTo(CALLER).at(-1)!;
  assert.is(ok.headers.get('session-expires'), '300;refresher=uac');
  assert.is(ok.headers.get('require'), 'timer');
  w.receive(w.fromCaller(ok, 'ACK', 1));
  const expiry = expiryDelayMs(300);
  w.clock.advance(expiry - 1_000);
  w.receive(w.fromCaller(ok, 'UPDATE', 2));
  assert.is(w.responsesTo(CALLER).at(-1)!.headers.get('session-expires'), '300;refresher=uac', 'the refresh is answered with the timer');
  w.clock.advance(expiry - 1);
  assert.is(w.requestsTo(CALLER, 'BYE').length, 0, 'the refresh restarted the timer');
  w.clock.advance(1);
  await endedByBox(w, 'session timer expired');
});

timers('the relay reports no media: BYE to both parties, CDR ended by the system', async () => {
  const w = callWorld();
  await w.answeredCall();
  w.relay.timeouts[0]!();
  await endedByBox(w, 'media timeout');
});

timers('an ended call still answers its late requests for 32 s, then the registry forgets it', async () => {
  const w = callWorld();
  const { ok } = await w.answeredCall();
  w.receive(w.fromCaller(ok, 'BYE', 2));
  const late = w.fromCaller(ok, 'INFO', 3);
  w.receive(late);
  const byCall = w.responsesTo(CALLER).at(-1)!;
  assert.is(byCall.status, 481);
  assert.is(tagOf(byCall.headers.get('to')), tagOf(ok.headers.get('to')));
  w.clock.advance(32_000);
  w.receive(w.fromCaller(ok, 'INFO', 4));
  assert.is(w.statusesTo(CALLER).at(-1), 481);
  await w.close();
});

admission.run();
call.run();
inDialog.run();
timers.run();
