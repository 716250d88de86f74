/**
 * A SIP dialog (RFC 3261 §12): the peer-to-peer relationship an INVITE (or SUBSCRIBE, REFER)
 * sets up between two UAs. It holds the state §12.1 lists (id, local and remote URI, remote
 * target, route set, local and remote CSeq, secure flag) and applies the rules of §12.2 to
 * the requests it sends and receives. It does no I/O and keeps no timers: the switch sends
 * what createRequest() builds through the transaction layer, and feeds back what arrives.
 *
 * States: 'early' (created by a 1xx with a To tag) → 'confirmed' (2xx) → 'terminated'.
 */
import { randomInt } from 'node:crypto';
import { MAX_CSEQ } from '../message/cseq.ts';
import { formatNameAddr } from '../message/name-addr.ts';
import { isToken } from '../message/sip-chars.ts';
import type { SipRequest, SipResponse } from '../message/sip-message.ts';
import {
  type DialogParty, type DialogTransportOptions, contactUri, contactValue, isSipsUri, partyOf,
  readAddress, readCSeq, readCallId, transportOfRequest,
} from './dialog-fields.ts';
import { type DialogId, type TransactionRole, dialogId, dialogKey, sameDialog } from './dialog-key.ts';
import { DialogError } from './errors.ts';
import { CONTACT_METHODS, type InDialogRequestOptions, buildCancel, buildRequest, viaValue } from './in-dialog-request.ts';
import { checkInDialogRequest, type RequestVerdict } from './receive-request.ts';
import { responseEffect } from './receive-response.ts';
import { requestTarget, routeSetFrom } from './route-set.ts';

export type DialogState = 'early' | 'confirmed' | 'terminated';

export type { DialogParty, DialogTransportOptions, InDialogRequestOptions, RequestVerdict };

/** What a response to one of our requests did to the dialog (see receiveResponse). */
export interface ResponseOutcome {
  confirmed: boolean;
  terminated: boolean;
  targetRefreshed: boolean;
}

interface DialogInit {
  side: TransactionRole;
  state: DialogState;
  id: DialogId;
  local: DialogParty;
  remote: DialogParty;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number | undefined;
  remoteSeq: number | undefined;
  secure: boolean;
  localContact: string;
  transport: DialogTransportOptions;
}

export class Dialog {
  /** Our role in the dialog-creating transaction. */
  readonly side: TransactionRole;
  readonly id: DialogId;
  /** From (UAC) or To (UAS) of the dialog-creating request, without tag. */
  readonly local: DialogParty;
  readonly remote: DialogParty;
  /** Set when the dialog was created over TLS with a SIPS Request-URI (§12.1.1, §12.1.2). */
  readonly secure: boolean;
  /** The Contact header value we put in target refresh requests. */
  readonly localContact: string;
  /** Mutable: the switch may move the dialog to another socket. */
  transport: DialogTransportOptions;
  #state: DialogState;
  #remoteTarget: string;
  #routeSet: string[];
  #localSeq: number | undefined;
  #remoteSeq: number | undefined;

  private constructor(init: DialogInit) {
    this.side = init.side;
    this.id = init.id;
    this.local = init.local;
    this.remote = init.remote;
    this.secure = init.secure;
    this.localContact = init.localContact;
    this.transport = init.transport;
    this.#state = init.state;
    this.#remoteTarget = init.remoteTarget;
    this.#routeSet = init.routeSet;
    this.#localSeq = init.localSeq;
    this.#remoteSeq = init.remoteSeq;
  }

  /**
   * The UAS side (RFC 3261 §12.1.1), created when we answer `request` with a 1xx or 2xx
   * carrying `localTag` in its To. Starts 'early'; call confirm() with the 2xx when it is sent.
   * Route set = Record-Route of the request in order; remote target = its Contact; remote
   * CSeq = its CSeq; local CSeq empty. Throws DialogError ('dialog.invalid-message' → 400).
   */
  static fromUasRequest(request: SipRequest, localTag: string, localContact: string, transport: DialogTransportOptions): Dialog {
    if (!isToken(localTag)) throw new DialogError('dialog.invalid-argument', 'local tag must be a non-empty token');
    const from = readAddress(request.headers, 'From');
    const to = readAddress(request.headers, 'To');
    if (to.tag !== undefined) throw new DialogError('dialog.invalid-message', 'request already has a To tag');
    const remoteTarget = contactUri(request.headers);
    if (remoteTarget === undefined) throw new DialogError('dialog.invalid-message', 'missing Contact');
    return new Dialog({
      side: 'uas',
      state: 'early',
      id: { callId: readCallId(request.headers), localTag, remoteTag: from.tag ?? '' },
      local: partyOf(to),
      remote: partyOf(from),
      remoteTarget,
      routeSet: routeSetFrom(request, 'uas'),
      localSeq: undefined,
      remoteSeq: readCSeq(request.headers).seq,
      secure: transport.transport === 'TLS' && isSipsUri(request.uri),
      localContact: contactValue(localContact),
      transport,
    });
  }

