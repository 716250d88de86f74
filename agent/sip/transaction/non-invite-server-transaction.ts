/**
 * Non-INVITE server transaction (NIST), RFC 3261 §17.2.2.
 * States: Trying → Proceeding → Completed → Terminated.
 *
 * - Request retransmissions are absorbed in Trying and answered with the last response in
 *   Proceeding and Completed.
 * - Timer J (64*T1 on unreliable, 0 on reliable transports) keeps the transaction in
 *   Completed long enough to answer every retransmission of the request.
 * - A CANCEL is one of these: it has its own transaction (RFC 3261 §9.2); the TU finds the
 *   INVITE transaction it cancels through TransactionLayer.findInviteServerTransaction().
 */
import type { SipRequest, SipResponse } from '../message/sip-message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { ServerTransaction } from './server-transaction.ts';
import type { TransactionContext } from './transaction.ts';

export type NonInviteServerTransactionState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

export class NonInviteServerTransaction extends ServerTransaction<NonInviteServerTransactionState> {
  private lastResponse: SipResponse | undefined;

  constructor(id: string, request: SipRequest, responseDestination: Endpoint, transport: Transport, context: TransactionContext) {
    super('nist', id, request, responseDestination, transport, context, 'Trying');
  }

  protected override acceptResponse(response: SipResponse): boolean {
    const status = response.status;
    switch (this.state) {
      case 'Trying':
      case 'Proceeding':
        this.lastResponse = response;
        this.sendResponse(response);
        if (status < 200) {
          // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.2
          // Trying → Proceeding on a provisional from the TU; more provisionals may follow.
          if (this.state === 'Trying') this.transition('Proceeding', `${status} sent`);
        } else {
          // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.2
          // Trying/Proceeding → Completed on a final response from the TU; start Timer J
          // (64*T1 unreliable, 0 reliable).
          this.transition('Completed', `${status} sent`);
          this.terminateAfter('J', this.timers.J);
        }
        return true;
      case 'Completed':
        // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.2
        // Further final responses from the TU are discarded in Completed.
        return false;
      case 'Terminated':
        return false;
    }
  }

  override receiveRetransmission(_request: SipRequest): void {
    switch (this.state) {
      case 'Trying':
        // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.2
        // Retransmissions in Trying are discarded: the TU has not answered yet.
        return;
      case 'Proceeding':
      case 'Completed':
        // https://www.rfc-editor.org/rfc/rfc3261#section-17.2.2
        // Retransmissions in Proceeding/Completed get the most recent response again.
        if (this.lastResponse) this.sendResponse(this.lastResponse);
        return;
      case 'Terminated':
        return;
    }
  }
}
