import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createResponse } from '../message/create-response.ts';
import { SipParseError } from '../message/errors.ts';
import { isDialogError } from './errors.ts';
import {
  type SessionTimerPolicy, answerSessionTimer, expiryDelayMs, forwardSessionTimer, isLocalRefresher,
  readSessionTimer, refreshDelayMs, retryAfter422, sessionTimerFromResponse,
} from './session-timer.ts';
import { inviteAtBob } from './test-support.ts';

const POLICY: SessionTimerPolicy = { minSe: 300, interval: 1800 };

const Read = suite('readSessionTimer');

Read('Session-Expires (compact x), Min-SE and timer support from Supported or Require (RFC 4028 §4, §5)', () => {
  const f = readSessionTimer(inviteAtBob('x: 1800;refresher=uac', 'Min-SE: 600', 'Supported: 100rel, timer').headers);
  assert.equal(f.sessionExpires?.interval, 1800);
  assert.equal(f.sessionExpires?.refresher, 'uac');
  assert.is(f.minSe, 600);
  assert.is(f.supported, true);
  assert.is(readSessionTimer(inviteAtBob('Require: timer').headers).supported, true);
  assert.equal(readSessionTimer(inviteAtBob().headers), { sessionExpires: undefined, minSe: undefined, supported: false });
});

const Answer = suite('answerSessionTimer');

Answer('too small from a UAC that supports the timer: 422 with our Min-SE (RFC 4028 §9, §6)', () => {
  const a = answerSessionTimer(inviteAtBob('Session-Expires: 120', 'Supported: timer'), POLICY);
  assert.equal(a, { action: 'reject', status: 422, minSe: 300, headers: [['Min-SE', '300']] });
  const b = answerSessionTimer(inviteAtBob('Session-Expires: 120', 'Min-SE: 120', 'Supported: timer'), { minSe: 90, interval: 1800 });
  assert.is(b.action, 'accept', '120 >= our 90');
});

Answer('too small from a UAC without support: kept, and the UAS refreshes (§9, Table 2)', () => {
  const a = answerSessionTimer(inviteAtBob('Session-Expires: 120'), POLICY);
  assert.equal(a, { action: 'accept', timer: { interval: 120, refresher: 'uas' }, headers: [['Session-Expires', '120;refresher=uas']] });
});

Answer('refresher: the request choice, else ours; Require: timer when the UAC refreshes (§9, Table 2)', () => {
  const free = answerSessionTimer(inviteAtBob('Session-Expires: 1800', 'Supported: timer'), POLICY);
  assert.equal(free, {
    action: 'accept',
    timer: { interval: 1800, refresher: 'uac' },
    headers: [['Session-Expires', '1800;refresher=uac'], ['Require', 'timer']],
  });
  const ours = answerSessionTimer(inviteAtBob('Session-Expires: 1800', 'Supported: timer'), { ...POLICY, refresher: 'uas' });
  assert.equal(ours.action === 'accept' && ours.timer, { interval: 1800, refresher: 'uas' });
  const theirs = answerSessionTimer(inviteAtBob('Session-Expires: 1800;refresher=uas', 'Supported: timer'), POLICY);
  assert.equal(theirs.action === 'accept' && theirs.headers, [['Session-Expires', '1800;refresher=uas']]);
});

Answer('lowers a long interval toward ours but not under Min-SE, never raises (§9)', () => {
  const long = answerSessionTimer(inviteAtBob('Session-Expires: 7200', 'Supported: timer'), POLICY);
  assert.is(long.action === 'accept' && long.timer?.interval, 1800);
  const floor = answerSessionTimer(inviteAtBob('Session-Expires: 7200', 'Min-SE: 3600', 'Supported: timer'), POLICY);
  assert.is(floor.action === 'accept' && floor.timer?.interval, 3600);
  const short = answerSessionTimer(inviteAtBob('Session-Expires: 600', 'Supported: timer'), POLICY);
  assert.is(short.action === 'accept' && short.timer?.interval, 600);
});

Answer('no Session-Expires: a timer only when inserting and the UAC supports it (§9)', () => {
  const insert = { ...POLICY, insert: true };
  const yes = answerSessionTimer(inviteAtBob('Supported: timer', 'Min-SE: 2400'), insert);
  assert.equal(yes.action === 'accept' && yes.timer, { interval: 2400, refresher: 'uac' });
  assert.equal(answerSessionTimer(inviteAtBob(), insert), { action: 'accept', timer: undefined, headers: [] });
  assert.equal(answerSessionTimer(inviteAtBob('Supported: timer'), POLICY), { action: 'accept', timer: undefined, headers: [] });
});

