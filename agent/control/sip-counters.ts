/**
 * SIP traffic as Prometheus metrics, fed by the endpoint's one hook (SipEndpoint `traffic`):
 * requests by method and direction, responses by method (of their CSeq), status code and
 * direction, and the setup time of incoming calls (initial INVITE to its first 18x or 2xx).
 * Methods outside the known set count as `other` and codes outside 100-699 as `other`, so a
 * hostile peer cannot grow the label space.
 */
import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { SipMessage } from '../sip/message/sip-message.ts';
import type { SipCounterHooks } from '../sip/sip-endpoint.ts';

const METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'INFO', 'UPDATE', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);

/** Buckets of the call setup histogram, in seconds. */
export const SETUP_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

function cseqMethod(message: SipMessage): string {
  const cseq = message.headers.get('CSeq') ?? '';
  return methodLabel(cseq.trim().split(/\s+/)[1] ?? '');
}

export class SipCounters implements SipCounterHooks {
  readonly requests = new Counter({ name: 'outpost_sip_requests_total', help: 'SIP requests received (in, retransmissions included) and sent (out)', labelNames: ['method', 'direction'], registers: [] });
  readonly responses = new Counter({ name: 'outpost_sip_responses_total', help: 'SIP responses received (in) and sent (out), by the method of their CSeq and status code', labelNames: ['method', 'code', 'direction'], registers: [] });
  readonly setupTime = new Histogram({ name: 'outpost_call_setup_seconds', help: 'incoming initial INVITE to its first 18x or 2xx answer', buckets: SETUP_BUCKETS, registers: [] });

  /** Puts the three metrics into a registry. */
  register(registry: Registry): void {
    registry.registerMetric(this.requests);
    registry.registerMetric(this.responses);
    registry.registerMetric(this.setupTime);
  }

  received(message: SipMessage): void {
    this.count(message, 'in');
  }

  sent(message: SipMessage): void {
    this.count(message, 'out');
  }

  setup(ms: number): void {
    this.setupTime.observe(ms / 1000);
  }

  private count(message: SipMessage, direction: 'in' | 'out'): void {
    if (message.type === 'request') this.requests.inc({ method: methodLabel(message.method), direction });
    else {
      const code = message.status >= 100 && message.status <= 699 ? String(message.status) : 'other';
      this.responses.inc({ method: cseqMethod(message), code, direction });
    }
  }
}
