import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createResponse, reasonPhrase } from './create-response.ts';
import { parseMessage } from './parse-message.ts';
import { serializeMessage } from './serialize-message.ts';
import { SipHeaders, type SipRequest } from './sip-message.ts';

function invite(to = '<sip:bob@example.com>'): SipRequest {
  const headers = new SipHeaders();
  headers.append('Via', 'SIP/2.0/UDP p1.example.com;branch=z9hG4bK2');
  headers.append('Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=198.51.100.1');
  headers.append('Max-Forwards', '69');
  headers.append('From', '"Alice" <sip:alice@example.com>;tag=a1');
  headers.append('To', to);
  headers.append('Call-ID', 'call-1@192.0.2.1');
  headers.append('CSeq', '101 INVITE');
  headers.append('Contact', '<sip:alice@192.0.2.1>');
  headers.append('Timestamp', '54');
  headers.append('Record-Route', '<sip:p1.example.com;lr>');
  return { type: 'request', method: 'INVITE', uri: 'sip:bob@example.com', version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

const Create = suite('createResponse');

Create('copies Via (all, in order), From, To, Call-ID, CSeq and nothing else (RFC 3261 §8.2.6.2)', () => {
  const res = createResponse(invite(), 486, undefined, { toTag: 't9' });
  assert.equal([res.type, res.status, res.reason, res.version], ['response', 486, 'Busy Here', 'SIP/2.0']);
  assert.equal(res.headers.list, [
    { name: 'Via', value: 'SIP/2.0/UDP p1.example.com;branch=z9hG4bK2' },
    { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=198.51.100.1' },
    { name: 'From', value: '"Alice" <sip:alice@example.com>;tag=a1' },
    { name: 'To', value: '<sip:bob@example.com>;tag=t9' },
    { name: 'Call-ID', value: 'call-1@192.0.2.1' },
    { name: 'CSeq', value: '101 INVITE' },
  ]);
  assert.is(res.body.length, 0);
});

Create('every response but 100 gets a fresh To tag when none is given (RFC 3261 §8.2.6.2)', () => {
  const a = createResponse(invite(), 404).headers.get('to')!;
  const b = createResponse(invite(), 404).headers.get('to')!;
  assert.match(a, /^<sip:bob@example\.com>;tag=[0-9a-f]{10}$/);
  assert.is.not(a, b);
  assert.is(createResponse(invite(), 100).headers.get('to'), '<sip:bob@example.com>');
});

Create('adds the To tag only when the request had none', () => {
  assert.is(createResponse(invite(), 180, undefined, { toTag: 'b2' }).headers.get('to'), '<sip:bob@example.com>;tag=b2');
  assert.is(createResponse(invite('sip:bob@example.com'), 200, 'OK', { toTag: 'b2' }).headers.get('to'), 'sip:bob@example.com;tag=b2');
  assert.is(createResponse(invite('<sip:bob@example.com>;tag=x'), 200, 'OK', { toTag: 'b2' }).headers.get('to'), '<sip:bob@example.com>;tag=x');
  assert.is(createResponse(invite('"unterminated <sip:b@x>;tag=y'), 400, 'Bad', { toTag: 'b2' }).headers.get('to'), '"unterminated <sip:b@x>;tag=y');
});

Create('echoes Timestamp on 100 only (RFC 3261 §8.2.6.1)', () => {
  assert.is(createResponse(invite(), 100).headers.get('timestamp'), '54');
  assert.is(createResponse(invite(), 180).headers.get('timestamp'), undefined);
});

Create('extra headers, body and Content-Type; serializes into a valid response', () => {
  const res = createResponse(invite(), 200, 'OK', {
    toTag: 't',
    headers: [['Contact', '<sip:bob@192.0.2.2>'], ['Allow', 'INVITE, ACK, BYE']],
    body: Buffer.from('v=0\r\n'),
    contentType: 'application/sdp',
  });
  assert.is(res.headers.get('content-type'), 'application/sdp');
  const r = parseMessage(serializeMessage(res));
  if (!r.ok) throw r.error;
  assert.is(r.message.headers.get('content-length'), '5');
  assert.equal(r.message.headers.getAll('allow'), ['INVITE', 'ACK', 'BYE']);
});

Create('works on a partial request with missing headers', () => {
  const req = invite();
  req.headers.remove('from');
  req.headers.remove('call-id');
  const res = createResponse(req, 400, 'Missing From');
  assert.equal(res.headers.list.map((h) => h.name), ['Via', 'Via', 'To', 'CSeq']);
});

const Phrase = suite('reasonPhrase');

Phrase('known codes and class fallbacks', () => {
  assert.equal([100, 200, 401, 404, 481, 505, 603].map(reasonPhrase), [
    'Trying', 'OK', 'Unauthorized', 'Not Found', 'Call/Transaction Does Not Exist', 'Version Not Supported', 'Decline',
  ]);
  assert.equal([199, 299, 399, 499, 599, 699, 42].map(reasonPhrase), [
    'Early Dialog Terminated', 'Success', 'Redirection', 'Client Error', 'Server Error', 'Global Failure', 'Unknown',
  ]);
});

Create.run();
Phrase.run();