  /**
   * The UAC side (RFC 3261 §12.1.2), from the request we sent and a 1xx with a To tag
   * ('early') or a 2xx ('confirmed'). Route set = Record-Route of the response reversed;
   * remote target = its Contact (the Request-URI when it has none); local CSeq = the
   * request's. Via transport and sent-by default to the request's top Via.
   */
  static fromUacResponse(request: SipRequest, response: SipResponse, transport?: DialogTransportOptions): Dialog {
    if (response.status < 101 || response.status > 299) throw new DialogError('dialog.invalid-argument', 'only a 101-299 response creates a dialog');
    const from = readAddress(request.headers, 'From');
    const to = readAddress(response.headers, 'To');
    if (from.tag === undefined) throw new DialogError('dialog.invalid-argument', 'our request has no From tag');
    if (to.tag === undefined && response.status < 200) throw new DialogError('dialog.invalid-message', 'provisional response without To tag');
    const callId = readCallId(request.headers);
    if (readCallId(response.headers) !== callId) throw new DialogError('dialog.mismatch', 'response Call-ID differs from the request');
    const via = transport ?? transportOfRequest(request.headers);
    if (via === undefined) throw new DialogError('dialog.invalid-argument', 'no transport given and the request has no usable Via');
    const ourContact = request.headers.get('contact');
    if (ourContact === undefined) throw new DialogError('dialog.invalid-argument', 'our request has no Contact');
    return new Dialog({
      side: 'uac',
      state: response.status >= 200 ? 'confirmed' : 'early',
      id: { callId, localTag: from.tag, remoteTag: to.tag ?? '' },
      local: partyOf(from),
      remote: partyOf(to),
      remoteTarget: contactUri(response.headers) ?? request.uri,
      routeSet: routeSetFrom(response, 'uac'),
      localSeq: readCSeq(request.headers).seq,
      remoteSeq: undefined,
      secure: via.transport === 'TLS' && isSipsUri(request.uri),
      localContact: contactValue(ourContact),
      transport: via,
    });
  }

  get state(): DialogState {
    return this.#state;
  }

  /** dialogKey(this.id): the key of this dialog in the switch's Map. */
  get key(): string {
    return dialogKey(this.id);
  }

  get remoteTarget(): string {
    return this.#remoteTarget;
  }

  get routeSet(): readonly string[] {
    return this.#routeSet;
  }

  /** The CSeq number of the last request we sent in the dialog; undefined while empty. */
  get localSeq(): number | undefined {
    return this.#localSeq;
  }

  /** The highest CSeq number received from the peer; undefined while empty. */
  get remoteSeq(): number | undefined {
    return this.#remoteSeq;
  }

  /**
   * A request inside the dialog (RFC 3261 §12.2.1.1): Request-URI and Route from the remote
   * target and route set, To = remote URI + remote tag, From = local URI + local tag, the
   * dialog's Call-ID, the local CSeq plus one (a random start below 2^31 when empty,
   * §8.1.1.5), Max-Forwards 70, our Contact on target refresh requests, a fresh Via branch.
   * ACK and CANCEL reuse another request's CSeq: use createAck() and createCancel().
   */
  createRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    if (method === 'ACK' || method === 'CANCEL') throw new DialogError('dialog.invalid-argument', `use create${method === 'ACK' ? 'Ack' : 'Cancel'}() for ${method}`);
    this.assertOpen(method);
    // §15: the callee's UA MUST NOT send a BYE on an early dialog (it answers the INVITE instead).
    if (method === 'BYE' && this.side === 'uas' && this.#state === 'early') throw new DialogError('dialog.state', 'UAS cannot send BYE on an early dialog');
    const last = this.#localSeq;
    const seq = last === undefined ? randomInt(1, 2 ** 31) : last + 1;
    if (seq > MAX_CSEQ) throw new DialogError('dialog.cseq-exhausted', 'local CSeq would exceed 2^32-1');
    this.#localSeq = seq;
    return this.build(method, seq, CONTACT_METHODS.has(method) ? this.localContact : undefined, options);
  }

