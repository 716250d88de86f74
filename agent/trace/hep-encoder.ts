/**
 * HEP version 3 (EEP) packets, as Homer's heplify-server reads them: "HEP3", the total length
 * (16 bits), then chunks of vendor id (0 = generic), type id, length (header included) and
 * value, all big-endian. Pure: builds bytes, no I/O. The decoder for tests is bench/lib/hep.ts.
 *
 * Generic chunk types written here: 1 IP family, 2 IP protocol, 3/4 IPv4 or 5/6 IPv6 source and
 * destination, 7/8 ports, 9/10 timestamp seconds and microseconds, 11 protocol type, 12 capture
 * agent id, 14 auth key (when set), 15 payload, 17 correlation id (when set).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { TraceError } from './errors.ts';

export const HEP_CHUNK = {
  ipFamily: 1,
  ipProtocol: 2,
  ipv4Src: 3,
  ipv4Dst: 4,
  ipv6Src: 5,
  ipv6Dst: 6,
  srcPort: 7,
  dstPort: 8,
  timeSeconds: 9,
  timeMicros: 10,
  protoType: 11,
  captureId: 12,
  authKey: 14,
  payload: 15,
  correlationId: 17,
} as const;

/** Protocol types (chunk 11) Homer knows; Outpost sends SIP and RTCP reports as JSON. */
export const HEP_PROTO = { sip: 1, rtcpJson: 5 } as const;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export interface HepPacket {
  /** IP protocol of the captured message: 17 (UDP) or 6 (TCP; TLS is TCP too). */
  ipProtocol: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  /** Capture time in microseconds since the epoch. */
  timeMicros: number;
  /** Chunk 11: 1 SIP, 5 RTCP as JSON. */
  protoType: number;
  captureId: number;
  authKey?: string;
  payload: Buffer;
  /** Chunk 17: the Call-ID an RTCP report belongs to. */
  correlationId?: string;
}

const MAX_PACKET = 0xffff;

/** Encodes one packet. Throws TraceError for an address that is not an IP literal or a packet over 64 KiB. */
export function encodeHep(p: HepPacket): Buffer {
  const v6 = isIPv6(p.srcIp) || isIPv6(p.dstIp);
  if (!(v6 ? isIPv6(p.srcIp) && isIPv6(p.dstIp) : isIPv4(p.srcIp) && isIPv4(p.dstIp))) {
    throw new TraceError('trace.hep-encode', `addresses ${p.srcIp} and ${p.dstIp} are not both IPv4 or both IPv6`);
  }
  const chunks: Buffer[] = [
    u8(HEP_CHUNK.ipFamily, v6 ? AF_INET6 : AF_INET),
    u8(HEP_CHUNK.ipProtocol, p.ipProtocol),
    chunk(v6 ? HEP_CHUNK.ipv6Src : HEP_CHUNK.ipv4Src, ipBytes(p.srcIp, v6)),
    chunk(v6 ? HEP_CHUNK.ipv6Dst : HEP_CHUNK.ipv4Dst, ipBytes(p.dstIp, v6)),
    u16(HEP_CHUNK.srcPort, p.srcPort),
    u16(HEP_CHUNK.dstPort, p.dstPort),
    u32(HEP_CHUNK.timeSeconds, Math.floor(p.timeMicros / 1e6)),
    u32(HEP_CHUNK.timeMicros, Math.floor(p.timeMicros % 1e6)),
    u8(HEP_CHUNK.protoType, p.protoType),
    u32(HEP_CHUNK.captureId, p.captureId),
  ];
  if (p.authKey !== undefined && p.authKey !== '') chunks.push(chunk(HEP_CHUNK.authKey, Buffer.from(p.authKey, 'utf8')));
  chunks.push(chunk(HEP_CHUNK.payload, p.payload));
  if (p.correlationId !== undefined && p.correlationId !== '') chunks.push(chunk(HEP_CHUNK.correlationId, Buffer.from(p.correlationId, 'utf8')));
  const length = 6 + chunks.reduce((n, c) => n + c.length, 0);
  if (length > MAX_PACKET) throw new TraceError('trace.hep-encode', `HEP packet of ${length} bytes exceeds 65535`);
  const head = Buffer.alloc(6);
  head.write('HEP3', 0, 'ascii');
  head.writeUInt16BE(length, 4);
  return Buffer.concat([head, ...chunks], length);
}

function chunk(type: number, value: Buffer): Buffer {
  if (value.length + 6 > MAX_PACKET) throw new TraceError('trace.hep-encode', `HEP chunk ${type} of ${value.length} bytes exceeds 65535`);
  const head = Buffer.alloc(6);
  head.writeUInt16BE(0, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(6 + value.length, 4);
  return Buffer.concat([head, value]);
}

function u8(type: number, v: number): Buffer {
  return chunk(type, Buffer.from([v & 0xff]));
}

function u16(type: number, v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return chunk(type, b);
}

function u32(type: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return chunk(type, b);
}

/** The 4 or 16 bytes of an IP literal (IPv6 with `::` and an embedded IPv4 tail allowed). */
export function ipBytes(ip: string, v6: boolean): Buffer {
  if (!v6) return Buffer.from(ip.split('.').map(Number));
  let text = ip;
  const v4tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4tail) {
    const o = v4tail[1]!.split('.').map(Number);
    text = `${text.slice(0, v4tail.index)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}
