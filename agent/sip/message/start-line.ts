/**
 * The first line of a SIP message (RFC 3261 §7.1, §7.2): Request-Line or Status-Line.
 *
 * Tolerated, as RFC 4475 §3.1.2.9 and §3.1.2.10 allow: several SP between the elements and SP
 * before the line end (the model keeps the elements apart, so nothing of it is forwarded).
 * Refused: a Request-URI that is not a valid URI, holds LWS (§3.1.2.8), is wrapped in <>
 * (§3.1.2.7) or is a SIP URI carrying escaped headers (§3.1.2.11, RFC 3261 §19.1.1);
 * a version other than SIP/2.0 (505 when it is a well formed SIP/x.y, §3.1.2.16); a status
 * code that is not three digits in 100-699 (§3.1.2.19). The version is matched
 * case-insensitively (RFC 3261 §7.1) and reported as `SIP/2.0`.
 */
import { SipParseError } from './errors.ts';
import { isDigit, isToken, utf8FromLatin1 } from './sip-chars.ts';
import { parseUri } from './sip-uri.ts';

export type StartLine =
  | { type: 'request'; method: string; uri: string; version: string; error?: SipParseError }
  | { type: 'response'; status: number; reason: string; version: string; error?: SipParseError };

const SIP_VERSION = /^SIP\/[0-9]{1,4}\.[0-9]{1,4}$/i;

/**
 * Parses the start line (without its line end). `base` is its byte offset in the message.
 * Throws SipParseError when the line is not recognisable at all; a recognisable line with a
 * fault comes back with `error` set, so a request can still be answered.
 */
export function parseStartLine(line: string, base: number): StartLine {
  if (line.length > 4 && line.slice(0, 4).toUpperCase() === 'SIP/') return statusLine(line, base);
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0 || !isToken(line.slice(0, sp1))) throw new SipParseError('Bad Request-Line', base);
  const method = line.slice(0, sp1);
  let end = line.length;
  while (end > sp1 && line.charCodeAt(end - 1) === 32) end--;
  const sp2 = line.lastIndexOf(' ', end - 1);
  let uStart = sp1;
  while (line.charCodeAt(uStart) === 32) uStart++;
  if (sp2 < uStart) {
    const uri = line.slice(uStart, end);
    return { type: 'request', method, uri, version: '', error: new SipParseError('Bad Request-Line', base + end) };
  }
  let uEnd = sp2;
  while (line.charCodeAt(uEnd - 1) === 32) uEnd--;
  const uri = line.slice(uStart, uEnd);
  const version = line.slice(sp2 + 1, end);
  const req: StartLine = { type: 'request', method, uri, version: 'SIP/2.0' };
  if (version.toUpperCase() !== 'SIP/2.0') {
    req.version = version;
    req.error = SIP_VERSION.test(version)
      ? new SipParseError('Version Not Supported', base + sp2 + 1, undefined, 505)
      : new SipParseError('Bad SIP-Version', base + sp2 + 1);
    return req;
  }
  if (uri.indexOf(' ') >= 0) {
    req.error = new SipParseError('Bad Request-URI: contains LWS', base + uStart + uri.indexOf(' '));
    return req;
  }
  try {
    const parsed = parseUri(uri);
    if ((parsed.scheme === 'sip' || parsed.scheme === 'sips') && parsed.headers.length > 0) {
      req.error = new SipParseError('Bad Request-URI: headers not allowed', base + uStart + uri.indexOf('?'));
    }
  } catch (e) {
    const at = e instanceof SipParseError ? e.offset : 0;
    req.error = new SipParseError('Bad Request-URI', base + uStart + at);
  }
  return req;
}

function statusLine(line: string, base: number): StartLine {
  const sp = line.indexOf(' ');
  const version = sp < 0 ? line : line.slice(0, sp);
  const res: StartLine = { type: 'response', status: 0, reason: '', version: 'SIP/2.0' };
  if (!SIP_VERSION.test(version)) throw new SipParseError('Bad Status-Line', base);
  if (version.toUpperCase() !== 'SIP/2.0') {
    res.version = version;
    res.error = new SipParseError('Version Not Supported', base, undefined, 505);
    return res;
  }
  let pos = sp;
  while (line.charCodeAt(pos) === 32) pos++;
  const c0 = line.charCodeAt(pos);
  const ok3 = isDigit(c0) && isDigit(line.charCodeAt(pos + 1)) && isDigit(line.charCodeAt(pos + 2));
  const after = line.charCodeAt(pos + 3);
  if (!ok3 || (pos + 3 < line.length && after !== 32) || c0 < 49 || c0 > 54) {
    res.error = new SipParseError('Bad Status-Code', base + Math.max(pos, 0));
    return res;
  }
  res.status = Number(line.slice(pos, pos + 3));
  res.reason = pos + 4 <= line.length ? utf8FromLatin1(line.slice(pos + 4)) : '';
  return res;
}
