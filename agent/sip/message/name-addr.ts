/**
 * Address headers: From, To, Contact, Route, Record-Route, Path, Reply-To (RFC 3261 §20,
 * §25.1: `( name-addr / addr-spec ) *( SEMI param )`). One list element at a time.
 *
 * The comma/semicolon rule of RFC 3261 §20.10: without angle brackets the URI ends at the
 * first ";" (what follows are header parameters, RFC 4475 §3.3.12), and a URI holding "?" or
 * "," must be bracketed (§3.1.2.13). A token display name may touch the "<" (§3.1.1.6); a
 * display name with other characters must be quoted (§3.1.2.15); no LWS inside the brackets
 * (§3.1.2.14). The URI is validated with parseUri but kept as a string.
 */
import { SipParseError } from './errors.ts';
import {
  type HeaderParams,
  formatHeaderParams,
  mergeParams,
  parseHeaderParams,
  readDeltaSeconds,
  readQValue,
} from './header-params.ts';
import { TOKEN, is, isToken, isWsp, quote, quotedEnd, skipWsp, unquote } from './sip-chars.ts';
import { parseUri } from './sip-uri.ts';

export interface NameAddr {
  /** Display name, unquoted; undefined when there is none. */
  displayName?: string;
  /** The URI as written (validated). */
  uri: string;
  /** Header parameters in order (names lower-cased, null for a flag, quoted values keep quotes). */
  params: HeaderParams;
  /** Named views of params. On format, a set field overrides or adds the parameter. */
  tag?: string;
  /** Contact `expires`, clamped to 2^32-1. */
  expires?: number;
  /** Contact `q`, 0..1. */
  q?: number;
}

/** Parses one address; throws SipParseError (offset in `s`). */
export function parseNameAddr(s: string): NameAddr {
  let pos = skipWsp(s, 0);
  let displayName: string | undefined;
  let bracketed = false;
  if (s.charCodeAt(pos) === 34) {
    const end = quotedEnd(s, pos);
    if (end < 0) throw new SipParseError('unterminated quoted string', pos);
    displayName = unquote(s.slice(pos, end));
    pos = skipWsp(s, end);
    if (s.charCodeAt(pos) !== 60) throw new SipParseError('expected <', pos);
    bracketed = true;
  } else {
    let j = pos;
    while (j < s.length && (is(s.charCodeAt(j), TOKEN) || isWsp(s.charCodeAt(j)))) j++;
    if (s.charCodeAt(j) === 60) {
      const name = s.slice(pos, j).trim();
      if (name !== '') displayName = name;
      pos = j;
      bracketed = true;
    }
  }
  let uri: string;
  let uriAt = pos;
  if (bracketed) {
    const gt = s.indexOf('>', pos);
    if (gt < 0) throw new SipParseError('missing >', pos);
    uriAt = pos + 1;
    uri = s.slice(uriAt, gt);
    pos = gt + 1;
  } else {
    let end = pos;
    while (end < s.length && s.charCodeAt(end) !== 59 && !isWsp(s.charCodeAt(end))) end++;
    uri = s.slice(pos, end);
    const odd = uri.search(/[?,]/);
    if (odd >= 0) {
      // `Bell, Alexander <sip:...>`: a display name that needed quotes (RFC 4475 §3.1.2.15).
      const reason = s.indexOf('<', end) >= 0 ? 'display name must be quoted' : 'URI with ? or , needs <>';
      throw new SipParseError(reason, pos + odd);
    }
    pos = end;
  }
  try {
    parseUri(uri);
  } catch (e) {
    throw new SipParseError('bad URI', uriAt + (e instanceof SipParseError ? e.offset : 0));
  }
  const { params } = parseHeaderParams(s, pos);
  const out: NameAddr = { uri, params };
  if (displayName !== undefined) out.displayName = displayName;
  const tag = params.get('tag');
  if (tag !== undefined) {
    if (tag === null || !isToken(tag)) throw new SipParseError('bad tag', pos);
    out.tag = tag;
  }
  if (params.has('expires')) out.expires = readDeltaSeconds(params.get('expires')!, pos);
  if (params.has('q')) out.q = readQValue(params.get('q')!, pos);
  return out;
}

/** Writes `"Display" <uri>;params` (always bracketed, so any URI is safe). */
export function formatNameAddr(na: NameAddr): string {
  const name = na.displayName !== undefined ? quote(na.displayName) + ' ' : '';
  const params = mergeParams(na.params, {
    tag: na.tag,
    expires: na.expires === undefined ? undefined : String(na.expires),
    q: na.q === undefined ? undefined : String(na.q),
  });
  return name + '<' + na.uri + '>' + formatHeaderParams(params);
}
