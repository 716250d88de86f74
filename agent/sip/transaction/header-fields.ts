/**
 * The few header fields the transaction layer reads: the top Via (branch, sent-by), CSeq,
 * Call-ID and From/To tags, read with the header codecs of sip/message/ (RFC 3261 §20.42,
 * §20.16, §19.3); undefined or '' where a value is missing or unreadable.
 */
import { randomBase64url } from '../../lib/random-token.ts';
import { parseCSeq, type CSeq } from '../message/cseq.ts';
import { parseNameAddr } from '../message/name-addr.ts';
import type { SipHeaders } from '../message/sip-message.ts';
import { parseVia, type Via } from '../message/via.ts';

export type { CSeq };

/** Branch prefix of RFC 3261-compliant requests (RFC 3261 §8.1.1.7). */
export const MAGIC_COOKIE = 'z9hG4bK';

export interface TopVia {
  /** The whole top Via value as received, trimmed. */
  raw: string;
  /** Transport token, upper-case (`UDP`, `TCP`, `TLS`, ...). */
  transport: string;
  /** sent-by normalised: lower-case host and explicit port (5060, or 5061 for TLS). */
  sentBy: string;
  /** The branch parameter, or undefined when absent. */
  branch: string | undefined;
}

/** A fresh branch with the magic cookie and 96 random bits (RFC 3261 §8.1.1.7). */
export function newBranch(): string {
  return MAGIC_COOKIE + randomBase64url(12);
}

/** True when the branch marks an RFC 3261 transaction id (RFC 3261 §17.2.3). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length;
}

/**
 * The first Via entry, e.g. `SIP/2.0/UDP host:5060;branch=z9hG4bK1;rport`, read with the
 * message layer's Via codec. Undefined when there is no Via or it is unreadable.
 */
export function topVia(headers: SipHeaders): TopVia | undefined {
  const value = headers.get('via');
  if (value === undefined) return undefined;
  const raw = value.trim();
  let via: Via;
  try {
    via = parseVia(raw);
  } catch {
    return undefined;
  }
  const port = via.port ?? (via.transport === 'TLS' ? 5061 : 5060);
  return { raw, transport: via.transport, sentBy: `${via.host.toLowerCase()}:${port}`, branch: via.branch ?? flagOrUndefined(via, 'branch') };
}

function flagOrUndefined(via: Via, name: string): string | undefined {
  return via.params.has(name) ? (via.params.get(name) ?? '') : undefined;
}

/** Parses `CSeq: 314159 INVITE` (RFC 3261 §20.16) with the message layer's codec. */
export function cseq(headers: SipHeaders): CSeq | undefined {
  const value = headers.get('cseq');
  if (value === undefined) return undefined;
  try {
    return parseCSeq(value);
  } catch {
    return undefined;
  }
}

/** The `tag` parameter of a From or To value, or '' when absent (RFC 3261 §19.3). */
export function tagOf(value: string | undefined): string {
  if (value === undefined) return '';
  try {
    return parseNameAddr(value).tag ?? '';
  } catch {
    return '';
  }
}

/** The Call-ID value, trimmed, or '' when absent. */
export function callId(headers: SipHeaders): string {
  return (headers.get('call-id') ?? '').trim();
}
