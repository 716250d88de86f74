/**
 * An RTCP compound packet (RFC 3550 §6.4) as the JSON report Homer stores for HEP protocol
 * type 5: the sender's SSRC, the sender information of an SR, and the report blocks (loss,
 * extended highest sequence number, jitter, LSR, DLSR), with the field names Homer's RTCP
 * views read (`sender_information`, `report_blocks`, `ia_jitter`, ...). Pure; a packet with
 * neither SR nor RR (BYE, feedback alone) or a malformed one gives undefined: nothing to export.
 */

const SR = 200;
const RR = 201;
const SDES = 202;

export interface RtcpReportBlock {
  source_ssrc: number;
  fraction_lost: number;
  packets_lost: number;
  highest_seq_no: number;
  ia_jitter: number;
  lsr: number;
  dlsr: number;
}

export interface RtcpReportJson {
  sender_information: { ntp_timestamp_sec: number; ntp_timestamp_usec: number; rtp_timestamp: number; packets: number; octets: number };
  ssrc: number;
  type: number;
  report_count: number;
  report_blocks: RtcpReportBlock[];
  sdes_ssrc: number;
}

export function rtcpReportJson(buf: Buffer): RtcpReportJson | undefined {
  const report: RtcpReportJson = {
    sender_information: { ntp_timestamp_sec: 0, ntp_timestamp_usec: 0, rtp_timestamp: 0, packets: 0, octets: 0 },
    ssrc: 0,
    type: 0,
    report_count: 0,
    report_blocks: [],
    sdes_ssrc: 0,
  };
  let found = false;
  let off = 0;
  while (off + 4 <= buf.length) {
    if ((buf[off]! & 0xc0) !== 0x80) return undefined;
    const count = buf[off]! & 0x1f;
    const type = buf[off + 1]!;
    const end = off + (buf.readUInt16BE(off + 2) + 1) * 4;
    if (end > buf.length) return undefined;
    if ((type === SR || type === RR) && !found && off + 8 <= end) {
      found = true;
      report.type = type;
      report.report_count = count;
      report.ssrc = buf.readUInt32BE(off + 4);
      let blocks = off + 8;
      if (type === SR) {
        if (off + 28 > end) return undefined;
        report.sender_information = {
          ntp_timestamp_sec: buf.readUInt32BE(off + 8),
          ntp_timestamp_usec: buf.readUInt32BE(off + 12),
          rtp_timestamp: buf.readUInt32BE(off + 16),
          packets: buf.readUInt32BE(off + 20),
          octets: buf.readUInt32BE(off + 24),
        };
        blocks = off + 28;
      }
      for (let i = 0; i < count && blocks + 24 * (i + 1) <= end; i++) {
        const at = blocks + 24 * i;
        report.report_blocks.push({
          source_ssrc: buf.readUInt32BE(at),
          fraction_lost: buf[at + 4]!,
          packets_lost: buf.readUIntBE(at + 5, 3),
          highest_seq_no: buf.readUInt32BE(at + 8),
          ia_jitter: buf.readUInt32BE(at + 12),
          lsr: buf.readUInt32BE(at + 16),
          dlsr: buf.readUInt32BE(at + 20),
        });
      }
    } else if (type === SDES && off + 8 <= end && report.sdes_ssrc === 0) {
      report.sdes_ssrc = buf.readUInt32BE(off + 4);
    }
    off = end;
  }
  return found ? report : undefined;
}
