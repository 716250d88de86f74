/**
 * The Transport seam (RFC 3261 §18). The transaction layer and the switch see only this
 * interface; UDP, TCP and TLS (TCP's framing over a TLS socket) implementations sit below it.
 */
import type { SipMessage } from '../message/sip-message.ts';

export type TransportProtocol = 'udp' | 'tcp' | 'tls';

export interface Endpoint {
  protocol: TransportProtocol;
  address: string;
  port: number;
  /**
   * On a received message over TLS: the node id the peer's client certificate names, when the
   * fleet's CA issued it (agent/sip/transport/tls-sockets.ts). Never set for UDP or TCP.
   */
  certifiedNode?: string;
}

/** A message as received from the network, with where it came from and where it arrived. */
export interface InboundMessage {
  message: SipMessage;
  source: Endpoint;
  /** The local listening endpoint it arrived on. */
  local: Endpoint;
}

export interface Transport {
  readonly protocol: TransportProtocol;
  /** Reliable transports (TCP, TLS) switch off retransmission timers (RFC 3261 §17.1.1.2). */
  readonly reliable: boolean;
  /** The bound local endpoint (port filled in after start when 0 was configured). */
  readonly local: Endpoint;
  /**
   * Sends one message to `dest`. Fire-and-forget: a failure is reported through the promise
   * (TransportError) and never thrown synchronously.
   */
  send(message: SipMessage, dest: Endpoint): Promise<void>;
}

export function endpointKey(e: Endpoint): string {
  return `${e.protocol}:${e.address}:${e.port}`;
}
