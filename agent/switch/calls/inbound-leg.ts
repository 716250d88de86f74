/**
 * The caller's side of a call: the box is the UAS of the caller's INVITE. It answers through
 * the INVITE server transaction, keeps the dialog (RFC 3261 §12.1.1), retransmits its 2xx
 * until the ACK arrives (§13.3.1.4: T1 doubling up to T2, giving up after 64*T1), and sends
 * in-dialog requests (BYE, re-INVITE) to where the caller's INVITE came from (symmetric
 * signalling, which is what phones behind NAT need). When the caller requires 100rel
 * (RFC 3262) its 18x go out reliably: retransmitted until the PRACK, and a 2xx waits for it.
 */
import { randomHex } from '../../lib/random-token.ts';
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import { Dialog } from '../../sip/dialog/dialog.ts';
import { ReliableProvisionals, prackTimeoutMs, reliableRetransmitDelayMs, requires100rel } from '../../sip/dialog/reliable-provisional.ts';
import { createResponse } from '../../sip/message/create-response.ts';
import type { SipRequest, SipResponse } from '../../sip/message/sip-message.ts';
import type { IncomingRequest, SipEndpoint } from '../../sip/sip-endpoint.ts';
import type { ClientTransactionUser } from '../../sip/transaction/client-transaction.ts';
import type { InviteServerTransaction } from '../../sip/transaction/invite-server-transaction.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';

/**
 * What the legs of a call need of the SIP endpoint (SipEndpoint has it): client transactions,
 * stateless sends (the ACK of a 2xx), and the Via and Contact for a destination. Unit tests
 * give a transaction layer over a recording transport instead of sockets.
 */
export type CallSignalling = Pick<SipEndpoint, 'request' | 'sendStateless' | 'viaFor' | 'contactFor'>;

/** A transaction user for requests whose outcome does not matter (BYE on hang-up, CANCEL). */
export const IGNORE: ClientTransactionUser = { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined };

export const ALLOW_IN_CALL = 'INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, PRACK, MESSAGE, NOTIFY';

/** Body and headers of an in-dialog request; the body's type defaults to application/sdp. */
export interface BodyOptions {
  body?: string | Buffer;
  contentType?: string;
  headers?: Array<[string, string]>;
}

export function requestOptions(o: BodyOptions): { body?: string | Buffer; contentType?: string; headers?: Array<[string, string]> } {
  return {
    ...(o.body !== undefined ? { body: o.body, contentType: o.contentType ?? 'application/sdp' } : {}),
    ...(o.headers ? { headers: o.headers } : {}),
  };
}

export interface ResponseOptions {
  body?: string;
  headers?: Array<[string, string]>;
}

export class InboundLeg {
  readonly invite: SipRequest;
  readonly transaction: InviteServerTransaction;
  readonly source: Endpoint;
  readonly localTag = randomHex(6);
  readonly dialog: Dialog;
  private readonly contact: string;
  private okResponse: SipResponse | undefined;
  private retransmitTimer: TimerHandle | undefined;
  private finalSent = false;
  private readonly reliable: ReliableProvisionals | undefined;
  private reliableTimer: TimerHandle | undefined;
  /** A 2xx held back until the pending reliable provisional is PRACKed (RFC 3262 §3). */
  private heldFinal: { status: number; reason: string; options: ResponseOptions } | undefined;

  constructor(
    incoming: IncomingRequest,
    private readonly deps: { endpoint: CallSignalling; clock: Clock; t1: number; t2: number; onAckTimeout: () => void; onPrackTimeout?: () => void },
  ) {
    this.invite = incoming.request;
    this.transaction = incoming.transaction as InviteServerTransaction;
    this.source = incoming.source;
    this.contact = `<${deps.endpoint.contactFor(incoming.source)}>`;
    const local = incoming.transport.local;
    this.dialog = Dialog.fromUasRequest(this.invite, this.localTag, this.contact, {
      viaSentBy: `${local.address.includes(':') ? `[${local.address}]` : local.address}:${local.port}`,
      transport: incoming.source.protocol === 'udp' ? 'UDP' : incoming.source.protocol === 'tls' ? 'TLS' : 'TCP',
      rport: true,
    });
    if (requires100rel(this.invite)) this.reliable = new ReliableProvisionals(this.invite);
  }

  get answered(): boolean {
    return this.okResponse !== undefined;
  }

  get finished(): boolean {
    return this.finalSent;
  }

