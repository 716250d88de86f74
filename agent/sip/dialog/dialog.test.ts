import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from '../message/parse-message.ts';
import { serializeMessage } from '../message/serialize-message.ts';
import type { SipRequest } from '../message/sip-message.ts';
import { parseVia } from '../message/via.ts';
import { createResponse } from '../message/create-response.ts';
import { Dialog, type DialogTransportOptions } from './dialog.ts';
import { isDialogError } from './errors.ts';
import { answerAtAlice, inviteAtBob, inviteFromAlice, request } from './test-support.ts';

const BOB: DialogTransportOptions = { viaSentBy: 'client.biloxi.example.com:5060', transport: 'UDP' };
const BOB_CONTACT = 'sip:bob@client.biloxi.example.com;transport=udp';

function bobDialog(): Dialog {
  return Dialog.fromUasRequest(inviteAtBob(), '314159', BOB_CONTACT, BOB);
}

function aliceDialog(status: 180 | 200 = 200): Dialog {
  return Dialog.fromUacResponse(inviteFromAlice(), answerAtAlice(status));
}

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isDialogError(e), `expected DialogError, got ${String(e)}`);
    assert.is(e.code, code);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

/** A request Alice sends to Bob inside the dialog, as it arrives at Bob. */
function fromAlice(method: string, seq: number, extra = '', toTag = '314159'): SipRequest {
  return request(`
    ${method} sip:bob@client.biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK${method}${seq}
    Max-Forwards: 70
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>;tag=${toTag}
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: ${seq} ${method}
    ${extra}
  `);
}

const FromUas = suite('Dialog.fromUasRequest');

FromUas('takes id, URIs, target, CSeq and the Record-Route in order (RFC 3261 §12.1.1)', () => {
  const d = bobDialog();
  assert.equal(d.id, { callId: '3848276298220188511@atlanta.example.com', localTag: '314159', remoteTag: '9fxced76sl' });
  assert.is(d.side, 'uas');
  assert.is(d.state, 'early');
  assert.equal(d.local, { uri: 'sip:bob@biloxi.example.com', displayName: 'Bob' });
  assert.equal(d.remote, { uri: 'sip:alice@atlanta.example.com', displayName: 'Alice' });
  assert.is(d.remoteTarget, 'sip:alice@client.atlanta.example.com;transport=udp');
  assert.equal(d.routeSet, ['sip:ss2.biloxi.example.com;lr', 'sip:ss1.atlanta.example.com;lr']);
  assert.is(d.remoteSeq, 2);
  assert.is(d.localSeq, undefined);
  assert.is(d.secure, false);
  assert.is(d.localContact, '<' + BOB_CONTACT + '>');
});

FromUas('no Record-Route gives an empty route set; a request without From tag gives a null remote tag (§12.1.1)', () => {
  const inv = inviteAtBob();
  inv.headers.remove('record-route');
  inv.headers.set('From', 'sip:alice@atlanta.example.com');
  const d = Dialog.fromUasRequest(inv, 'b1', BOB_CONTACT, BOB);
  assert.equal(d.routeSet, []);
  assert.is(d.id.remoteTag, '');
});

FromUas('secure only over TLS with a SIPS Request-URI (§12.1.1)', () => {
  const inv = inviteAtBob();
  inv.uri = 'sips:bob@client.biloxi.example.com';
  assert.is(Dialog.fromUasRequest(inv, 'b1', BOB_CONTACT, { ...BOB, transport: 'TLS' }).secure, true);
  assert.is(Dialog.fromUasRequest(inv, 'b1', BOB_CONTACT, BOB).secure, false);
  assert.is(Dialog.fromUasRequest(inviteAtBob(), 'b1', BOB_CONTACT, { ...BOB, transport: 'TLS' }).secure, false);
});

FromUas('refuses a request without Contact, one already in a dialog, and a bad local tag', () => {
  const noContact = inviteAtBob();
  noContact.headers.remove('contact');
  throwsCode(() => Dialog.fromUasRequest(noContact, 'b1', BOB_CONTACT, BOB), 'dialog.invalid-message');
  throwsCode(() => Dialog.fromUasRequest(fromAlice('INVITE', 3, 'Contact: <sip:a@h>'), 'b1', BOB_CONTACT, BOB), 'dialog.invalid-message');
  throwsCode(() => Dialog.fromUasRequest(inviteAtBob(), '', BOB_CONTACT, BOB), 'dialog.invalid-argument');
  throwsCode(() => Dialog.fromUasRequest(inviteAtBob(), 'b1', 'not a uri', BOB), 'dialog.invalid-argument');
});

