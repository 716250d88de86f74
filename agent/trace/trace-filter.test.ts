import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from '../sip/message/parse-message.ts';
import type { SipMessage } from '../sip/message/sip-message.ts';
import { TraceFilter, userOf } from './trace-filter.ts';

function msg(start: string, from: string, to: string, callId: string): SipMessage {
  const method = start.split(' ')[0]!;
  const text = `${start}\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\nFrom: ${from};tag=1\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: 1 ${method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
  const parsed = parseMessage(Buffer.from(text));
  if (!parsed.ok) throw parsed.error;
  return parsed.message;
}

const filter = suite('TraceFilter');

filter('--user matches From, To or Request-URI exactly, and follows the Call-ID afterwards', () => {
  const f = new TraceFilter({ user: '1001' });
  assert.ok(f.accepts(msg('INVITE sip:1002@b.example SIP/2.0', '<sip:1001@b.example>', '<sip:1002@b.example>', 'c1')));
  assert.not.ok(f.accepts(msg('INVITE sip:1003@b.example SIP/2.0', '<sip:10011@b.example>', '<sip:1003@b.example>', 'c2')), 'a longer user is another user');
  assert.ok(f.accepts(msg('REGISTER sip:b.example SIP/2.0', '"Ann" <sip:1001@b.example>', '<sip:1001@b.example>', 'c3')));
  // An in-dialog BYE to a contact URI of an unrelated user name: followed by its Call-ID.
  assert.ok(f.accepts(msg('BYE sip:x7f@192.0.2.9:5062 SIP/2.0', '<sip:other@b.example>', '<sip:other2@b.example>', 'c1')));
  assert.not.ok(f.accepts(msg('BYE sip:x7f@192.0.2.9:5062 SIP/2.0', '<sip:other@b.example>', '<sip:other2@b.example>', 'c2')));
});

filter('responses match by From/To', () => {
  const f = new TraceFilter({ user: '1002' });
  const parsed = parseMessage(Buffer.from('SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\nFrom: <sip:1001@b>;tag=1\r\nTo: <sip:1002@b>;tag=2\r\nCall-ID: r1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n'));
  assert.ok(parsed.ok && f.accepts(parsed.message));
});

filter('--number compares digits and matches a number with a prefix (trunk access code, +country)', () => {
  const f = new TraceFilter({ number: '030 1234567' });
  assert.ok(f.accepts(msg('INVITE sip:90301234567@b SIP/2.0', '<sip:1001@b>', '<sip:90301234567@b>', 'n1')));
  assert.ok(f.accepts(msg('INVITE tel:+49-30-1234567 SIP/2.0', '<sip:1001@b>', '<tel:+49-30-1234567>', 'n2')) === false, '+49 30 drops the 0: not the same digits');
  assert.ok(f.accepts(msg('INVITE sip:0301234567@gw SIP/2.0', '<sip:1001@b>', '<sip:0301234567@gw>', 'n3')));
  assert.not.ok(f.accepts(msg('INVITE sip:1002@b SIP/2.0', '<sip:1001@b>', '<sip:1002@b>', 'n4')));
});

const user = suite('userOf');

user('user parts of name-addrs, bare URIs and tel URIs; none for a URI without user', () => {
  assert.is(userOf('"Ann" <sip:1001@b.example>;tag=x'), '1001');
  assert.is(userOf('sip:1002@b.example;transport=tcp'), '1002');
  assert.is(userOf('<sips:bob:secret@b.example>'), 'bob');
  assert.is(userOf('sip:b.example'), undefined);
  assert.is(userOf('tel:+1-555-0100;phone-context=x'), '+1-555-0100');
  assert.is(userOf('sip:%31001@b'), '1001');
  assert.is(userOf(undefined), undefined);
});

filter.run();
user.run();
