import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hasTshark, readPcap, tsharkSip } from '../../bench/lib/pcap.ts';
import { LINKTYPE_RAW, MAX_PAYLOAD, pcapFileHeader, pcapRecord } from './pcap-writer.ts';

const sip = (callId: string, extra = '') =>
  Buffer.from(`OPTIONS sip:1001@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK${callId}\r\nFrom: <sip:mon@b.example>;tag=1\r\nTo: <sip:1001@b.example>\r\nCall-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: ${extra.length}\r\n\r\n${extra}`);

function capture(): Buffer {
  return Buffer.concat([
    pcapFileHeader(),
    pcapRecord({ timeMicros: 1_765_000_000_000_001, srcIp: '192.0.2.1', srcPort: 5060, dstIp: '198.51.100.2', dstPort: 40000, payload: sip('v4-call') }),
    pcapRecord({ timeMicros: 1_765_000_000_500_000, srcIp: '2001:db8::1', srcPort: 5060, dstIp: '2001:db8::2', dstPort: 5062, payload: sip('v6-call', 'x') }),
  ]);
}

const test = suite('pcapRecord');

test('a LINKTYPE_RAW capture whose records decode with valid IPv4/IPv6 and UDP checksums', () => {
  const { linktype, records } = readPcap(capture());
  assert.is(linktype, LINKTYPE_RAW);
  assert.is(records.length, 2);
  assert.equal({ ...records[0], payload: undefined }, { timeMicros: 1_765_000_000_000_001, srcIp: '192.0.2.1', dstIp: '198.51.100.2', srcPort: 5060, dstPort: 40000, payload: undefined });
  assert.ok(records[0]!.payload.equals(sip('v4-call')));
  assert.is(records[1]!.srcIp, '2001:db8:0:0:0:0:0:1');
  assert.is(records[1]!.dstPort, 5062);
  assert.ok(records[1]!.payload.equals(sip('v6-call', 'x')), 'an odd payload length checksums too');
});

test('an IPv4 peer of an IPv6 socket is written IPv4-mapped', () => {
  const { records } = readPcap(Buffer.concat([pcapFileHeader(), pcapRecord({ timeMicros: 0, srcIp: '::1', srcPort: 1, dstIp: '10.0.0.1', dstPort: 2, payload: sip('m') })]));
  assert.is(records[0]!.dstIp, '0:0:0:0:0:ffff:a00:1');
});

test('a message longer than a UDP datagram is cut to fit', () => {
  const { records } = readPcap(Buffer.concat([pcapFileHeader(), pcapRecord({ timeMicros: 0, srcIp: '10.0.0.1', srcPort: 1, dstIp: '10.0.0.2', dstPort: 2, payload: Buffer.alloc(70_000, 0x61) })]));
  assert.is(records[0]!.payload.length, MAX_PAYLOAD);
});

test('tshark reads the file and sees both SIP messages with their Call-IDs and addresses (when tshark is installed)', () => {
  if (!hasTshark()) return;
  const file = join(mkdtempSync(join(tmpdir(), 'outpost-pcap-')), 'two.pcap');
  writeFileSync(file, capture());
  const rows = tsharkSip(file, ['sip.Call-ID', 'ip.src', 'ipv6.src', 'udp.dstport'], [40000, 5062]);
  assert.equal(rows, [['v4-call', '192.0.2.1', '', '40000'], ['v6-call', '', '2001:db8::1', '5062']]);
});

test.run();