const FromUac = suite('Dialog.fromUacResponse');

FromUac('a 1xx with To tag makes an early dialog, Record-Route reversed (RFC 3261 §12.1.2)', () => {
  const d = aliceDialog(180);
  assert.is(d.side, 'uac');
  assert.is(d.state, 'early');
  assert.equal(d.id, { callId: '3848276298220188511@atlanta.example.com', localTag: '9fxced76sl', remoteTag: '314159' });
  assert.equal(d.routeSet, ['sip:ss1.atlanta.example.com;lr', 'sip:ss2.biloxi.example.com;lr']);
  assert.is(d.remoteTarget, BOB_CONTACT);
  assert.is(d.localSeq, 2);
  assert.is(d.remoteSeq, undefined);
  assert.equal(d.transport, { viaSentBy: 'client.atlanta.example.com:5060', transport: 'UDP', rport: false });
});

FromUac('a 2xx makes a confirmed dialog; a 2xx without To tag gets a null remote tag (§12.1.2)', () => {
  assert.is(aliceDialog(200).state, 'confirmed');
  assert.is(Dialog.fromUacResponse(inviteFromAlice(), answerAtAlice(200, '')).id.remoteTag, '');
});

FromUac('refuses 100, a 1xx without To tag, and a final failure', () => {
  throwsCode(() => Dialog.fromUacResponse(inviteFromAlice(), answerAtAlice(180, '')), 'dialog.invalid-message');
  throwsCode(() => Dialog.fromUacResponse(inviteFromAlice(), answerAtAlice(486)), 'dialog.invalid-argument');
  const trying = answerAtAlice(180);
  trying.status = 100;
  throwsCode(() => Dialog.fromUacResponse(inviteFromAlice(), trying), 'dialog.invalid-argument');
});

FromUac('falls back to the Request-URI when the response has no Contact', () => {
  const res = answerAtAlice(180);
  res.headers.remove('contact');
  assert.is(Dialog.fromUacResponse(inviteFromAlice(), res).remoteTarget, 'sip:bob@biloxi.example.com');
});

const Create = suite('Dialog.createRequest');

Create('loose routing: Request-URI = remote target, Route = route set in order (RFC 3261 §12.2.1.1)', () => {
  const bye = bobDialog();
  bye.confirm(createResponse(inviteAtBob(), 200, 'OK', { toTag: '314159' }));
  const req = bye.createRequest('BYE');
  assert.is(req.method, 'BYE');
  assert.is(req.uri, 'sip:alice@client.atlanta.example.com;transport=udp');
  assert.equal(req.headers.getAll('route'), ['<sip:ss2.biloxi.example.com;lr>', '<sip:ss1.atlanta.example.com;lr>']);
  assert.is(req.headers.get('from'), '"Bob" <sip:bob@biloxi.example.com>;tag=314159');
  assert.is(req.headers.get('to'), '"Alice" <sip:alice@atlanta.example.com>;tag=9fxced76sl');
  assert.is(req.headers.get('call-id'), '3848276298220188511@atlanta.example.com');
  assert.is(req.headers.get('max-forwards'), '70');
  assert.is(req.headers.get('contact'), undefined, 'no Contact in BYE (§20 Table 3)');
  const via = parseVia(req.headers.get('via')!);
  assert.equal([via.transport, via.host, via.port], ['UDP', 'client.biloxi.example.com', 5060]);
  assert.ok(via.branch?.startsWith('z9hG4bK'));
});

Create('UAC side: route set reversed, Route values in that order (§12.1.2, §12.2.1.1)', () => {
  const req = aliceDialog().createRequest('BYE');
  assert.is(req.uri, BOB_CONTACT);
  assert.equal(req.headers.getAll('route'), ['<sip:ss1.atlanta.example.com;lr>', '<sip:ss2.biloxi.example.com;lr>']);
  assert.is(req.headers.get('from'), '"Alice" <sip:alice@atlanta.example.com>;tag=9fxced76sl');
  assert.is(req.headers.get('to'), '"Bob" <sip:bob@biloxi.example.com>;tag=314159');
});

