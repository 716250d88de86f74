import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isSipParseError } from './errors.ts';
import { parseStartLine } from './start-line.ts';

const Start = suite('parseStartLine');

Start('request line; extra and trailing SP tolerated (RFC 4475 §3.1.2.9, §3.1.2.10)', () => {
  assert.equal(parseStartLine('INVITE sip:a@example.com SIP/2.0', 0), {
    type: 'request', method: 'INVITE', uri: 'sip:a@example.com', version: 'SIP/2.0',
  });
  const loose = parseStartLine('INVITE  sip:a@example.com   SIP/2.0  ', 0);
  assert.equal([loose.type, loose.error], ['request', undefined]);
  assert.is(loose.type === 'request' && loose.uri, 'sip:a@example.com');
});

Start('status line; empty reason; UTF-8 reason', () => {
  assert.equal(parseStartLine('SIP/2.0 180 Ringing', 0), { type: 'response', status: 180, reason: 'Ringing', version: 'SIP/2.0' });
  const empty = parseStartLine('SIP/2.0 100 ', 0);
  assert.equal(empty.type === 'response' && [empty.status, empty.reason], [100, '']);
  const bare = parseStartLine('SIP/2.0 100', 0);
  assert.equal(bare.type === 'response' && [bare.status, bare.reason, bare.error], [100, '', undefined]);
  const utf8 = parseStartLine(Buffer.from('SIP/2.0 200 Grüße', 'utf8').toString('latin1'), 0);
  assert.is(utf8.type === 'response' && utf8.reason, 'Grüße');
});

Start('faults in a recognisable line come back in `error`, with an offset', () => {
  const cases: [string, string, number?][] = [
    ['INVITE sip:a@example.com SIP/7.0', 'Version Not Supported', 505],
    ['INVITE sip:a@example.com HTTP/1.1', 'Bad SIP-Version'],
    ['INVITE <sip:a@example.com> SIP/2.0', 'Bad Request-URI'],
    ['INVITE sip:a@example.com; lr SIP/2.0', 'Bad Request-URI: contains LWS'],
    ['INVITE sip:a@example.com?Route=x SIP/2.0', 'Bad Request-URI: headers not allowed'],
    ['INVITE sip:a@example.com', 'Bad Request-Line'],
    ['SIP/2.0 4294967301 better not break the receiver', 'Bad Status-Code'],
    ['SIP/2.0 20x OK', 'Bad Status-Code'],
    ['SIP/3.0 200 OK', 'Version Not Supported', 505],
  ];
  for (const [line, reason, status] of cases) {
    const sl = parseStartLine(line, 100);
    assert.is(sl.error?.reason, reason, line);
    assert.is(sl.error?.status, status ?? 400, line);
    assert.ok(sl.error!.offset >= 100, line);
  }
  const uri = parseStartLine('INVITE sip:a@example.com?Route=x SIP/2.0', 0);
  assert.is(uri.error!.offset, 'INVITE sip:a@example.com'.length);
});

Start('unrecognisable lines throw SipParseError', () => {
  for (const line of ['', 'INVITE', ' INVITE sip:a SIP/2.0', 'IN(VITE sip:a SIP/2.0', 'SIP/x 200 OK']) {
    assert.throws(() => parseStartLine(line, 0), isSipParseError, JSON.stringify(line));
  }
});

Start.run();
