/**
 * TLS required between site peers (`sip.tls.peersOnly`, docs/sip-tls.md "Requiring TLS between
 * boxes"): pure decisions. A signed inter-box request (a verified Outpost-Node header) is taken
 * only over mutual TLS whose client certificate names its signer; a peer is called only at a
 * `tls:` address it announced. Without the option both are as before (UDP, TCP or TLS).
 */
import type { Endpoint } from './transport.ts';

/** Why a verified inter-box request signed by `signer` that came from `source` is refused, or undefined when it is taken. */
export function peerTransportRefusal(peersOnly: boolean, source: Pick<Endpoint, 'protocol' | 'certifiedNode'>, signer: string): string | undefined {
  if (!peersOnly) return undefined;
  if (source.protocol !== 'tls') return `sip.tls.peersOnly: ${signer} must use TLS, not ${source.protocol}`;
  if (source.certifiedNode !== signer) return `sip.tls.peersOnly: the TLS connection presents no certificate of ${signer}`;
  return undefined;
}

/** The reason phrase of the 403 a refused peer gets. */
export const PEER_TLS_REQUIRED = 'TLS Required Between Site Peers';

/** A peer's state as routing may use it: its SIP address only when that is `tls:` (with the option). */
export function routablePeerState<T extends { sip: string | undefined }>(peersOnly: boolean, state: T): T {
  if (!peersOnly || state.sip === undefined || state.sip.startsWith('tls:')) return state;
  return { ...state, sip: undefined };
}
