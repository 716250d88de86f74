/**
 * The CSeq header (RFC 3261 §20.16): `1*DIGIT LWS Method`. The sequence number must fit in
 * 32 bits unsigned (§8.1.1.5; RFC 4475 §3.1.2.4 sends 2^65 to check that it is refused);
 * leading zeros are allowed (§3.1.1.1). The method is a case-sensitive token.
 */
import { SipParseError } from './errors.ts';
import { TOKEN, isDigit, isWsp, scan, skipWsp } from './sip-chars.ts';

export interface CSeq {
  seq: number;
  method: string;
}

/** Largest CSeq sequence number (2^32 - 1). */
export const MAX_CSEQ = 4294967295;

/** Parses a CSeq value; throws SipParseError (offset in `s`) with a short reason. */
export function parseCSeq(s: string): CSeq {
  let pos = skipWsp(s, 0);
  const start = pos;
  let seq = 0;
  while (pos < s.length && isDigit(s.charCodeAt(pos))) {
    seq = seq * 10 + (s.charCodeAt(pos) - 48);
    pos++;
  }
  if (pos === start) throw new SipParseError('missing number', start);
  if (seq > MAX_CSEQ) throw new SipParseError('number out of range', start);
  if (!isWsp(s.charCodeAt(pos))) throw new SipParseError('missing method', pos);
  pos = skipWsp(s, pos);
  const end = scan(s, pos, TOKEN);
  if (end === pos) throw new SipParseError('missing method', pos);
  if (skipWsp(s, end) !== s.length) throw new SipParseError('unexpected character', end);
  return { seq, method: s.slice(pos, end) };
}

/** Writes `seq METHOD`. */
export function formatCSeq(c: CSeq): string {
  return c.seq + ' ' + c.method;
}
