/**
 * Host and port syntax shared by SIP URIs and Via sent-by (RFC 3261 §25.1 `hostport`), with
 * IPv6 references checked the way RFC 5118 asks: an IPv6 address is only a host when it sits in
 * brackets, and the text inside must be a real RFC 4291 address (so the stray third colon of
 * RFC 5118 §4.10 is refused rather than inherited from the RFC 3261 ABNF bug).
 */
import { HOST, hexValue, isDigit, scan } from './sip-chars.ts';

/** The eight 16-bit groups of an IPv6 address, or undefined when `s` is not one. */
export function ipv6Groups(s: string): number[] | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const head = dbl < 0 ? s : s.slice(0, dbl);
  const tail = dbl < 0 ? '' : s.slice(dbl + 2);
  const a = head === '' ? [] : groupsOf(head, dbl < 0);
  const b = tail === '' ? [] : groupsOf(tail, true);
  if (a === undefined || b === undefined) return undefined;
  const n = a.length + b.length;
  if (dbl < 0 ? n !== 8 : n > 7) return undefined;
  return [...a, ...new Array<number>(8 - n).fill(0), ...b];
}

function groupsOf(part: string, mayEndInIpv4: boolean): number[] | undefined {
  const out: number[] = [];
  const pieces = part.split(':');
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i]!;
    if (i === pieces.length - 1 && mayEndInIpv4 && p.indexOf('.') >= 0) {
      const v4 = ipv4Octets(p);
      if (v4 === undefined) return undefined;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      continue;
    }
    if (p.length === 0 || p.length > 4) return undefined;
    let v = 0;
    for (let j = 0; j < p.length; j++) {
      const h = hexValue(p.charCodeAt(j));
      if (h < 0) return undefined;
      v = v * 16 + h;
    }
    out.push(v);
  }
  return out;
}

/** The four octets of a dotted-quad IPv4 address, or undefined. */
export function ipv4Octets(s: string): number[] | undefined {
  const out: number[] = [];
  let v = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (isDigit(c) && digits < 3) {
      v = v * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && v <= 255 && out.length < 4) {
      out.push(v);
      v = 0;
      digits = 0;
    } else return undefined;
  }
  return out.length === 4 ? out : undefined;
}

/** True when `s[start, end)` is a dotted-quad IPv4 address (no allocation). */
function isIpv4At(s: string, start: number, end: number): boolean {
  let dots = 0;
  let v = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 46;
    if (isDigit(c) && digits < 3) {
      v = v * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && v <= 255 && dots < 4) {
      dots++;
      v = 0;
      digits = 0;
    } else return false;
  }
  return dots === 4;
}

/** True for an IPv4 address, an IPv6 address, or a bracketed IPv6 reference. */
export function isIpAddress(s: string): boolean {
  if (s.startsWith('[') && s.endsWith(']')) return ipv6Groups(s.slice(1, -1)) !== undefined;
  return ipv4Octets(s) !== undefined || ipv6Groups(s) !== undefined;
}

/**
 * End index of the host starting at `pos` (hostname, IPv4address or "[" IPv6address "]"), or
 * -1 when there is none. A run of digits and dots must be a valid IPv4 address (a toplabel
 * never starts with a digit).
 */
export function hostEnd(s: string, pos: number): number {
  if (s.charCodeAt(pos) === 91) {
    const close = s.indexOf(']', pos);
    if (close < 0 || ipv6Groups(s.slice(pos + 1, close)) === undefined) return -1;
    return close + 1;
  }
  const end = scan(s, pos, HOST);
  if (end === pos) return -1;
  let numeric = true;
  for (let i = pos; i < end && numeric; i++) {
    const c = s.charCodeAt(i);
    numeric = isDigit(c) || c === 46;
  }
  if (numeric && !isIpv4At(s, pos, end)) return -1;
  return end;
}

/** True when the whole of `s` is a host (see hostEnd). */
export function isHost(s: string): boolean {
  return s.length > 0 && hostEnd(s, 0) === s.length;
}

/**
 * Parses the port digits starting at `pos`. Returns [port, end] or undefined when there are
 * none or the value is above 65535.
 */
export function readPort(s: string, pos: number): [number, number] | undefined {
  let v = 0;
  let i = pos;
  while (i < s.length && isDigit(s.charCodeAt(i)) && i - pos < 6) v = v * 10 + (s.charCodeAt(i++) - 48);
  if (i === pos || v > 65535 || (i < s.length && isDigit(s.charCodeAt(i)))) return undefined;
  return [v, i];
}

/** Canonical text of a host for comparison: lower case; IPv6 fully expanded, in brackets. */
export function hostKey(host: string): string {
  if (host.startsWith('[')) {
    const g = ipv6Groups(host.slice(1, -1));
    if (g !== undefined) return '[' + g.map((x) => x.toString(16)).join(':') + ']';
  }
  return host.toLowerCase();
}
