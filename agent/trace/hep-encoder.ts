/**
 * HEP version 3 (EEP) packets, as Homer's heplify-server reads them: "HEP3", the total length
 * (16 bits), then chunks of vendor id (0 = generic), type id, length (header included) and
 * value, all big-endian. Pure: builds bytes, no I/O. The decoder for tests is bench/lib/hep.ts.
 *
 * Generic chunk types written here: 1 IP family, 2 IP protocol, 3/4 IPv4 or 5/6 IPv6 source and
 * destination, 7/8 ports, 9/10 timestamp seconds and microseconds, 11 protocol type, 12 capture
 * agent id, 14 auth key (when set), 15 payload, 17 correlation id (when set).
 */
import { isIP } from 'node:net';
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
  const family = isIP(p.srcIp);
  const v6 = family === 6;
  if (family === 0 || isIP(p.dstIp) !== family) {
    throw new TraceError('trace.hep-encode', `addresses ${p.srcIp} and ${p.dstIp} are not both IPv4 or both IPv6`);
  }
  const auth = p.authKey !== undefined && p.authKey !== '' ? Buffer.from(p.authKey, 'utf8') : undefined;
  const correlation = p.correlationId !== undefined && p.correlationId !== '' ? Buffer.from(p.correlationId, 'utf8') : undefined;
  const ipLength = v6 ? 16 : 4;
  // Fixed chunks: family, protocol, proto type (7 each); two addresses; ports (8 each); times, capture id (10 each).
  const length = 6 + 3 * 7 + 2 * (6 + ipLength) + 2 * 8 + 3 * 10 + (auth ? 6 + auth.length : 0) + 6 + p.payload.length + (correlation ? 6 + correlation.length : 0);
  if (length > MAX_PACKET) throw new TraceError('trace.hep-encode', `HEP packet of ${length} bytes exceeds 65535`);
  const b = Buffer.allocUnsafe(length);
  b.write('HEP3', 0, 'ascii');
  b.writeUInt16BE(length, 4);
  let off = 6;
  const head = (type: number, valueLength: number) => {
    b.writeUInt16BE(0, off);
    b.writeUInt16BE(type, off + 2);
    b.writeUInt16BE(6 + valueLength, off + 4);
    off += 6;
  };
  const u8 = (type: number, v: number) => {
    head(type, 1);
    b[off++] = v & 0xff;
  };
  const u16 = (type: number, v: number) => {
    head(type, 2);
    off = b.writeUInt16BE(v & 0xffff, off);
  };
  const u32 = (type: number, v: number) => {
    head(type, 4);
    off = b.writeUInt32BE(v >>> 0, off);
  };
  const bytes = (type: number, v: Buffer) => {
    head(type, v.length);
    off += v.copy(b, off);
  };
  u8(HEP_CHUNK.ipFamily, v6 ? AF_INET6 : AF_INET);
  u8(HEP_CHUNK.ipProtocol, p.ipProtocol);
  bytes(v6 ? HEP_CHUNK.ipv6Src : HEP_CHUNK.ipv4Src, ipBytes(p.srcIp, v6));
  bytes(v6 ? HEP_CHUNK.ipv6Dst : HEP_CHUNK.ipv4Dst, ipBytes(p.dstIp, v6));
  u16(HEP_CHUNK.srcPort, p.srcPort);
  u16(HEP_CHUNK.dstPort, p.dstPort);
  u32(HEP_CHUNK.timeSeconds, Math.floor(p.timeMicros / 1e6));
  u32(HEP_CHUNK.timeMicros, Math.floor(p.timeMicros % 1e6));
  u8(HEP_CHUNK.protoType, p.protoType);
  u32(HEP_CHUNK.captureId, p.captureId);
  if (auth) bytes(HEP_CHUNK.authKey, auth);
  bytes(HEP_CHUNK.payload, p.payload);
  if (correlation) bytes(HEP_CHUNK.correlationId, correlation);
  return b;
}

/** The 4 or 16 bytes of an IP literal (IPv6 with `::` and an embedded IPv4 tail allowed). */
export function ipBytes(ip: string, v6: boolean): Buffer {
  if (!v6) {
    const out = Buffer.allocUnsafe(4);
    let octet = 0;
    let i = 0;
    for (let k = 0; k < ip.length; k++) {
      const c = ip.charCodeAt(k);
      if (c === 46) {
        out[i++] = octet;
        octet = 0;
      } else {
        octet = octet * 10 + c - 48;
      }
    }
    out[i] = octet;
    return out;
  }
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
