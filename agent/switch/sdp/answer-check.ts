/**
 * Is an answer a valid answer to the offer (RFC 3264 §6)? The B2BUA checks what the callee
 * answered to the offer the box sent it before passing the answer on; a failing answer ends
 * the call leg (ACK + BYE, or 488 for an offer in a re-INVITE) instead of anchoring garbage.
 *
 * Checked per m= line: same count and order of m= lines and same media type; a stream offered
 * with port 0 stays at port 0; an accepted stream keeps the transport (RTP/AVP stays RTP/AVP),
 * uses only formats of the offer (RTP: by payload type, or by encoding name when the answerer
 * picked another number, RFC 3264 §6.1 "SHOULD use the same payload type"), and a direction
 * compatible with the offered one (§6.1: sendonly ↔ recvonly, inactive ↔ inactive).
 *
 * Also here: holdState, the hold reading of one party's SDP (RFC 3264 §8.4).
 */
import type { MediaDescription } from 'sdp-transform';
import { payloadTypesOf, sameEncoding } from './payload-types.ts';
import { isNullAddress, type Direction, type SdpStream, type SessionDescription } from './session-description.ts';

export interface AnswerProblem {
  /** Index of the m= line at fault; null for the whole SDP. */
  stream: number | null;
  reason: string;
}

export type AnswerCheck = { ok: true } | { ok: false; problems: AnswerProblem[] };

/** Answer directions RFC 3264 §6.1 allows for each offered direction. */
const ALLOWED: Record<Direction, readonly Direction[]> = {
  sendrecv: ['sendrecv', 'sendonly', 'recvonly', 'inactive'],
  sendonly: ['recvonly', 'inactive'],
  recvonly: ['sendonly', 'inactive'],
  inactive: ['inactive'],
};

const RTP_PROFILE = /(^|\/)RTP\/S?AVPF?$/i;

export function checkAnswer(offer: SessionDescription, answer: SessionDescription): AnswerCheck {
  const problems: AnswerProblem[] = [];
  if (answer.streams.length !== offer.streams.length) {
    problems.push({ stream: null, reason: `answer has ${answer.streams.length} m= lines, offer ${offer.streams.length}` });
  }
  const count = Math.min(offer.streams.length, answer.streams.length);
  for (let i = 0; i < count; i++) {
    const reason = streamProblem(offer.streams[i]!, answer.streams[i]!, offer.tree.media[i]!, answer.tree.media[i]!);
    if (reason) problems.push({ stream: i, reason });
  }
  return problems.length === 0 ? { ok: true } : { ok: false, problems };
}

/** Whether the party that wrote this stream holds the other: 'on-hold' or 'active'. */
export type HoldState = 'active' | 'on-hold';

/**
 * The hold reading of a party's stream (RFC 3264 §8.4): sendonly or inactive, or the RFC 2543
 * form c=0.0.0.0, mean the party does not want media from the other side: it holds the call.
 */
export function holdState(direction: Direction, address?: string): HoldState {
  if (direction === 'sendonly' || direction === 'inactive') return 'on-hold';
  return address !== undefined && isNullAddress(address) ? 'on-hold' : 'active';
}

function streamProblem(o: SdpStream, a: SdpStream, om: MediaDescription, am: MediaDescription): string | undefined {
  if (a.kind !== o.kind) return `answer has ${a.kind} where the offer has ${o.kind}`;
  if (a.port === 0) return undefined;
  if (o.port === 0) return 'stream offered with port 0 is accepted';
  if (a.protocol.toUpperCase() !== o.protocol.toUpperCase()) return `transport ${a.protocol} differs from offered ${o.protocol}`;
  const format = RTP_PROFILE.test(o.protocol) ? foreignRtpFormat(o, a, om, am) : a.formats.find((f) => !o.formats.includes(f));
  if (format !== undefined) return format;
  if (!ALLOWED[o.direction].includes(a.direction)) return `direction ${a.direction} answers ${o.direction}`;
  return undefined;
}

function foreignRtpFormat(o: SdpStream, a: SdpStream, om: MediaDescription, am: MediaDescription): string | undefined {
  const offered = payloadTypesOf(om, o.formats);
  const answered = payloadTypesOf(am, a.formats);
  for (const f of a.formats) {
    const pt = Number(f);
    const name = answered.get(pt);
    if (name === undefined) {
      if (!o.formats.includes(f)) return `payload type ${pt} is not in the offer`;
      continue; // same unnamed number as offered: nothing to compare by
    }
    if ([...offered.values()].some((n) => sameEncoding(n, name))) continue;
    return `format ${name} is not in the offer`;
  }
  return undefined;
}
