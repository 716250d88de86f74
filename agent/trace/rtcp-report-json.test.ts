import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rtcpReportJson } from './rtcp-report-json.ts';

/** An SR with one report block, then an SDES with a CNAME (a typical compound packet). */
function compound(): Buffer {
  const sr = Buffer.alloc(52);
  sr[0] = 0x81; // V=2, one report block
  sr[1] = 200;
  sr.writeUInt16BE(52 / 4 - 1, 2);
  sr.writeUInt32BE(0x11111111, 4); // sender SSRC
  sr.writeUInt32BE(3_970_000_000, 8); // NTP seconds
  sr.writeUInt32BE(0x80000000, 12); // NTP fraction
  sr.writeUInt32BE(160_000, 16); // RTP timestamp
  sr.writeUInt32BE(500, 20); // packets
  sr.writeUInt32BE(80_000, 24); // octets
  sr.writeUInt32BE(0x22222222, 28); // source SSRC
  sr[32] = 25; // fraction lost
  sr.writeUIntBE(7, 33, 3); // cumulative lost
  sr.writeUInt32BE(0x0001_0203, 36);
  sr.writeUInt32BE(42, 40); // jitter
  sr.writeUInt32BE(0xabcd, 44);
  sr.writeUInt32BE(0x1234, 48);
  const sdes = Buffer.from([0x81, 202, 0, 3, 0x11, 0x11, 0x11, 0x11, 1, 2, 0x61, 0x62, 0, 0, 0, 0]);
  return Buffer.concat([sr, sdes]);
}

const test = suite('rtcpReportJson');

test('SR + SDES: sender information, the report block and the SDES SSRC, under Homer\'s names', () => {
  assert.equal(rtcpReportJson(compound()), {
    sender_information: { ntp_timestamp_sec: 3_970_000_000, ntp_timestamp_usec: 0x80000000, rtp_timestamp: 160_000, packets: 500, octets: 80_000 },
    ssrc: 0x11111111,
    type: 200,
    report_count: 1,
    report_blocks: [{ source_ssrc: 0x22222222, fraction_lost: 25, packets_lost: 7, highest_seq_no: 0x00010203, ia_jitter: 42, lsr: 0xabcd, dlsr: 0x1234 }],
    sdes_ssrc: 0x11111111,
  });
});

test('an RR with no blocks', () => {
  const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]);
  const r = rtcpReportJson(rr)!;
  assert.is(r.type, 201);
  assert.is(r.ssrc, 9);
  assert.equal(r.report_blocks, []);
});

test('a BYE alone, a truncated packet and a non-RTCP datagram give nothing', () => {
  assert.is(rtcpReportJson(Buffer.from([0x81, 203, 0, 1, 0, 0, 0, 9])), undefined);
  assert.is(rtcpReportJson(compound().subarray(0, 40)), undefined);
  assert.is(rtcpReportJson(Buffer.from('hello world!')), undefined);
});

test.run();
