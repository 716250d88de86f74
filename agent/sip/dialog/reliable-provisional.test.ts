import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createResponse } from '../message/create-response.ts';
import type { SipRequest } from '../message/sip-message.ts';
import { Dialog } from './dialog.ts';
import { isDialogError } from './errors.ts';
import { formatRAck } from './rack.ts';
import {
  ProvisionalSequence, ReliableProvisionals, isReliableProvisional, prackTimeoutMs, provisionalReliability,
  rackFor, reliableRetransmitDelayMs, requires100rel, supports100rel,
} from './reliable-provisional.ts';
import { answerAtAlice, inviteAtBob, inviteFromAlice } from './test-support.ts';

function prack(rack: string): SipRequest {
  const p = inviteAtBob();
  p.method = 'PRACK';
  p.headers.set('CSeq', '3 PRACK');
  p.headers.set('RAck', rack);
  return p;
}

const Support = suite('supports100rel / requires100rel');

Support('100rel in Supported or Require, any case, inside comma lists (RFC 3262 §3)', () => {
  assert.is(supports100rel(inviteAtBob('Supported: timer, 100REL')), true);
  assert.is(requires100rel(inviteAtBob('Supported: 100rel')), false);
  assert.is(supports100rel(inviteAtBob('Require: 100rel')), true);
  assert.is(requires100rel(inviteAtBob('Require: 100rel')), true);
  const hand = inviteAtBob();
  hand.headers.append('Supported', 'replaces, 100rel');
  assert.is(supports100rel(hand), true, 'a hand-built entry holding a list');
  assert.is(supports100rel(inviteAtBob()), false);
});

const Mode = suite('provisionalReliability');

Mode('Require: 100rel → reliable, or 420 when we never do it (RFC 3262 §3, RFC 3261 §8.2.2.3)', () => {
  assert.equal(provisionalReliability(inviteAtBob('Require: 100rel'), 'when-supported'), { mode: 'reliable' });
  assert.equal(provisionalReliability(inviteAtBob('Require: 100rel'), 'never'), { mode: 'reject', status: 420, headers: [['Unsupported', '100rel']] });
});

Mode('Supported: 100rel → reliable unless policy never; required policy → 421 without it', () => {
  assert.equal(provisionalReliability(inviteAtBob('Supported: 100rel'), 'when-supported'), { mode: 'reliable' });
  assert.equal(provisionalReliability(inviteAtBob('Supported: 100rel'), 'never'), { mode: 'unreliable' });
  assert.equal(provisionalReliability(inviteAtBob(), 'when-supported'), { mode: 'unreliable' });
  assert.equal(provisionalReliability(inviteAtBob(), 'required'), { mode: 'reject', status: 421, headers: [['Require', '100rel']] });
});

const Uas = suite('ReliableProvisionals');

Uas('stamps Require and RSeq, counts up by one, one unPRACKed at a time (RFC 3262 §3)', () => {
  const inv = inviteAtBob('Supported: 100rel');
  const rel = new ReliableProvisionals(inv, 988789);
  const ringing = createResponse(inv, 180, undefined, { toTag: '314159' });
  assert.is(rel.send(ringing), 988789);
  assert.is(ringing.headers.get('require'), '100rel');
  assert.is(ringing.headers.get('rseq'), '988789');
  assert.is(isReliableProvisional(ringing), true);
  assert.throws(() => rel.send(createResponse(inv, 183)), (e: unknown) => isDialogError(e, 'dialog.prack-pending'));
  assert.equal(rel.receivePrack(prack('988789 2 INVITE')), { matched: true, rseq: 988789 });
  assert.is(rel.pending, undefined);
  assert.is(rel.send(createResponse(inv, 183)), 988790);
});

Uas('a random first RSeq below 2^31; only 101-199 can be sent reliably (§3)', () => {
  const inv = inviteAtBob();
  const rseq = new ReliableProvisionals(inv).send(createResponse(inv, 180));
  assert.ok(rseq >= 1 && rseq < 2 ** 31);
  assert.throws(() => new ReliableProvisionals(inv).send(createResponse(inv, 100)), (e: unknown) => isDialogError(e, 'dialog.invalid-argument'));
  assert.throws(() => new ReliableProvisionals(inv).send(createResponse(inv, 200)), (e: unknown) => isDialogError(e));
});

Uas('a PRACK naming another RSeq, CSeq or method gets 481; an unreadable RAck 400 (§3)', () => {
  const inv = inviteAtBob();
  const rel = new ReliableProvisionals(inv, 10);
  rel.send(createResponse(inv, 180));
  for (const rack of ['11 2 INVITE', '10 3 INVITE', '10 2 UPDATE']) {
    assert.equal(rel.receivePrack(prack(rack)), { matched: false, status: 481, reason: 'Call/Transaction Does Not Exist' }, rack);
  }
  assert.equal(rel.receivePrack(prack('ten')), { matched: false, status: 400, reason: 'Bad RAck' });
  assert.is(rel.pending, 10);
  rel.receivePrack(prack('10 2 INVITE'));
  assert.is(rel.receivePrack(prack('10 2 INVITE')).matched, false, 'already acknowledged');
});

const Uac = suite('ProvisionalSequence');

Uac('first RSeq sets the sequence; +1 is new, lower or equal a retransmission, a gap out of order (RFC 3262 §4)', () => {
  const seq = new ProvisionalSequence();
  const at = (rseq: number | undefined, status: 180 | 183 = 180) => {
    const r = answerAtAlice(status);
    if (rseq !== undefined) {
      r.headers.append('Require', '100rel');
      r.headers.append('RSeq', String(rseq));
    }
    return r;
  };
  assert.is(seq.receive(at(undefined)), 'unreliable');
  assert.is(seq.receive(at(500)), 'new');
  assert.is(seq.receive(at(500)), 'retransmission');
  assert.is(seq.receive(at(502, 183)), 'out-of-order');
  assert.is(seq.receive(at(501, 183)), 'new');
  assert.is(seq.receive(at(502, 183)), 'new');
});

const Rack = suite('rackFor');

Rack('the PRACK of a reliable 180 carries RAck = RSeq, CSeq number and method (RFC 3262 §7.2)', () => {
  const ringing = answerAtAlice(180);
  ringing.headers.append('Require', '100rel');
  ringing.headers.append('RSeq', '776656');
  assert.equal(rackFor(ringing), { rseq: 776656, cseq: 2, method: 'INVITE' });
  const early = Dialog.fromUacResponse(inviteFromAlice(), ringing);
  const p = early.createRequest('PRACK', { headers: [['RAck', formatRAck(rackFor(ringing))]] });
  assert.is(p.headers.get('rack'), '776656 2 INVITE');
  assert.is(p.headers.get('cseq'), '3 PRACK');
  assert.is(p.uri, 'sip:bob@client.biloxi.example.com;transport=udp');
});

const Timers = suite('reliableRetransmitDelayMs / prackTimeoutMs');

Timers('T1 doubling, give up after 64*T1 (RFC 3262 §3)', () => {
  assert.equal([0, 1, 2, 3].map((n) => reliableRetransmitDelayMs(n, 500)), [500, 1000, 2000, 4000]);
  assert.is(prackTimeoutMs(500), 32_000);
});

Support.run();
Mode.run();
Uas.run();
Uac.run();
Rack.run();
Timers.run();