Create('strict router first: Request-URI = first route, remote target last Route (§12.2.1.1)', () => {
  const res = answerAtAlice(200);
  res.headers.set('Record-Route', '<sip:ss2.biloxi.example.com;lr>');
  res.headers.append('Record-Route', '<sip:strict.atlanta.example.com;method=INVITE;maddr=192.0.2.9>');
  const req = Dialog.fromUacResponse(inviteFromAlice(), res).createRequest('INFO');
  assert.is(req.uri, 'sip:strict.atlanta.example.com;maddr=192.0.2.9', 'method parameter stripped (§19.1.1)');
  assert.equal(req.headers.getAll('route'), ['<sip:ss2.biloxi.example.com;lr>', '<' + BOB_CONTACT + '>']);
});

Create('no route set: no Route header (§12.2.1.1)', () => {
  const res = answerAtAlice(200);
  res.headers.remove('record-route');
  const req = Dialog.fromUacResponse(inviteFromAlice(), res).createRequest('BYE');
  assert.is(req.uri, BOB_CONTACT);
  assert.is(req.headers.has('route'), false);
});

Create('CSeq goes up by one per request; a fresh branch each time (§12.2.1.1, §8.1.1.7)', () => {
  const d = aliceDialog();
  const a = d.createRequest('INFO');
  const b = d.createRequest('UPDATE');
  assert.is(a.headers.get('cseq'), '3 INFO');
  assert.is(b.headers.get('cseq'), '4 UPDATE');
  assert.is(d.localSeq, 4);
  assert.is.not(parseVia(a.headers.get('via')!).branch, parseVia(b.headers.get('via')!).branch);
});

Create('an empty local CSeq starts below 2^31, then increments (§12.2.1.1, §8.1.1.5)', () => {
  const d = bobDialog();
  d.confirm(createResponse(inviteAtBob(), 200, 'OK', { toTag: '314159' }));
  const first = d.createRequest('INFO');
  const seq = d.localSeq!;
  assert.ok(seq >= 1 && seq < 2 ** 31);
  assert.is(first.headers.get('cseq'), `${seq} INFO`);
  assert.is(d.createRequest('BYE').headers.get('cseq'), `${seq + 1} BYE`);
});

Create('Contact on target refresh requests; body, Content-Type and extra headers; parses back', () => {
  const d = aliceDialog();
  const reinvite = d.createRequest('INVITE', { body: 'v=0\r\n', contentType: 'application/sdp', headers: [['Supported', 'timer']] });
  assert.is(reinvite.headers.get('contact'), '<sip:alice@client.atlanta.example.com;transport=udp>');
  assert.is(reinvite.headers.get('supported'), 'timer');
  assert.is(reinvite.headers.get('content-type'), 'application/sdp');
  const back = parseMessage(serializeMessage(reinvite));
  assert.ok(back.ok);
  assert.is(back.ok && back.message.body.toString(), 'v=0\r\n');
});

Create('refuses ACK/CANCEL, a terminated dialog, and BYE from an early UAS (§15)', () => {
  const d = aliceDialog();
  throwsCode(() => d.createRequest('ACK'), 'dialog.invalid-argument');
  throwsCode(() => d.createRequest('CANCEL'), 'dialog.invalid-argument');
  throwsCode(() => bobDialog().createRequest('BYE'), 'dialog.state');
  d.terminate();
  throwsCode(() => d.createRequest('BYE'), 'dialog.state');
});

const Ack = suite('Dialog.createAck');

Ack('ACK of a 2xx: INVITE CSeq number, method ACK, local CSeq unchanged (RFC 3261 §13.2.2.4)', () => {
  const d = aliceDialog();
  const ack = d.createAck(2, { body: 'v=0\r\n', contentType: 'application/sdp' });
  assert.is(ack.method, 'ACK');
  assert.is(ack.uri, BOB_CONTACT);
  assert.is(ack.headers.get('cseq'), '2 ACK');
  assert.equal(ack.headers.getAll('route'), ['<sip:ss1.atlanta.example.com;lr>', '<sip:ss2.biloxi.example.com;lr>']);
  assert.is(ack.headers.get('content-type'), 'application/sdp');
  assert.is(d.localSeq, 2);
  const reinvite = d.createRequest('INVITE');
  assert.is(d.createAck(3).headers.get('cseq'), '3 ACK');
  assert.is.not(parseVia(d.createAck(3).headers.get('via')!).branch, parseVia(reinvite.headers.get('via')!).branch);
});

const Cancel = suite('Dialog.createCancel');

