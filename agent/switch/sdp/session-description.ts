/**
 * Reads an SDP body (RFC 4566) into a checked SessionDescription: one entry per m= line, with
 * the connection address and direction each stream inherits from the session level, and the
 * index of the audio stream the relay carries.
 *
 * Policy (docs/sdp-policy.md): the relay carries one stream, the first m=audio line with a plain
 * RTP profile (RTP/AVP or RTP/AVPF) and a port other than 0, else the first such line even when
 * disabled. Other m= lines are kept, and rewriteForRelay forwards them with port 0 (RFC 3264
 * §6, §8.2), so the answer still has one m= line per offered one. Secure profiles (RTP/SAVP,
 * UDP/TLS/RTP/SAVPF) cannot be relayed without keys: an SDP with only those is refused.
 *
 * parseSdp never throws: a body it cannot use comes back as an SdpError value.
 */
import { isIP } from 'node:net';
import { parse, type MediaDescription, type SessionDescription as SdpTree } from 'sdp-transform';
import { SdpError } from './errors.ts';
import { MAX_SDP_BYTES, sdpLines } from './sdp-lines.ts';

/** RFC 3264 §5.1 stream direction, from the point of view of the party that wrote the SDP. */
export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface SdpOrigin {
  username: string;
  sessionId: string;
  /** Kept as text: versions may exceed 2^53 (RFC 4566 §5.2 recommends NTP timestamps). */
  version: string;
  address: string;
}

/** One m= line with what it inherits from the session level. */
export interface SdpStream {
  readonly index: number;
  /** The media type: audio, video, image, application, ... */
  readonly kind: string;
  /** 0 = disabled or rejected stream (RFC 3264 §5.1, §6). */
  readonly port: number;
  readonly protocol: string;
  /** The m= format list in preference order (payload type numbers for RTP). */
  readonly formats: readonly string[];
  /** Media-level c= address, else the session-level one; '' when neither (only for port 0). */
  readonly address: string;
  /** Media-level direction attribute, else session-level, else sendrecv (RFC 3264 §5.1). */
  readonly direction: Direction;
  /** An RTP profile without encryption, which the relay can carry. */
  readonly plainRtp: boolean;
}

export interface SessionDescription {
  readonly origin: SdpOrigin;
  readonly streams: readonly SdpStream[];
  /** Index into `streams` of the audio stream the relay carries. */
  readonly audioIndex: number;
  /** The sdp-transform tree; treat as read-only (rewriteForRelay works on a copy). */
  readonly tree: SdpTree;
}

const PLAIN_RTP = /^RTP\/AVPF?$/i;
const ANY_RTP = /(^|\/)RTP\/S?AVPF?$/i;
const SECURE_RTP = /(^|\/)RTP\/SAVPF?$/i;
const RTP_FORMAT = /^\d{1,3}$/;

/** Parses and checks an SDP body; returns an SdpError instead of throwing. */
export function parseSdp(body: Buffer | string): SessionDescription | SdpError {
  try {
    if (typeof body !== 'string' && body.length > MAX_SDP_BYTES) return new SdpError('sdp.malformed', 'SDP too large');
    return describe(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (err) {
    if (err instanceof SdpError) return err;
    return new SdpError('sdp.malformed', 'Unreadable SDP', undefined, { cause: err });
  }
}

/** True for the unspecified address (0.0.0.0, ::): RFC 2543 hold, "do not send to me". */
export function isNullAddress(address: string): boolean {
  return isIP(address) !== 0 && /^[0.:]+$/.test(address);
}

function describe(text: string): SessionDescription {
  const tree = parse(sdpLines(text).join('\r\n') + '\r\n');
  const o = tree.origin;
  // sdp-transform turns numeric fields into numbers; the origin is kept as text.
  const origin: SdpOrigin = { username: String(o.username), sessionId: String(o.sessionId), version: String(o.sessionVersion), address: String(o.address) };
  const streams = tree.media.map((m, index) => streamOf(tree, m, index));
  const audioIndex = chooseAudio(streams);
  checkRtcp(tree.media[audioIndex]!);
  return { origin, streams, audioIndex, tree };
}

function streamOf(tree: SdpTree, m: MediaDescription, index: number): SdpStream {
  const formats = String(m.payloads ?? '').split(' ');
  const protocol = String(m.protocol);
  if (ANY_RTP.test(protocol) && !formats.every((f) => RTP_FORMAT.test(f) && Number(f) <= 127)) {
    throw new SdpError('sdp.malformed', 'Bad m= line');
  }
  const port = Number(m.port);
  const address = m.connection?.ip ?? tree.connection?.ip ?? '';
  if (port !== 0 && address === '') throw new SdpError('sdp.malformed', 'Missing c= line');
  return {
    index,
    kind: String(m.type).toLowerCase(),
    port,
    protocol,
    formats,
    address,
    direction: m.direction ?? tree.direction ?? 'sendrecv',
    plainRtp: PLAIN_RTP.test(protocol),
  };
}

function chooseAudio(streams: readonly SdpStream[]): number {
  const audio = streams.filter((s) => s.kind === 'audio');
  if (audio.length === 0) throw new SdpError('sdp.no-audio', 'No audio stream');
  const plain = audio.filter((s) => s.plainRtp);
  const chosen = plain.find((s) => s.port !== 0) ?? plain[0];
  if (chosen) return chosen.index;
  if (audio.some((s) => SECURE_RTP.test(s.protocol))) throw new SdpError('sdp.unsupported', 'Secure RTP not supported');
  throw new SdpError('sdp.unsupported', 'Unsupported audio transport');
}

// RFC 3605 §2.1: a=rtcp:<port> [IN IP4 <address>]. sdp-transform reads "a=rtcp:x" as port ''.
function checkRtcp(m: MediaDescription): void {
  if (m.rtcp === undefined || Number(m.port) === 0) return;
  const port: unknown = m.rtcp.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new SdpError('sdp.malformed', 'Bad a=rtcp line');
  }
}
