import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AgentError } from '../../lib/errors.ts';
import { SipParseError } from './errors.ts';
import { type ParseResult, parseMessage } from './parse-message.ts';
import { serializeMessage } from './serialize-message.ts';
import type { SipMessage, SipRequest, SipResponse } from './sip-message.ts';

const HEAD = [
  'Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK74bf9',
  'Max-Forwards: 70',
  'From: "Bob" <sip:bob@example.com>;tag=9fxced76sl',
  'To: <sip:alice@example.com>',
  'Call-ID: 3848276298220188511@192.0.2.4',
];

function msg(start: string, headers: string[], body = '', eol = '\r\n'): Buffer {
  return Buffer.from([start, ...headers, '', body].join(eol), 'utf8');
}
function register(extra: string[] = [], body = ''): Buffer {
  return msg('REGISTER sip:example.com SIP/2.0', [...HEAD, 'CSeq: 2 REGISTER', ...extra], body);
}
function ok(r: ParseResult): SipMessage {
  if (r.ok) return r.message;
  assert.unreachable(`unexpected parse error: ${r.error.message}`);
  throw r.error;
}
function bad(r: ParseResult): { error: SipParseError; partial?: SipRequest } {
  if (!r.ok) return r;
  assert.unreachable('expected a parse error');
  throw new SipParseError('unexpected success', 0);
}

const Parse = suite('parseMessage');

