/**
 * INVITE client transaction (ICT), RFC 3261 §17.1.1, with the "Accepted" state of RFC 6026
 * §7.2. States: Calling → Proceeding → Completed | Accepted → Terminated.
 *
 * - Timer A retransmits the INVITE on unreliable transports (T1, doubling, no cap).
 * - Timer B (64*T1) times the transaction out while still Calling.
 * - A 300-699 is acknowledged here (§17.1.1.3); Timer D then absorbs its retransmissions.
 * - A 2xx goes to the TU, which sends the ACK itself (§13.2.2.4). We enter Accepted for
 *   Timer M (64*T1) so retransmitted 2xx still match this transaction and reach the TU,
 *   instead of terminating at once as RFC 3261 had it.
 */
import type { SipRequest, SipResponse } from '../message/sip-message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { ClientTransaction, type ClientTransactionUser } from './client-transaction.ts';
import { TimeoutError } from './errors.ts';
import { buildNon2xxAck } from './transaction-messages.ts';
import type { TransactionContext } from './transaction.ts';

export type InviteClientTransactionState = 'Calling' | 'Proceeding' | 'Completed' | 'Accepted' | 'Terminated';

export class InviteClientTransaction extends ClientTransaction<InviteClientTransactionState> {
  private intervalA = 0;
  private ack: SipRequest | undefined;

  constructor(
    id: string,
    request: SipRequest,
    destination: Endpoint,
    transport: Transport,
    user: ClientTransactionUser,
    context: TransactionContext,
  ) {
    super('ict', id, request, destination, transport, user, context, 'Calling');
  }

  /** The ACK this transaction generated for a non-2xx final response, if any. */
  get generatedAck(): SipRequest | undefined {
    return this.ack;
  }

  protected override startTimers(): void {
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
    // Unreliable transport: Timer A starts at T1. Any transport: Timer B at 64*T1.
    if (this.timers.A !== null) {
      this.intervalA = this.timers.A;
      this.startTimer('A', this.intervalA, () => this.fireTimerA());
    }
    this.startTimer('B', this.timers.B, () => this.fireTimerB());
  }

  private fireTimerA(): void {
    if (this.state !== 'Calling') return;
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
    // Timer A fires: retransmit, and reset Timer A to twice its previous value.
    this.log.debug({ interval: this.intervalA }, 'timer A: retransmitting INVITE');
    this.send(this.request, this.destination);
    this.intervalA *= 2;
    this.startTimer('A', this.intervalA, () => this.fireTimerA());
  }

  private fireTimerB(): void {
    if (this.state !== 'Calling') return;
    // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
    // Calling → Terminated: Timer B fired, inform the TU of the timeout.
    this.terminate('timer B fired');
    const error = new TimeoutError('transaction.timer-b', 'no response to INVITE within Timer B');
    this.notify('onTimeout', () => this.user.onTimeout(error));
  }

  override receiveResponse(response: SipResponse): void {
    const status = response.status;
    switch (this.state) {
      case 'Calling':
      case 'Proceeding':
        if (status < 200) {
          // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
          // Calling → Proceeding on 1xx: stop retransmitting (Timer A) and Timer B, which
          // only applies in Calling. Every 1xx goes to the TU.
          this.stopTimer('A', 'B');
          if (this.state === 'Calling') this.transition('Proceeding', `${status} received`);
          this.passToUser(response);
        } else if (status < 300) {
          // https://www.rfc-editor.org/rfc/rfc6026#section-7.2
          // Calling/Proceeding → Accepted on 2xx: pass it up, no ACK from us; start Timer M.
          this.stopTimer('A', 'B');
          this.transition('Accepted', `${status} received`);
          this.startTimer('M', this.timers.M, () => this.terminate('timer M fired'));
          this.passToUser(response);
        } else {
          // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
          // Calling/Proceeding → Completed on 300-699: ACK it (§17.1.1.3), pass it up, start
          // Timer D (>= 32 s on unreliable transports, 0 on reliable ones).
          this.stopTimer('A', 'B');
          this.ack = buildNon2xxAck(this.request, response);
          this.send(this.ack, this.destination);
          this.transition('Completed', `${status} received`);
          this.passToUser(response);
          this.terminateAfter('D', this.timers.D);
        }
        return;
      case 'Accepted':
        // https://www.rfc-editor.org/rfc/rfc6026#section-8.4
        // In Accepted, each 2xx (retransmission or another fork) goes to the TU; others are
        // dropped.
        if (status >= 200 && status < 300) this.passToUser(response);
        return;
      case 'Completed':
        // https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1.2
        // A retransmitted final response in Completed makes us resend the ACK; it is not
        // passed to the TU.
        if (status >= 300 && this.ack) this.send(this.ack, this.destination);
        return;
      case 'Terminated':
        return;
    }
  }
}
