/**
 * Non-INVITE client transaction (NICT), RFC 3261 §17.1.2.
 * States: Trying → Proceeding → Completed → Terminated.
 *
 * - Timer E retransmits the request on unreliable transports: T1, doubling up to T2 while
 *   Trying, and every T2 once Proceeding.
 * - Timer F (64*T1) times the transaction out in Trying or Proceeding.
 * - Timer K (T4 on unreliable, 0 on reliable transports) absorbs final-response
 *   retransmissions in Completed.
 */
import type { SipRequest, SipResponse } from '../message/sip-message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { ClientTransaction, type ClientTransactionUser } from './client-transaction.ts';
import { TimeoutError } from './errors.ts';
import type { TransactionContext } from './transaction.ts';

export type NonInviteClientTransactionState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

export class NonInviteClientTransaction extends ClientTransaction<NonInviteClientTransactionState> {
  private intervalE = 0;

  constructor(
    id: string,
    request: SipRequest,
    destination: Endpoint,
    transport: Transport,
    user: ClientTransactionUser,
    context: TransactionContext,
  ) {
    super('nict', id, request, destination, transport, user, context, 'Trying');
  }

  protected override startTimers(): void {
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2
    // Entering Trying: Timer F at 64*T1; on an unreliable transport also Timer E at T1.
    this.startTimer('F', this.timers.F, () => this.fireTimerF());
    if (this.timers.E !== null) {
      this.intervalE = this.timers.E;
      this.startTimer('E', this.intervalE, () => this.fireTimerE());
    }
  }

  private fireTimerE(): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2
    // Timer E fires: retransmit. In Trying the next interval is MIN(2*E, T2); in
    // Proceeding it is T2.
    this.log.debug({ interval: this.intervalE }, 'timer E: retransmitting request');
    this.send(this.request, this.destination);
    this.intervalE = this.state === 'Trying' ? Math.min(2 * this.intervalE, this.timers.t2) : this.timers.t2;
    this.startTimer('E', this.intervalE, () => this.fireTimerE());
  }

  private fireTimerF(): void {
    if (this.state !== 'Trying' && this.state !== 'Proceeding') return;
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2
    // Trying/Proceeding → Terminated: Timer F fired, inform the TU of the timeout.
    this.terminate('timer F fired');
    const error = new TimeoutError('transaction.timer-f', `no final response to ${this.request.method} within Timer F`);
    this.notify('onTimeout', () => this.user.onTimeout(error));
  }

  override receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'Trying':
      case 'Proceeding':
        if (status < 200) {
          // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2
          // Trying → Proceeding on 1xx; Timer E keeps running (its next reset uses T2).
          if (this.state === 'Trying') this.transition('Proceeding', `${status} received`);
          this.passToUser(response);
        } else {
          // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2
          // Trying/Proceeding → Completed on 200-699: pass it up, stop E and F, start Timer K.
          this.stopTimer('E', 'F');
          this.transition('Completed', `${status} received`);
          this.passToUser(response);
          this.terminateAfter('K', this.timers.K);
        }
        return;
      case 'Completed':
        // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2.2
        // Final-response retransmissions are absorbed in Completed.
        return;
      case 'Terminated':
        return;
    }
  }
}
