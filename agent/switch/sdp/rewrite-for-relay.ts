/**
 * Rewrites one party's SDP into the SDP the box sends to the other party, with the media
 * anchored at the relay (DESIGN.md §8). Changes, and nothing else (docs/sdp-policy.md):
 *
 * - o= is the leg's own (OriginState: username 'outpost', version per RFC 3264 §8);
 *   s= is kept, or '-' when empty (RFC 4566 §5.3); t= is '0 0' when missing.
 * - every c= line, session and media level, carries the relay's address, except the RFC 2543
 *   hold address 0.0.0.0 (or ::), which is passed on so the other party sees the same hold;
 * - the relayed audio stream's port is the relay's RTP port; a=rtcp carries the relay's RTCP
 *   port (RFC 3605), and is dropped when rtcp-mux is offered and the relay multiplexes too
 *   (RTCP port = RTP port, RFC 5761 §5.1.3);
 * - every other m= line goes out with port 0 (not relayed: RFC 3264 §8.2 disables a stream
 *   this way) and without a=rtcp; an audio stream the party disabled stays at port 0;
 * - transport attributes of the party's own path are removed: ICE (RFC 8839: candidates,
 *   ufrag/pwd, options, ice-lite), DTLS-SRTP (RFC 8842: fingerprint, setup, tls-id, connection),
 *   SDES keys (a=crypto, RFC 4568) and BUNDLE groups (RFC 8843), since the relay terminates
 *   plain RTP on its own ports and answers no STUN checks.
 *
 * Codecs (m= formats, rtpmap, fmtp), ptime, direction and every other attribute are kept. The
 * text is written by sdp-transform, which orders attributes by its own grammar (all rtpmap lines,
 * then all fmtp lines, ...): the content is the same, the order of a= lines may differ.
 */
import { isIP } from 'node:net';
import { write, type MediaDescription, type SessionDescription as SdpTree, type SharedAttributes } from 'sdp-transform';
import type { LocalMedia } from '../../media/relay-types.ts';
import type { OriginState } from './origin-state.ts';
import { isNullAddress, type SessionDescription } from './session-description.ts';

/** Attributes of the party's transport path, removed at both levels. */
const TRANSPORT_KEYS = [
  'candidates', 'endOfCandidates', 'remoteCandidates', 'iceUfrag', 'icePwd', 'iceOptions', 'icelite',
  'fingerprint', 'setup', 'connectionType', 'crypto',
] as const;
/** The same attributes when sdp-transform could not read them (kept raw in `invalid`). */
const TRANSPORT_RAW = /^(candidate|end-of-candidates|remote-candidates|ice-|fingerprint|setup|tls-id|connection:|crypto)/i;

type Level = SharedAttributes & Partial<Record<(typeof TRANSPORT_KEYS)[number], unknown>> & { invalid?: { value: string }[] };

/** The SDP text to send to the party on the leg whose relay side is `local`. */
export function rewriteForRelay(sdp: SessionDescription, local: LocalMedia, origin: OriginState): string {
  const tree: SdpTree = structuredClone(sdp.tree);
  const ipVer = isIP(local.address) === 6 ? 6 : 4;
  const relay = { version: ipVer, ip: local.address };

  tree.version = 0;
  // sdp-transform turns numeric values into numbers (s=1 reads as 1, a=group:5 as type 5).
  if (!String(tree.name ?? '').trim()) tree.name = '-';
  tree.timing ??= { start: 0, stop: 0 };
  if (tree.connection && !isNullAddress(tree.connection.ip)) tree.connection = { ...relay };
  stripTransport(tree);
  if (tree.groups) {
    tree.groups = tree.groups.filter((g) => String(g.type).toUpperCase() !== 'BUNDLE');
    if (tree.groups.length === 0) delete tree.groups;
  }
  tree.media.forEach((m, i) => {
    stripTransport(m);
    delete m.bundleOnly;
    if (m.connection && !isNullAddress(m.connection.ip)) m.connection = { ...relay };
    if (i === sdp.audioIndex && sdp.streams[i]!.port !== 0) anchorAudio(m, local, ipVer);
    else {
      m.port = 0;
      delete m.rtcp;
    }
  });

  // The o= line is left out of the text compared for "unchanged" (RFC 3264 §8).
  delete (tree as Partial<SdpTree>).origin;
  const o = origin.stamp(write(tree), local.address);
  tree.origin = { username: o.username, sessionId: o.sessionId, sessionVersion: o.version, netType: 'IN', ipVer: isIP(o.address) === 6 ? 6 : 4, address: o.address };
  return write(tree);
}

function anchorAudio(m: MediaDescription, local: LocalMedia, ipVer: number): void {
  m.port = local.rtpPort;
  const relayMuxes = local.rtcpPort === local.rtpPort;
  if (m.rtcpMux !== undefined && relayMuxes) {
    delete m.rtcp;
  } else if (m.rtcp !== undefined || local.rtcpPort !== local.rtpPort + 1) {
    m.rtcp = m.rtcp?.address !== undefined
      ? { port: local.rtcpPort, netType: 'IN', ipVer, address: local.address }
      : { port: local.rtcpPort };
  }
}

function stripTransport(level: Level): void {
  for (const key of TRANSPORT_KEYS) delete level[key];
  if (level.invalid) {
    level.invalid = level.invalid.filter((a) => !TRANSPORT_RAW.test(a.value));
    if (level.invalid.length === 0) delete level.invalid;
  }
}
