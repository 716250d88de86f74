/**
 * Assembles the requests a dialog sends (RFC 3261 §12.2.1.1): the header order and the
 * fields that do not depend on dialog state (Via with a fresh branch, Max-Forwards, body).
 * Dialog decides the values; this module only writes them. Also builds the CANCEL of a
 * pending request (§9.1), which copies that request rather than the dialog state.
 */
import { formatCSeq, type CSeq } from '../message/cseq.ts';
import { SipHeaders, type SipRequest } from '../message/sip-message.ts';
import { newBranch } from '../transaction/header-fields.ts';

/** Methods whose request replaces the remote target (RFC 3261 §12.2, RFC 3311 §5.1, RFC 6665 §4.1.2). */
export const TARGET_REFRESH_METHODS: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY']);

/**
 * Methods that carry our Contact: the target refresh requests (§12.2.1.1: a UAC SHOULD include
 * it there) and REFER (RFC 3515 §2.4.1). BYE, CANCEL and ACK get none (§20 Table 3).
 */
export const CONTACT_METHODS: ReadonlySet<string> = new Set([...TARGET_REFRESH_METHODS, 'REFER']);

/** Max-Forwards of every request a UA starts (RFC 3261 §8.1.1.6). */
export const MAX_FORWARDS = 70;

/** Transports a dialog can write in its Via (the dialog itself opens no sockets). */
export type DialogTransport = 'UDP' | 'TCP' | 'TLS';

export interface InDialogRequestOptions {
  body?: Buffer | string;
  /** Content-Type of `body` (written only when the body is not empty). */
  contentType?: string;
  /** Extra headers, appended in order after the dialog's own. */
  headers?: [string, string][];
}

export interface RequestParts {
  method: string;
  requestUri: string;
  routes: readonly string[];
  /** The whole top Via value (see viaValue). */
  via: string;
  from: string;
  to: string;
  callId: string;
  cseq: CSeq;
  /** Contact value, or undefined to send none. */
  contact: string | undefined;
  options: InDialogRequestOptions;
}

/** A top Via for a new client transaction: `SIP/2.0/UDP host:port;branch=z9hG4bK...`. */
export function viaValue(transport: DialogTransport, sentBy: string, rport: boolean): string {
  return `SIP/2.0/${transport} ${sentBy};branch=${newBranch()}${rport ? ';rport' : ''}`;
}

/** Writes the request: Via, Max-Forwards, Route, From, To, Call-ID, CSeq, Contact, extras. */
export function buildRequest(parts: RequestParts): SipRequest {
  const headers = new SipHeaders();
  headers.append('Via', parts.via);
  headers.append('Max-Forwards', String(MAX_FORWARDS));
  for (const route of parts.routes) headers.append('Route', route);
  headers.append('From', parts.from);
  headers.append('To', parts.to);
  headers.append('Call-ID', parts.callId);
  headers.append('CSeq', formatCSeq(parts.cseq));
  if (parts.contact !== undefined) headers.append('Contact', parts.contact);
  return finish(parts.method, parts.requestUri, headers, parts.options);
}

/**
 * The CANCEL of a pending request (RFC 3261 §9.1): same Request-URI, Call-ID, From, To and
 * CSeq number, the request's top Via only (same branch, so it matches the same server
 * transaction), and its Route headers.
 */
export function buildCancel(request: SipRequest, options: InDialogRequestOptions = {}): SipRequest {
  const src = request.headers;
  const headers = new SipHeaders();
  const via = src.get('via');
  if (via !== undefined) headers.append('Via', via);
  headers.append('Max-Forwards', String(MAX_FORWARDS));
  for (const route of src.getAll('route')) headers.append('Route', route);
  for (const name of ['From', 'To', 'Call-ID']) {
    const v = src.get(name);
    if (v !== undefined) headers.append(name, v);
  }
  const seq = /^\s*(\d+)/.exec(src.get('cseq') ?? '')?.[1];
  if (seq !== undefined) headers.append('CSeq', seq + ' CANCEL');
  return finish('CANCEL', request.uri, headers, options);
}

function finish(method: string, uri: string, headers: SipHeaders, options: InDialogRequestOptions): SipRequest {
  for (const [name, value] of options.headers ?? []) headers.append(name, value);
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : (options.body ?? Buffer.alloc(0));
  if (body.length > 0 && options.contentType !== undefined) headers.append('Content-Type', options.contentType);
  return { type: 'request', method, uri, version: 'SIP/2.0', headers, body };
}
