/**
 * The transaction layer (RFC 3261 §17): owns every live client and server transaction,
 * matches incoming messages to them (§17.1.3, §17.2.3) and creates new ones. It sits between
 * the transport (below) and the TU (the switch, above); it never opens sockets itself.
 *
 * Transactions remove themselves from the maps when they reach "Terminated", so the maps hold
 * exactly the live transactions; stop() disposes of everything and cancels every timer.
 */
import type { Clock } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import type { SipRequest, SipResponse } from '../message/sip-message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import type { ClientTransactionUser } from './client-transaction.ts';
import { TransactionError } from './errors.ts';
import { cseq, tagOf } from './header-fields.ts';
import { InviteClientTransaction } from './invite-client-transaction.ts';
import { InviteServerTransaction } from './invite-server-transaction.ts';
import { NonInviteClientTransaction } from './non-invite-client-transaction.ts';
import { NonInviteServerTransaction } from './non-invite-server-transaction.ts';
import { transactionTimers, type TimerSettings, type TransactionTimers } from './timers.ts';
import { clientTransactionKey, hasRfc3261Branch, serverTransactionKey } from './transaction-keys.ts';
import type { TransactionContext, TransactionKind } from './transaction.ts';

export type ClientTransaction = InviteClientTransaction | NonInviteClientTransaction;
export type ServerTransaction = InviteServerTransaction | NonInviteServerTransaction;

/** Result of handleRequest: a new transaction for the TU, or what happened instead. */
export type RequestDisposition = ServerTransaction | 'absorbed' | 'ack-no-transaction';

export interface TransactionLayerOptions {
  clock: Clock;
  logger: Logger;
  /** T1/T2/T4 overrides; the lettered timers are derived (RFC 3261 Table 4). */
  timers?: TimerSettings;
  /** Picks the transport for a destination when createClientTransaction is given none. */
  transportFor: (dest: Endpoint) => Transport;
}

export class TransactionLayer {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly unreliableTimers: TransactionTimers;
  private readonly reliableTimers: TransactionTimers;
  private readonly transportFor: (dest: Endpoint) => Transport;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly servers = new Map<string, ServerTransaction>();
  private stopped = false;

  constructor(options: TransactionLayerOptions) {
    this.clock = options.clock;
    this.log = options.logger.child({ mod: 'sip.txn' });
    this.unreliableTimers = transactionTimers(options.timers, false);
    this.reliableTimers = transactionTimers(options.timers, true);
    this.transportFor = options.transportFor;
  }

  /**
   * Sends `request` in a new client transaction (ICT for INVITE, NICT otherwise). The TU
   * must have put a top Via with a fresh z9hG4bK branch on it (newBranch()). ACK is not a
   * transaction (§17.1) and is refused, as are duplicates of a live transaction's key.
   * Synchronous throws: TransactionError for those refusals, and whatever `transportFor`
   * throws when no transport is given. Send failures arrive later via onTransportError.
   */
  createClientTransaction(request: SipRequest, dest: Endpoint, transport: Transport | undefined, user: ClientTransactionUser): ClientTransaction {
    if (this.stopped) throw new TransactionError('transaction.stopped', 'transaction layer is stopped');
    if (request.method === 'ACK') throw new TransactionError('transaction.invalid-request', 'ACK is sent outside any transaction');
    const cs = cseq(request.headers);
    if (cs && cs.method !== request.method) throw new TransactionError('transaction.invalid-request', 'CSeq method differs from the request method');
    const key = clientTransactionKey(request);
    if (key === undefined) throw new TransactionError('transaction.invalid-request', 'request needs a top Via with a z9hG4bK branch and a CSeq');
    if (this.clients.has(key)) throw new TransactionError('transaction.duplicate', `client transaction ${key} already exists`);
    const via = transport ?? this.transportFor(dest);
    const context = this.contextFor(via);
    const tx: ClientTransaction =
      request.method === 'INVITE'
        ? new InviteClientTransaction(key, request, dest, via, user, context)
        : new NonInviteClientTransaction(key, request, dest, via, user, context);
    this.clients.set(key, tx);
    tx.onTerminated(() => this.clients.delete(key));
    tx.start();
    return tx;
  }

  /**
   * Matches a response to its client transaction (§17.1.3). False means no transaction
   * matched and the caller drops it (§18.1.2); a 2xx retransmission after Timer M is one.
   */
  handleResponse(response: SipResponse): boolean {
    const key = clientTransactionKey(response);
    const tx = key === undefined ? undefined : this.clients.get(key);
    if (!tx) {
      this.log.debug({ status: response.status, key }, 'response matches no transaction');
      return false;
    }
    tx.receiveResponse(response);
    return true;
  }

