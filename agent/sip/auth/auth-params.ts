/**
 * Codec for the values of Authorization, Proxy-Authorization, WWW-Authenticate and
 * Proxy-Authenticate (RFC 3261 §25.1 `credentials` / `challenge`, RFC 7616 §3.3-3.4):
 *
 *   value      = scheme LWS auth-param *(COMMA auth-param)
 *   auth-param = token EQUAL ( token / quoted-string )
 *
 * Pure functions, no state. The parser is a single left-to-right scan (it sits on the REGISTER
 * hot path): parameter names are lower-cased, quoted strings are unescaped, LWS (including a
 * CRLF fold) is allowed around `=` and `,`. Anything else - an unterminated quote, a stray
 * character, an empty or duplicated parameter - throws AuthError `sip.auth.malformed-header`
 * with the offset where the scan stopped. Whether a parameter arrived quoted is not kept:
 * RFC 7616 §3.4 forbids quoting algorithm/qop/nc, yet old clients do, and the value is the same.
 */
import { AuthError } from './errors.ts';

export interface AuthParams {
  /** The auth scheme as sent (e.g. `Digest`); compare it case-insensitively. */
  scheme: string;
  /** Parameters by lower-cased name; quoted-string values are unescaped. */
  params: Map<string, string>;
}

export interface ParseAuthParamsOptions {
  /** Longer values are rejected before scanning (default 4096 characters). */
  maxLength?: number;
  /** More parameters than this are rejected (default 32). */
  maxParams?: number;
}

/** How a parameter value is written: as a bare token or as a quoted-string. */
export type ParamEncoding = 'token' | 'quoted';

/** The fields of one Digest challenge (RFC 7616 §3.3, RFC 8760 §2). */
export interface DigestChallengeFields {
  realm: string;
  nonce: string;
  algorithm: string;
  /** Default `auth`. Written quoted, as RFC 3261's qop-options requires. */
  qop?: string;
  opaque?: string;
  stale?: boolean;
}

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const EQUALS = 0x3d;

/** RFC 3261 §25.1 token characters: alphanum and - . ! % * _ + ` ' ~ */
const TOKEN_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9]/.test(ch) || "-.!%*_+`'~".includes(ch)) TOKEN_CHAR[c] = 1;
}

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHAR[c] === 0) return false;
  }
  return true;
}

/** Index of the first character after any LWS at `i` (SP, HT, or CRLF followed by SP/HT). */
function skipLws(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === SP || c === HT) i++;
    else if (c === CR && s.charCodeAt(i + 1) === LF && isWsp(s.charCodeAt(i + 2))) i += 3;
    else return i;
  }
}

function isWsp(c: number): boolean {
  return c === SP || c === HT;
}

function scanToken(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN_CHAR[c] === 0) break;
    i++;
  }
  return i;
}

function fail(message: string, offset: number): never {
  throw new AuthError('sip.auth.malformed-header', `${message} at offset ${offset}`, { offset });
}

/** CR, LF and the other controls a quoted-string may not hold as such (HT is allowed). */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Reads the quoted-string whose opening quote is at `start`; returns [value, index after it]. */
function scanQuoted(s: string, start: number): [string, number] {
  // Fast path, the usual case: no backslash and no control character before the closing quote.
  const close = s.indexOf('"', start + 1);
  if (close > 0) {
    const backslash = s.indexOf('\\', start + 1);
    const raw = s.slice(start + 1, close);
    if ((backslash < 0 || backslash > close) && !CONTROL.test(raw)) return [raw, close + 1];
  }
  return scanQuotedSlow(s, start);
}

/** Character-by-character scan handling quoted-pairs, folds and errors. */
function scanQuotedSlow(s: string, start: number): [string, number] {
  let i = start + 1;
  let out = '';
  let run = i;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) return [out + s.slice(run, i), i + 1];
    if (c === BACKSLASH) {
      const next = s.charCodeAt(i + 1);
      // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
      if (Number.isNaN(next) || next === CR || next === LF || next > 0x7f) fail('bad quoted-pair', i);
      out += s.slice(run, i) + s[i + 1];
      i += 2;
      run = i;
    } else if (c === CR && s.charCodeAt(i + 1) === LF && isWsp(s.charCodeAt(i + 2))) {
      out += s.slice(run, i); // a fold: drop CRLF, keep the following whitespace
      i += 2;
      run = i;
    } else if ((c < SP && c !== HT) || c === 0x7f) {
      fail('control character in quoted-string', i);
    } else {
      i++;
    }
  }
  return fail('unterminated quoted-string', start);
}

