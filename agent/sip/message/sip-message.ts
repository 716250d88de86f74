/**
 * The SIP message model (RFC 3261 §7). Pure data with no I/O: the parser builds it, the
 * serializer writes it, every higher layer reads it.
 *
 * Header names are kept in their canonical long form (compact forms such as `v` or `i` are
 * expanded by the parser, RFC 3261 §7.3.3) and looked up case-insensitively. Headers whose
 * grammar is a comma-separated list (Via, Contact, Route, ...) are split by the parser into one
 * entry per element, so `getAll('via')` returns one value per hop.
 */

export interface SipHeader {
  /** Canonical display name, e.g. `Via`, `Call-ID`, `CSeq`, `WWW-Authenticate`. */
  name: string;
  /** Value with leading/trailing whitespace trimmed and line folding replaced by one space. */
  value: string;
}

/** An ordered header list with case-insensitive look-up by name. */
export class SipHeaders {
  readonly list: SipHeader[];

  constructor(list: SipHeader[] = []) {
    this.list = list;
  }

  /** First value of the header, or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const h of this.list) if (h.name.toLowerCase() === key) return h.value;
    return undefined;
  }

  /** Every value of the header, in order. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (const h of this.list) if (h.name.toLowerCase() === key) out.push(h.value);
    return out;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Appends one entry (after any existing ones). */
  append(name: string, value: string): void {
    this.list.push({ name: canonicalHeaderName(name), value });
  }

  /** Inserts one entry before the first existing entry of any header (used for Via). */
  prepend(name: string, value: string): void {
    this.list.unshift({ name: canonicalHeaderName(name), value });
  }

  /** Replaces every entry of the header with one value, keeping the first one's position. */
  set(name: string, value: string): void {
    const key = name.toLowerCase();
    const idx = this.list.findIndex((h) => h.name.toLowerCase() === key);
    if (idx < 0) {
      this.append(name, value);
      return;
    }
    this.list[idx] = { name: canonicalHeaderName(name), value };
    for (let i = this.list.length - 1; i > idx; i--) {
      if (this.list[i]!.name.toLowerCase() === key) this.list.splice(i, 1);
    }
  }

  /** Removes every entry of the header. */
  remove(name: string): void {
    const key = name.toLowerCase();
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i]!.name.toLowerCase() === key) this.list.splice(i, 1);
    }
  }

  clone(): SipHeaders {
    return new SipHeaders(this.list.map((h) => ({ name: h.name, value: h.value })));
  }
}

export interface SipRequest {
  type: 'request';
  method: string;
  /** Request-URI as it appeared on the wire (validated by the parser). */
  uri: string;
  /** Always `SIP/2.0` after a successful parse. */
  version: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  type: 'response';
  status: number;
  reason: string;
  version: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

const COMPACT: Record<string, string> = {
  a: 'Accept-Contact',
  b: 'Referred-By',
  c: 'Content-Type',
  d: 'Request-Disposition',
  e: 'Content-Encoding',
  f: 'From',
  i: 'Call-ID',
  j: 'Reject-Contact',
  k: 'Supported',
  l: 'Content-Length',
  m: 'Contact',
  n: 'Identity-Info',
  o: 'Event',
  r: 'Refer-To',
  s: 'Subject',
  t: 'To',
  u: 'Allow-Events',
  v: 'Via',
  x: 'Session-Expires',
  y: 'Identity',
};

const SPECIAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  rack: 'RAck',
  rseq: 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'authentication-info': 'Authentication-Info',
};

const canonicalCache = new Map<string, string>();

/** Canonical display form of a header name: expands compact forms and fixes capitalisation. */
export function canonicalHeaderName(name: string): string {
  const cached = canonicalCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  let out: string;
  if (lower.length === 1 && COMPACT[lower]) out = COMPACT[lower]!;
  else if (SPECIAL[lower]) out = SPECIAL[lower]!;
  else out = lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
  if (canonicalCache.size < 1024) canonicalCache.set(name, out);
  return out;
}