  /**
   * Matches a request to a server transaction (§17.2.3). Returns a new transaction for the
   * TU to answer through respond(); 'absorbed' when a transaction took it (a retransmission,
   * or the ACK of a non-2xx); 'ack-no-transaction' for an ACK the TU must handle (the ACK of
   * a 2xx, §17.2.3 / RFC 6026 §7.1). A CANCEL gets its own NIST. `responseDestination`
   * defaults to `source` (RFC 3581 handling is the transport's). Throws
   * TransactionError('transaction.invalid-request') without a readable top Via and CSeq.
   */
  handleRequest(request: SipRequest, source: Endpoint, transport: Transport, responseDestination: Endpoint = source): RequestDisposition {
    if (this.stopped) return 'absorbed'; // shutting down: drop quietly
    const cs = cseq(request.headers);
    const key = serverTransactionKey(request);
    if (!cs || key === undefined) throw new TransactionError('transaction.invalid-request', 'request needs a top Via and a CSeq');
    if (cs.method !== request.method) throw new TransactionError('transaction.invalid-request', 'CSeq method differs from the request method');
    if (request.method === 'ACK') return this.matchAck(request);
    const existing = this.servers.get(key);
    if (existing) {
      existing.receiveRetransmission(request);
      return 'absorbed';
    }
    const context = this.contextFor(transport);
    const tx: ServerTransaction =
      request.method === 'INVITE'
        ? new InviteServerTransaction(key, request, responseDestination, transport, context)
        : new NonInviteServerTransaction(key, request, responseDestination, transport, context);
    this.servers.set(key, tx);
    tx.onTerminated(() => this.servers.delete(key));
    tx.start();
    this.log.debug({ method: request.method, key, source }, 'server transaction created');
    return tx;
  }

  /**
   * The INVITE server transaction a CANCEL refers to (RFC 3261 §9.2): the same key as the
   * INVITE except for the method. Undefined when the INVITE is unknown or finished.
   */
  findInviteServerTransaction(cancel: SipRequest): InviteServerTransaction | undefined {
    const key = serverTransactionKey(cancel, { method: 'INVITE' });
    const tx = key === undefined ? undefined : this.servers.get(key);
    return tx instanceof InviteServerTransaction ? tx : undefined;
  }

  /** The live client transaction with this key (`branch|METHOD`), if any. */
  findClientTransaction(key: string): ClientTransaction | undefined {
    return this.clients.get(key);
  }

  private matchAck(ack: SipRequest): 'absorbed' | 'ack-no-transaction' {
    const ist = this.findAckTarget(ack);
    if (!ist) return 'ack-no-transaction';
    return ist.receiveAck(ack) === 'absorbed' ? 'absorbed' : 'ack-no-transaction';
  }

  private findAckTarget(ack: SipRequest): InviteServerTransaction | undefined {
    if (hasRfc3261Branch(ack)) {
      const tx = this.servers.get(serverTransactionKey(ack) ?? '');
      return tx instanceof InviteServerTransaction ? tx : undefined;
    }
    // RFC 2543 (§17.2.3): the INVITE carried either no To tag (initial request) or the tag
    // the ACK carries (re-INVITE); the ACK's To tag must equal our final response's tag.
    const ackTag = tagOf(ack.headers.get('to'));
    for (const toTag of new Set(['', ackTag])) {
      const tx = this.servers.get(serverTransactionKey(ack, { toTag }) ?? '');
      if (tx instanceof InviteServerTransaction && tx.finalResponseToTag === ackTag) return tx;
    }
    return undefined;
  }

  private contextFor(transport: Transport): TransactionContext {
    return {
      clock: this.clock,
      logger: this.log,
      timers: transport.reliable ? this.reliableTimers : this.unreliableTimers,
    };
  }

  /** Live transactions by kind (tests, metrics). */
  counts(): Record<TransactionKind | 'total', number> {
    const out = { ict: 0, nict: 0, ist: 0, nist: 0, total: 0 };
    for (const tx of this.clients.values()) out[tx.kind]++;
    for (const tx of this.servers.values()) out[tx.kind]++;
    out.total = this.clients.size + this.servers.size;
    return out;
  }

  /** Disposes of every transaction (no TU callbacks) and cancels all their timers. */
  stop(): void {
    this.stopped = true;
    for (const tx of this.clients.values()) tx.dispose();
    for (const tx of this.servers.values()) tx.dispose();
    this.clients.clear();
    this.servers.clear();
  }
}