Answer('a malformed Session-Expires throws SipParseError (400); a bad policy DialogError', () => {
  assert.throws(() => answerSessionTimer(inviteAtBob('Session-Expires: soon'), POLICY), (e: unknown) => e instanceof SipParseError);
  assert.throws(() => answerSessionTimer(inviteAtBob(), { minSe: 30, interval: 1800 }), (e: unknown) => isDialogError(e, 'dialog.invalid-argument'));
  assert.throws(() => answerSessionTimer(inviteAtBob(), { minSe: 600, interval: 300 }), (e: unknown) => isDialogError(e));
});

const Forward = suite('forwardSessionTimer');

Forward('too small with support: 422; without: raised to our minimum with Min-SE (RFC 4028 §8.1)', () => {
  assert.equal(forwardSessionTimer(inviteAtBob('Session-Expires: 100', 'Supported: timer'), POLICY), {
    action: 'reject', status: 422, minSe: 300, headers: [['Min-SE', '300']],
  });
  const raised = forwardSessionTimer(inviteAtBob('Session-Expires: 100;refresher=uas', 'Min-SE: 100'), POLICY);
  assert.equal(raised.headers, [['Session-Expires', '300;refresher=uas'], ['Min-SE', '300']]);
});

Forward('in range: lowered toward ours, refresher kept, Min-SE raised to ours (§8.1)', () => {
  const f = forwardSessionTimer(inviteAtBob('Session-Expires: 3600;refresher=uac', 'Supported: timer'), POLICY);
  assert.equal(f.headers, [['Session-Expires', '1800;refresher=uac'], ['Min-SE', '300']]);
  const plain = forwardSessionTimer(inviteAtBob('Session-Expires: 900'), { minSe: 90, interval: 1800 });
  assert.equal(plain.headers, [['Session-Expires', '900']], 'no Min-SE needed at the 90 s floor');
});

Forward('absent: inserted only when the policy says so; Min-SE passed through (§8.1)', () => {
  const ins = forwardSessionTimer(inviteAtBob('Min-SE: 600'), { ...POLICY, insert: true });
  assert.equal(ins.headers, [['Session-Expires', '1800'], ['Min-SE', '600']]);
  assert.equal(forwardSessionTimer(inviteAtBob('Min-SE: 600'), POLICY), {
    action: 'forward', sessionExpires: undefined, minSe: 600, headers: [['Min-SE', '600']],
  });
});

const Retry = suite('retryAfter422');

Retry('retry with Session-Expires and Min-SE at the 422 Min-SE, refresher kept (RFC 4028 §7.4)', () => {
  const sent = inviteAtBob('Session-Expires: 120;refresher=uac', 'Supported: timer');
  const r = retryAfter422(sent, createResponse(sent, 422, undefined, { headers: [['Min-SE', '1800']] }));
  assert.equal(r?.headers, [['Session-Expires', '1800;refresher=uac'], ['Min-SE', '1800']]);
  assert.is(r?.minSe, 1800);
});

Retry('no retry when the 422 has no Min-SE or would not lengthen the interval', () => {
  const sent = inviteAtBob('Session-Expires: 1800', 'Supported: timer');
  assert.is(retryAfter422(sent, createResponse(sent, 422)), undefined);
  assert.is(retryAfter422(sent, createResponse(sent, 422, undefined, { headers: [['Min-SE', '900']] })), undefined);
  assert.is(retryAfter422(sent, createResponse(sent, 486)), undefined);
});

const FromResponse = suite('sessionTimerFromResponse');

FromResponse('the 2xx Session-Expires, refresher uac when it names none; none without (RFC 4028 §7.2)', () => {
  const inv = inviteAtBob();
  assert.equal(sessionTimerFromResponse(createResponse(inv, 200, 'OK', { headers: [['Session-Expires', '1800;refresher=uas']] })), { interval: 1800, refresher: 'uas' });
  assert.equal(sessionTimerFromResponse(createResponse(inv, 200, 'OK', { headers: [['Session-Expires', '900']] })), { interval: 900, refresher: 'uac' });
  assert.is(sessionTimerFromResponse(createResponse(inv, 200)), undefined);
});

const Timing = suite('isLocalRefresher / refreshDelayMs / expiryDelayMs');

Timing('refresh at half the interval; give up at interval - min(32, interval/3) (RFC 4028 §10)', () => {
  assert.is(isLocalRefresher({ interval: 1800, refresher: 'uac' }, 'uac'), true);
  assert.is(isLocalRefresher({ interval: 1800, refresher: 'uac' }, 'uas'), false);
  assert.is(refreshDelayMs(1800), 900_000);
  assert.is(refreshDelayMs(91), 45_500);
  assert.is(expiryDelayMs(1800), 1_768_000);
  assert.is(expiryDelayMs(90), 60_000);
});

Read.run();
Answer.run();
Forward.run();
Retry.run();
FromResponse.run();
Timing.run();
