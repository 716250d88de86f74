/**
 * What the two client transactions (RFC 3261 §17.1) share: the destination, the transaction
 * user (TU) that receives responses and failures, and the §17.1.4 rule that a transport
 * failure ends the transaction. The TU turns a timeout into 408 and a transport failure into
 * 503 (RFC 3261 §8.1.3.1); the transaction only reports.
 */
import type { SipRequest, SipResponse } from '../message/sip-message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import type { TimeoutError, TransactionError } from './errors.ts';
import { Transaction, type TransactionContext, type TransactionKind } from './transaction.ts';

/** The TU of a client transaction (the switch's UAC side). */
export interface ClientTransactionUser {
  /** Every response the state machine passes up (RFC 3261 §17.1.1.2, §17.1.2.2). */
  onResponse(response: SipResponse): void;
  /** Timer B or F fired without a final response; answer 408 upstream. */
  onTimeout(error: TimeoutError): void;
  /** The request (or the ACK) could not be sent; answer 503 upstream. */
  onTransportError(error: TransactionError): void;
}

export abstract class ClientTransaction<S extends string> extends Transaction<S> {
  /** Where the request (and any ACK) is sent. */
  readonly destination: Endpoint;
  protected readonly user: ClientTransactionUser;
  private started = false;

  protected constructor(
    kind: TransactionKind,
    id: string,
    request: SipRequest,
    destination: Endpoint,
    transport: Transport,
    user: ClientTransactionUser,
    context: TransactionContext,
    initial: S,
  ) {
    super(kind, id, request, transport, context, initial);
    this.destination = destination;
    this.user = user;
  }

  /** Sends the request and starts the timers; called once by the layer after registering. */
  start(): void {
    if (this.started || this.isTerminated) return;
    this.started = true;
    this.send(this.request, this.destination);
    this.startTimers();
  }

  /**
   * The TU stops waiting before Timer B/F (a keep-alive's own deadline): the transaction ends
   * at once, its retransmissions stop, the TU is not told, and a later response matches no
   * transaction (dropped, §18.1.2). RFC 3261 leaves the TU free to ignore a transaction's outcome.
   */
  abandon(): void {
    this.terminate('abandoned by the TU');
  }

  /** A response matched to this transaction by the layer (RFC 3261 §17.1.3). */
  abstract receiveResponse(response: SipResponse): void;

  protected abstract startTimers(): void;

  /**
   * RFC 3261 §17.1.4: the TU is informed and the transaction moves straight to "Terminated",
   * whatever state it is in.
   */
  protected override onTransportFailure(error: TransactionError): void {
    this.log.warn({ err: error.cause ?? error, state: this.state }, 'client transaction transport error');
    this.terminate('transport error');
    this.notify('onTransportError', () => this.user.onTransportError(error));
  }

  protected passToUser(response: SipResponse): void {
    this.notify('onResponse', () => this.user.onResponse(response));
  }
}
