/**
 * Character classes of the RFC 3261 §25.1 grammar as one 128-entry bit table, plus the small
 * scanning helpers every header codec shares (skip whitespace, read a token, read a quoted
 * string, %HEX unescaping). Lookups are one array read per character: no regular expressions,
 * no allocation while scanning.
 */

/** token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" */
export const TOKEN = 1;
/** unreserved: alphanum / mark ("-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")") */
export const UNRESERVED = 2;
/** user-unreserved: "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" (plus unreserved) */
export const USER = 4;
/** password: "&" / "=" / "+" / "$" / "," (plus unreserved) */
export const PASSWORD = 8;
/** paramchar: param-unreserved "[" / "]" / "/" / ":" / "&" / "+" / "$" (plus unreserved) */
export const PARAM = 16;
/** hname / hvalue: hnv-unreserved "[" / "]" / "/" / "?" / ":" / "+" / "$" (plus unreserved) */
export const HNV = 32;
/** word (Call-ID): token plus "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}" */
export const WORD = 64;
/** uric of an absoluteURI: reserved / unreserved (escapes checked apart); "[" "]" allowed (RFC 3986). */
export const URIC = 128;
/** Hostname characters (alphanum, "-", "."; "_" tolerated). */
export const HOST = 256;

const table = new Uint16Array(128);
function mark(chars: string, bits: number): void {
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)]! |= bits;
}
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
mark(ALNUM, TOKEN | UNRESERVED | USER | PASSWORD | PARAM | HNV | WORD | URIC | HOST);
mark("-_.!~*'()", UNRESERVED | USER | PASSWORD | PARAM | HNV | URIC);
mark("-.!%*_+`'~", TOKEN | WORD);
mark('&=+$,;?/', USER);
mark('&=+$,', PASSWORD);
mark('[]/:&+$', PARAM);
mark('[]/?:+$', HNV);
mark('()<>:\\"/[]?{}', WORD);
mark(';/?:@&=+$,[]', URIC);
mark('-._', HOST);

/** True when the UTF-16 code unit `c` belongs to every class in `bits`. */
export function is(c: number, bits: number): boolean {
  return c < 128 && (table[c]! & bits) === bits;
}

/** True when `c` is in at least one of the classes in `bits`. */
export function isAny(c: number, bits: number): boolean {
  return c < 128 && (table[c]! & bits) !== 0;
}

export function isWsp(c: number): boolean {
  return c === 32 || c === 9;
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Index of the first non-SP/HTAB character at or after `pos`. */
export function skipWsp(s: string, pos: number): number {
  while (pos < s.length && isWsp(s.charCodeAt(pos))) pos++;
  return pos;
}

/** End index of the run of characters of class `bits` starting at `pos`. */
export function scan(s: string, pos: number, bits: number): number {
  while (pos < s.length && is(s.charCodeAt(pos), bits)) pos++;
  return pos;
}

/** True when every character of `s` is a token character (and `s` is not empty). */
export function isToken(s: string): boolean {
  return s.length > 0 && scan(s, 0, TOKEN) === s.length;
}

/**
 * Index just after the closing quote of the quoted-string opening at `pos`, or -1 when it is
 * unterminated or holds a bare control character (qdtext / quoted-pair, RFC 3261 §25.1).
 */
export function quotedEnd(s: string, pos: number): number {
  for (let i = pos + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92) {
      const n = s.charCodeAt(i + 1);
      if (Number.isNaN(n) || n === 10 || n === 13 || n > 127) return -1;
      i++;
    } else if ((c < 32 && c !== 9) || c === 127) return -1;
  }
  return -1;
}

/** The text of a quoted-string (with its quotes) with the quotes and quoted-pairs removed. */
export function unquote(q: string): string {
  if (q.length < 2 || q.charCodeAt(0) !== 34) return q;
  const inner = q.slice(1, -1);
  return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\([\s\S])/g, '$1');
}

/** Wraps `s` as a quoted-string, escaping `"` and `\`. */
export function quote(s: string): string {
  return '"' + s.replace(/["\\]/g, '\\$&') + '"';
}

/**
 * Checks that `s[start, end)` only holds characters of class `bits` or %HEX escapes.
 * Returns the index of the first bad character, or -1.
 */
export function badCharAt(s: string, start: number, end: number, bits: number): number {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      if (hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0 || i + 2 >= end) return i;
      i += 2;
    } else if (!isAny(c, bits)) return i;
  }
  return -1;
}

/** Decodes %HEX escapes once (never recursively), reading the bytes as UTF-8. */
export function unescapeOnce(s: string): string {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    // Escaped bytes that are not UTF-8: decode byte by byte as Latin-1.
    return s.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** True when `s` holds a code unit above 0x7F (for a latin1-decoded string: a non-ASCII byte). */
export function hasHighChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 127) return true;
  return false;
}

/** Re-reads a latin1-decoded string as the UTF-8 it was on the wire (bad sequences become U+FFFD). */
export function utf8FromLatin1(s: string): string {
  return hasHighChar(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}
