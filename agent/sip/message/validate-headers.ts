/**
 * The header checks a parsed message must pass before the layers above may trust it
 * (RFC 3261 §8.1.1, §8.2.2, §16.3): Via, From, To, Call-ID and CSeq present; From, To, Call-ID,
 * CSeq and Max-Forwards present at most once (RFC 4475 §3.3.8); every Via, From, To, Contact,
 * Route, Record-Route and Path value well formed; CSeq in range and naming the request method
 * (§3.1.2.17); Max-Forwards a number in 0-255. Other headers are left to whoever reads them
 * (an unusable Date, RFC 4475 §3.1.2.12, does not spoil the message).
 */
import { parseCSeq } from './cseq.ts';
import { SipParseError } from './errors.ts';
import { parseNameAddr } from './name-addr.ts';
import { WORD, isDigit, scan } from './sip-chars.ts';
import type { SipHeader } from './sip-message.ts';
import { parseVia } from './via.ts';

const MANDATORY = ['Via', 'From', 'To', 'Call-ID', 'CSeq'] as const;

/**
 * Checks the headers of a message; `method` is the request method, or undefined for a
 * response. Returns the first fault found, in header order, or undefined.
 */
export function validateHeaders(list: SipHeader[], offsets: number[], method: string | undefined): SipParseError | undefined {
  let seen = 0; // bit per MANDATORY entry (Via, From, To, Call-ID, CSeq), 32 for Max-Forwards
  for (let i = 0; i < list.length; i++) {
    const { name, value } = list[i]!;
    const at = offsets[i] ?? 0;
    let fault: SipParseError | undefined;
    switch (name) {
      case 'Via':
        seen |= 1;
        fault = check(name, value, at, parseVia);
        break;
      case 'From':
        if (seen & 2) return duplicate(name, at);
        seen |= 2;
        fault = check(name, value, at, parseNameAddr);
        break;
      case 'To':
        if (seen & 4) return duplicate(name, at);
        seen |= 4;
        fault = check(name, value, at, parseNameAddr);
        break;
      case 'Call-ID':
        if (seen & 8) return duplicate(name, at);
        seen |= 8;
        if (!isCallId(value)) fault = new SipParseError('Bad Call-ID', at, name);
        break;
      case 'CSeq':
        if (seen & 16) return duplicate(name, at);
        seen |= 16;
        fault = check(name, value, at, parseCSeq);
        if (fault === undefined && method !== undefined && !endsWithMethod(value, method)) {
          fault = new SipParseError('Bad CSeq: method mismatch', at, name);
        }
        break;
      case 'Max-Forwards':
        if (seen & 32) return duplicate(name, at);
        seen |= 32;
        if (!isMaxForwards(value)) fault = new SipParseError('Bad Max-Forwards', at, name);
        break;
      case 'Contact':
        if (value !== '*') fault = check(name, value, at, parseNameAddr);
        break;
      case 'Route':
      case 'Record-Route':
      case 'Path':
        fault = check(name, value, at, parseNameAddr);
        break;
    }
    if (fault !== undefined) return fault;
  }
  for (let b = 0; b < MANDATORY.length; b++) {
    if ((seen & (1 << b)) === 0) return new SipParseError('Missing ' + MANDATORY[b]!, 0, MANDATORY[b]);
  }
  return undefined;
}

function duplicate(name: string, at: number): SipParseError {
  return new SipParseError('Duplicate ' + name, at, name);
}

function check(name: string, value: string, at: number, parse: (s: string) => unknown): SipParseError | undefined {
  try {
    parse(value);
    return undefined;
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    return new SipParseError(`Bad ${name}: ${e.reason}`, at + e.offset, name);
  }
}

/** True when a well-formed CSeq value names `method` (it ends with the method token). */
function endsWithMethod(cseq: string, method: string): boolean {
  const end = cseq.length;
  const start = end - method.length;
  return start > 0 && cseq.endsWith(method) && (cseq.charCodeAt(start - 1) === 32 || cseq.charCodeAt(start - 1) === 9);
}

/** callid = word [ "@" word ] (RFC 3261 §25.1). */
function isCallId(v: string): boolean {
  const first = scan(v, 0, WORD);
  if (first === 0) return false;
  if (first === v.length) return true;
  if (v.charCodeAt(first) !== 64) return false;
  const second = scan(v, first + 1, WORD);
  return second > first + 1 && second === v.length;
}

/** Max-Forwards = 1*DIGIT, 0..255 (RFC 3261 §20.22; leading zeros allowed, RFC 4475 §3.1.1.1). */
function isMaxForwards(v: string): boolean {
  if (v.length === 0) return false;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!isDigit(c)) return false;
    n = n * 10 + (c - 48);
    if (n > 255) return false;
  }
  return true;
}