/** Parses `Digest username="bob", realm="biloxi.com", ...` (or any other scheme's auth-params). */
export function parseAuthParams(value: string, options?: ParseAuthParamsOptions): AuthParams {
  const maxLength = options?.maxLength ?? 4096;
  const maxParams = options?.maxParams ?? 32;
  if (value.length > maxLength) fail(`header value longer than ${maxLength}`, maxLength);

  let i = skipLws(value, 0);
  const schemeEnd = scanToken(value, i);
  if (schemeEnd === i) fail('expected auth scheme', i);
  const scheme = value.slice(i, schemeEnd);
  i = skipLws(value, schemeEnd);
  if (i === schemeEnd) fail(i >= value.length ? 'no parameters' : 'expected whitespace after scheme', i);

  const params = new Map<string, string>();
  for (;;) {
    const nameEnd = scanToken(value, i);
    if (nameEnd === i) fail('expected parameter name', i);
    const name = value.slice(i, nameEnd).toLowerCase();
    i = skipLws(value, nameEnd);
    if (value.charCodeAt(i) !== EQUALS) fail(`expected '=' after ${name}`, i);
    i = skipLws(value, i + 1);

    let paramValue: string;
    if (value.charCodeAt(i) === DQUOTE) {
      [paramValue, i] = scanQuoted(value, i);
    } else {
      const end = scanToken(value, i);
      if (end === i) fail(`expected value of ${name}`, i);
      paramValue = value.slice(i, end);
      i = end;
    }
    if (params.has(name)) fail(`duplicate parameter ${name}`, i);
    if (params.size >= maxParams) fail(`more than ${maxParams} parameters`, i);
    params.set(name, paramValue);

    i = skipLws(value, i);
    if (i >= value.length) return { scheme, params };
    if (value.charCodeAt(i) !== COMMA) fail("expected ','", i);
    i = skipLws(value, i + 1);
  }
}

/** Writes `s` as a quoted-string, escaping `"` and `\`. Rejects CR, LF and other controls. */
export function quoteString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < SP && c !== HT) || c === 0x7f) {
      throw new AuthError('sip.auth.invalid-argument', `control character at ${i} cannot be quoted`);
    }
  }
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

/** Writes `scheme name=value, ...`; the caller chooses, per parameter, token or quoted form. */
export function formatAuthParams(
  scheme: string,
  params: ReadonlyArray<readonly [name: string, value: string, encoding: ParamEncoding]>,
): string {
  if (!isToken(scheme)) throw new AuthError('sip.auth.invalid-argument', `bad auth scheme ${JSON.stringify(scheme)}`);
  const parts: string[] = [];
  for (const [name, value, encoding] of params) {
    if (!isToken(name)) throw new AuthError('sip.auth.invalid-argument', `bad parameter name ${JSON.stringify(name)}`);
    if (encoding === 'token' && !isToken(value)) {
      throw new AuthError('sip.auth.invalid-argument', `value of ${name} is not a token`);
    }
    parts.push(`${name}=${encoding === 'token' ? value : quoteString(value)}`);
  }
  return `${scheme} ${parts.join(', ')}`;
}

/**
 * Writes one Digest challenge for a WWW-Authenticate or Proxy-Authenticate header:
 * realm, nonce, opaque are quoted; algorithm and stale are tokens; qop is quoted (RFC 3261 §25.1).
 */
export function formatChallenge(fields: DigestChallengeFields): string {
  const params: Array<[string, string, ParamEncoding]> = [
    ['realm', fields.realm, 'quoted'],
    ['nonce', fields.nonce, 'quoted'],
    ['algorithm', fields.algorithm, 'token'],
    ['qop', fields.qop ?? 'auth', 'quoted'],
  ];
  if (fields.opaque !== undefined) params.push(['opaque', fields.opaque, 'quoted']);
  if (fields.stale) params.push(['stale', 'true', 'token']);
  return formatAuthParams('Digest', params);
}
