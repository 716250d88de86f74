/**
 * The SIP endpoint: the transports of every listen address, the edge checks (flood admission,
 * parsing, 400 with a reason for malformed requests), RFC 3581 received/rport, and the
 * transaction layer. It hands each new request to the TU (SipUser) with a function that sends
 * the response through the server transaction, passes up ACKs for 2xx and matched CANCELs, and
 * offers the TU a UAC side (request, sendStateless, viaFor, contactFor). It knows nothing of
 * registrars or calls.
 */
import type { ListenAddress } from '../config/listen-address.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { createResponse } from './message/create-response.ts';
import { parseMessage } from './message/parse-message.ts';
import type { SipMessage, SipRequest, SipResponse } from './message/sip-message.ts';
import type { ClientTransactionUser } from './transaction/client-transaction.ts';
import { newBranch } from './transaction/header-fields.ts';
import type { InviteServerTransaction } from './transaction/invite-server-transaction.ts';
import { TransactionLayer, type ClientTransaction, type ServerTransaction } from './transaction/transaction-layer.ts';
import type { TimerSettings } from './transaction/timers.ts';
import { TcpTransport } from './transport/tcp-transport.ts';
import { tlsSockets, type TlsSocketsOptions } from './transport/tls-sockets.ts';
import { UdpTransport } from './transport/udp-transport.ts';
import { applyRport } from './transport/rport.ts';
import { TransportError } from './transport/errors.ts';
import { SipTrafficObservers, type SipTrafficObserver } from './sip-traffic.ts';
import type { Endpoint, Transport } from './transport/transport.ts';

/** A request that opened a server transaction, handed to the TU. */
export interface IncomingRequest {
  request: SipRequest;
  source: Endpoint;
  transport: Transport;
  transaction: ServerTransaction;
  /** Sends a response through the server transaction (for INVITE 2xx: again to retransmit). */
  respond(res: SipResponse): void;
}

/** The transaction user above the endpoint (the switch). */
export interface SipUser {
  onRequest(incoming: IncomingRequest): void;
  /** An ACK for a 2xx (no transaction of its own, RFC 3261 §17.1.1.3 / RFC 6026). */
  onAck?(ack: SipRequest, source: Endpoint): void;
  /** A CANCEL matched a pending INVITE; the endpoint already answered the CANCEL with 200. */
  onCancel?(cancel: SipRequest, invite: InviteServerTransaction): void;
}

export interface SipEndpointOptions {
  listen: ListenAddress[];
  clock: Clock;
  logger: Logger;
  timers?: TimerSettings;
  /** Edge admission per source IP (rate limit, bans), given the raw packet; false drops it unanswered. */
  admit: (ip: string, data: Buffer) => boolean;
  user: SipUser;
  /** Told the source of every admitted, well-formed message (peer liveness: a sign of life). */
  onReceived?: (source: Endpoint) => void;
  /** Counts every message in and out (metrics, agent/control/sip-counters.ts). */
  counters?: SipCounterHooks;
  /** Certificates for `tls:` listen addresses (docs/sip-tls.md); a `tls:` entry without them is refused. */
  tls?: TlsSocketsOptions;
}

/** What the endpoint tells an observer (counters): nothing here changes what it does. */
export interface SipCounterHooks {
  /** A well-formed message received (before transaction matching: retransmissions count too). */
  received(message: SipMessage): void;
  /** A message sent: a new request, the first send of a response, a stateless message. */
  sent(message: SipMessage): void;
  /** An initial INVITE (no To tag) got its first 18x or 2xx this many ms after it arrived. */
  setup(ms: number): void;
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
  /** Observers of every message in and out (agent/sip/sip-traffic.ts). */
  private readonly traffic: SipTrafficObservers;