Parse('parses a request: start line, headers in order, empty body', () => {
  const m = ok(parseMessage(register(['Content-Length: 0']))) as SipRequest;
  assert.equal([m.type, m.method, m.uri, m.version], ['request', 'REGISTER', 'sip:example.com', 'SIP/2.0']);
  assert.equal(
    m.headers.list.map((h) => h.name),
    ['Via', 'Max-Forwards', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Length'],
  );
  assert.is(m.headers.get('call-id'), '3848276298220188511@192.0.2.4');
  assert.is(m.body.length, 0);
});

Parse('parses a response with its reason phrase', () => {
  const m = ok(parseMessage(msg('SIP/2.0 486 Busy Here', [...HEAD, 'CSeq: 1 INVITE', 'l: 0']))) as SipResponse;
  assert.equal([m.type, m.status, m.reason], ['response', 486, 'Busy Here']);
});

Parse('expands compact header names', () => {
  const m = ok(
    parseMessage(
      msg('OPTIONS sip:a@example.com SIP/2.0', [
        'v: SIP/2.0/UDP h.example.com;branch=z9hG4bK1',
        'f: <sip:b@example.com>;tag=1',
        't: sip:a@example.com',
        'i: abc',
        'CSeq: 1 OPTIONS',
        'k: path',
        'm: <sip:b@192.0.2.1>',
        's: hi',
        'l: 0',
      ]),
    ),
  );
  assert.equal(
    m.headers.list.map((h) => h.name),
    ['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Supported', 'Contact', 'Subject', 'Content-Length'],
  );
});

Parse('unfolds continuation lines (SP or HTAB) into one space', () => {
  const m = ok(parseMessage(register(['Subject: first   ', ' \t second', '\tthird'])));
  assert.is(m.headers.get('subject'), 'first second third');
});

Parse('splits list headers at top-level commas only', () => {
  const m = ok(
    parseMessage(
      register([
        'Contact: "Doe, John" <sip:j,k@192.0.2.1>;note="x, y";q=0.5, <sip:k@192.0.2.2>',
        'Allow: INVITE,ACK , BYE,,',
        'Warning: 399 h.example.com "a, b", 399 h.example.com "c"',
        'In-Reply-To: 70710@saturn.bell-tel.com, "q<@x',
        'Subject: one, two',
        'Authorization: Digest username="bob", realm="x"',
      ]),
    ),
  );
  assert.equal(m.headers.getAll('contact'), ['"Doe, John" <sip:j,k@192.0.2.1>;note="x, y";q=0.5', '<sip:k@192.0.2.2>']);
  assert.equal(m.headers.getAll('allow'), ['INVITE', 'ACK', 'BYE']);
  assert.equal(m.headers.getAll('warning'), ['399 h.example.com "a, b"', '399 h.example.com "c"']);
  assert.equal(m.headers.getAll('in-reply-to'), ['70710@saturn.bell-tel.com', '"q<@x']);
  assert.equal(m.headers.getAll('subject'), ['one, two']);
  assert.is(m.headers.getAll('authorization').length, 1);
});

Parse('keeps Contact: * as it is', () => {
  const m = ok(parseMessage(register(['Contact: *', 'Expires: 0'])));
  assert.equal(m.headers.getAll('contact'), ['*']);
});

Parse('Content-Length: frames the body, ignores extra octets, is normalised to one entry', () => {
  const m = ok(parseMessage(register(['Content-Length: 0004', 'Content-Length: 4'], 'abcdEXTRA')));
  assert.is(m.body.toString(), 'abcd');
  assert.equal(m.headers.getAll('content-length'), ['4']);
  const noLength = ok(parseMessage(register([], 'v=0\r\n')));
  assert.is(noLength.body.toString(), 'v=0\r\n');
  assert.equal(noLength.headers.list.at(-1), { name: 'Content-Length', value: '5' });
});

Parse('Content-Length faults: short body, negative, not a number, too big, conflicting', () => {
  assert.is(bad(parseMessage(register(['Content-Length: 10'], 'abc'))).error.reason, 'Content-Length exceeds body');
  assert.is(bad(parseMessage(register(['Content-Length: -1']))).error.reason, 'Bad Content-Length');
  assert.is(bad(parseMessage(register(['Content-Length: 1e3']))).error.reason, 'Bad Content-Length');
  assert.is(bad(parseMessage(register(['Content-Length: 99999999999']))).error.reason, 'Bad Content-Length');
  assert.is(bad(parseMessage(register(['l: 1', 'l: 2'], 'ab'))).error.reason, 'Conflicting Content-Length');
});

Parse('tolerates bare LF line ends, leading CRLFs, a missing final blank line', () => {
  ok(parseMessage(msg('REGISTER sip:example.com SIP/2.0', [...HEAD, 'CSeq: 2 REGISTER', 'l: 0'], '', '\n')));
  ok(parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), register()])));
  const text = register().toString();
  ok(parseMessage(Buffer.from(text.slice(0, -2))));
  assert.is(bad(parseMessage(Buffer.from(text.slice(0, -4)))).error.reason, 'Truncated header section');
});

Parse('matches the version case-insensitively and reports SIP/2.0', () => {
  const m = ok(parseMessage(msg('OPTIONS sip:a@example.com sip/2.0', [...HEAD, 'CSeq: 1 OPTIONS'])));
  assert.is(m.version, 'SIP/2.0');
});

Parse('a request in error keeps a partial request to answer', () => {
  const r = bad(parseMessage(msg('OPTIONS sip:a@example.com SIP/3.0', [...HEAD, 'CSeq: 1 OPTIONS'])));
  assert.equal([r.error.status, r.error.reason], [505, 'Version Not Supported']);
  assert.is(r.partial!.method, 'OPTIONS');
  assert.is(r.partial!.headers.get('cseq'), '1 OPTIONS');
  const http = bad(parseMessage(msg('GET / HTTP/1.1', ['Host: x'])));
  assert.equal([http.error.status, http.error.reason], [400, 'Bad SIP-Version']);
});

