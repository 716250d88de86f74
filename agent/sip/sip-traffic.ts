/**
 * Observers of the SIP endpoint's traffic: every well-formed message received (after the edge
 * admission) and every message handed to a transport, with its wire bytes and both endpoints.
 * Any number of observers (trace export, metrics) subscribe; each is called synchronously and
 * must be cheap. A throwing observer is logged and never reaches the SIP path.
 */
import type { Logger } from '../lib/logger.ts';
import type { SipMessage } from './message/sip-message.ts';
import type { Endpoint } from './transport/transport.ts';

export interface SipTraffic {
  direction: 'in' | 'out';
  message: SipMessage;
  /** The bytes as received, or as serialized for sending. */
  data: Buffer;
  /** The transport's bound endpoint (a wildcard listen address stays a wildcard). */
  local: Endpoint;
  /** Where it came from (in) or where it goes (out). */
  remote: Endpoint;
}

export type SipTrafficObserver = (traffic: SipTraffic) => void;

/** An additive list of observers; `observe` returns the function that removes one again. */
export class SipTrafficObservers {
  private list: SipTrafficObserver[] = [];

  constructor(private readonly logger: Logger) {}

  get active(): boolean {
    return this.list.length > 0;
  }

  observe(observer: SipTrafficObserver): () => void {
    this.list = [...this.list, observer];
    return () => {
      this.list = this.list.filter((o) => o !== observer);
    };
  }

  notify(traffic: SipTraffic): void {
    for (const o of this.list) {
      try {
        o(traffic);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'sip traffic observer failed');
      }
    }
  }
}
