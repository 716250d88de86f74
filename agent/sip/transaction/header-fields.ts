/**
 * The few header fields the transaction layer reads: the top Via (branch, sent-by), CSeq,
 * Call-ID and From/To tags. Small, forgiving extractors over SipHeaders values so this layer
 * does not depend on the full header codecs of sip/message/ (RFC 3261 §20.42, §20.16, §19.3).
 */
import { randomBytes } from 'node:crypto';
import type { SipHeaders } from '../message/sip-message.ts';

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

export interface CSeq {
  seq: number;
  method: string;
}

/** A fresh branch with the magic cookie and 96 random bits (RFC 3261 §8.1.1.7). */
export function newBranch(): string {
  return MAGIC_COOKIE + randomBytes(12).toString('base64url');
}

/** True when the branch marks an RFC 3261 transaction id (RFC 3261 §17.2.3). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length;
}

/**
 * Parses the first Via entry, e.g. `SIP/2.0/UDP host:5060;branch=z9hG4bK1;rport`.
 * Returns undefined when there is no Via or the value is unreadable.
 */
export function topVia(headers: SipHeaders): TopVia | undefined {
  const value = headers.get('via');
  if (value === undefined) return undefined;
  // The parser splits comma lists; stay safe if an unsplit value reaches us.
  const raw = value.split(',')[0]!.trim();
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+([^;\s]+)\s*(.*)$/i.exec(raw);
  if (!m) return undefined;
  const transport = m[1]!.toUpperCase();
  const sentBy = normaliseSentBy(m[2]!, transport);
  if (sentBy === undefined) return undefined;
  return { raw, transport, sentBy, branch: param(m[3]!, 'branch') };
}

function normaliseSentBy(hostport: string, transport: string): string | undefined {
  let host: string;
  let port: string | undefined;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) return undefined;
    host = hostport.slice(0, end + 1);
    const rest = hostport.slice(end + 1);
    if (rest.startsWith(':')) port = rest.slice(1);
    else if (rest !== '') return undefined;
  } else {
    const colon = hostport.indexOf(':');
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    port = colon < 0 ? undefined : hostport.slice(colon + 1);
  }
  if (host === '' || (port !== undefined && !/^\d{1,5}$/.test(port))) return undefined;
  const effectivePort = port ?? (transport === 'TLS' ? '5061' : '5060');
  return `${host.toLowerCase()}:${Number(effectivePort)}`;
}

/** Value of `;name=value` in a parameter list (name case-insensitive); '' for a flag. */
function param(params: string, name: string): string | undefined {
  for (const part of params.split(';')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key === name) return eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Parses `CSeq: 314159 INVITE` (RFC 3261 §20.16). */
export function cseq(headers: SipHeaders): CSeq | undefined {
  const value = headers.get('cseq');
  if (value === undefined) return undefined;
  const m = /^(\d{1,10})\s+(\S+)$/.exec(value.trim());
  if (!m) return undefined;
  return { seq: Number(m[1]), method: m[2]! };
}

/** The `tag` parameter of a From or To value, or '' when absent (RFC 3261 §19.3). */
export function tagOf(value: string | undefined): string {
  if (value === undefined) return '';
  // Parameters after a name-addr's closing '>' belong to the header; without '<' the whole
  // value is an addr-spec whose trailing parameters also belong to the header (§20.10).
  const close = value.lastIndexOf('>');
  const params = close < 0 ? value : value.slice(close + 1);
  const m = /;\s*tag\s*=\s*([^;\s,]+)/i.exec(params);
  return m ? m[1]! : '';
}

/** The Call-ID value, trimmed, or '' when absent. */
export function callId(headers: SipHeaders): string {
  return (headers.get('call-id') ?? '').trim();
}
