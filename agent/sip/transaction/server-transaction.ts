/**
 * What the two server transactions (RFC 3261 §17.2) share: where responses go, the optional
 * transaction user (TU) told about failures, response validation, and the RFC 6026 §8.8 rule
 * for transport errors (inform the TU, stay in the current state; the timers still end the
 * transaction).
 */
import type { SipRequest, SipResponse } from '../message/sip-message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { TransactionError, type TimeoutError } from './errors.ts';
import { Transaction, type TransactionContext, type TransactionKind } from './transaction.ts';

/** The TU of a server transaction (the switch's UAS side). Both callbacks are optional. */
export interface ServerTransactionUser {
  /** IST only: Timer H fired, the ACK for a non-2xx final response never came (§17.2.1). */
  onTimeout?(error: TimeoutError): void;
  /** A response could not be sent (RFC 3261 §17.2.4, RFC 6026 §8.8); reported once. */
  onTransportError?(error: TransactionError): void;
}

export abstract class ServerTransaction<S extends string> extends Transaction<S> {
  /**
   * Where responses are sent: computed by the transport layer from the top Via, the source
   * address and RFC 3581 rport/received (RFC 3261 §18.2.2). Taken as data here.
   */
  readonly responseDestination: Endpoint;
  /** Set by the TU after the layer hands the transaction over. */
  user: ServerTransactionUser | undefined;
  private transportErrorReported = false;

  protected constructor(
    kind: TransactionKind,
    id: string,
    request: SipRequest,
    responseDestination: Endpoint,
    transport: Transport,
    context: TransactionContext,
    initial: S,
  ) {
    super(kind, id, request, transport, context, initial);
    this.responseDestination = responseDestination;
  }

  /** Starts what runs without TU input (the IST's 100 Trying timer); called by the layer. */
  start(): void {}

  /**
   * Sends a response from the TU through the state machine. Responses the state machine
   * must discard (e.g. a second final response) are dropped and logged, not thrown.
   * Throws TransactionError('transaction.invalid-response') for a status outside 100-699.
   */
  respond(response: SipResponse): void {
    if (response.type !== 'response' || !Number.isInteger(response.status) || response.status < 100 || response.status > 699) {
      throw new TransactionError('transaction.invalid-response', `invalid response status ${String(response.status)}`);
    }
    if (!this.acceptResponse(response)) {
      this.log.debug({ status: response.status, state: this.state }, 'response from TU discarded');
    }
  }

  /** State-machine handling of a TU response; false when the state discards it. */
  protected abstract acceptResponse(response: SipResponse): boolean;

  /** The layer matched a retransmission of the creating request (§17.2.3). */
  abstract receiveRetransmission(request: SipRequest): void;

  protected sendResponse(response: SipResponse): void {
    this.send(response, this.responseDestination);
  }

  /**
   * RFC 6026 §8.8 (replacing RFC 3261 §17.2.4): inform the TU and remain in the current
   * state. Only the first failure is reported; later ones (retransmissions) are only logged.
   */
  protected override onTransportFailure(error: TransactionError): void {
    this.log.warn({ err: error.cause ?? error, state: this.state }, 'server transaction transport error');
    if (this.transportErrorReported) return;
    this.transportErrorReported = true;
    const user = this.user;
    if (user?.onTransportError) this.notify('onTransportError', () => user.onTransportError!(error));
  }
}
