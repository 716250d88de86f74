import { randomHex } from '../../lib/random-token.ts';
/**
 * createResponse: builds the response a UAS (or a stateless element) sends to a request,
 * per RFC 3261 §8.2.6: every Via in order, From, Call-ID and CSeq copied, To copied with a tag
 * added when the request had none and one is given (§8.2.6.2), Timestamp echoed on a 100
 * (§8.2.6.1). Nothing else is added (no Server, no Allow, no Content-Length: serializeMessage
 * writes that one): callers append what they need.
 * Works on a `partial` request from parseMessage too, copying whatever headers it has, so a
 * malformed request can still get its 400.
 */
import { parseNameAddr } from './name-addr.ts';
import { SipHeaders, type SipRequest, type SipResponse } from './sip-message.ts';

export interface CreateResponseOptions {
  /** Tag for the To header when the request's To has none. */
  toTag?: string;
  /** Extra headers, appended in order after the copied ones. */
  headers?: [string, string][];
  body?: Buffer;
  /** Content-Type of `body` (written only when the body is not empty). */
  contentType?: string;
}

const PHRASES: Record<number, string> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued',
  183: 'Session Progress', 199: 'Early Dialog Terminated',
  200: 'OK', 202: 'Accepted', 204: 'No Notification',
  300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily', 305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone',
  412: 'Conditional Request Failed', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long',
  415: 'Unsupported Media Type', 416: 'Unsupported URI Scheme', 417: 'Unknown Resource-Priority',
  420: 'Bad Extension', 421: 'Extension Required', 422: 'Session Interval Too Small',
  423: 'Interval Too Brief', 428: 'Use Identity Header', 429: 'Provide Referrer Identity',
  433: 'Anonymity Disallowed', 436: 'Bad Identity-Info', 437: 'Unsupported Certificate',
  438: 'Invalid Identity Header', 439: 'First Hop Lacks Outbound Support', 440: 'Max-Breadth Exceeded',
  469: 'Bad Info Package', 470: 'Consent Needed', 480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected', 483: 'Too Many Hops',
  484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here', 487: 'Request Terminated',
  488: 'Not Acceptable Here', 489: 'Bad Event', 491: 'Request Pending', 493: 'Undecipherable',
  494: 'Security Agreement Required',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Server Time-out', 505: 'Version Not Supported',
  513: 'Message Too Large', 555: 'Push Notification Service Not Supported',
  580: 'Precondition Failure',
  600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
  607: 'Unwanted', 608: 'Rejected',
};

const CLASS_PHRASES = ['Unknown', 'Provisional', 'Success', 'Redirection', 'Client Error', 'Server Error', 'Global Failure'];

/** The usual reason phrase of a status code (RFC 3261 §21 and later RFCs), or its class name. */
export function reasonPhrase(status: number): string {
  return PHRASES[status] ?? CLASS_PHRASES[Math.floor(status / 100)] ?? 'Unknown';
}

/**
 * Builds the response to `req` with the headers RFC 3261 §8.2.6 requires, including a To tag
 * (options.toTag, or a random one) on every response but 100 when the request's To has none.
 */
export function createResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  options: CreateResponseOptions = {},
): SipResponse {
  const src = req.headers;
  const headers = new SipHeaders();
  for (const via of src.getAll('via')) headers.append('Via', via);
  copy(src, headers, 'From');
  const to = src.get('to');
  // §8.2.6.2: every response but 100 carries a To tag; a fresh one unless the caller gives one.
  const tag = options.toTag ?? (status > 100 ? randomHex(5) : undefined);
  if (to !== undefined) headers.append('To', tag && !hasTag(to) ? `${to};tag=${tag}` : to);
  copy(src, headers, 'Call-ID');
  copy(src, headers, 'CSeq');
  if (status === 100) copy(src, headers, 'Timestamp');
  for (const [name, value] of options.headers ?? []) headers.append(name, value);
  const body = options.body ?? Buffer.alloc(0);
  if (body.length > 0 && options.contentType !== undefined) headers.append('Content-Type', options.contentType);
  return { type: 'response', status, reason: reason ?? reasonPhrase(status), version: 'SIP/2.0', headers, body };
}

function copy(from: SipHeaders, to: SipHeaders, name: string): void {
  const v = from.get(name);
  if (v !== undefined) to.append(name, v);
}

/** True when a To value carries a tag (a To we cannot parse is searched textually). */
function hasTag(to: string): boolean {
  try {
    return parseNameAddr(to).tag !== undefined;
  } catch {
    return /;\s*tag\s*=/i.test(to);
  }
}
