import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readHeaders, trimWsp } from './read-headers.ts';

const Read = suite('readHeaders');

Read('one entry per line with value offsets; canonical names', () => {
  const head = 'X\r\ncall-id: abc\r\nCSEQ :  1 INVITE \r\n';
  const sec = readHeaders(head, 3, 1000, false);
  assert.equal(sec.list, [{ name: 'Call-ID', value: 'abc' }, { name: 'CSeq', value: '1 INVITE' }]);
  assert.equal(sec.offsets, [1000 + head.indexOf('abc'), 1000 + head.indexOf('1 INVITE')]);
  assert.is(sec.error, undefined);
});

Read('folding joins with one SP; an empty first line is allowed', () => {
  const sec = readHeaders('To :\r\n sip:a@example.com ;\r\n\t tag = 1\r\n', 0, 0, false);
  assert.equal(sec.list, [{ name: 'To', value: 'sip:a@example.com ; tag = 1' }]);
  const blank = readHeaders('Subject: a \r\n \t \r\n  b\r\n', 0, 0, false);
  assert.equal(blank.list, [{ name: 'Subject', value: 'a b' }]);
});

Read('list splitting keeps empty elements only for strict headers', () => {
  const sec = readHeaders('Via: a, ,b\r\nSupported: x,,y,\r\nRoute: <sip:a,b>, <c>\r\n', 0, 0, false);
  assert.equal(sec.list.map((h) => `${h.name}=${h.value}`), ['Via=a', 'Via=', 'Via=b', 'Supported=x', 'Supported=y', 'Route=<sip:a,b>', 'Route=<c>']);
});

Read('non-ASCII values are decoded as UTF-8 only when asked', () => {
  const latin = Buffer.from('Subject: \u00e9t\u00e9\r\n', 'utf8').toString('latin1');
  assert.is(readHeaders(latin, 0, 0, true).list[0]!.value, '\u00e9t\u00e9');
});

Read('a bad line stops reading and keeps what came before', () => {
  const sec = readHeaders('X-A: 1\r\nnot a header\r\nB: 2\r\n', 0, 50, false);
  assert.equal(sec.list, [{ name: 'X-A', value: '1' }]);
  assert.equal([sec.error?.reason, sec.error?.offset], ['Malformed header line', 58]);
  assert.is(readHeaders(' x: 1\r\n', 0, 0, false).error?.reason, 'Malformed header line');
  assert.is(readHeaders(': 1\r\n', 0, 0, false).error?.reason, 'Malformed header line');
  assert.is(readHeaders('A: 1\rB: 2\r\n', 0, 0, false).error?.reason, 'Malformed line ending');
});

const Trim = suite('trimWsp');

Trim('trims SP and HTAB only', () => {
  assert.is(trimWsp(' \t a b \t'), 'a b');
  assert.is(trimWsp('\r a \n'), '\r a \n');
  assert.is(trimWsp(''), '');
});

Read.run();
Trim.run();
