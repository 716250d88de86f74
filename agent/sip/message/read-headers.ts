/**
 * Reads the header section of a message (RFC 3261 §7.3): one `name: value` per line, folded
 * continuation lines (LWS, §7.3.1) joined with one SP, compact names expanded (§7.3.3), and
 * the comma-list headers split into one entry per element at top-level commas only, so a
 * comma inside a quoted string or <...> stays put (§7.3.1: such a header may be given as
 * several lines or one comma list, with the same meaning).
 *
 * Works on the latin1 view of the bytes (one character per byte, so offsets are byte offsets);
 * a value holding non-ASCII bytes is re-read as UTF-8. A malformed line stops the reading: the
 * entries before it are kept so the caller can still answer the request.
 */
import { SipParseError } from './errors.ts';
import { TOKEN, isWsp, scan, skipWsp, utf8FromLatin1 } from './sip-chars.ts';
import { type SipHeader, canonicalHeaderName } from './sip-message.ts';

/** How a list header is split: strict keeps empty elements (so validation rejects them). */
type ListMode = 'strict' | 'lenient' | 'plain';

const LIST_MODES = new Map<string, ListMode>();
for (const n of ['Via', 'Contact', 'Route', 'Record-Route', 'Path']) LIST_MODES.set(n, 'strict');
for (const n of [
  'Allow', 'Supported', 'Require', 'Proxy-Require', 'Unsupported', 'Accept', 'Accept-Encoding',
  'Accept-Language', 'Content-Encoding', 'Allow-Events', 'Alert-Info', 'Call-Info', 'Error-Info',
  'Warning', 'Service-Route', 'P-Asserted-Identity', 'P-Preferred-Identity', 'P-Associated-URI',
  'History-Info', 'Accept-Contact', 'Reject-Contact', 'Request-Disposition', 'Security-Client',
  'Security-Server', 'Security-Verify',
]) {
  LIST_MODES.set(canonicalHeaderName(n), 'lenient');
}
// A Call-ID may itself hold quotes and angle brackets (RFC 3261 `word`), but never a comma.
LIST_MODES.set('In-Reply-To', 'plain');

/** Common names already in canonical form, by length: matched in place, without slicing. */
const KNOWN: string[][] = [];
for (const n of [
  'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Length', 'Content-Type',
  'Expires', 'User-Agent', 'Allow', 'Supported', 'Route', 'Record-Route', 'Authorization', 'Event',
]) {
  (KNOWN[n.length] ??= []).push(n);
}

function knownName(head: string, start: number, end: number): string | undefined {
  const candidates = KNOWN[end - start];
  if (candidates !== undefined) for (const n of candidates) if (head.startsWith(n, start)) return n;
  return undefined;
}

export interface HeaderSection {
  list: SipHeader[];
  /** Byte offset of each entry's value in the message (exact unless the value was folded). */
  offsets: number[];
  /** Set when a line could not be read; `list` holds the entries before it. */
  error?: SipParseError;
}

/**
 * Reads header lines from `head` starting at `pos` up to its end. `base` is the byte offset of
 * `head[0]` in the message; `utf8` says whether `head` holds any non-ASCII byte at all.
 */
export function readHeaders(head: string, pos: number, base: number, utf8: boolean): HeaderSection {
  const out: HeaderSection = { list: [], offsets: [] };
  let name: string | undefined;
  let value = '';
  let folded: string[] | undefined; // continuation lines, joined once (no quadratic concatenation)
  let valueAt = 0;
  let cr = -1; // next CR at or after pos, -2 when none is left (searched again only once passed)
  while (pos < head.length) {
    let nl = head.indexOf('\n', pos);
    if (nl < 0) nl = head.length;
    let lineEnd = nl;
    if (lineEnd > pos && head.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    if (cr !== -2 && cr < pos) {
      cr = head.indexOf('\r', pos);
      if (cr < 0) cr = -2;
    }
    if (cr >= 0 && cr < lineEnd) {
      out.error = new SipParseError('Malformed line ending', base + cr);
      return out;
    }
    if (lineEnd === pos) break;
    if (isWsp(head.charCodeAt(pos))) {
      if (name === undefined) {
        out.error = new SipParseError('Malformed header line', base + pos);
        return out;
      }
      const part = trimWsp(head.slice(pos, lineEnd));
      if (part === '') {
        // a blank continuation adds nothing: the whole LWS run is one SP
      } else if (folded === undefined) folded = [trimWsp(value), part];
      else folded.push(part);
    } else {
      if (name !== undefined) push(out, name, folded ? folded.join(' ') : value, valueAt, utf8);
      folded = undefined;
      const nameEnd = scan(head, pos, TOKEN);
      const colon = skipWsp(head, nameEnd);
      if (nameEnd === pos || colon >= lineEnd || head.charCodeAt(colon) !== 58) {
        out.error = new SipParseError('Malformed header line', base + pos);
        return out;
      }
      name = knownName(head, pos, nameEnd) ?? canonicalHeaderName(head.slice(pos, nameEnd));
      const vs = skipWsp(head, colon + 1);
      value = head.slice(vs, lineEnd);
      valueAt = base + vs;
    }
    pos = nl + 1;
  }
  if (name !== undefined) push(out, name, folded ? folded.join(' ') : value, valueAt, utf8);
  return out;
}

function push(out: HeaderSection, name: string, raw: string, at: number, utf8: boolean): void {
  const value = utf8 ? utf8FromLatin1(trimWsp(raw)) : trimWsp(raw);
  const mode = LIST_MODES.get(name);
  if (mode === undefined || value.indexOf(',') < 0) {
    out.list.push({ name, value });
    out.offsets.push(at);
    return;
  }
  let start = 0;
  let depth = 0;
  let quoted = false;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 44;
    if (quoted) {
      if (c === 92) i++;
      else if (c === 34) quoted = false;
      continue;
    }
    if (mode !== 'plain') {
      if (c === 34) quoted = true;
      else if (c === 60) depth++;
      else if (c === 62 && depth > 0) depth--;
    }
    if (c !== 44 || (depth > 0 && i < value.length)) continue;
    const element = trimWsp(value.slice(start, i));
    if (element !== '' || mode === 'strict') {
      out.list.push({ name, value: element });
      out.offsets.push(at + start);
    }
    start = i + 1;
  }
  // An unterminated quote swallowed the rest: keep it as the last element.
  if (quoted && start < value.length) {
    out.list.push({ name, value: trimWsp(value.slice(start)) });
    out.offsets.push(at + start);
  }
}

/** Removes leading and trailing SP/HTAB (not other whitespace, unlike String.trim). */
export function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWsp(s.charCodeAt(a))) a++;
  while (b > a && isWsp(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
