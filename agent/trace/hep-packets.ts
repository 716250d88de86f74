/**
 * What the box exports over HEP, as HepPackets: a SIP message seen by the endpoint (type 1, the
 * bytes as on the wire) and an RTCP packet seen by the media relay (type 5, Homer's JSON report,
 * the call's Call-ID as correlation id). Pure. Addresses of a pair are put in one family: an
 * IPv4-mapped IPv6 address next to an IPv4 one becomes IPv4, and a wildcard local address takes
 * the family of the peer's.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { RtcpSeen } from '../media/udp-media-relay.ts';
import type { SipTraffic } from '../sip/sip-traffic.ts';
import { HEP_PROTO, IPPROTO_TCP, IPPROTO_UDP, type HepPacket } from './hep-encoder.ts';
import { rtcpReportJson } from './rtcp-report-json.ts';

export interface HepIdentity {
  captureId: number;
  authKey?: string;
}

/** The wire view of a SIP message: from where to where, over which protocol. */
export interface SipFlow {
  ipProtocol: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
}

export function sipFlow(t: SipTraffic): SipFlow {
  const [local, remote] = samePair(t.local.address, t.remote.address);
  const ipProtocol = t.local.protocol === 'udp' ? IPPROTO_UDP : IPPROTO_TCP;
  return t.direction === 'in'
    ? { ipProtocol, srcIp: remote, srcPort: t.remote.port, dstIp: local, dstPort: t.local.port }
    : { ipProtocol, srcIp: local, srcPort: t.local.port, dstIp: remote, dstPort: t.remote.port };
}

export function sipHepPacket(t: SipTraffic, timeMicros: number, id: HepIdentity): HepPacket {
  return { ...sipFlow(t), timeMicros, protoType: HEP_PROTO.sip, ...identity(id), payload: t.data };
}

/** What the relay reports of an RTCP packet (agent/media/udp-media-relay.ts). */
export type RtcpFlow = RtcpSeen;

/** An RTCP report as HEP; undefined for a packet without SR or RR (nothing Homer shows). */
export function rtcpHepPacket(r: RtcpFlow, timeMicros: number, id: HepIdentity): HepPacket | undefined {
  const report = rtcpReportJson(r.packet);
  if (!report) return undefined;
  const [src, dst] = samePair(r.srcAddress, r.dstAddress);
  return {
    ipProtocol: IPPROTO_UDP,
    srcIp: src,
    srcPort: r.srcPort,
    dstIp: dst,
    dstPort: r.dstPort,
    timeMicros,
    protoType: HEP_PROTO.rtcpJson,
    ...identity(id),
    payload: Buffer.from(JSON.stringify(report)),
    correlationId: r.callId,
  };
}

function identity(id: HepIdentity): HepIdentity {
  return id.authKey !== undefined ? { captureId: id.captureId, authKey: id.authKey } : { captureId: id.captureId };
}

/** Two addresses in one family where that can be done without losing anything. */
export function samePair(a: string, b: string): [string, string] {
  const unmap = (x: string) => (x.toLowerCase().startsWith('::ffff:') && isIPv4(x.slice(7)) ? x.slice(7) : x);
  let x = unmap(a);
  let y = unmap(b);
  if (isIPv4(x) && isIPv6(y)) [x, y] = [x === '0.0.0.0' ? '::' : `::ffff:${x}`, y];
  else if (isIPv6(x) && isIPv4(y)) [x, y] = x === '::' ? ['0.0.0.0', y] : [x, `::ffff:${y}`];
  return [x, y];
}

/** Now, in microseconds since the epoch. */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
