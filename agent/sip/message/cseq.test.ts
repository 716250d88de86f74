import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_CSEQ, formatCSeq, parseCSeq } from './cseq.ts';
import { isSipParseError } from './errors.ts';

const Parse = suite('parseCSeq');

Parse('reads number and method, LWS and leading zeros allowed', () => {
  assert.equal(parseCSeq('314159 INVITE'), { seq: 314159, method: 'INVITE' });
  assert.equal(parseCSeq('  0009 \t INVITE  '), { seq: 9, method: 'INVITE' });
  assert.equal(parseCSeq(`${MAX_CSEQ} RE%47IST%45R`), { seq: MAX_CSEQ, method: 'RE%47IST%45R' });
});

Parse('refuses out-of-range numbers and malformed values', () => {
  const cases: [string, string][] = [
    ['4294967296 INVITE', 'number out of range'],
    ['36893488147419103232 REGISTER', 'number out of range'],
    ['INVITE', 'missing number'],
    ['1', 'missing method'],
    ['1INVITE', 'missing method'],
    ['1 INVITE x', 'unexpected character'],
    ['-1 INVITE', 'missing number'],
  ];
  for (const [value, reason] of cases) {
    assert.throws(() => parseCSeq(value), (e: unknown) => isSipParseError(e) && e.reason === reason, value);
  }
});

const Format = suite('formatCSeq');

Format('writes "seq METHOD"', () => {
  assert.is(formatCSeq({ seq: 7, method: 'BYE' }), '7 BYE');
  assert.equal(parseCSeq(formatCSeq({ seq: 0, method: 'ACK' })), { seq: 0, method: 'ACK' });
});

Parse.run();
Format.run();
