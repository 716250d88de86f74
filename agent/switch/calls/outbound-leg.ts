/**
 * The callee's side of a call, one per contact the call rings (parallel forking): the box is
 * the UAC of a new INVITE with its own Call-ID and tags (a B2BUA, not a proxy). It reports
 * responses to the call, creates the dialog from the first 1xx/2xx with a To tag (RFC 3261
 * §12.1.2), ACKs a 2xx itself (§13.2.2.4), and CANCELs only after a provisional response
 * arrived (§9.1: a CANCEL before that is deferred).
 */
import { randomHex } from '../../lib/random-token.ts';
import { uuidv7 } from '../../lib/uuid.ts';
import { Dialog } from '../../sip/dialog/dialog.ts';
import { dialogKeyOf } from '../../sip/dialog/dialog-key.ts';
import { SipHeaders, type SipRequest, type SipResponse } from '../../sip/message/sip-message.ts';
import type { SipEndpoint } from '../../sip/sip-endpoint.ts';
import type { ClientTransactionUser } from '../../sip/transaction/client-transaction.ts';
import type { ClientTransaction } from '../../sip/transaction/transaction-layer.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import { ALLOW_IN_CALL, requestOptions, type BodyOptions } from './inbound-leg.ts';
import { TIMEOUT, UNREACHABLE, type Failure } from './call-outcome.ts';

export type OutboundState = 'calling' | 'early' | 'answered' | 'failed' | 'cancelled';

export interface OutboundEvents {
  onProvisional(leg: OutboundLeg, res: SipResponse): void;
  onAnswer(leg: OutboundLeg, res: SipResponse): void;
  onFailure(leg: OutboundLeg, failure: Failure): void;
}

export interface OutboundSpec {
  /** Request-URI: the binding's contact. */
  target: string;
  /** Where to send: the binding's source address (NAT) and transport. */
  dest: Endpoint;
  from: { displayName: string; user: string };
  to: { user: string };
  domain: string;
  maxForwards: number;
  sdp: string;
}

export class OutboundLeg {
  readonly callId = `${uuidv7()}@outpost`;
  readonly localTag = randomHex(6);
  readonly invite: SipRequest;
  readonly dest: Endpoint;
  state: OutboundState = 'calling';
  dialog: Dialog | undefined;
  private transaction: ClientTransaction | undefined;
  private provisionalSeen = false;
  private cancelWanted = false;

  constructor(
    spec: OutboundSpec,
    private readonly endpoint: SipEndpoint,
    private readonly events: OutboundEvents,
  ) {
    this.dest = spec.dest;
    const name = spec.from.displayName ? `"${spec.from.displayName.replace(/["\\]/g, '')}" ` : '';
    this.invite = {
      type: 'request',
      method: 'INVITE',
      uri: spec.target,
      version: 'SIP/2.0',
      headers: new SipHeaders([
        { name: 'Via', value: endpoint.viaFor(spec.dest) },
        { name: 'Max-Forwards', value: String(spec.maxForwards) },
        { name: 'From', value: `${name}<sip:${spec.from.user}@${spec.domain}>;tag=${this.localTag}` },
        { name: 'To', value: `<sip:${spec.to.user}@${spec.domain}>` },
        { name: 'Call-ID', value: this.callId },
        { name: 'CSeq', value: '1 INVITE' },
        { name: 'Contact', value: `<${endpoint.contactFor(spec.dest)}>` },
        { name: 'Allow', value: ALLOW_IN_CALL },
        { name: 'Content-Type', value: 'application/sdp' },
      ]),
      body: Buffer.from(spec.sdp),
    };
  }

  start(): void {
    const user: ClientTransactionUser = {
      onResponse: (res) => this.onResponse(res),
      onTimeout: () => this.fail(TIMEOUT),
      onTransportError: () => this.fail(UNREACHABLE),
    };
    try {
      this.transaction = this.endpoint.request(this.invite, this.dest, user);
    } catch {
      queueMicrotask(() => this.fail(UNREACHABLE));
    }
  }

  /** Stops ringing: CANCEL now if a provisional arrived, else as soon as one does. */
  cancel(): void {
    if (this.state !== 'calling' && this.state !== 'early') return;
    this.state = 'cancelled';
    this.cancelWanted = true;
    if (this.provisionalSeen) this.sendCancel();
  }

  /** Sends an in-dialog request (BYE, re-INVITE, ...) to the callee. */
  send(method: string, user: ClientTransactionUser, options: BodyOptions = {}): SipRequest | undefined {
    if (!this.dialog || this.dialog.state === 'terminated') return undefined;
    const req = this.dialog.createRequest(method, requestOptions(options));
    this.endpoint.request(req, this.dest, user);
    return req;
  }

  /** ACKs a 2xx to an INVITE of this leg (initial or re-INVITE) with that INVITE's CSeq. */
  ack(res: SipResponse): void {
    const cseq = Number.parseInt(res.headers.get('cseq') ?? '1', 10);
    const dialog = this.dialog ?? Dialog.fromUacResponse(this.invite, res);
    this.endpoint.sendStateless(dialog.createAck(cseq), this.dest);
  }

  private onResponse(res: SipResponse): void {
    if (res.status < 200) {
      // Any provisional, 100 Trying included, allows a CANCEL (RFC 3261 §9.1).
      this.provisionalSeen = true;
      if (this.cancelWanted) return this.sendCancel();
      if (res.status === 100) return;
      if (!this.dialog && /;\s*tag=/i.test(res.headers.get('to') ?? '')) this.dialog = Dialog.fromUacResponse(this.invite, res);
      if (this.state === 'calling') this.state = 'early';
      this.events.onProvisional(this, res);
      return;
    }
    if (res.status < 300) {
      // A 2xx with another To tag than the early dialog is another dialog (RFC 3261 §13.2.2.4).
      if (!this.dialog || dialogKeyOf(res, 'uac') !== this.dialog.key) this.dialog = Dialog.fromUacResponse(this.invite, res);
      else if (this.dialog.state === 'early') this.dialog.confirm(res);
      this.ack(res);
      if (this.state === 'cancelled' || this.state === 'failed') {
        // Answered after we gave up (CANCEL crossed the 2xx, or another fork won): hang up.
        this.send('BYE', { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
        this.dialog.terminate();
        return;
      }
      this.state = 'answered';
      this.events.onAnswer(this, res);
      return;
    }
    this.dialog?.terminate();
    this.fail({ status: res.status, reason: res.reason });
  }

  private fail(failure: Failure): void {
    if (this.state === 'answered' || this.state === 'failed') return;
    const wasCancelled = this.state === 'cancelled';
    this.state = 'failed';
    if (!wasCancelled) this.events.onFailure(this, failure);
  }

  private sendCancel(): void {
    this.cancelWanted = false;
    if (!this.transaction) return;
    // RFC 3261 §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE.
    const via = this.invite.headers.get('via')!;
    const cancel: SipRequest = {
      type: 'request',
      method: 'CANCEL',
      uri: this.invite.uri,
      version: 'SIP/2.0',
      headers: new SipHeaders([
        { name: 'Via', value: via },
        { name: 'Max-Forwards', value: '70' },
        { name: 'From', value: this.invite.headers.get('from')! },
        { name: 'To', value: this.invite.headers.get('to')! },
        { name: 'Call-ID', value: this.callId },
        { name: 'CSeq', value: '1 CANCEL' },
      ]),
      body: Buffer.alloc(0),
    };
    try {
      this.endpoint.request(cancel, this.dest, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined });
    } catch {
      // the INVITE transaction's own timers end the leg
    }
  }
}
