import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from './parse-message.ts';
import { serializeMessage } from './serialize-message.ts';
import { SipHeaders, type SipRequest, type SipResponse } from './sip-message.ts';

function request(list: [string, string][], body = Buffer.alloc(0)): SipRequest {
  return {
    type: 'request',
    method: 'MESSAGE',
    uri: 'sip:bob@example.com',
    version: 'SIP/2.0',
    headers: new SipHeaders(list.map(([name, value]) => ({ name, value }))),
    body,
  };
}
const BASE: [string, string][] = [
  ['Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1'],
  ['From', '<sip:a@example.com>;tag=1'],
  ['To', '<sip:bob@example.com>'],
  ['Call-ID', 'c1'],
  ['CSeq', '1 MESSAGE'],
];

const Serialize = suite('serializeMessage');

Serialize('start line, canonical names, CRLF, blank line, body', () => {
  const out = serializeMessage(request([['v', 'SIP/2.0/UDP h.example.com'], ['call-id', 'x'], ['cseq', '1 MESSAGE']], Buffer.from('hi')));
  assert.is(
    out.toString(),
    'MESSAGE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nContent-Length: 2\r\n\r\nhi',
  );
});

Serialize('Content-Length always equals body.length, in the place of the first one', () => {
  const out = serializeMessage(request([['Content-Length', '99'], ...BASE, ['l', '5']], Buffer.from('abc'))).toString();
  assert.ok(out.startsWith('MESSAGE sip:bob@example.com SIP/2.0\r\nContent-Length: 3\r\nVia:'));
  assert.is(out.split('Content-Length').length, 2);
  assert.ok(serializeMessage(request(BASE)).toString().endsWith('CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n'));
});

Serialize('a response line; binary bodies untouched', () => {
  const body = Buffer.from([0, 255, 13, 10, 0]);
  const res: SipResponse = { type: 'response', status: 180, reason: 'Ringing', version: 'SIP/2.0', headers: new SipHeaders(), body };
  const out = serializeMessage(res);
  assert.ok(out.toString('latin1').startsWith('SIP/2.0 180 Ringing\r\nContent-Length: 5\r\n\r\n'));
  assert.equal(out.subarray(out.length - 5), body);
});

Serialize('CR/LF in values cannot inject headers', () => {
  const out = serializeMessage(request([...BASE, ['Subject', 'hi\r\nVia: evil'], ['X-A', 'a\nb']])).toString();
  assert.ok(out.includes('Subject: hi Via: evil\r\n'));
  assert.ok(out.includes('X-A: a b\r\n'));
  const r = parseMessage(Buffer.from(out));
  assert.ok(r.ok && r.message.headers.getAll('via').length === 1);
});

Serialize('UTF-8 values are written as UTF-8 and read back the same', () => {
  const msg = request([...BASE, ['Subject', 'Grüße ☃']], Buffer.from('x'));
  const r = parseMessage(serializeMessage(msg));
  if (!r.ok) throw r.error;
  assert.is(r.message.headers.get('subject'), 'Grüße ☃');
  assert.is(r.message.body.toString(), 'x');
});

Serialize('parse(serialize(m)) equals m for a message built in code', () => {
  const r1 = parseMessage(serializeMessage(request([...BASE, ['Contact', '<sip:a@192.0.2.1>'], ['Allow', 'INVITE']], Buffer.from('body'))));
  if (!r1.ok) throw r1.error;
  const r2 = parseMessage(serializeMessage(r1.message));
  if (!r2.ok) throw r2.error;
  assert.equal(r2.message, r1.message);
});

Serialize.run();
