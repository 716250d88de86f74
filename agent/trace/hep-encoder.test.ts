import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeHep } from '../../bench/lib/hep.ts';
import { encodeHep, HEP_PROTO, ipBytes, type HepPacket } from './hep-encoder.ts';
import { TraceError } from './errors.ts';

const INVITE = Buffer.from('INVITE sip:1002@example.test SIP/2.0\r\nCall-ID: abc@x\r\nContent-Length: 0\r\n\r\n');

const base: HepPacket = {
  ipProtocol: 17,
  srcIp: '192.0.2.10',
  srcPort: 5060,
  dstIp: '198.51.100.7',
  dstPort: 40123,
  timeMicros: 1_765_000_000_123_456,
  protoType: HEP_PROTO.sip,
  captureId: 2001,
  payload: INVITE,
};

const test = suite('encodeHep');

test('IPv4 SIP packet: every chunk decodes back, the length field is the datagram length', () => {
  const buf = encodeHep(base);
  assert.is(buf.toString('ascii', 0, 4), 'HEP3');
  assert.is(buf.readUInt16BE(4), buf.length);
  const d = decodeHep(buf);
  assert.is(d.ipFamily, 2);
  assert.is(d.ipProtocol, 17);
  assert.is(d.srcIp, '192.0.2.10');
  assert.is(d.dstIp, '198.51.100.7');
  assert.is(d.srcPort, 5060);
  assert.is(d.dstPort, 40123);
  assert.is(d.timeSeconds, 1_765_000_000);
  assert.is(d.timeMicros, 123_456);
  assert.is(d.protoType, 1);
  assert.is(d.captureId, 2001);
  assert.is(d.authKey, undefined, 'no auth key chunk unless one is set');
  assert.is(d.correlationId, undefined);
  assert.ok(d.payload.equals(INVITE));
});

test('the first chunk is the generic vendor 0, type 1 (IP family), 7 bytes long', () => {
  const buf = encodeHep(base);
  assert.equal([buf.readUInt16BE(6), buf.readUInt16BE(8), buf.readUInt16BE(10), buf[12]], [0, 1, 7, 2]);
});

test('IPv6 over TCP with an auth key and a correlation id (an RTCP report)', () => {
  const json = Buffer.from('{"type":201}');
  const d = decodeHep(encodeHep({ ...base, ipProtocol: 6, srcIp: '2001:db8::1', dstIp: '::ffff:192.0.2.1', protoType: HEP_PROTO.rtcpJson, authKey: 's3cret', correlationId: 'call-1@host', payload: json }));
  assert.is(d.ipFamily, 10);
  assert.is(d.ipProtocol, 6);
  assert.is(d.srcIp, '2001:db8::1');
  assert.is(d.dstIp, '::ffff:c000:201');
  assert.is(d.protoType, 5);
  assert.is(d.authKey, 's3cret');
  assert.is(d.correlationId, 'call-1@host');
  assert.ok(d.payload.equals(json));
});

test('mixed address families and oversized payloads are refused with a TraceError', () => {
  assert.throws(() => encodeHep({ ...base, dstIp: '::1' }), (e: unknown) => e instanceof TraceError && e.code === 'trace.hep-encode');
  assert.throws(() => encodeHep({ ...base, srcIp: 'example.test' }), (e: unknown) => e instanceof TraceError);
  assert.throws(() => encodeHep({ ...base, payload: Buffer.alloc(70_000) }), (e: unknown) => e instanceof TraceError);
});

test('a truncated packet does not decode', () => {
  const buf = encodeHep(base);
  assert.throws(() => decodeHep(buf.subarray(0, buf.length - 3)));
});

const ip = suite('ipBytes');

ip('IPv6 forms: full, ::, leading ::, trailing ::, IPv4 tail', () => {
  assert.is(ipBytes('2001:db8:0:0:0:0:0:1', true).toString('hex'), '20010db8000000000000000000000001');
  assert.is(ipBytes('2001:db8::1', true).toString('hex'), '20010db8000000000000000000000001');
  assert.is(ipBytes('::1', true).toString('hex'), '00000000000000000000000000000001');
  assert.is(ipBytes('fe80::', true).toString('hex'), 'fe800000000000000000000000000000');
  assert.is(ipBytes('::ffff:10.0.0.1', true).toString('hex'), '00000000000000000000ffff0a000001');
  assert.is(ipBytes('10.1.2.3', false).toString('hex'), '0a010203');
});

test.run();
ip.run();
