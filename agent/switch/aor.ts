/**
 * The address of record of a REGISTER (RFC 3261 §10.3 steps 1 and 5): the To URI's user part,
 * accepted when its host is this box's SIP domain or an IP address literal (phones configured
 * with the box's address instead of the domain).
 */
import { isIP } from 'node:net';
import type { SipRequest } from '../sip/message/sip-message.ts';
import { parseNameAddr } from '../sip/message/name-addr.ts';
import { parseUri, type SipUri } from '../sip/message/sip-uri.ts';

export interface AorRefusal {
  status: number;
  reason: string;
}

export function aorOf(req: SipRequest, domain: string): string | AorRefusal {
  let uri: SipUri;
  try {
    uri = parseUri(parseNameAddr(req.headers.get('to') ?? '').uri);
  } catch {
    return { status: 400, reason: 'Bad To header' };
  }
  // RFC 4475 §3.3.3 (unksm2): a registrar refuses a To that is not a SIP URI with 400.
  if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return { status: 400, reason: 'To must be a sip: or sips: URI' };
  if (!uri.user) return { status: 400, reason: 'To URI has no user part' };
  if (!servesHost(uri.host, domain)) return { status: 404, reason: `Domain ${uri.host} not served here` };
  return uri.user;
}

export function servesHost(host: string, domain: string): boolean {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  return bare.toLowerCase() === domain.toLowerCase() || isIP(bare) !== 0;
}
