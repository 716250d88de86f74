import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isSipParseError } from './errors.ts';
import { formatHeaderParams, mergeParams, parseHeaderParams, readDeltaSeconds, readQValue, unquote } from './header-params.ts';

const Parse = suite('parseHeaderParams');

Parse('flags, tokens, hosts and quoted strings; names lower-cased; LWS allowed', () => {
  const { params, end } = parseHeaderParams(' ; Tag = a1 ;lr; received=[2001:db8::1];x="a;b, \\"c\\"" ', 0);
  assert.equal([...params], [['tag', 'a1'], ['lr', null], ['received', '[2001:db8::1]'], ['x', '"a;b, \\"c\\""']]);
  assert.is(unquote(params.get('x')!), 'a;b, "c"');
  assert.is(end, 55);
});

Parse('starts at the given offset; empty input gives no parameters', () => {
  assert.equal([...parseHeaderParams('<sip:x>;a=1', 7).params], [['a', '1']]);
  assert.is(parseHeaderParams('', 0).params.size, 0);
});

Parse('refuses empty parameters, bad values, repeats and stray characters', () => {
  const cases: [string, string][] = [
    [';;', 'empty parameter'],
    [';a=', 'empty parameter value'],
    [';a="x', 'unterminated quoted string'],
    [';a=1;A=2', 'repeated parameter'],
    [';a=1 b', 'unexpected character'],
    [';a=x,y', 'unexpected character'],
    ['x', 'unexpected character'],
  ];
  for (const [value, reason] of cases) {
    assert.throws(() => parseHeaderParams(value, 0), (e: unknown) => isSipParseError(e) && e.reason === reason, value);
  }
});

const Format = suite('formatHeaderParams');

Format('writes ;name=value and ;flag in order', () => {
  assert.is(formatHeaderParams(new Map([['tag', 'x'], ['lr', null], ['n', '"q q"']])), ';tag=x;lr;n="q q"');
  assert.is(formatHeaderParams(new Map()), '');
});

const Merge = suite('mergeParams');

Merge('overrides and appends named values without touching the input', () => {
  const base = new Map<string, string | null>([['a', '1'], ['b', null]]);
  const merged = mergeParams(base, { b: '2', c: null, d: undefined });
  assert.equal([...merged], [['a', '1'], ['b', '2'], ['c', null]]);
  assert.equal([...base], [['a', '1'], ['b', null]]);
  assert.is(mergeParams(base, { a: '1' }), base);
});

const Scalars = suite('readDeltaSeconds / readQValue');

Scalars('delta-seconds: digits, clamped to 2^32-1', () => {
  assert.is(readDeltaSeconds('3600', 0), 3600);
  assert.is(readDeltaSeconds('10000000000000000000000000', 0), 4294967295);
  for (const v of [null, '', '-1', '1.5', 'x']) assert.throws(() => readDeltaSeconds(v, 0), isSipParseError);
});

Scalars('qvalue: 0 to 1 with up to three decimals', () => {
  assert.equal(['0', '0.5', '0.333', '1', '1.000', '0.'].map((v) => readQValue(v, 0)), [0, 0.5, 0.333, 1, 1, 0]);
  for (const v of [null, '1.5', '2', '0.1234', '.5', '1.001']) assert.throws(() => readQValue(v, 0), isSipParseError);
});

Parse.run();
Format.run();
Merge.run();
Scalars.run();
