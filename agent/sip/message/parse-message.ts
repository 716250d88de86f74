/**
 * parseMessage: bytes of one SIP message (one UDP datagram, or one message cut out of a
 * stream by SipStreamFramer) to the SipMessage model, or a SipParseError. Never throws.
 *
 * Steps: skip leading CRLFs (RFC 3261 §7.5); find the blank line ending the header section
 * (CRLF, or bare LF tolerated); read the start line and the header lines (start-line.ts,
 * read-headers.ts); frame the body by Content-Length (§18.3: a shorter body is an error, extra
 * octets are ignored, RFC 4475 §3.1.1.8; without Content-Length the body is the rest of the
 * datagram, §3.4.1); then check the headers (validate-headers.ts).
 *
 * A parsed message always carries exactly one Content-Length, equal to body.length, in the
 * place of the first one received (appended when none was): serializeMessage writes the same,
 * so parse → serialize → parse gives back an equal message.
 *
 * For a faulty request the result carries `partial`: the start line and whatever headers
 * could be read, so the caller can build the 400 (or the 505 the error's `status` asks for)
 * when Via, From, To, Call-ID and CSeq are there. Faulty responses are simply dropped.
 */
import { isAscii } from 'node:buffer';
import { SipParseError } from './errors.ts';
import { readHeaders } from './read-headers.ts';
import { SipHeaders, type SipMessage, type SipRequest } from './sip-message.ts';
import { type StartLine, parseStartLine } from './start-line.ts';
import { validateHeaders } from './validate-headers.ts';

export type ParseResult = { ok: true; message: SipMessage } | { ok: false; error: SipParseError; partial?: SipRequest };

const EMPTY = Buffer.alloc(0);
const BLANK_CRLF = Buffer.from('\n\r\n', 'latin1');
const BLANK_LF = Buffer.from('\n\n', 'latin1');
/** Content-Length values above this are refused outright (no datagram or frame is that big). */
const MAX_CONTENT_LENGTH = 16 * 1024 * 1024;

/** Parses one message. Never throws: any fault comes back as `{ ok: false, error }`. */
export function parseMessage(buf: Buffer): ParseResult {
  try {
    return parse(buf);
  } catch (e) {
    const error = e instanceof SipParseError ? e : new SipParseError('Malformed message', 0);
    return { ok: false, error };
  }
}

function parse(buf: Buffer): ParseResult {
  let start = 0;
  while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
  if (start >= buf.length) return { ok: false, error: new SipParseError('Empty message', start) };

  let headEnd = buf.length;
  let bodyStart = buf.length;
  const a = buf.indexOf(BLANK_CRLF, start);
  const b = buf.indexOf(BLANK_LF, start);
  if (b >= 0 && (a < 0 || b < a)) [headEnd, bodyStart] = [b + 1, b + 2];
  else if (a >= 0) [headEnd, bodyStart] = [a + 1, a + 3];
  // No blank line: a datagram that ends right after a complete header line is taken as
  // having no body (liberal); one that stops mid-line is truncated.
  const truncated = headEnd === buf.length && buf[buf.length - 1] !== 10;

  const head = buf.toString('latin1', start, headEnd);
  let nl = head.indexOf('\n');
  if (nl < 0) nl = head.length;
  const lineEnd = nl > 0 && head.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
  const line = head.slice(0, lineEnd);
  if (line.indexOf('\r') >= 0) return { ok: false, error: new SipParseError('Malformed line ending', start) };
  const sl = parseStartLine(line, start);
  const sec = readHeaders(head, nl + 1, start, !isAscii(buf.subarray(start, headEnd)));
  const partial = sl.type === 'request' ? requestOf(sl, new SipHeaders(sec.list), EMPTY) : undefined;

  if (sl.error) return fail(partial, sl.error);
  if (sec.error) return fail(partial, sec.error);
  if (truncated) return fail(partial, new SipParseError('Truncated header section', buf.length));

  // Framing by Content-Length.
  const list = sec.list;
  let declared = -1;
  let first = -1;
  for (let i = 0; i < list.length; i++) {
    if (list[i]!.name !== 'Content-Length') continue;
    const v = list[i]!.value;
    const at = sec.offsets[i]!;
    if (!/^[0-9]{1,10}$/.test(v) || Number(v) > MAX_CONTENT_LENGTH) {
      return fail(partial, new SipParseError('Bad Content-Length', at, 'Content-Length'));
    }
    const n = Number(v);
    if (declared >= 0 && n !== declared) return fail(partial, new SipParseError('Conflicting Content-Length', at, 'Content-Length'));
    declared = n;
    if (first < 0) first = i;
  }
  const available = buf.length - bodyStart;
  if (declared > available) return fail(partial, new SipParseError('Content-Length exceeds body', buf.length, 'Content-Length'));
  const body = buf.subarray(bodyStart, bodyStart + (declared >= 0 ? declared : available));
  if (partial) partial.body = body;

  const fault = validateHeaders(list, sec.offsets, sl.type === 'request' ? sl.method : undefined);
  if (fault) return fail(partial, fault);

  // One Content-Length, equal to the body length.
  const cl = { name: 'Content-Length', value: String(body.length) };
  if (first < 0) list.push(cl);
  else {
    list[first] = cl;
    let w = first + 1;
    for (let i = first + 1; i < list.length; i++) if (list[i]!.name !== 'Content-Length') list[w++] = list[i]!;
    list.length = w;
  }
  const headers = partial ? partial.headers : new SipHeaders(list);
  const message: SipMessage =
    sl.type === 'request'
      ? requestOf(sl, headers, body)
      : { type: 'response', status: sl.status, reason: sl.reason, version: sl.version, headers, body };
  return { ok: true, message };
}

function fail(partial: SipRequest | undefined, error: SipParseError): ParseResult {
  return partial ? { ok: false, error, partial } : { ok: false, error };
}

function requestOf(sl: StartLine & { type: 'request' }, headers: SipHeaders, body: Buffer): SipRequest {
  return { type: 'request', method: sl.method, uri: sl.uri, version: sl.version, headers, body };
}
