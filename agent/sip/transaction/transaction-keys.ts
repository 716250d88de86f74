/**
 * Transaction matching keys (RFC 3261 §17.1.3 for responses, §17.2.3 for requests).
 *
 * - Client side: the top Via branch plus the CSeq method, so the CANCEL and the INVITE it
 *   cancels (same branch, §9.1) are separate transactions.
 * - Server side, RFC 3261 peers (branch starts with z9hG4bK): branch + sent-by + method, where
 *   an ACK is looked up under INVITE.
 * - Server side, RFC 2543 peers (no magic cookie): Request-URI, From tag, Call-ID, CSeq number,
 *   the whole top Via, To tag and method. The ACK's To tag differs from the INVITE's when the
 *   response added one, so the layer looks an ACK up under both and then checks the tag of
 *   the response that was sent (§17.2.3, last paragraphs).
 */
import type { SipMessage, SipRequest } from '../message/sip-message.ts';
import { callId, cseq, isRfc3261Branch, tagOf, topVia } from './header-fields.ts';

/** Key of the client transaction a response (or our own request) belongs to (§17.1.3). */
export function clientTransactionKey(message: SipMessage): string | undefined {
  const via = topVia(message.headers);
  const cs = cseq(message.headers);
  if (!via || !isRfc3261Branch(via.branch) || !cs) return undefined;
  return `${via.branch}|${cs.method}`;
}

export interface ServerKeyOptions {
  /** Method of the transaction looked up: INVITE for an ACK or a CANCEL's target (§9.2). */
  method?: string;
  /** RFC 2543 keys only: the To tag to use instead of the request's. */
  toTag?: string;
}

/** True when the request carries an RFC 3261 branch and is matched on it (§17.2.3). */
export function hasRfc3261Branch(request: SipRequest): boolean {
  return isRfc3261Branch(topVia(request.headers)?.branch);
}

/**
 * Key of the server transaction `request` belongs to (§17.2.3), or undefined when the
 * request has no readable top Via or CSeq.
 */
export function serverTransactionKey(request: SipRequest, options: ServerKeyOptions = {}): string | undefined {
  const via = topVia(request.headers);
  const cs = cseq(request.headers);
  if (!via || !cs) return undefined;
  const method = options.method ?? (request.method === 'ACK' ? 'INVITE' : request.method);
  if (isRfc3261Branch(via.branch)) return `3261|${via.branch}|${via.sentBy}|${method}`;
  const toTag = options.toTag ?? tagOf(request.headers.get('to'));
  const fromTag = tagOf(request.headers.get('from'));
  const viaText = via.raw.replace(/\s+/g, ' ');
  return `2543|${request.uri}|${fromTag}|${callId(request.headers)}|${cs.seq}|${viaText}|${toTag}|${method}`;
}
