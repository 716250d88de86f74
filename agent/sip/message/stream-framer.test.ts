import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMessage } from './parse-message.ts';
import { SipStreamFramer } from './stream-framer.ts';

function message(n: number, body = ''): Buffer {
  return Buffer.from(
    [
      `OPTIONS sip:u${n}@example.com SIP/2.0`,
      `Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK${n}`,
      'From: <sip:a@example.com>;tag=1',
      'To: <sip:b@example.com>',
      `Call-ID: c${n}`,
      `CSeq: ${n} OPTIONS`,
      'Max-Forwards: 70',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );
}

const Framer = suite('SipStreamFramer');

Framer('one chunk, one message; the frame parses', () => {
  const f = new SipStreamFramer();
  const out = f.push(message(1, 'hello'));
  assert.is(out.length, 1);
  assert.equal(out[0], message(1, 'hello'));
  const r = parseMessage(out[0]!);
  assert.ok(r.ok && r.message.body.toString() === 'hello');
  assert.is(f.buffered, 0);
});

Framer('pipelined messages split at every byte boundary', () => {
  const stream = Buffer.concat([message(1, 'abc'), message(2), message(3, 'a\r\n\r\nb')]);
  for (let cut = 1; cut < stream.length; cut++) {
    const f = new SipStreamFramer();
    const out = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
    assert.equal(out, [message(1, 'abc'), message(2), message(3, 'a\r\n\r\nb')], `cut at ${cut}`);
    assert.is(f.error, undefined);
  }
});

Framer('byte by byte', () => {
  const stream = Buffer.concat([message(1, 'xyz'), message(2)]);
  const f = new SipStreamFramer();
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) out.push(...f.push(stream.subarray(i, i + 1)));
  assert.equal(out, [message(1, 'xyz'), message(2)]);
});

Framer('frames copied out of the internal buffer stay intact', () => {
  const f = new SipStreamFramer();
  const a = message(1, 'first');
  const out1 = f.push(a.subarray(0, 10));
  const out2 = f.push(Buffer.concat([a.subarray(10), message(2).subarray(0, 30)]));
  const out3 = f.push(message(2).subarray(30));
  assert.equal([out1.length, out2.length, out3.length], [0, 1, 1]);
  assert.equal(out2[0], a);
  assert.equal(out3[0], message(2));
});

Framer('CRLF keep-alives: CRLFCRLF is a ping, a lone CRLF is skipped (RFC 5626)', () => {
  let pinged = 0;
  const f = new SipStreamFramer({ onPing: () => pinged++ });
  assert.equal(f.push(Buffer.from('\r\n\r\n')), []);
  assert.is(f.pings, 1);
  assert.equal(f.push(Buffer.from('\r\n')), []);
  assert.is(f.pings, 1);
  const out = f.push(Buffer.concat([Buffer.from('\r\n'), message(1), Buffer.from('\r\n\r\n\r\n\r\n'), message(2)]));
  assert.is(out.length, 2);
  assert.equal([f.pings, pinged], [4, 4]);
  const split = new SipStreamFramer();
  split.push(Buffer.from('\r'));
  split.push(Buffer.from('\n\r'));
  split.push(Buffer.from('\n'));
  assert.is(split.pings, 1);
});

Framer('missing, bad or conflicting Content-Length stops the stream', () => {
  const cases: [string, string][] = [
    ['OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n', 'Missing Content-Length'],
    ['OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -5\r\n\r\n', 'Bad Content-Length'],
    ['OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab', 'Conflicting Content-Length'],
  ];
  for (const [text, reason] of cases) {
    const f = new SipStreamFramer();
    assert.equal(f.push(Buffer.from(text)), []);
    assert.is(f.error?.reason, reason);
    assert.equal(f.push(message(1)), [], 'nothing after an error');
  }
});

Framer('compact and folded Content-Length are understood', () => {
  const text = 'OPTIONS sip:a@b SIP/2.0\r\nl:\r\n  3\r\n\r\nabcOPTIONS';
  const f = new SipStreamFramer();
  const out = f.push(Buffer.from(text));
  assert.equal(out.map((b) => b.toString()), ['OPTIONS sip:a@b SIP/2.0\r\nl:\r\n  3\r\n\r\nabc']);
  assert.is(f.buffered, 7);
});

Framer('messages before a framing error are still delivered', () => {
  const f = new SipStreamFramer();
  const out = f.push(Buffer.concat([message(1), Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n\r\n')]));
  assert.equal(out, [message(1)]);
  assert.is(f.error?.reason, 'Missing Content-Length');
});

Framer('bounds: header section and whole message size', () => {
  const flood = new SipStreamFramer({ maxHeaderBytes: 1024 });
  const line = Buffer.from('X-Flood: ' + 'a'.repeat(100) + '\r\n');
  flood.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n'));
  for (let i = 0; i < 20 && !flood.error; i++) flood.push(line);
  assert.is(flood.error?.reason, 'Header section too large');
  assert.is(flood.buffered, 0);
  const big = new SipStreamFramer({ maxMessageBytes: 1000 });
  assert.equal(big.push(message(1, 'x'.repeat(2000)).subarray(0, 300)), []);
  assert.is(big.error?.reason, 'Message too large');
  const fits = new SipStreamFramer({ maxMessageBytes: 1000 });
  assert.is(fits.push(message(1, 'x'.repeat(500))).length, 1);
});

Framer('LF-only framing is tolerated', () => {
  const text = 'OPTIONS sip:a@b SIP/2.0\nContent-Length: 2\n\nok';
  assert.equal(new SipStreamFramer().push(Buffer.from(text + text)).map(String), [text, text]);
});

Framer.run();
