/**
 * URIs as SIP carries them (RFC 3261 §19.1, §25.1): SIP and SIPS URIs in full, tel URIs
 * (RFC 3966, number and parameters) and any other absoluteURI kept opaque after its scheme.
 * User, password, parameters and headers are unescaped once on parse (never recursively,
 * RFC 4475 §3.1.1.3) and escaped again on format. Hosts keep their brackets for IPv6
 * references (RFC 5118). uriEqual implements the comparison rules of RFC 3261 §19.1.4.
 */
import { SipParseError } from './errors.ts';
import { hostEnd, hostKey, readPort } from './host.ts';
import { HNV, PARAM, PASSWORD, UNRESERVED, URIC, USER, badCharAt, hexValue, isAny, isDigit, unescapeOnce } from './sip-chars.ts';

export interface SipUri {
  /** Lower-case scheme: `sip`, `sips`, `tel`, or any other. */
  scheme: string;
  /** User part, unescaped (for tel: the number, visual separators kept). */
  user?: string;
  password?: string;
  /** Host as written; IPv6 references keep their brackets. Empty for tel and opaque URIs. */
  host: string;
  port?: number;
  /** uri-parameters, unescaped; names lower-cased, null for a flag (`;lr`). */
  params: Map<string, string | null>;
  /** Escaped headers after `?`, unescaped, in order. */
  headers: [string, string][];
  /** For schemes other than sip, sips and tel: everything after `scheme:`, as written. */
  opaque?: string;
}

const SCHEME_REST = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/** Parses a URI; throws SipParseError (offset in `s`) when it is not well formed. */
export function parseUri(s: string): SipUri {
  const sips = sipScheme(s);
  if (sips !== 0) return parseSip(s, sips === 4 ? 'sip' : 'sips', sips);
  const colon = s.indexOf(':');
  if (colon <= 0 || !SCHEME_REST.test(s.slice(0, colon))) throw new SipParseError('bad URI scheme', 0);
  const scheme = s.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSip(s, scheme, colon + 1);
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: [] };
  if (scheme === 'tel') {
    const semi = s.indexOf(';', colon);
    const numEnd = semi < 0 ? s.length : semi;
    uri.user = s.slice(colon + 1, numEnd);
    if (!isTelNumber(uri.user)) throw new SipParseError('bad telephone number', colon + 1);
    if (readParams(s, numEnd, uri.params) !== s.length) throw new SipParseError('unexpected character', numEnd);
    return uri;
  }
  if (colon + 1 === s.length) throw new SipParseError('empty URI', colon + 1);
  const bad = badCharAt(s, colon + 1, s.length, URIC | UNRESERVED);
  if (bad >= 0) throw new SipParseError('bad character in URI', bad);
  uri.opaque = s.slice(colon + 1);
  return uri;
}

/**
 * RFC 3966 global-number-digits ("+" then digits and visual separators, one digit at least) or
 * local-number-digits (hex digits, "*", "#" and visual separators, one non-separator at least).
 */
function isTelNumber(n: string): boolean {
  const global = n.charCodeAt(0) === 43;
  let seen = false;
  for (let i = global ? 1 : 0; i < n.length; i++) {
    const c = n.charCodeAt(i);
    if (c === 45 || c === 46 || c === 40 || c === 41) continue; // - . ( )
    if (global ? isDigit(c) : hexValue(c) >= 0 || c === 42 || c === 35) seen = true;
    else return false;
  }
  return seen;
}

/** Length of a leading `sip:` (4) or `sips:` (5), any case; 0 when neither. */
function sipScheme(s: string): number {
  if (s.length < 5 || (s.charCodeAt(0) | 32) !== 115 || (s.charCodeAt(1) | 32) !== 105 || (s.charCodeAt(2) | 32) !== 112) return 0;
  const c = s.charCodeAt(3);
  if (c === 58) return 4;
  return (c | 32) === 115 && s.charCodeAt(4) === 58 ? 5 : 0;
}

function parseSip(s: string, scheme: string, start: number): SipUri {
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: [] };
  let pos = start;
  const at = s.indexOf('@', start);
  if (at >= 0) {
    const pc = s.indexOf(':', start);
    const userEnd = pc >= 0 && pc < at ? pc : at;
    if (userEnd === start) throw new SipParseError('empty user', start);
    let bad = badCharAt(s, start, userEnd, UNRESERVED | USER);
    if (bad < 0 && userEnd < at) bad = badCharAt(s, userEnd + 1, at, UNRESERVED | PASSWORD);
    if (bad >= 0) throw new SipParseError('bad character in userinfo', bad);
    uri.user = unescapeOnce(s.slice(start, userEnd));
    if (userEnd < at) uri.password = unescapeOnce(s.slice(userEnd + 1, at));
    pos = at + 1;
  }
  const he = hostEnd(s, pos);
  if (he < 0) throw new SipParseError('bad host', pos);
  uri.host = s.slice(pos, he);
  pos = he;
  if (s.charCodeAt(pos) === 58) {
    const port = readPort(s, pos + 1);
    if (port === undefined) throw new SipParseError('bad port', pos + 1);
    uri.port = port[0];
    pos = port[1];
  }
  pos = readParams(s, pos, uri.params);
  if (s.charCodeAt(pos) === 63) pos = readHeaders(s, pos + 1, uri.headers);
  if (pos !== s.length) throw new SipParseError('unexpected character', pos);
  return uri;
}

/** End of the run of `bits` characters and %-escapes starting at `pos`. */
function runEnd(s: string, pos: number, bits: number): number {
  while (pos < s.length && (isAny(s.charCodeAt(pos), bits) || s.charCodeAt(pos) === 37)) pos++;
  return pos;
}

