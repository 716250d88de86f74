/**
 * Test helpers for the transaction-layer unit tests: a Transport that records what it is
 * asked to send (with the ManualClock time), and builders for real SipRequest/SipResponse
 * objects. Not used by production code.
 */
import type { Clock } from '../../lib/clock.ts';
import { createSilentLogger } from '../../lib/logger.ts';
import { SipHeaders, type SipMessage, type SipRequest, type SipResponse } from '../message/sip-message.ts';
import type { Endpoint, Transport, TransportProtocol } from '../transport/transport.ts';
import type { ClientTransactionUser } from './client-transaction.ts';
import type { TimeoutError, TransactionError } from './errors.ts';
import { transactionTimers, type TimerSettings } from './timers.ts';
import type { TransactionContext } from './transaction.ts';

export interface SentRecord {
  message: SipMessage;
  dest: Endpoint;
  /** Clock time of the send, relative to the transport's creation. */
  at: number;
}

/** Records every send; `failWith` makes the next sends reject (transport error path). */
export class FakeTransport implements Transport {
  readonly protocol: TransportProtocol;
  readonly reliable: boolean;
  readonly local: Endpoint;
  readonly sent: SentRecord[] = [];
  failWith: unknown = undefined;
  private readonly clock: Clock;
  private readonly origin: number;

  constructor(clock: Clock, options: { reliable?: boolean } = {}) {
    this.clock = clock;
    this.origin = clock.now();
    this.reliable = options.reliable ?? false;
    this.protocol = this.reliable ? 'tcp' : 'udp';
    this.local = { protocol: this.protocol, address: '127.0.0.1', port: 5060 };
  }

  send(message: SipMessage, dest: Endpoint): Promise<void> {
    this.sent.push({ message, dest, at: this.clock.now() - this.origin });
    return this.failWith === undefined ? Promise.resolve() : Promise.reject(this.failWith);
  }

  /** Send times of requests with `method`, or of responses with `status`. */
  times(what: string | number): number[] {
    return this.sent
      .filter((r) => (typeof what === 'number' ? r.message.type === 'response' && r.message.status === what : r.message.type === 'request' && r.message.method === what))
      .map((r) => r.at);
  }
}

export const PEER: Endpoint = { protocol: 'udp', address: '192.0.2.10', port: 5060 };

export interface RequestOptions {
  branch?: string;
  sentBy?: string;
  transport?: string;
  seq?: number;
  cseqMethod?: string;
  toTag?: string;
  fromTag?: string;
  callId?: string;
  uri?: string;
}

/** A request as a peer (or our TU) would build it; ACK and CANCEL share the INVITE defaults. */
export function makeRequest(method: string, o: RequestOptions = {}): SipRequest {
  const via = `SIP/2.0/${o.transport ?? 'UDP'} ${o.sentBy ?? 'pc33.example.com:5060'}` + (o.branch === '' ? '' : `;branch=${o.branch ?? 'z9hG4bK776asdhds'}`) + ';rport';
  const headers = new SipHeaders([
    { name: 'Via', value: via },
    { name: 'Max-Forwards', value: '70' },
    { name: 'Route', value: '<sip:proxy.example.com;lr>' },
    { name: 'To', value: `Bob <sip:bob@example.com>${o.toTag ? `;tag=${o.toTag}` : ''}` },
    { name: 'From', value: `Alice <sip:alice@example.com>;tag=${o.fromTag ?? '1928301774'}` },
    { name: 'Call-ID', value: o.callId ?? 'a84b4c76e66710@pc33.example.com' },
    { name: 'CSeq', value: `${o.seq ?? 314159} ${o.cseqMethod ?? method}` },
    { name: 'Contact', value: '<sip:alice@pc33.example.com>' },
    { name: 'Content-Length', value: '0' },
  ]);
  return { type: 'request', method, uri: o.uri ?? 'sip:bob@example.com', version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

/** A response to `request` (RFC 3261 §8.2.6.2): Via list, From, Call-ID, CSeq copied. */
export function makeResponse(request: SipRequest, status: number, toTag = 'a6c85cf'): SipResponse {
  const headers = new SipHeaders();
  for (const via of request.headers.getAll('via')) headers.append('Via', via);
  const to = request.headers.get('to')!;
  headers.append('To', status === 100 || to.includes(';tag=') ? to : `${to};tag=${toTag}`);
  headers.append('From', request.headers.get('from')!);
  headers.append('Call-ID', request.headers.get('call-id')!);
  headers.append('CSeq', request.headers.get('cseq')!);
  headers.append('Content-Length', '0');
  return { type: 'response', status, reason: `Status ${status}`, version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

/** A TransactionContext like the layer builds, for driving one machine directly. */
export function testContext(clock: Clock, reliable = false, settings: TimerSettings = {}): TransactionContext {
  return { clock, logger: createSilentLogger(), timers: transactionTimers(settings, reliable) };
}

/** A ClientTransactionUser that records every callback with its clock time. */
export class RecordingUser implements ClientTransactionUser {
  readonly responses: SipResponse[] = [];
  readonly timeouts: Array<{ error: TimeoutError; at: number }> = [];
  readonly transportErrors: TransactionError[] = [];
  private readonly clock: Clock;
  private readonly origin: number;

  constructor(clock: Clock) {
    this.clock = clock;
    this.origin = clock.now();
  }

  onResponse(response: SipResponse): void {
    this.responses.push(response);
  }

  onTimeout(error: TimeoutError): void {
    this.timeouts.push({ error, at: this.clock.now() - this.origin });
  }

  onTransportError(error: TransactionError): void {
    this.transportErrors.push(error);
  }
}

/** Lets rejected send promises run their handlers (transport error tests). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
