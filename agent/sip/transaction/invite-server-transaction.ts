/**
 * INVITE server transaction (IST), RFC 3261 §17.2.1, with the "Accepted" state of RFC 6026
 * §7.1. States: Proceeding → Completed → Confirmed → Terminated, or Proceeding → Accepted →
 * Terminated for a 2xx.
 *
 * - 100 Trying is sent by the transaction if the TU has not responded within 200 ms.
 * - INVITE retransmissions are answered with the last provisional (Proceeding) or final
 *   (Completed) response, and absorbed in Accepted and Confirmed.
 * - Timer G retransmits a 300-699 on unreliable transports (T1, doubling up to T2) until the
 *   ACK arrives or Timer H (64*T1) gives up; Timer I then absorbs ACK retransmissions.
 * - After a 2xx, Timer L (64*T1) keeps the transaction to absorb INVITE retransmissions; 2xx
 *   retransmissions are the TU's job (§13.3.1.4) and pass through respond().
 */
import type { SipRequest, SipResponse } from '../message/sip-message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { TimeoutError } from './errors.ts';
import { tagOf } from './header-fields.ts';
import { ServerTransaction } from './server-transaction.ts';
import { buildTrying } from './transaction-messages.ts';
import type { TransactionContext } from './transaction.ts';

export type InviteServerTransactionState = 'Proceeding' | 'Completed' | 'Confirmed' | 'Accepted' | 'Terminated';

/** What the layer does with an ACK matched to this transaction. */
export type AckDisposition = 'absorbed' | 'pass-to-tu';

export class InviteServerTransaction extends ServerTransaction<InviteServerTransactionState> {
  private lastProvisional: SipResponse | undefined;
  private finalResponse: SipResponse | undefined;
  private intervalG = 0;

  constructor(id: string, request: SipRequest, responseDestination: Endpoint, transport: Transport, context: TransactionContext) {
    super('ist', id, request, responseDestination, transport, context, 'Proceeding');
  }

  /** The To tag of the final response sent, for RFC 2543 ACK matching (§17.2.3). */
  get finalResponseToTag(): string | undefined {
    return this.finalResponse ? tagOf(this.finalResponse.headers.get('to')) : undefined;
  }

  override start(): void {
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
    // The transaction MUST send 100 Trying unless the TU responds within 200 ms.
    this.startTimer('Trying', this.timers.trying, () => {
      if (this.state !== 'Proceeding' || this.lastProvisional) return;
      this.log.debug('TU silent for 200 ms: sending 100 Trying');
      this.lastProvisional = buildTrying(this.request);
      this.sendResponse(this.lastProvisional);
    });
  }

  protected override acceptResponse(response: SipResponse): boolean {
    const status = response.status;
    switch (this.state) {
      case 'Proceeding':
        this.stopTimer('Trying');
        if (status < 200) {
          // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
          // Proceeding: a provisional from the TU is sent and remembered for retransmissions.
          this.lastProvisional = response;
          this.sendResponse(response);
        } else if (status < 300) {
          // https://www.rfc-editor.org/rfc/rfc6026#section-7.1
          // Proceeding → Accepted on a 2xx from the TU; start Timer L.
          this.finalResponse = response;
          this.sendResponse(response);
          this.transition('Accepted', `${status} sent`);
          this.startTimer('L', this.timers.L, () => this.terminate('timer L fired'));
        } else {
          // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
          // Proceeding → Completed on 300-699 from the TU; start Timer G (unreliable only)
          // and Timer H.
          this.finalResponse = response;
          this.sendResponse(response);
          this.transition('Completed', `${status} sent`);
          if (this.timers.G !== null) {
            this.intervalG = this.timers.G;
            this.startTimer('G', this.intervalG, () => this.fireTimerG());
          }
          this.startTimer('H', this.timers.H, () => this.fireTimerH());
        }
        return true;
      case 'Accepted':
        // https://www.rfc-editor.org/rfc/rfc6026#section-8.7
        // In Accepted, 2xx retransmissions from the TU are passed to the transport.
        if (status >= 200 && status < 300) {
          this.sendResponse(response);
          return true;
        }
        return false;
      case 'Completed':
      case 'Confirmed':
      case 'Terminated':
        return false;
    }
  }

  private fireTimerG(): void {
    if (this.state !== 'Completed' || !this.finalResponse) return;
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
    // Timer G fires: retransmit the final response, reset G to MIN(2*G, T2).
    this.log.debug({ interval: this.intervalG }, 'timer G: retransmitting final response');
    this.sendResponse(this.finalResponse);
    this.intervalG = Math.min(2 * this.intervalG, this.timers.t2);
    this.startTimer('G', this.intervalG, () => this.fireTimerG());
  }

  private fireTimerH(): void {
    if (this.state !== 'Completed') return;
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
    // Completed → Terminated: Timer H fired, the ACK never came; tell the TU.
    this.terminate('timer H fired');
    const error = new TimeoutError('transaction.timer-h', 'no ACK for the final response within Timer H');
    const user = this.user;
    if (user?.onTimeout) this.notify('onTimeout', () => user.onTimeout!(error));
  }

  override receiveRetransmission(_request: SipRequest): void {
    switch (this.state) {
      case 'Proceeding':
        // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
        // INVITE retransmission in Proceeding: resend the most recent provisional, if any.
        if (this.lastProvisional) this.sendResponse(this.lastProvisional);
        return;
      case 'Completed':
        // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
        // INVITE retransmission in Completed: resend the final response.
        if (this.finalResponse) this.sendResponse(this.finalResponse);
        return;
      case 'Accepted':
        // https://www.rfc-editor.org/rfc/rfc6026#section-8.7
        // INVITE retransmissions in Accepted are absorbed (not passed to the TU).
        return;
      case 'Confirmed':
      case 'Terminated':
        return;
    }
  }

  /** An ACK the layer matched to this transaction (§17.2.3). */
  receiveAck(_ack: SipRequest): AckDisposition {
    switch (this.state) {
      case 'Completed':
        // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1
        // Completed → Confirmed on ACK: stop G and H, start Timer I (T4 unreliable, 0
        // reliable).
        this.stopTimer('G', 'H');
        this.transition('Confirmed', 'ACK received');
        this.terminateAfter('I', this.timers.I);
        return 'absorbed';
      case 'Accepted':
        // https://www.rfc-editor.org/rfc/rfc6026#section-7.1
        // An ACK matching a transaction in Accepted acknowledges the 2xx: it belongs to the
        // TU (dialog layer), not to this transaction.
        return 'pass-to-tu';
      case 'Proceeding':
      case 'Confirmed':
      case 'Terminated':
        // Confirmed: ACK retransmissions are absorbed until Timer I fires (§17.2.1).
        return 'absorbed';
    }
  }
}
