/**
 * Which SIP messages an `outpost trace` session wants: those whose From, To or Request-URI
 * names the user (exact user part) or the number (digits only: the URI's digits end with the
 * number's, so `0301234567` also matches `90301234567` and `+49301234567`), and every later
 * message of a Call-ID that matched once (in-dialog requests whose URIs name contacts, not
 * users). Pure: no clock; the followed Call-IDs are bounded (least recently matched dropped).
 */
import type { SipMessage } from '../sip/message/sip-message.ts';

export type TraceMatch = { user: string } | { number: string };

const MAX_FOLLOWED = 10_000;

export class TraceFilter {
  private readonly followed = new Map<string, true>();
  private readonly digits: string | undefined;

  constructor(readonly match: TraceMatch) {
    this.digits = 'number' in match ? match.number.replace(/\D/g, '') : undefined;
  }

  accepts(message: SipMessage): boolean {
    const callId = message.headers.get('Call-ID');
    if (callId !== undefined && this.followed.has(callId)) {
      this.followed.delete(callId);
      this.followed.set(callId, true);
      return true;
    }
    const users = [userOf(message.headers.get('From')), userOf(message.headers.get('To'))];
    if (message.type === 'request') users.push(userOf(message.uri));
    if (!users.some((u) => u !== undefined && this.matches(u))) return false;
    if (callId !== undefined) {
      this.followed.set(callId, true);
      if (this.followed.size > MAX_FOLLOWED) this.followed.delete(this.followed.keys().next().value!);
    }
    return true;
  }

  private matches(user: string): boolean {
    if (this.digits === undefined) return 'user' in this.match && user === this.match.user;
    const d = user.replace(/\D/g, '');
    return d.length > 0 && this.digits.length > 0 && d.endsWith(this.digits);
  }
}

/** The user part of a sip:, sips: or tel: URI, bare or inside a name-addr; undefined when there is none. */
export function userOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const lt = value.indexOf('<');
  const uri = lt >= 0 ? value.slice(lt + 1, value.indexOf('>', lt) >>> 0) : value;
  const m = /^\s*(?:sips?|tel):([^@;>?]*)(@|;|$|\?)/i.exec(uri);
  if (!m) return undefined;
  if (/^tel:/i.test(uri.trim())) return decodeURIComponentSafe(m[1]!);
  return m[2] === '@' ? decodeURIComponentSafe(m[1]!.split(':')[0]!) : undefined;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
