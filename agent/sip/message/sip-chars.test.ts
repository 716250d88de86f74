import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TOKEN, WORD, badCharAt, isToken, quote, quotedEnd, scan, unescapeOnce, unquote, utf8FromLatin1 } from './sip-chars.ts';
import { SipParseError, isSipParseError } from './errors.ts';

const Classes = suite('character classes');

Classes('token and word', () => {
  assert.ok(isToken("!interesting-Method0123456789_*+`.%indeed'~"));
  assert.not.ok(isToken('') || isToken('a b') || isToken('a:b') || isToken('é'));
  assert.is(scan('abc<d', 0, TOKEN), 3);
  assert.is(scan('abc<d', 0, WORD), 5);
});

const Quoted = suite('quotedEnd / unquote / quote');

Quoted('quoted strings with quoted-pairs, control characters refused', () => {
  assert.is(quotedEnd('"a\\"b" rest', 0), 6);
  assert.is(quotedEnd('"BEL:\\\x07 NUL:\\\x00"', 0), 15);
  assert.is(quotedEnd('"open', 0), -1);
  assert.is(quotedEnd('"raw\x00nul"', 0), -1);
  assert.is(unquote('"a\\"b\\\\"'), 'a"b\\');
  assert.is(unquote(quote('x"y\\z')), 'x"y\\z');
});

const Escapes = suite('badCharAt / unescapeOnce');

Escapes('escapes are checked and decoded exactly once', () => {
  assert.is(badCharAt('ab%4', 0, 4, TOKEN), 2);
  assert.is(badCharAt('a%41b', 0, 5, TOKEN), -1);
  assert.is(unescapeOnce('value%25%34%31'), 'value%41');
  assert.is(unescapeOnce('%C3%A9'), 'é');
  assert.is(unescapeOnce('%FF'), '\xff');
});

Escapes('utf8FromLatin1 re-reads non-ASCII bytes', () => {
  assert.is(utf8FromLatin1(Buffer.from('Grüße').toString('latin1')), 'Grüße');
  assert.is(utf8FromLatin1('plain'), 'plain');
});

const Errors = suite('SipParseError');

Errors('carries reason, offset, header and status', () => {
  const e = new SipParseError('Bad CSeq: method mismatch', 42, 'CSeq');
  assert.equal([e.code, e.reason, e.offset, e.header, e.status, e.name], ['sip.parse', 'Bad CSeq: method mismatch', 42, 'CSeq', 400, 'SipParseError']);
  assert.ok(isSipParseError(e) && !isSipParseError(new Error('x')));
  assert.is(new SipParseError('Version Not Supported', 0, undefined, 505).status, 505);
});

Classes.run();
Quoted.run();
Escapes.run();
Errors.run();
