/**
 * Whether a packet at the flood guard's edge is a request a peer box of the site signed
 * (docs/inter-box.md): it comes from an address a peer announced, carries `Outpost-Node`, and
 * the signature checks out (NodeAssertion.check, which does not spend it: call admission
 * verifies it again and remembers it). The flood guard asks only for a packet it would drop, so
 * a peer's signed INVITEs are never rate-limited or banned, while everything else from the
 * peer's address (responses, in-dialog requests, phones behind that address) still is.
 */
import { parseMessage } from '../../sip/message/parse-message.ts';
import type { SipRequest } from '../../sip/message/sip-message.ts';
import type { NodeVerdict } from './node-assertion.ts';
import { NODE_HEADER } from './node-assertion.ts';

export interface PeerVouchDeps {
  peers: { isPeerAddress(ip: string): boolean };
  assertion: { check(req: SipRequest): NodeVerdict };
}

const MARK = Buffer.from(NODE_HEADER.toLowerCase());

/** True when `data` from `ip` is a request signed by a peer box of the site. */
export function peerVouches(deps: PeerVouchDeps, ip: string, data: Buffer): boolean {
  // Cheap gates first: the parse and the signature check run only for a peer's signed packets.
  if (!deps.peers.isPeerAddress(ip) || !containsMark(data)) return false;
  const parsed = parseMessage(data);
  if (!parsed.ok || parsed.message.type !== 'request') return false;
  return deps.assertion.check(parsed.message).kind === 'verified';
}

/** The header name anywhere in the packet, in any case (header names are case-insensitive). */
function containsMark(data: Buffer): boolean {
  const lower = Buffer.from(data.toString('latin1').toLowerCase(), 'latin1');
  return lower.includes(MARK);
}
