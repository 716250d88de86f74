/**
 * Where a response to a request goes (RFC 3261 §18.2.1/§18.2.2 with RFC 3581): stamps
 * `received` when the sent-by host is not the packet's source, fills in a requested `rport`,
 * and returns the destination. Over reliable transports the response returns on the
 * connection the request came in on, i.e. to the source.
 */
import type { SipRequest } from '../message/sip-message.ts';
import { formatVia, parseVia, type Via } from '../message/via.ts';
import type { Endpoint } from './transport.ts';

export function applyRport(req: SipRequest, source: Endpoint, reliable: boolean): Endpoint {
  const first = req.headers.list.findIndex((h) => h.name === 'Via');
  const entry = first >= 0 ? req.headers.list[first] : undefined;
  if (!entry) return source;
  let via: Via;
  try {
    via = parseVia(entry.value);
  } catch {
    return source; // the parser already validated the top Via; be safe anyway
  }
  const wantsRport = via.rport !== undefined;
  if (wantsRport || via.host.replace(/^\[|\]$/g, '') !== source.address) via.received = source.address;
  if (wantsRport) via.rport = source.port;
  entry.value = formatVia(via);
  if (reliable) return source;
  return {
    protocol: source.protocol,
    address: source.address,
    port: wantsRport ? source.port : (via.port ?? 5060),
  };
}