Parse('missing, duplicate and malformed mandatory headers', () => {
  const noVia = msg('OPTIONS sip:a@example.com SIP/2.0', [...HEAD.slice(1), 'CSeq: 1 OPTIONS']);
  assert.is(bad(parseMessage(noVia)).error.reason, 'Missing Via');
  assert.is(bad(parseMessage(register(['To: <sip:x@example.com>']))).error.reason, 'Duplicate To');
  assert.is(bad(parseMessage(register(['Max-Forwards: 71']))).error.reason, 'Duplicate Max-Forwards');
  const mf = msg('OPTIONS sip:a@example.com SIP/2.0', [...HEAD.slice(0, 1), 'Max-Forwards: 256', ...HEAD.slice(2), 'CSeq: 1 OPTIONS']);
  assert.is(bad(parseMessage(mf)).error.reason, 'Bad Max-Forwards');
  const cid = msg('OPTIONS sip:a@example.com SIP/2.0', [...HEAD.slice(0, 4), 'Call-ID: a b', 'CSeq: 1 OPTIONS']);
  assert.is(bad(parseMessage(cid)).error.reason, 'Bad Call-ID');
  assert.is(bad(parseMessage(register(['Route: <sip:p.example.com;lr']))).error.reason, 'Bad Route: missing >');
});

Parse('CSeq method must match the request method (case-sensitive)', () => {
  const r = bad(parseMessage(msg('OPTIONS sip:a@example.com SIP/2.0', [...HEAD, 'CSeq: 1 options'])));
  assert.equal([r.error.reason, r.error.header], ['Bad CSeq: method mismatch', 'CSeq']);
  const text = msg('OPTIONS sip:a@example.com SIP/2.0', [...HEAD, 'CSeq: 1 options']).toString('latin1');
  assert.is(r.error.offset, text.indexOf('1 options'));
});

Parse('a malformed header line stops reading but keeps the headers before it', () => {
  const r = bad(parseMessage(register(['Bad header line', 'X-After: 1'])));
  assert.is(r.error.reason, 'Malformed header line');
  assert.is(r.partial!.headers.get('cseq'), '2 REGISTER');
  assert.is(r.partial!.headers.get('x-after'), undefined);
  assert.is(bad(parseMessage(msg('OPTIONS sip:a@b SIP/2.0', [' folded: first']))).error.reason, 'Malformed header line');
  assert.is(bad(parseMessage(register(['X-A: a\rb']))).error.reason, 'Malformed line ending');
});

Parse('unrecognisable input gives an error without partial', () => {
  for (const text of ['', '\r\n\r\n', 'garbage', '\x00\x01\x02\r\n\r\n', 'SIP/2.0\r\n\r\n', ' INVITE x SIP/2.0\r\n\r\n']) {
    const r = bad(parseMessage(Buffer.from(text, 'latin1')));
    assert.is(r.partial, undefined, JSON.stringify(text));
  }
});

Parse('responses: bad status codes are errors and never carry a partial', () => {
  for (const line of ['SIP/2.0 099 Low', 'SIP/2.0 700 High', 'SIP/2.0 20 OK', 'SIP/2.0 2000 OK']) {
    const r = bad(parseMessage(msg(line, [...HEAD, 'CSeq: 1 INVITE'])));
    assert.equal([r.error.reason, r.partial], ['Bad Status-Code', undefined]);
  }
});

Parse('header values are read as UTF-8; invalid bytes become U+FFFD and stay stable', () => {
  const m = ok(parseMessage(register(['Subject: caf\u00e9 \u2603'])));
  assert.is(m.headers.get('subject'), 'caf\u00e9 \u2603');
  const raw = Buffer.concat([register().subarray(0, -2), Buffer.from('Subject: a\xffb\r\n\r\n', 'latin1')]);
  const m2 = ok(parseMessage(raw));
  assert.is(m2.headers.get('subject'), 'a\ufffdb');
  assert.equal(ok(parseMessage(serializeMessage(m2))), m2);
});

Parse('errors are SipParseError / AgentError with code sip.parse', () => {
  const r = bad(parseMessage(Buffer.from('nonsense')));
  assert.ok(r.error instanceof SipParseError && r.error instanceof AgentError);
  assert.is(r.error.code, 'sip.parse');
});

Parse.run();
