/**
 * Reads the Contact and Expires headers of a REGISTER into what the registrar must do
 * (RFC 3261 §10.3 steps 6-8): query, remove all (`*`), or add/refresh/remove contacts with
 * their expiry chosen between the configured minimum and maximum.
 */
import type { Config } from '../config/schema.ts';
import type { SipRequest } from '../sip/message/sip-message.ts';
import { parseNameAddr, type NameAddr } from '../sip/message/name-addr.ts';
import { unquote } from '../sip/message/sip-chars.ts';
import { parseUri } from '../sip/message/sip-uri.ts';

export interface ContactSpec {
  /** The contact URI without header parameters. */
  uri: string;
  /** Seconds; 0 removes the binding. */
  expires: number;
  q: number | null;
  instanceId: string;
  regId: number;
}

export type RegisterIntent =
  | { kind: 'query' }
  | { kind: 'remove-all' }
  | { kind: 'update'; contacts: ContactSpec[] }
  | { kind: 'error'; status: number; reason: string; headers?: Array<[string, string]> };

const DELTA = /^\d{1,10}$/;

export function parseRegisterContacts(req: SipRequest, config: Config['sip']['registrar']): RegisterIntent {
  const values = req.headers.getAll('contact');
  const expiresHeader = req.headers.get('expires');
  let headerExpires: number | undefined;
  if (expiresHeader !== undefined) {
    if (!DELTA.test(expiresHeader.trim())) return { kind: 'error', status: 400, reason: 'Bad Expires header' };
    headerExpires = Number(expiresHeader.trim());
  }
  if (values.length === 0) return { kind: 'query' };
  if (values.some((v) => v.trim() === '*')) {
    // RFC 3261 §10.3 step 6: "*" only alone and only with Expires: 0.
    if (values.length !== 1 || headerExpires !== 0) {
      return { kind: 'error', status: 400, reason: 'Contact * needs Expires: 0 and no other Contact' };
    }
    return { kind: 'remove-all' };
  }
  const contacts: ContactSpec[] = [];
  for (const value of values) {
    let nameAddr: NameAddr;
    try {
      nameAddr = parseNameAddr(value);
      const uri = parseUri(nameAddr.uri);
      if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return { kind: 'error', status: 400, reason: 'Contact URI must be sip: or sips:' };
    } catch {
      return { kind: 'error', status: 400, reason: 'Bad Contact header' };
    }
    const params = nameAddr.params;
    let expires = headerExpires ?? config.defaultExpires;
    const p = params.get('expires');
    if (p !== undefined && p !== null) {
      if (!DELTA.test(p)) return { kind: 'error', status: 400, reason: 'Bad Contact expires parameter' };
      expires = Number(p);
    }
    if (expires > 0 && expires < config.minExpires) {
      return { kind: 'error', status: 423, reason: 'Interval Too Brief', headers: [['Min-Expires', String(config.minExpires)]] };
    }
    expires = Math.min(expires, config.maxExpires);
    let q: number | null = null;
    const qp = params.get('q');
    if (qp !== undefined && qp !== null) {
      q = Number(qp);
      if (!Number.isFinite(q) || q < 0 || q > 1) return { kind: 'error', status: 400, reason: 'Bad Contact q parameter' };
    }
    const regId = params.get('reg-id');
    contacts.push({
      uri: nameAddr.uri,
      expires,
      q,
      instanceId: unquoteParam(params.get('+sip.instance')),
      regId: regId && DELTA.test(regId) ? Number(regId) : 0,
    });
  }
  return { kind: 'update', contacts };
}

/** A header parameter's value without its quotes (RFC 5626 +sip.instance is a quoted string). */
function unquoteParam(v: string | null | undefined): string {
  if (!v) return '';
  return v.startsWith('"') ? unquote(v) : v;
}