  /** A response to the caller's INVITE; a 2xx confirms the dialog and starts retransmissions. */
  respond(status: number, reason: string, options: ResponseOptions = {}): void {
    if (this.finalSent) return;
    if (this.reliable?.pending !== undefined) {
      if (status < 200) return; // one reliable provisional at a time; later 18x are dropped
      if (status < 300) {
        this.heldFinal = { status, reason, options };
        return;
      }
      this.stopReliable();
    }
    const res = this.build(this.invite, status, reason, options);
    if (status > 100 && status < 200 && this.reliable) {
      this.reliable.send(res);
      this.transaction.respond(res);
      this.scheduleReliable(res, 0);
      return;
    }
    if (status >= 200) this.finalSent = true;
    this.transaction.respond(res);
    if (status >= 200 && status < 300) {
      this.dialog.confirm(res);
      this.okResponse = res;
      this.scheduleRetransmit(this.deps.t1, 0);
    } else if (status >= 300) {
      this.dialog.terminate();
    }
  }

  /** A response built for a request of this dialog (To tag, Contact on 2xx to INVITE/UPDATE). */
  build(req: SipRequest, status: number, reason: string, options: ResponseOptions = {}): SipResponse {
    const res = createResponse(req, status, reason, { toTag: this.localTag });
    if (status > 100 && status < 300 && (req.method === 'INVITE' || req.method === 'UPDATE')) {
      res.headers.append('Contact', this.contact);
      res.headers.append('Allow', ALLOW_IN_CALL);
    }
    for (const [n, v] of options.headers ?? []) res.headers.append(n, v);
    if (options.body !== undefined) {
      res.headers.set('Content-Type', 'application/sdp');
      res.body = Buffer.from(options.body);
    }
    return res;
  }

  /** A PRACK from the caller (RFC 3262 §3); returns the status to answer it with. */
  prack(req: SipRequest): { status: number; reason: string } {
    if (!this.reliable) return { status: 481, reason: 'No reliable provisional pending' };
    const match = this.reliable.receivePrack(req);
    if (!match.matched) return { status: match.status, reason: match.reason };
    this.stopReliable();
    const held = this.heldFinal;
    this.heldFinal = undefined;
    if (held) queueMicrotask(() => this.respond(held.status, held.reason, held.options));
    return { status: 200, reason: 'OK' };
  }

  private scheduleReliable(res: SipResponse, n: number): void {
    let elapsed = 0;
    for (let i = 0; i <= n; i++) elapsed += reliableRetransmitDelayMs(i, this.deps.t1);
    if (elapsed >= prackTimeoutMs(this.deps.t1)) {
      // RFC 3262 §3: no PRACK within 64*T1 → reject the INVITE with a 5xx.
      this.stopReliable();
      this.heldFinal = undefined;
      this.finalSent = true;
      this.transaction.respond(this.build(this.invite, 504, 'No PRACK received'));
      this.dialog.terminate();
      this.deps.onPrackTimeout?.();
      return;
    }
    this.reliableTimer = this.deps.clock.setTimeout(() => {
      this.transaction.respond(res);
      this.scheduleReliable(res, n + 1);
    }, reliableRetransmitDelayMs(n, this.deps.t1));
  }

  private stopReliable(): void {
    this.deps.clock.clearTimeout(this.reliableTimer);
    this.reliableTimer = undefined;
  }

  /** The ACK for our 2xx arrived: stop retransmitting (RFC 3261 §13.3.1.4). */
  acknowledged(): void {
    this.deps.clock.clearTimeout(this.retransmitTimer);
    this.retransmitTimer = undefined;
  }

  /**
   * Sends an in-dialog request to the caller in a client transaction; undefined when the dialog
   * is not confirmed (RFC 3261 §15: no BYE on an early dialog from the UAS side).
   */
  send(method: string, user: ClientTransactionUser, options: BodyOptions = {}): SipRequest | undefined {
    if (this.dialog.state !== 'confirmed') return undefined;
    const req = this.dialog.createRequest(method, requestOptions(options));
    this.deps.endpoint.request(req, this.source, user);
    return req;
  }

  /** The ACK for a 2xx the caller sent us in response to our re-INVITE. */
  sendAck(cseq: number): void {
    this.deps.endpoint.sendStateless(this.dialog.createAck(cseq), this.source);
  }

  stop(): void {
    this.acknowledged();
    this.stopReliable();
    this.dialog.terminate();
  }

  private scheduleRetransmit(interval: number, elapsed: number): void {
    const limit = 64 * this.deps.t1;
    const wait = Math.min(interval, limit - elapsed);
    this.retransmitTimer = this.deps.clock.setTimeout(() => {
      const total = elapsed + wait;
      if (total >= limit) {
        this.retransmitTimer = undefined;
        this.deps.onAckTimeout();
        return;
      }
      if (this.okResponse) this.transaction.respond(this.okResponse);
      this.scheduleRetransmit(Math.min(interval * 2, this.deps.t2), total);
    }, wait);
  }

}