Cancel('CANCEL of a re-INVITE: same branch, Request-URI, CSeq number and Route (RFC 3261 §9.1)', () => {
  const d = aliceDialog();
  const reinvite = d.createRequest('INVITE');
  const cancel = d.createCancel(reinvite);
  assert.is(cancel.uri, reinvite.uri);
  assert.is(cancel.headers.get('via'), reinvite.headers.get('via'));
  assert.is(cancel.headers.get('cseq'), '3 CANCEL');
  assert.equal(cancel.headers.getAll('route'), reinvite.headers.getAll('route'));
  assert.is(cancel.headers.get('to'), reinvite.headers.get('to'));
  assert.is(d.localSeq, 3, 'CANCEL does not take a new CSeq');
});

const Receive = suite('Dialog.receiveRequest');

Receive('an empty remote CSeq takes the first request; higher numbers are in order (RFC 3261 §12.2.2)', () => {
  const d = aliceDialog();
  const bye = request(`
    BYE sip:alice@client.atlanta.example.com SIP/2.0
    Via: SIP/2.0/UDP client.biloxi.example.com:5060;branch=z9hG4bKnashds7
    From: Bob <sip:bob@biloxi.example.com>;tag=314159
    To: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 231 BYE
  `);
  assert.equal(d.receiveRequest(bye), { accepted: true, targetRefreshed: false });
  assert.is(d.remoteSeq, 231);
});

Receive('a lower or repeated CSeq is out of order: 500 (§12.2.2)', () => {
  const d = bobDialog();
  assert.equal(d.receiveRequest(fromAlice('INFO', 1)), { accepted: false, status: 500, reason: 'Server Internal Error' });
  assert.equal(d.receiveRequest(fromAlice('INFO', 2)), { accepted: false, status: 500, reason: 'Server Internal Error' });
  assert.is(d.remoteSeq, 2);
  assert.is(d.receiveRequest(fromAlice('INFO', 7)).accepted, true, 'gaps are not an error (§12.2.2)');
  assert.is(d.remoteSeq, 7);
});

Receive('ACK and CANCEL carry the INVITE CSeq: accepted, remote CSeq kept (§13.2.2.4, §9.1)', () => {
  const d = bobDialog();
  d.confirm(createResponse(inviteAtBob(), 200, 'OK', { toTag: '314159' }));
  assert.is(d.receiveRequest(fromAlice('INFO', 3)).accepted, true);
  assert.is(d.receiveRequest(fromAlice('ACK', 2)).accepted, true);
  assert.is(d.remoteSeq, 3);
});

Receive('a re-INVITE or UPDATE with Contact refreshes the remote target (§12.2.2, RFC 3311 §5.2)', () => {
  const d = bobDialog();
  const v = d.receiveRequest(fromAlice('INVITE', 3, 'Contact: <sip:alice@192.0.2.101:5062>'));
  assert.equal(v, { accepted: true, targetRefreshed: true });
  assert.is(d.remoteTarget, 'sip:alice@192.0.2.101:5062');
  d.receiveRequest(fromAlice('UPDATE', 4, 'Contact: <sip:alice@192.0.2.101:5064>'));
  assert.is(d.remoteTarget, 'sip:alice@192.0.2.101:5064');
  assert.is(d.receiveRequest(fromAlice('INFO', 5, 'Contact: <sip:alice@elsewhere>')).accepted, true);
  assert.is(d.remoteTarget, 'sip:alice@192.0.2.101:5064', 'INFO is not a target refresh');
  assert.is(d.receiveRequest(fromAlice('UPDATE', 6)).accepted, true);
  assert.is(d.remoteTarget, 'sip:alice@192.0.2.101:5064', 'no Contact: target kept');
});

Receive('another dialog or a terminated one: 481; an unreadable CSeq or Contact: 400 (§12.2.2)', () => {
  const d = bobDialog();
  assert.equal(d.receiveRequest(fromAlice('BYE', 3, '', 'other')), { accepted: false, status: 481, reason: 'Call/Transaction Does Not Exist' });
  const badCseq = fromAlice('INFO', 3);
  badCseq.headers.set('CSeq', '3 BYE');
  assert.equal(d.receiveRequest(badCseq), { accepted: false, status: 400, reason: 'Bad CSeq' });
  const badContact = fromAlice('INVITE', 3);
  badContact.headers.set('Contact', '<not a uri>');
  assert.equal(d.receiveRequest(badContact), { accepted: false, status: 400, reason: 'Bad Contact' });
  assert.is(d.remoteSeq, 2, 'refused requests change nothing');
  d.terminate();
  assert.is(d.receiveRequest(fromAlice('BYE', 3)).accepted, false);
});

