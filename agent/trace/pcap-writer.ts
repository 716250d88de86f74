/**
 * libpcap capture files (the classic format: microsecond timestamps, little-endian) of SIP
 * messages, with LINKTYPE_RAW (101): each record is an IPv4 or IPv6 header and a UDP header
 * synthesized around the message, carrying its real addresses and ports, so tshark, Wireshark
 * and sngrep show the messages as they went over the wire. Messages that went over TCP or TLS
 * are written as UDP datagrams too (one message per record, already framed). Pure: bytes only.
 */
import { isIPv6 } from 'node:net';
import { ipBytes } from './hep-encoder.ts';

export const LINKTYPE_RAW = 101;
const SNAPLEN = 65_535;
/** The largest UDP payload an IPv4 datagram carries; a longer message is cut (the record says so). */
export const MAX_PAYLOAD = 65_535 - 20 - 8;

export interface PcapPacket {
  timeMicros: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  payload: Buffer;
}

/** The 24-byte file header. */
export function pcapFileHeader(): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeInt32LE(0, 8); // thiszone
  b.writeUInt32LE(0, 12); // sigfigs
  b.writeUInt32LE(SNAPLEN, 16);
  b.writeUInt32LE(LINKTYPE_RAW, 20);
  return b;
}

/** One record: 16-byte record header, IP header, UDP header, payload. */
export function pcapRecord(p: PcapPacket): Buffer {
  const v6 = isIPv6(p.srcIp) || isIPv6(p.dstIp);
  const src = ipBytes(v6 ? asV6(p.srcIp) : p.srcIp, v6);
  const dst = ipBytes(v6 ? asV6(p.dstIp) : p.dstIp, v6);
  const payload = p.payload.length > MAX_PAYLOAD ? p.payload.subarray(0, MAX_PAYLOAD) : p.payload;
  const udpLength = 8 + payload.length;
  const ipHeader = v6 ? ipv6Header(src, dst, udpLength) : ipv4Header(src, dst, udpLength);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(p.srcPort, 0);
  udp.writeUInt16BE(p.dstPort, 2);
  udp.writeUInt16BE(udpLength, 4);
  udp.writeUInt16BE(udpChecksum(src, dst, udp, payload), 6);
  const length = ipHeader.length + udpLength;
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(Math.floor(p.timeMicros / 1e6), 0);
  rec.writeUInt32LE(Math.floor(p.timeMicros % 1e6), 4);
  rec.writeUInt32LE(length, 8);
  rec.writeUInt32LE(length, 12);
  return Buffer.concat([rec, ipHeader, udp, payload]);
}

/** An IPv4 address in an IPv6 record (one side of a dual-stack pair): IPv4-mapped. */
function asV6(ip: string): string {
  return isIPv6(ip) ? ip : `::ffff:${ip}`;
}

function ipv4Header(src: Buffer, dst: Buffer, udpLength: number): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + udpLength, 2);
  h.writeUInt16BE(0x4000, 6); // don't fragment
  h[8] = 64;
  h[9] = 17;
  src.copy(h, 12);
  dst.copy(h, 16);
  h.writeUInt16BE(onesComplement(sum16(h, 0)), 10);
  return h;
}

function ipv6Header(src: Buffer, dst: Buffer, udpLength: number): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(udpLength, 4);
  h[6] = 17;
  h[7] = 64;
  src.copy(h, 8);
  dst.copy(h, 24);
  return h;
}

/** RFC 768 checksum over the pseudo-header (RFC 8200 §8.1 for IPv6), UDP header and payload. */
function udpChecksum(src: Buffer, dst: Buffer, udp: Buffer, payload: Buffer): number {
  const length = udp.length + payload.length;
  let sum = sum16(src, 0) + sum16(dst, 0) + 17 + (length & 0xffff) + (length >>> 16) + sum16(udp, 0) + sum16(payload, 0);
  sum = onesComplement(sum);
  return sum === 0 ? 0xffff : sum;
}

function sum16(b: Buffer, initial: number): number {
  let sum = initial;
  const even = b.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length & 1) sum += b[b.length - 1]! << 8;
  return sum;
}

function onesComplement(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}
