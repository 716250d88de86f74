import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { SipHeader } from './sip-message.ts';
import { validateHeaders } from './validate-headers.ts';

const GOOD: SipHeader[] = [
  { name: 'Via', value: 'SIP/2.0/UDP h.example.com;branch=z9hG4bK1' },
  { name: 'From', value: '<sip:a@example.com>;tag=1' },
  { name: 'To', value: 'sip:b@example.com' },
  { name: 'Call-ID', value: 'abc@host' },
  { name: 'CSeq', value: '1 INVITE' },
];

function check(extra: SipHeader[], method: string | undefined = 'INVITE', base = GOOD): string | undefined {
  const list = [...base, ...extra];
  return validateHeaders(list, list.map((_h, i) => i * 10), method)?.reason;
}

const Validate = suite('validateHeaders');

Validate('a minimal request and response pass', () => {
  assert.is(check([]), undefined);
  assert.is(check([], undefined), undefined);
  assert.is(check([{ name: 'Contact', value: '*' }, { name: 'Max-Forwards', value: '0' }]), undefined);
});

Validate('mandatory headers, in RFC order', () => {
  assert.is(check([], 'INVITE', GOOD.slice(1)), 'Missing Via');
  assert.is(check([], 'INVITE', [GOOD[0]!, GOOD[3]!, GOOD[4]!]), 'Missing From');
  assert.is(check([], undefined, GOOD.slice(0, 4)), 'Missing CSeq');
});

Validate('single-value headers may not repeat', () => {
  for (const h of GOOD.slice(1)) assert.is(check([h]), `Duplicate ${h.name}`);
  assert.is(check([{ name: 'Max-Forwards', value: '1' }, { name: 'Max-Forwards', value: '1' }]), 'Duplicate Max-Forwards');
  assert.is(check([GOOD[0]!]), undefined, 'Via repeats');
});

Validate('malformed values, with the header name and offset', () => {
  assert.is(check([{ name: 'Max-Forwards', value: '256' }]), 'Bad Max-Forwards');
  assert.is(check([{ name: 'Max-Forwards', value: '' }]), 'Bad Max-Forwards');
  assert.is(check([{ name: 'Contact', value: '<sip:x' }]), 'Bad Contact: missing >');
  assert.is(check([{ name: 'Record-Route', value: '' }]), 'Bad Record-Route: bad URI');
  assert.is(check([{ name: 'Path', value: 'x y' }]), 'Bad Path: bad URI');
  assert.is(check([], 'BYE'), 'Bad CSeq: method mismatch');
  const list = [...GOOD, { name: 'Route', value: '<sip:p;;>' }];
  const fault = validateHeaders(list, [0, 0, 0, 0, 0, 500], 'INVITE')!;
  assert.equal([fault.header, fault.offset], ['Route', 500 + '<sip:p;'.length]);
});

Validate('Call-ID is word [ "@" word ]', () => {
  const withId = (id: string) => check([], 'INVITE', [...GOOD.slice(0, 3), { name: 'Call-ID', value: id }, GOOD[4]!]);
  assert.is(withId('intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{'), undefined);
  for (const id of ['', '@x', 'a@', 'a@b@c', 'a b', 'a;b']) assert.is(withId(id), 'Bad Call-ID', id);
});

Validate.run();
