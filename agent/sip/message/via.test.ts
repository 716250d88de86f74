import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isSipParseError } from './errors.ts';
import { formatVia, parseVia } from './via.ts';

const Parse = suite('parseVia');

Parse('reads sent-protocol, sent-by and the named parameters', () => {
  const v = parseVia('SIP/2.0/udp 192.0.2.1:5060;branch=z9hG4bK776;received=198.51.100.7;rport=40001;maddr=224.2.0.1;ttl=16;x');
  assert.equal(
    [v.protocol, v.transport, v.host, v.port, v.branch, v.received, v.rport, v.maddr, v.ttl],
    ['SIP/2.0', 'UDP', '192.0.2.1', 5060, 'z9hG4bK776', '198.51.100.7', 40001, '224.2.0.1', 16],
  );
  assert.is(v.params.get('x'), null);
  assert.equal([...v.params.keys()], ['branch', 'received', 'rport', 'maddr', 'ttl', 'x']);
});

Parse('LWS around "/", ":", ";" and "=" (RFC 4475 §3.1.1.1)', () => {
  const v = parseVia('SIP  /    2.0   / UDP  192.168.255.111 : 5070  ; branch= z9hG4bK30239 ; rport');
  assert.equal([v.transport, v.host, v.port, v.branch, v.rport], ['UDP', '192.168.255.111', 5070, 'z9hG4bK30239', true]);
});

Parse('IPv6 sent-by and received with or without brackets (RFC 5118 §4.5)', () => {
  const v = parseVia('SIP/2.0/UDP [2001:db8::9:1]:6050;received=[2001:db8::9:255];branch=z9hG4bKas3');
  assert.equal([v.host, v.port, v.received], ['[2001:db8::9:1]', 6050, '2001:db8::9:255']);
  assert.is(parseVia('SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255').received, '2001:db8::9:255');
});

Parse('any transport token; missing branch is fine (RFC 2543 peers)', () => {
  assert.is(parseVia('SIP/2.0/UNKNOWN t4.example.com').transport, 'UNKNOWN');
  assert.is(parseVia('SIP/2.0/UDP iftgw.example.com').branch, undefined);
});

Parse('refuses malformed values', () => {
  const cases = [
    '', 'SIP/2.0', 'SIP/2.0/UDP', 'SIP/2.0/UDPhost', 'SIP/2.0 UDP host', 'SIP/2.0/UDP host;;', 'SIP/2.0/UDP 192.0.2.15;;',
    'SIP/2.0/UDP host;branch', 'SIP/2.0/UDP host;branch="x"', 'SIP/2.0/UDP host;received=example.com',
    'SIP/2.0/UDP host;rport=70000', 'SIP/2.0/UDP host;ttl=256', 'SIP/2.0/UDP host:99999', 'SIP/2.0/UDP 2001:db8::1',
    'SIP/2.0/UDP host extra', 'SIP/2.0/UDP host;branch=a;branch=b',
  ];
  for (const c of cases) assert.throws(() => parseVia(c), isSipParseError, c);
});

const Format = suite('formatVia');

Format('writes a canonical value that parses back the same', () => {
  const text = 'SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bKx;rport=5062;received=2001:db8::2';
  assert.is(formatVia(parseVia(text)), text);
  assert.is(formatVia(parseVia('SIP / 2.0 / udp h.example.com ; branch = z9hG4bK1')), 'SIP/2.0/UDP h.example.com;branch=z9hG4bK1');
});

Format('named fields override or add parameters (a proxy filling in received/rport)', () => {
  const v = parseVia('SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bK1');
  v.rport = 40000;
  v.received = '198.51.100.7';
  assert.is(formatVia(v), 'SIP/2.0/UDP 10.0.0.1:5060;rport=40000;branch=z9hG4bK1;received=198.51.100.7');
  const built = formatVia({ protocol: 'SIP/2.0', transport: 'UDP', host: '2001:db8::1', port: 5060, params: new Map(), branch: 'z9hG4bKb' });
  assert.is(built, 'SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKb');
});

Parse.run();
Format.run();
