/**
 * The header fields of reliable provisional responses (RFC 3262 §7): RSeq (§7.1,
 * `response-num` = 1*DIGIT, 1 to 2^32-1) on the provisional, and RAck (§7.2,
 * `response-num LWS CSeq-num LWS Method`) on the PRACK that acknowledges it. Parse failures
 * throw the message layer's SipParseError with the header name.
 */
import { SipParseError } from '../message/errors.ts';
import { MAX_CSEQ } from '../message/cseq.ts';
import { TOKEN, isDigit, scan, skipWsp } from '../message/sip-chars.ts';

export interface RAck {
  /** RSeq of the provisional being acknowledged. */
  rseq: number;
  /** CSeq number of the request the provisional answers. */
  cseq: number;
  /** CSeq method of that request (INVITE). */
  method: string;
}

/** Parses an RSeq value. */
export function parseRSeq(value: string): number {
  const [n, end] = readNumber(value, skipWsp(value, 0), 'RSeq');
  if (skipWsp(value, end) !== value.length) throw new SipParseError('unexpected character', end, 'RSeq');
  if (n === 0) throw new SipParseError('RSeq must not be 0', 0, 'RSeq');
  return n;
}

/** Parses an RAck value, e.g. `776656 1 INVITE`. */
export function parseRAck(value: string): RAck {
  let pos = skipWsp(value, 0);
  const [rseq, afterRseq] = readNumber(value, pos, 'RAck');
  pos = gap(value, afterRseq);
  const [cseq, afterCseq] = readNumber(value, pos, 'RAck');
  pos = gap(value, afterCseq);
  const end = scan(value, pos, TOKEN);
  if (end === pos) throw new SipParseError('missing method', pos, 'RAck');
  if (skipWsp(value, end) !== value.length) throw new SipParseError('unexpected character', end, 'RAck');
  return { rseq, cseq, method: value.slice(pos, end) };
}

export function formatRAck(rack: RAck): string {
  return `${rack.rseq} ${rack.cseq} ${rack.method}`;
}

/** Reads 1*DIGIT at `pos` (at most 2^32-1); returns [value, end]. */
function readNumber(s: string, pos: number, header: string): [number, number] {
  let n = 0;
  let i = pos;
  while (i < s.length && isDigit(s.charCodeAt(i))) n = n * 10 + (s.charCodeAt(i++) - 48);
  if (i === pos) throw new SipParseError('missing number', pos, header);
  if (n > MAX_CSEQ) throw new SipParseError('number out of range', pos, header);
  return [n, i];
}

/** Skips the LWS that must separate two RAck fields. */
function gap(s: string, pos: number): number {
  const next = skipWsp(s, pos);
  if (next === pos) throw new SipParseError('missing separator', pos, 'RAck');
  return next;
}