function unescapeChecked(s: string, start: number, end: number, bits: number): string {
  let pct = start;
  while (pct < end && s.charCodeAt(pct) !== 37) pct++;
  if (pct === end) return s.slice(start, end); // runEnd already checked the characters
  const bad = badCharAt(s, start, end, bits);
  if (bad >= 0) throw new SipParseError('bad escape', bad);
  return unescapeOnce(s.slice(start, end));
}

/** Reads `;pname[=pvalue]` from `pos`; returns the index where they stop. */
function readParams(s: string, pos: number, into: Map<string, string | null>): number {
  const bits = PARAM | UNRESERVED;
  while (s.charCodeAt(pos) === 59) {
    const nameEnd = runEnd(s, pos + 1, bits);
    if (nameEnd === pos + 1) throw new SipParseError('empty parameter', pos + 1);
    const name = unescapeChecked(s, pos + 1, nameEnd, bits).toLowerCase();
    let value: string | null = null;
    let end = nameEnd;
    if (s.charCodeAt(nameEnd) === 61) {
      end = runEnd(s, nameEnd + 1, bits);
      if (end === nameEnd + 1) throw new SipParseError('empty parameter value', end);
      value = unescapeChecked(s, nameEnd + 1, end, bits);
    }
    if (into.has(name)) throw new SipParseError('repeated parameter', pos + 1);
    into.set(name, value);
    pos = end;
  }
  return pos;
}

/** Reads `hname=hvalue *( & hname=hvalue )` from `pos`; returns where they stop. */
function readHeaders(s: string, pos: number, into: [string, string][]): number {
  const bits = HNV | UNRESERVED;
  for (;;) {
    const eq = runEnd(s, pos, bits);
    if (eq === pos || s.charCodeAt(eq) !== 61) throw new SipParseError('bad URI header', pos);
    const end = runEnd(s, eq + 1, bits);
    into.push([unescapeChecked(s, pos, eq, bits), unescapeChecked(s, eq + 1, end, bits)]);
    if (s.charCodeAt(end) !== 38) return end;
    pos = end + 1;
  }
}

/** Writes a URI back to text, escaping what its component may not hold literally. */
export function formatUri(u: SipUri): string {
  if (u.opaque !== undefined) return u.scheme + ':' + u.opaque;
  let out = u.scheme + ':';
  if (u.scheme === 'tel') out += u.user ?? '';
  else {
    if (u.user !== undefined) {
      out += escape(u.user, UNRESERVED | USER);
      if (u.password !== undefined) out += ':' + escape(u.password, UNRESERVED | PASSWORD);
      out += '@';
    }
    out += u.host;
    if (u.port !== undefined) out += ':' + u.port;
  }
  for (const [name, value] of u.params) {
    out += ';' + escape(name, PARAM | UNRESERVED);
    if (value !== null) out += '=' + escape(value, PARAM | UNRESERVED);
  }
  for (let i = 0; i < u.headers.length; i++) {
    const [name, value] = u.headers[i]!;
    out += (i === 0 ? '?' : '&') + escape(name, HNV | UNRESERVED) + '=' + escape(value, HNV | UNRESERVED);
  }
  return out;
}

function escape(s: string, bits: number): string {
  let i = 0;
  while (i < s.length && isAny(s.charCodeAt(i), bits)) i++;
  if (i === s.length) return s;
  let out = s.slice(0, i);
  for (const ch of s.slice(i)) {
    if (ch.length === 1 && isAny(ch.charCodeAt(0), bits)) out += ch;
    else {
      try {
        out += encodeURIComponent(ch);
      } catch {
        out += '%EF%BF%BD'; // lone surrogate
      }
    }
  }
  return out;
}

/**
 * URI equivalence per RFC 3261 §19.1.4: same scheme; userinfo case-sensitive after
 * unescaping; host case-insensitive (IPv6 compared by value); ports equal (absent is not the
 * default); user/ttl/method/maddr/transport must agree when either has them, other
 * parameters only when both have them; headers must match as a set. Unparseable → false.
 */
export function uriEqual(a: SipUri | string, b: SipUri | string): boolean {
  let x: SipUri;
  let y: SipUri;
  try {
    x = typeof a === 'string' ? parseUri(a) : a;
    y = typeof b === 'string' ? parseUri(b) : b;
  } catch {
    return false;
  }
  if (x.scheme !== y.scheme) return false;
  if (x.opaque !== undefined || y.opaque !== undefined) return x.opaque === y.opaque;
  if (x.scheme === 'tel') {
    const digits = (n: string | undefined) => (n ?? '').replace(/[().-]/g, '').toLowerCase();
    if (digits(x.user) !== digits(y.user)) return false;
  } else if (x.user !== y.user || x.password !== y.password || hostKey(x.host) !== hostKey(y.host) || x.port !== y.port) {
    return false;
  }
  for (const [name, v] of x.params) {
    const w = y.params.get(name);
    if (w === undefined) {
      if (DECISIVE.has(name)) return false;
    } else if ((v ?? '').toLowerCase() !== (w ?? '').toLowerCase()) return false;
  }
  for (const name of y.params.keys()) if (DECISIVE.has(name) && !x.params.has(name)) return false;
  return headerSet(x.headers) === headerSet(y.headers);
}

const DECISIVE = new Set(['user', 'ttl', 'method', 'maddr', 'transport']);

function headerSet(h: [string, string][]): string {
  return h
    .map(([n, v]) => n.toLowerCase() + '=' + v)
    .sort()
    .join('&');
}
