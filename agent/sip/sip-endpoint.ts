/**
 * The SIP endpoint: the transports of every listen address, the edge checks (flood admission,
 * parsing, 400 with a reason for malformed requests), RFC 3581 received/rport, and the
 * transaction layer. It hands each new request to the TU (`onRequest`) with a function that
 * sends the response through the server transaction. It knows nothing of registrars or calls.
 */
import type { ListenAddress } from '../config/listen-address.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { createResponse } from './message/create-response.ts';
import { parseMessage } from './message/parse-message.ts';
import type { SipRequest, SipResponse } from './message/sip-message.ts';
import { TransactionLayer } from './transaction/transaction-layer.ts';
import type { TimerSettings } from './transaction/timers.ts';
import { TcpTransport } from './transport/tcp-transport.ts';
import { UdpTransport } from './transport/udp-transport.ts';
import { applyRport } from './transport/rport.ts';
import { TransportError } from './transport/errors.ts';
import type { Endpoint, Transport } from './transport/transport.ts';

export type RequestHandler = (req: SipRequest, source: Endpoint, respond: (res: SipResponse) => void) => void;

export interface SipEndpointOptions {
  listen: ListenAddress[];
  clock: Clock;
  logger: Logger;
  timers?: TimerSettings;
  /** Edge admission per source IP (rate limit, bans); false drops the packet unanswered. */
  admit: (ip: string) => boolean;
  onRequest: RequestHandler;
}

export interface SipEndpointStats {
  received: number;
  dropped: number;
  malformed: number;
  strayResponses: number;
}

export class SipEndpoint {
  readonly stats: SipEndpointStats = { received: 0, dropped: 0, malformed: 0, strayResponses: 0 };
  readonly transactions: TransactionLayer;
  private readonly transports: Array<UdpTransport | TcpTransport>;

  constructor(private readonly options: SipEndpointOptions) {
    const onData = (data: Buffer, source: Endpoint, transport: Transport) => this.receive(data, source, transport);
    this.transports = options.listen.map((l) =>
      l.protocol === 'udp'
        ? new UdpTransport({ host: l.host, port: l.port, logger: options.logger, onData })
        : new TcpTransport({ host: l.host, port: l.port, logger: options.logger, onData }),
    );
    this.transactions = new TransactionLayer({
      clock: options.clock,
      logger: options.logger,
      ...(options.timers ? { timers: options.timers } : {}),
      transportFor: (dest) => this.transportFor(dest),
    });
  }

  /** Bound endpoints, in listen order (ports filled in after start). */
  get bound(): Endpoint[] {
    return this.transports.map((t) => t.local);
  }

  async start(): Promise<void> {
    try {
      for (const t of this.transports) await t.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.transactions.stop();
    await Promise.all(this.transports.map((t) => t.stop()));
  }

  transportFor(dest: Endpoint): Transport {
    const t = this.transports.find((x) => x.protocol === dest.protocol);
    if (!t) throw new TransportError('transport.send', `no ${dest.protocol} transport configured`);
    return t;
  }

  private receive(data: Buffer, source: Endpoint, transport: Transport): void {
    this.stats.received++;
    if (!this.options.admit(source.address)) {
      this.stats.dropped++;
      return;
    }
    const parsed = parseMessage(data);
    if (!parsed.ok) {
      this.stats.malformed++;
      const partial = parsed.partial;
      // RFC 3261 §8.2 / RFC 4475: answer a malformed request with 400 and the reason when it
      // can be answered at all; never answer an ACK; drop malformed responses.
      if (partial && partial.method !== 'ACK') {
        this.sendStateless(createResponse(partial, parsed.error.status, parsed.error.reason), source, transport);
      }
      this.options.logger.debug({ source, reason: parsed.error.reason }, 'malformed message');
      return;
    }
    const message = parsed.message;
    if (message.type === 'response') {
      if (!this.transactions.handleResponse(message)) this.stats.strayResponses++;
      return;
    }
    const destination = applyRport(message, source, transport.reliable);
    let disposition;
    try {
      disposition = this.transactions.handleRequest(message, source, transport, destination);
    } catch (err) {
      this.stats.malformed++;
      if (message.method !== 'ACK') this.sendStateless(createResponse(message, 400, (err as Error).message), destination, transport);
      return;
    }
    if (disposition === 'absorbed' || disposition === 'ack-no-transaction') return;
    const tx = disposition;
    if (message.method === 'CANCEL') {
      // No INVITE is served yet: a CANCEL matching a finished INVITE gets 200, else 481 (§9.2).
      const found = this.transactions.findInviteServerTransaction(message) !== undefined;
      tx.respond(createResponse(message, found ? 200 : 481, found ? 'OK' : 'Call/Transaction Does Not Exist'));
      return;
    }
    this.options.onRequest(message, source, (res) => tx.respond(res));
  }

  private sendStateless(res: SipResponse, dest: Endpoint, transport: Transport): void {
    transport.send(res, dest).catch((err: Error) => this.options.logger.debug({ err: err.message }, 'stateless send failed'));
  }
}
