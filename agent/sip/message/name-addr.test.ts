import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isSipParseError } from './errors.ts';
import { formatNameAddr, parseNameAddr } from './name-addr.ts';

const Parse = suite('parseNameAddr');

Parse('name-addr with quoted display name and parameters', () => {
  const na = parseNameAddr('"Alice \\"A\\" Liddell" <sip:alice@example.com;transport=tcp>;tag=88sja8x;expires=60;q=0.7;+sip.instance="<urn:uuid:1>"');
  assert.is(na.displayName, 'Alice "A" Liddell');
  assert.is(na.uri, 'sip:alice@example.com;transport=tcp');
  assert.equal([na.tag, na.expires, na.q], ['88sja8x', 60, 0.7]);
  assert.is(na.params.get('+sip.instance'), '"<urn:uuid:1>"');
});

Parse('token display names, also touching "<" (RFC 4475 §3.1.1.6)', () => {
  assert.is(parseNameAddr('caller<sip:caller@example.com>;tag=323').displayName, 'caller');
  assert.is(parseNameAddr('A. Bell <sip:a.g.bell@example.com>').displayName, 'A. Bell');
  assert.is(parseNameAddr('<sip:x@example.com>').displayName, undefined);
  assert.is(parseNameAddr('"" <sip:x@example.com>').displayName, '');
});

Parse('addr-spec: the URI ends at the first ";" (RFC 3261 §20.10, RFC 4475 §3.3.12)', () => {
  const na = parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam;tag=1');
  assert.equal([na.uri, na.displayName, [...na.params]], ['sip:+19725552222@gw1.example.net', undefined, [['unknownparam', null], ['tag', '1']]]);
  assert.is(parseNameAddr('isbn:2983792873').uri, 'isbn:2983792873');
  assert.is(parseNameAddr('  sip:a@example.com ;  tag  =  x ').tag, 'x');
});

Parse('refuses what RFC 4475 calls malformed', () => {
  const cases: [string, string][] = [
    ['"Mr. J. User <sip:j.user@example.com>', 'unterminated quoted string'],
    ['"Watson, Thomas" < sip:t.watson@example.org >', 'bad URI'],
    ['Bell, Alexander <sip:a.g.bell@example.com>;tag=43', 'display name must be quoted'],
    ['sip:user@example.com?Route=%3Csip:sip.example.com%3E', 'URI with ? or , needs <>'],
    ['"Joe" <sip:joe@example.org>;;;;', 'empty parameter'],
    ['<sip:joe@example.org', 'missing >'],
    ['"Joe" sip:joe@example.org', 'expected <'],
    ['<sip:a@example.com>;tag', 'bad tag'],
    ['<sip:a@example.com>;expires=soon', 'bad delta-seconds'],
    ['<sip:a@example.com>;q=1.5', 'bad qvalue'],
    ['', 'bad URI'],
  ];
  for (const [value, reason] of cases) {
    assert.throws(() => parseNameAddr(value), (e: unknown) => isSipParseError(e) && e.reason === reason, value);
  }
});

Parse('expires beyond 2^32-1 is clamped (RFC 4475 §3.1.2.4)', () => {
  assert.is(parseNameAddr('<sip:u@h.example.com>;expires=280297596632815').expires, 4294967295);
});

const Format = suite('formatNameAddr');

Format('always brackets the URI and quotes the display name', () => {
  assert.is(formatNameAddr(parseNameAddr('sip:a@example.com;tag=1')), '<sip:a@example.com>;tag=1');
  assert.is(formatNameAddr(parseNameAddr('Bob <sip:b@example.com>')), '"Bob" <sip:b@example.com>');
  assert.is(formatNameAddr({ displayName: 'Say "hi"\\', uri: 'sip:x@example.com', params: new Map() }), '"Say \\"hi\\"\\\\" <sip:x@example.com>');
});

Format('named fields override or add parameters', () => {
  const na = parseNameAddr('<sip:a@example.com>;q=0.5;x=1');
  na.tag = 'abc';
  na.q = 1;
  assert.is(formatNameAddr(na), '<sip:a@example.com>;q=1;x=1;tag=abc');
  assert.equal(parseNameAddr(formatNameAddr(na)).tag, 'abc');
});

Parse.run();
Format.run();
