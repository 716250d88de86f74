import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SipParseError } from '../message/errors.ts';
import { formatRAck, parseRAck, parseRSeq } from './rack.ts';

const RSeq = suite('parseRSeq');

RSeq('1*DIGIT from 1 to 2^32-1 (RFC 3262 §7.1)', () => {
  assert.is(parseRSeq('988789'), 988789);
  assert.is(parseRSeq(' 4294967295 '), 4294967295);
  for (const bad of ['', '0', '4294967296', '12a', 'x']) assert.throws(() => parseRSeq(bad), (e: unknown) => e instanceof SipParseError, bad);
});

const RAck = suite('parseRAck / formatRAck');

RAck('response-num CSeq-num Method (RFC 3262 §7.2)', () => {
  assert.equal(parseRAck('776656 1 INVITE'), { rseq: 776656, cseq: 1, method: 'INVITE' });
  assert.equal(parseRAck('  5\t 22  INVITE '), { rseq: 5, cseq: 22, method: 'INVITE' });
  assert.is(formatRAck({ rseq: 776656, cseq: 1, method: 'INVITE' }), '776656 1 INVITE');
});

RAck('refuses missing fields, missing separators and junk', () => {
  for (const bad of ['', '776656', '776656 1', '7766561INVITE', '1 2 INVITE x', '1 99999999999 INVITE']) {
    try {
      parseRAck(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.instance(e, SipParseError);
      assert.is((e as SipParseError).header, 'RAck');
    }
  }
});

RSeq.run();
RAck.run();
