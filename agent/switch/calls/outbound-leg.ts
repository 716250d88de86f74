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
import { buildCancel } from '../../sip/dialog/in-dialog-request.ts';
import { formatNameAddr } from '../../sip/message/name-addr.ts';
import { SipHeaders, type SipRequest, type SipResponse } from '../../sip/message/sip-message.ts';
import { formatUri } from '../../sip/message/sip-uri.ts';
import type { ClientTransactionUser } from '../../sip/transaction/client-transaction.ts';
import { tagOf } from '../../sip/transaction/header-fields.ts';
import type { ClientTransaction } from '../../sip/transaction/transaction-layer.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import { ALLOW_IN_CALL, IGNORE, requestOptions, type BodyOptions, type CallSignalling } from './inbound-leg.ts';
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
  /** The caller: its display name and user name (unescaped). */
  from: { displayName: string; user: string };
  /** The callee's user part (unescaped): an extension, or the number sent to a trunk. */
  to: { user: string };
  domain: string;
  maxForwards: number;
  sdp: string;
  /** Headers computed over the finished INVITE (Outpost-Node towards a peer box), appended. */
  signedHeaders?: (invite: SipRequest) => Array<[string, string]>;
  /** The box of the site this fork goes through (it rings its own phones), if any. */
  peer?: string;
}

export class OutboundLeg {
  readonly callId = `${uuidv7()}@outpost`;
  readonly localTag = randomHex(6);
  readonly invite: SipRequest;
  readonly dest: Endpoint;
  readonly peer: string | undefined;
  private current: OutboundState = 'calling';
  private dlg: Dialog | undefined;
  private transaction: ClientTransaction | undefined;
  private provisionalSeen = false;
  private cancelWanted = false;

  constructor(
    spec: OutboundSpec,
    private readonly endpoint: CallSignalling,
    private readonly events: OutboundEvents,
  ) {
    this.dest = spec.dest;
    this.peer = spec.peer;
    const displayName = spec.from.displayName.replace(/["\\]/g, '');
    const from = formatNameAddr({ ...(displayName ? { displayName } : {}), uri: userUri(spec.from.user, spec.domain), params: new Map(), tag: this.localTag });
    this.invite = {
      type: 'request',
      method: 'INVITE',
      uri: spec.target,
      version: 'SIP/2.0',
      headers: new SipHeaders([
        { name: 'Via', value: endpoint.viaFor(spec.dest) },
        { name: 'Max-Forwards', value: String(spec.maxForwards) },
        { name: 'From', value: from },
        { name: 'To', value: `<${userUri(spec.to.user, spec.domain)}>` },
        { name: 'Call-ID', value: this.callId },
        { name: 'CSeq', value: '1 INVITE' },
        { name: 'Contact', value: `<${endpoint.contactFor(spec.dest)}>` },
        { name: 'Allow', value: ALLOW_IN_CALL },
        { name: 'Content-Type', value: 'application/sdp' },
      ]),
      body: Buffer.from(spec.sdp),
    };
    for (const [name, value] of spec.signedHeaders?.(this.invite) ?? []) this.invite.headers.append(name, value);
  }

  get state(): OutboundState {
    return this.current;
  }

  /** The dialog with the callee: early from a 1xx with a To tag, confirmed by the 2xx. */
  get dialog(): Dialog | undefined {
    return this.dlg;
  }

  /** Still ringing: no final response yet, and not cancelled. */
  get ringing(): boolean {
    return this.current === 'calling' || this.current === 'early';
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
    if (!this.ringing) return;
    this.current = 'cancelled';
    this.cancelWanted = true;
    if (this.provisionalSeen) this.sendCancel();
  }

  /**
   * Gives up on this fork at once (the box it goes through was declared down): CANCEL if a
   * provisional arrived (RFC 3261 §9.1); before one, no CANCEL may be sent, so the INVITE
   * transaction is abandoned (no retransmissions to a dead box, no wait for Timer B).
   */
  drop(): void {
    if (!this.ringing) return;
    if (this.provisionalSeen) return this.cancel();
    this.current = 'cancelled';
    this.transaction?.abandon();
  }

  /** Sends an in-dialog request (BYE, re-INVITE, ...) to the callee. */
  send(method: string, user: ClientTransactionUser, options: BodyOptions = {}): SipRequest | undefined {
    if (!this.dlg || this.dlg.state === 'terminated') return undefined;
    const req = this.dlg.createRequest(method, requestOptions(options));
    this.endpoint.request(req, this.dest, user);
    return req;
  }

  /** ACKs a 2xx to an INVITE of this leg (initial or re-INVITE) with that INVITE's CSeq. */
  ack(res: SipResponse): void {
    const cseq = Number.parseInt(res.headers.get('cseq') ?? '1', 10);
    const dialog = this.dlg ?? Dialog.fromUacResponse(this.invite, res);
    this.endpoint.sendStateless(dialog.createAck(cseq), this.dest);
  }

  private onResponse(res: SipResponse): void {
    if (res.status < 200) {
      // Any provisional, 100 Trying included, allows a CANCEL (RFC 3261 §9.1).
      this.provisionalSeen = true;
      if (this.cancelWanted) return this.sendCancel();
      if (res.status === 100) return;
      if (!this.dlg && tagOf(res.headers.get('to')) !== '') this.dlg = Dialog.fromUacResponse(this.invite, res);
      if (this.current === 'calling') this.current = 'early';
      this.events.onProvisional(this, res);
      return;
    }
    if (res.status < 300) {
      // A 2xx with another To tag than the early dialog is another dialog (RFC 3261 §13.2.2.4).
      if (!this.dlg || dialogKeyOf(res, 'uac') !== this.dlg.key) this.dlg = Dialog.fromUacResponse(this.invite, res);
      else if (this.dlg.state === 'early') this.dlg.confirm(res);
      this.ack(res);
      if (this.current === 'cancelled' || this.current === 'failed') {
        // Answered after we gave up (CANCEL crossed the 2xx, or another fork won): hang up.
        this.send('BYE', IGNORE);
        this.dlg.terminate();
        return;
      }
      this.current = 'answered';
      this.events.onAnswer(this, res);
      return;
    }
    this.dlg?.terminate();
    this.fail({ status: res.status, reason: res.reason });
  }

  private fail(failure: Failure): void {
    if (this.current === 'answered' || this.current === 'failed') return;
    const wasCancelled = this.current === 'cancelled';
    this.current = 'failed';
    if (!wasCancelled) this.events.onFailure(this, failure);
  }

  private sendCancel(): void {
    this.cancelWanted = false;
    if (!this.transaction) return;
    try {
      // RFC 3261 §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE.
      this.endpoint.request(buildCancel(this.invite), this.dest, IGNORE);
    } catch {
      // the INVITE transaction's own timers end the leg
    }
  }
}

/** `sip:user@domain`, the user part %-escaped where RFC 3261 §25.1 requires it (e.g. '#'). */
export function userUri(user: string, domain: string): string {
  return formatUri({ scheme: 'sip', user, host: domain, params: new Map(), headers: [] });
}