  /**
   * The ACK of a 2xx to the INVITE sent with CSeq `inviteCseq` (RFC 3261 §13.2.2.4): built
   * like any in-dialog request, but with the INVITE's CSeq number and method ACK. It may carry
   * the answer SDP when the INVITE had no offer. The local CSeq is not advanced.
   */
  createAck(inviteCseq: number, options: InDialogRequestOptions = {}): SipRequest {
    this.assertOpen('ACK');
    return this.build('ACK', inviteCseq, undefined, options);
  }

  /** The CANCEL of a pending request of this dialog, e.g. a re-INVITE (RFC 3261 §9.1). */
  createCancel(pending: SipRequest, options: InDialogRequestOptions = {}): SipRequest {
    this.assertOpen('CANCEL');
    return buildCancel(pending, options);
  }

  /**
   * Checks a request received in this dialog (RFC 3261 §12.2.2) and applies it: remote CSeq
   * updated, remote target replaced on a target refresh. The verdict says which response to
   * send when the request is refused (481, 500 for one out of order, 400).
   */
  receiveRequest(request: SipRequest): RequestVerdict {
    const check = checkInDialogRequest({ id: this.id, state: this.#state, remoteSeq: this.#remoteSeq }, request);
    if (!check.accepted) return check;
    this.#remoteSeq = check.remoteSeq;
    // §12.2.2: a target refresh request replaces the remote target with its Contact URI.
    if (check.remoteTarget !== undefined) this.#remoteTarget = check.remoteTarget;
    return { accepted: true, targetRefreshed: check.remoteTarget !== undefined };
  }

  /**
   * early → confirmed on a 2xx to the dialog-creating request (§12.1, §13.2.2.4): the UAC
   * passes the 2xx it received, the UAS the 2xx it sends. On the UAC side the route set is
   * recomputed from the 2xx and the remote target taken from its Contact. A 2xx with another
   * To tag is another dialog (a fork): that throws 'dialog.mismatch', use fromUacResponse().
   */
  confirm(response: SipResponse): void {
    if (response.status < 200 || response.status > 299) throw new DialogError('dialog.invalid-argument', 'only a 2xx confirms a dialog');
    if (this.#state === 'terminated') throw new DialogError('dialog.state', 'dialog is terminated');
    const id = dialogId(response, this.side);
    if (id === undefined || !sameDialog(id, this.id)) throw new DialogError('dialog.mismatch', '2xx belongs to another dialog');
    if (this.side === 'uac' && this.#state === 'early') {
      this.#routeSet = routeSetFrom(response, 'uac');
      this.#remoteTarget = contactUri(response.headers) ?? this.#remoteTarget;
    }
    this.#state = 'confirmed';
  }

  /**
   * Applies a response to a request we sent in this dialog (see responseEffect): a 2xx to the
   * INVITE confirms an early UAC dialog, 300-699 to it or any 481/408 terminates the dialog
   * (§12.3, §12.2.1.2), a 2xx to a target refresh replaces the remote target (§12.2.1.2).
   */
  receiveResponse(response: SipResponse): ResponseOutcome {
    const effect = responseEffect({ id: this.id, side: this.side, state: this.#state }, response);
    if (effect.kind === 'confirm') this.confirm(response);
    else if (effect.kind === 'terminate') this.terminate();
    else if (effect.kind === 'refresh-target') this.#remoteTarget = effect.remoteTarget;
    return { confirmed: effect.kind === 'confirm', terminated: effect.kind === 'terminate', targetRefreshed: effect.kind === 'refresh-target' };
  }

  /** → terminated (§12.3, §15). Idempotent; the dialog then refuses requests with 481. */
  terminate(): void {
    this.#state = 'terminated';
  }

  private assertOpen(method: string): void {
    if (this.#state === 'terminated') throw new DialogError('dialog.state', `cannot send ${method} on a terminated dialog`);
  }

  private build(method: string, seq: number, contact: string | undefined, options: InDialogRequestOptions): SipRequest {
    const { requestUri, routes } = requestTarget(this.#remoteTarget, this.#routeSet);
    const remoteTag = this.id.remoteTag === '' ? undefined : this.id.remoteTag;
    return buildRequest({
      method,
      requestUri,
      routes,
      via: viaValue(this.transport.transport, this.transport.viaSentBy, this.transport.rport ?? false),
      from: formatNameAddr({ ...this.local, params: new Map(), tag: this.id.localTag }),
      to: formatNameAddr({ ...this.remote, params: new Map(), ...(remoteTag === undefined ? {} : { tag: remoteTag }) }),
      callId: this.id.callId,
      cseq: { seq, method },
      contact,
      options,
    });
  }
}