  constructor(private readonly options: SipEndpointOptions) {
    this.traffic = new SipTrafficObservers(options.logger);
    const onData = (data: Buffer, source: Endpoint, transport: Transport) => this.receive(data, source, transport);
    const onSent = (data: Buffer, message: SipMessage, dest: Endpoint, transport: Transport) => {
      if (this.traffic.active) this.traffic.notify({ direction: 'out', message, data, local: transport.local, remote: dest });
    };
    const tls = options.tls;
    this.transports = options.listen.map((l) => {
      if (l.protocol === 'udp') return new UdpTransport({ host: l.host, port: l.port, logger: options.logger, onData, onSent });
      if (l.protocol === 'tcp') return new TcpTransport({ host: l.host, port: l.port, logger: options.logger, onData, onSent });
      if (!tls) throw new TransportError('transport.listen', `tls:${l.host}:${l.port} needs a certificate: enrol the box (outpost enrol join) or set sip.tls.cert and sip.tls.key`);
      return new TcpTransport({ host: l.host, port: l.port, logger: options.logger, onData, onSent, sockets: tlsSockets(tls) });
    });
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

  /** Adds an observer of every message received and sent; returns its removal. */
  observe(observer: SipTrafficObserver): () => void {
    return this.traffic.observe(observer);
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
    if (!this.options.admit(source.address, data)) {
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
        this.replyStateless(createResponse(partial, parsed.error.status, parsed.error.reason), source, transport);
      }
      this.options.logger.debug({ source, reason: parsed.error.reason }, 'malformed message');
      return;
    }
    const message = parsed.message;
    if (this.traffic.active) this.traffic.notify({ direction: 'in', message, data, local: transport.local, remote: source });
    this.options.counters?.received(message);
    this.options.onReceived?.(source);
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
      if (message.method !== 'ACK') this.replyStateless(createResponse(message, 400, (err as Error).message), destination, transport);
      return;
    }
    if (disposition === 'absorbed') return;
    if (disposition === 'ack-no-transaction') {
      this.options.user.onAck?.(message, source);
      return;
    }
    const tx = disposition;
    if (message.method === 'CANCEL') {
      // RFC 3261 §9.2: 200 to a CANCEL that matches an INVITE transaction, 481 otherwise; the TU
      // then answers a still pending INVITE with 487.
      const invite = this.transactions.findInviteServerTransaction(message);
      const answer = createResponse(message, invite ? 200 : 481, invite ? 'OK' : 'Call/Transaction Does Not Exist');
      this.options.counters?.sent(answer);
      tx.respond(answer);
      if (invite) this.options.user.onCancel?.(message, invite);
      return;
    }
    this.options.user.onRequest({ request: message, source, transport, transaction: tx, respond: this.responder(message, tx) });
  }

  /** tx.respond, telling `counters` of each response and of an initial INVITE's setup time. */
  private responder(request: SipRequest, tx: ServerTransaction): (res: SipResponse) => void {
    const counters = this.options.counters;
    if (!counters) return (res) => tx.respond(res);
    const started = this.options.clock.now();
    let setupPending = request.method === 'INVITE' && !/;\s*tag=/i.test(request.headers.get('To') ?? '');
    return (res) => {
      counters.sent(res);
      if (setupPending && res.status >= 180 && res.status < 300) {
        setupPending = false;
        counters.setup(this.options.clock.now() - started);
      }
      tx.respond(res);
    };
  }

  /** Sends a request in a new client transaction (RFC 3261 §17.1). */
  request(req: SipRequest, dest: Endpoint, user: ClientTransactionUser): ClientTransaction {
    this.options.counters?.sent(req);
    return this.transactions.createClientTransaction(req, dest, this.transportFor(dest), user);
  }

  /** Sends a message outside any transaction (the ACK for a 2xx, RFC 3261 §13.2.2.4). */
  sendStateless(message: SipMessage, dest: Endpoint): void {
    this.options.counters?.sent(message);
    this.transportFor(dest)
      .send(message, dest)
      .catch((err: Error) => this.options.logger.debug({ err: err.message }, 'stateless send failed'));
  }

  /** A top Via value for a request this endpoint sends to `dest`, with a fresh branch. */
  viaFor(dest: Endpoint): string {
    const local = this.transportFor(dest).local;
    return `SIP/2.0/${dest.protocol.toUpperCase()} ${hostport(local)};branch=${newBranch()};rport`;
  }

  /** This endpoint's Contact URI for dialogs whose peer is reached at `dest`. */
  contactFor(dest: Endpoint, user = 'outpost'): string {
    const local = this.transportFor(dest).local;
    return `sip:${user}@${hostport(local)}${dest.protocol === 'udp' ? '' : `;transport=${dest.protocol}`}`;
  }

  private replyStateless(res: SipResponse, dest: Endpoint, transport: Transport): void {
    this.options.counters?.sent(res);
    transport.send(res, dest).catch((err: Error) => this.options.logger.debug({ err: err.message }, 'stateless send failed'));
  }
}

function hostport(e: Endpoint): string {
  return `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;
}