const Confirm = suite('Dialog.confirm');

Confirm('UAC: early → confirmed on the 2xx, route set and target from the 2xx (RFC 3261 §13.2.2.4)', () => {
  const d = aliceDialog(180);
  const ok = answerAtAlice(200, '314159', '<sip:bob@192.0.2.4>');
  ok.headers.set('Record-Route', '<sip:ss2.biloxi.example.com;lr>');
  d.confirm(ok);
  assert.is(d.state, 'confirmed');
  assert.equal(d.routeSet, ['sip:ss2.biloxi.example.com;lr']);
  assert.is(d.remoteTarget, 'sip:bob@192.0.2.4');
});

Confirm('UAS: confirmed when its own 2xx goes out (§12.1.1, §13.3.1.4)', () => {
  const d = bobDialog();
  d.confirm(createResponse(inviteAtBob(), 200, 'OK', { toTag: '314159' }));
  assert.is(d.state, 'confirmed');
  assert.equal(d.routeSet, ['sip:ss2.biloxi.example.com;lr', 'sip:ss1.atlanta.example.com;lr']);
});

Confirm('a 2xx from another fork is another dialog; non-2xx and terminated refused (§13.2.2.4)', () => {
  const d = aliceDialog(180);
  throwsCode(() => d.confirm(answerAtAlice(200, 'fork2')), 'dialog.mismatch');
  throwsCode(() => d.confirm(answerAtAlice(180)), 'dialog.invalid-argument');
  const forked = Dialog.fromUacResponse(inviteFromAlice(), answerAtAlice(200, 'fork2'));
  assert.is.not(forked.key, d.key);
  d.terminate();
  throwsCode(() => d.confirm(answerAtAlice(200)), 'dialog.state');
});

const OnResponse = suite('Dialog.receiveResponse');

OnResponse('early UAC: 2xx to the INVITE confirms, 486 terminates (§13.2.2.4, §12.3)', () => {
  const a = aliceDialog(180);
  assert.equal(a.receiveResponse(answerAtAlice(183)), { confirmed: false, terminated: false, targetRefreshed: false });
  assert.equal(a.receiveResponse(answerAtAlice(200)), { confirmed: true, terminated: false, targetRefreshed: false });
  assert.is(a.state, 'confirmed');
  const b = aliceDialog(180);
  assert.is(b.receiveResponse(answerAtAlice(486)).terminated, true);
  assert.is(b.state, 'terminated');
});

OnResponse('2xx to a target refresh replaces the remote target; 481 and 408 end the dialog (§12.2.1.2)', () => {
  const d = aliceDialog();
  const reinvite = d.createRequest('INVITE');
  const ok = createResponse(reinvite, 200, 'OK', { headers: [['Contact', '<sip:bob@192.0.2.44>']] });
  assert.equal(d.receiveResponse(ok), { confirmed: false, terminated: false, targetRefreshed: true });
  assert.is(d.remoteTarget, 'sip:bob@192.0.2.44');
  assert.is(d.createRequest('BYE').uri, 'sip:bob@192.0.2.44');
  const info = d.createRequest('INFO');
  assert.is(d.receiveResponse(createResponse(info, 481)).terminated, true);
  assert.is(d.state, 'terminated');
  const e = aliceDialog();
  assert.is(e.receiveResponse(createResponse(e.createRequest('OPTIONS'), 408)).terminated, true);
});

OnResponse("another dialog's response throws dialog.mismatch", () => {
  const d = aliceDialog();
  const res = createResponse(d.createRequest('INFO'), 200);
  res.headers.set('Call-ID', 'other@atlanta.example.com');
  throwsCode(() => d.receiveResponse(res), 'dialog.mismatch');
});

const Terminate = suite('Dialog.terminate');

Terminate('→ terminated, idempotent (§12.3)', () => {
  const d = aliceDialog();
  const ok = createResponse(d.createRequest('INVITE'), 200, 'OK', { headers: [['Contact', '<sip:bob@192.0.2.44>']] });
  d.terminate();
  d.terminate();
  assert.is(d.state, 'terminated');
  assert.equal(d.receiveResponse(ok), { confirmed: false, terminated: false, targetRefreshed: false });
  assert.is(d.remoteTarget, BOB_CONTACT);
});

FromUas.run();
FromUac.run();
Create.run();
Ack.run();
Cancel.run();
Receive.run();
Confirm.run();
OnResponse.run();
Terminate.run();
