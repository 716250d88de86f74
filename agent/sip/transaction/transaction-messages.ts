/**
 * The two messages the transaction layer writes itself: the ACK for a non-2xx final response
 * (RFC 3261 §17.1.1.3) and the automatic 100 Trying of an INVITE server transaction
 * (RFC 3261 §17.2.1, built per §8.2.6.1). Everything else comes from the TU.
 */
import { SipHeaders, type SipRequest, type SipResponse } from '../message/sip-message.ts';
import { cseq } from './header-fields.ts';

/**
 * ACK for a 300-699 response to `invite` (RFC 3261 §17.1.1.3): same Request-URI, Call-ID,
 * From and CSeq number as the INVITE; To from the response (it carries the tag); one Via,
 * the INVITE's top Via (so the branch matches the server transaction); the INVITE's Route
 * header fields; CSeq method ACK; no body.
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const headers = new SipHeaders();
  const via = invite.headers.get('via');
  if (via !== undefined) headers.append('Via', via.split(',')[0]!.trim());
  headers.append('Max-Forwards', '70');
  for (const route of invite.headers.getAll('route')) headers.append('Route', route);
  copy(invite.headers, headers, 'From');
  copy(response.headers, headers, 'To');
  copy(invite.headers, headers, 'Call-ID');
  const seq = cseq(invite.headers)?.seq ?? 0;
  headers.append('CSeq', `${seq} ACK`);
  headers.append('Content-Length', '0');
  return { type: 'request', method: 'ACK', uri: invite.uri, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

/**
 * 100 Trying for `request` (RFC 3261 §8.2.6.1): Via list, From, To (no tag needed for 100),
 * Call-ID, CSeq and any Timestamp copied; no body.
 */
export function buildTrying(request: SipRequest): SipResponse {
  const headers = new SipHeaders();
  for (const via of request.headers.getAll('via')) headers.append('Via', via);
  copy(request.headers, headers, 'From');
  copy(request.headers, headers, 'To');
  copy(request.headers, headers, 'Call-ID');
  copy(request.headers, headers, 'CSeq');
  copy(request.headers, headers, 'Timestamp');
  headers.append('Content-Length', '0');
  return { type: 'response', status: 100, reason: 'Trying', version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

function copy(from: SipHeaders, to: SipHeaders, name: string): void {
  const value = from.get(name);
  if (value !== undefined) to.append(name, value);
}
