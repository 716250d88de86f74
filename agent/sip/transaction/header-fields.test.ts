import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SipHeaders } from '../message/sip-message.ts';
import { callId, cseq, isRfc3261Branch, newBranch, tagOf, topVia } from './header-fields.ts';

const h = (...list: Array<[string, string]>) => new SipHeaders(list.map(([name, value]) => ({ name, value })));

const fields = suite('header-fields');

fields('RFC 3261 §20.42: top Via transport, normalised sent-by and branch', () => {
  const via = topVia(h(['Via', 'SIP/2.0/UDP PC33.Example.com;branch=z9hG4bK776asdhds;rport'], ['Via', 'SIP/2.0/TCP other:5070;branch=z9hG4bKx']));
  assert.equal(via, { raw: 'SIP/2.0/UDP PC33.Example.com;branch=z9hG4bK776asdhds;rport', transport: 'UDP', sentBy: 'pc33.example.com:5060', branch: 'z9hG4bK776asdhds' });
  assert.is(topVia(h(['Via', 'SIP / 2.0 / TLS [2001:DB8::1];received=1.2.3.4']))!.sentBy, '[2001:db8::1]:5061');
  assert.is(topVia(h(['Via', 'SIP/2.0/UDP 10.0.0.1:5080 ; BRANCH=z9hG4bKabc']))!.branch, 'z9hG4bKabc');
  assert.is(topVia(h(['Via', 'garbage'])), undefined);
  assert.is(topVia(h(['Via', 'SIP/2.0/UDP host:port;branch=z9hG4bK1'])), undefined);
  assert.is(topVia(h()), undefined);
});

fields('RFC 3261 §8.1.1.7: branch magic cookie and fresh branches', () => {
  assert.ok(isRfc3261Branch('z9hG4bK1'));
  assert.not.ok(isRfc3261Branch('z9hG4bK'));
  assert.not.ok(isRfc3261Branch('abc'));
  assert.not.ok(isRfc3261Branch(undefined));
  const a = newBranch();
  assert.ok(isRfc3261Branch(a));
  assert.is.not(a, newBranch());
  assert.match(a, /^z9hG4bK[A-Za-z0-9_-]{16}$/);
});

fields('RFC 3261 §20.16, §19.3: CSeq, tags and Call-ID', () => {
  assert.equal(cseq(h(['CSeq', ' 4711   INVITE '])), { seq: 4711, method: 'INVITE' });
  assert.is(cseq(h(['CSeq', 'INVITE'])), undefined);
  assert.is(tagOf('Bob <sip:bob@example.com;tag=uri-param>;tag=a6c85cf'), 'a6c85cf');
  assert.is(tagOf('"A;tag=x" <sip:a@example.com>'), '');
  assert.is(tagOf('sip:alice@example.com;TAG=88sja8x'), '88sja8x');
  assert.is(tagOf(undefined), '');
  assert.is(callId(h(['Call-ID', ' abc@host '])), 'abc@host');
});

fields.run();
