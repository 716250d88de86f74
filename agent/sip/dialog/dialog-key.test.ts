import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createResponse } from '../message/create-response.ts';
import { Dialog } from './dialog.ts';
import { dialogId, dialogKey, dialogKeyOf, sameDialog } from './dialog-key.ts';
import { answerAtAlice, inviteAtBob, inviteFromAlice, request } from './test-support.ts';

const Id = suite('dialogId');

Id('a request received: local = To tag, remote = From tag (RFC 3261 §12.2.2)', () => {
  const bye = request(`
    BYE sip:bob@client.biloxi.example.com SIP/2.0
    Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bfa
    From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
    To: Bob <sip:bob@biloxi.example.com>;tag=b7
    Call-ID: 3848276298220188511@atlanta.example.com
    CSeq: 3 BYE
  `);
  assert.equal(dialogId(bye, 'uas'), { callId: '3848276298220188511@atlanta.example.com', localTag: 'b7', remoteTag: '9fxced76sl' });
  const ok = createResponse(bye, 200);
  assert.equal(dialogId(ok, 'uas'), dialogId(bye, 'uas'), 'and the response we send to it');
});

Id('a response received: local = From tag, remote = To tag (§12.1.2); no To tag → null remote tag', () => {
  assert.equal(dialogId(answerAtAlice(180), 'uac'), { callId: '3848276298220188511@atlanta.example.com', localTag: '9fxced76sl', remoteTag: '314159' });
  assert.equal(dialogId(answerAtAlice(200, ''), 'uac')?.remoteTag, '');
});

Id('undefined outside a dialog: request without To tag, or no Call-ID (§12.2.2)', () => {
  assert.is(dialogId(inviteAtBob(), 'uas'), undefined);
  const noCallId = answerAtAlice(180);
  noCallId.headers.remove('call-id');
  assert.is(dialogId(noCallId, 'uac'), undefined);
});

const Key = suite('dialogKey / dialogKeyOf / sameDialog');

Key('both ends find their own dialog in a Map from what they receive', () => {
  const bob = Dialog.fromUasRequest(inviteAtBob(), '314159', 'sip:bob@client.biloxi.example.com', { viaSentBy: 'client.biloxi.example.com', transport: 'UDP' });
  const alice = Dialog.fromUacResponse(inviteFromAlice(), answerAtAlice(200));
  const atBob = new Map([[bob.key, bob]]);
  const atAlice = new Map([[alice.key, alice]]);
  assert.is(atBob.get(dialogKeyOf(alice.createRequest('BYE'), 'uas')!), bob);
  assert.is(atAlice.get(dialogKeyOf(answerAtAlice(200), 'uac')!), alice);
  assert.is(atAlice.get(dialogKeyOf(answerAtAlice(200, 'fork2'), 'uac')!), undefined, 'a fork is another dialog');
  assert.is(atAlice.get(dialogKeyOf(bob.createRequest('INFO'), 'uas')!), alice);
});

Key('ids compare exactly: Call-ID and tags are case-sensitive (§20.8, §19.3)', () => {
  const a = { callId: 'x@h', localTag: 'A', remoteTag: 'b' };
  assert.ok(sameDialog(a, { ...a }));
  assert.not.ok(sameDialog(a, { ...a, localTag: 'a' }));
  assert.is.not(dialogKey(a), dialogKey({ ...a, callId: 'X@h' }));
});

Id.run();
Key.run();
