/**
 * Header parameters: the `*( SEMI generic-param )` tail of Via, From, To, Contact, Route and
 * friends (RFC 3261 §25.1: generic-param = token [ EQUAL gen-value ], gen-value = token / host /
 * quoted-string). Names are lower-cased; a flag parameter has the value null; a quoted value is
 * kept with its quotes so formatting gives back the same text (use `unquote` to read it).
 * LWS is allowed around ";" and "=" (SEMI, EQUAL), as RFC 4475 §3.1.1.1 exercises.
 */
import { SipParseError } from './errors.ts';
import { TOKEN, is, quotedEnd, scan, skipWsp } from './sip-chars.ts';

export { unquote } from './sip-chars.ts';

export type HeaderParams = Map<string, string | null>;

export interface ParsedParams {
  params: HeaderParams;
  /** Index just after the last parameter (trailing whitespace skipped). */
  end: number;
}

/**
 * Parses `;name[=value]` pairs from `pos` to the end of `s`. Throws SipParseError (offset in
 * `s`) on an empty parameter (`;;`), a value that is neither token, host nor quoted-string, a
 * repeated name, or any other character where a ";" is expected.
 */
export function parseHeaderParams(s: string, pos: number): ParsedParams {
  const params: HeaderParams = new Map();
  pos = skipWsp(s, pos);
  while (pos < s.length) {
    if (s.charCodeAt(pos) !== 59) throw new SipParseError('unexpected character', pos);
    pos = skipWsp(s, pos + 1);
    const nameEnd = scan(s, pos, TOKEN);
    if (nameEnd === pos) throw new SipParseError('empty parameter', pos);
    const name = s.slice(pos, nameEnd).toLowerCase();
    pos = skipWsp(s, nameEnd);
    let value: string | null = null;
    if (s.charCodeAt(pos) === 61) {
      pos = skipWsp(s, pos + 1);
      const end = valueEnd(s, pos);
      if (end === pos) throw new SipParseError('empty parameter value', pos);
      value = s.slice(pos, end);
      pos = skipWsp(s, end);
    }
    if (params.has(name)) throw new SipParseError('repeated parameter', pos);
    params.set(name, value);
  }
  return { params, end: pos };
}

/** End of a gen-value at `pos`: a quoted-string, or a run of token/host characters. */
function valueEnd(s: string, pos: number): number {
  if (s.charCodeAt(pos) === 34) {
    const end = quotedEnd(s, pos);
    if (end < 0) throw new SipParseError('unterminated quoted string', pos);
    return end;
  }
  let i = pos;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // host adds ":" "[" "]" to the token characters (IPv6 references, RFC 5118 §4.5).
    if (!is(c, TOKEN) && c !== 58 && c !== 91 && c !== 93) break;
  }
  return i;
}

/** Writes parameters as `;name=value` / `;name`, in map order. */
export function formatHeaderParams(params: HeaderParams): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? ';' + name : ';' + name + '=' + value;
  return out;
}

/**
 * Copies `params` with the named values overriding or adding entries (undefined leaves the
 * entry as it is). Used by formatters whose objects carry convenience fields beside the map.
 */
export function mergeParams(params: HeaderParams, named: Record<string, string | null | undefined>): HeaderParams {
  let out: HeaderParams | undefined;
  for (const key of Object.keys(named)) {
    const v = named[key];
    if (v === undefined || params.get(key) === v) continue;
    out ??= new Map(params);
    out.set(key, v);
  }
  return out ?? params;
}

/**
 * Reads a delta-seconds value (`expires`, RFC 3261 §25.1). Values beyond 2^32-1 are clamped
 * to it, as RFC 4475 §3.1.2.4 allows; anything but digits throws.
 */
export function readDeltaSeconds(v: string | null, offset: number): number {
  if (v === null || v.length === 0) throw new SipParseError('bad delta-seconds', offset);
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) throw new SipParseError('bad delta-seconds', offset);
    n = n * 10 + c;
  }
  return Math.min(n, 4294967295);
}

/** Reads a qvalue ("0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]). */
export function readQValue(v: string | null, offset: number): number {
  if (v === null || !/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(v)) throw new SipParseError('bad qvalue', offset);
  return Number(v);
}
