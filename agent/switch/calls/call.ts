/**
 * One call through the box (a B2BUA, DESIGN.md §7): the caller's leg (InboundLeg), one
 * OutboundLeg per contact it rings, and the offer/answer state across the relay session that
 * anchors the media of both sides (CallMedia, DESIGN.md §8). The call owns all of it: the
 * controller and the in-dialog handler ask it to act, and read back only what it exposes. Its
 * timers (ring timeout, RFC 4028 session expiry) run on the injected Clock. It checkpoints
 * itself while it rings and talks and writes its CDR when it ends.
 */
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import { uuidv7 } from '../../lib/uuid.ts';
import type { LegName, RelaySession } from '../../media/relay-types.ts';
import type { RequestVerdict } from '../../sip/dialog/dialog.ts';
import { expiryDelayMs } from '../../sip/dialog/session-timer.ts';
import { SipHeaders, type SipRequest, type SipResponse } from '../../sip/message/sip-message.ts';
import type { IncomingRequest } from '../../sip/sip-endpoint.ts';
import type { ClientTransactionUser } from '../../sip/transaction/client-transaction.ts';
import type { InviteServerTransaction } from '../../sip/transaction/invite-server-transaction.ts';
import type { SessionDescription } from '../sdp/session-description.ts';
import { answerForCaller, bestFailure, UNREACHABLE, type Failure } from './call-outcome.ts';
import { CallMedia, type SdpOutcome } from './call-media.ts';
import type { CallOutcome, CallRecord, CdrRecorder } from './cdr-recorder.ts';
import { IGNORE, type BodyOptions, type CallSignalling, type InboundLeg } from './inbound-leg.ts';
import { OutboundLeg, type OutboundSpec } from './outbound-leg.ts';

export type CallState = 'ringing' | 'answered' | 'ended';

/** RFC 4028 on the caller's leg: the interval (s) it refreshes within, and the headers of our 2xx. */
export interface CallSessionTimer {
  interval: number;
  headers: Array<[string, string]>;
}

export interface CallDeps {
  signalling: CallSignalling;
  cdr: CdrRecorder;
  clock: Clock;
  logger: Logger;
  ringTimeoutMs: number;
  /** Each party's codec preference order (native names the box has), for transcoding. */
  codecs: Record<LegName, readonly string[]>;
  /** Set when the caller agreed to refresh the session (refresher=uac, RFC 4028 §7). */
  sessionTimer?: CallSessionTimer;
  onEnded(call: Call): void;
}

export class Call {
  readonly uuid = uuidv7();
  readonly log: Logger;
  private current: CallState = 'ringing';
  private readonly record: CallRecord;
  private readonly media: CallMedia;
  private forks: OutboundLeg[] = [];
  /** What every fork shares (caller, callee, domain, Max-Forwards, the offer): for forks added later. */
  private forkTemplate: Omit<OutboundSpec, 'target' | 'dest' | 'signedHeaders' | 'peer'> | undefined;
  /** The fork that answered. */
  private b: OutboundLeg | undefined;
  private readonly failures: Failure[] = [];
  private ringTimer: TimerHandle | undefined;
  private sessionTimerHandle: TimerHandle | undefined;

  constructor(
    private readonly a: InboundLeg,
    relay: RelaySession,
    offer: SessionDescription,
    parties: { caller: string; callee: string; link?: string },
    private readonly deps: CallDeps,
  ) {
    this.log = deps.logger.child({ call: this.uuid });
    this.media = new CallMedia(relay, offer, deps.codecs, this.log);
    this.record = {
      uuid: this.uuid, caller: parties.caller, callee: parties.callee, aCallId: a.dialog.id.callId, bCallId: '',
      startedAt: deps.clock.now(), answeredAt: null, codecA: this.media.codecOf('a', 'received'), codecB: '', link: parties.link ?? '',
    };
  }

  get state(): CallState {
    return this.current;
  }

  /** The caller's INVITE server transaction (a CANCEL names it). */
  get inviteTransaction(): InviteServerTransaction {
    return this.a.transaction;
  }

  /** The Call-ID of the caller's dialog and of every INVITE the call sent. */
  get callIds(): string[] {
    return [this.a.dialog.id.callId, ...this.outgoingCallIds];
  }

  /** The Call-IDs of the INVITEs the box sent for this call (a request with one is a loop). */
  get outgoingCallIds(): string[] {
    return this.forks.map((f) => f.callId);
  }

  /** The callee as the CDR names it (the extension, or the number sent to a trunk). */
  get callee(): string {
    return this.record.callee;
  }

  /**
   * The link of the call's CDR (docs/inter-box.md): the one the forwarding box signed, else,
   * once the call rings through a peer box, this call's own uuid; '' for a call on one box.
   */
  get link(): string {
    return this.record.link;
  }

  /** True when `user` is the caller or the callee of this call (per-user limits). */
  involves(user: string): boolean {
    return this.record.caller === user || this.record.callee === user;
  }

  /** The leg whose dialog has this key (dialogKeyOf a request, as UAS), if any. */
  legOf(dialogKey: string): LegName | undefined {
    if (this.a.dialog.key === dialogKey) return 'a';
    if (this.b?.dialog?.key === dialogKey) return 'b';
    return undefined;
  }

  /**
   * Checks a request received in `leg`'s dialog and applies it to that dialog (RFC 3261
   * §12.2.2: CSeq order, target refresh). The callee's leg has no dialog before the answer: 481.
   */
  receiveInDialog(leg: LegName, request: SipRequest): RequestVerdict {
    const dialog = leg === 'a' ? this.a.dialog : this.b?.dialog;
    return dialog ? dialog.receiveRequest(request) : { accepted: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
  }

  /** Writes or updates the call's checkpoint in the store. */
  checkpoint(): Promise<void> {
    return this.deps.cdr.checkpoint(this.record);
  }

  /** Rings every target in parallel; the first to answer wins. */
  ring(targets: Array<Omit<OutboundSpec, 'sdp'>>): void {
    const sdp = this.media.offerToCallee();
    if (this.record.link === '' && targets.some((t) => t.peer !== undefined)) this.record.link = this.uuid;
    const first = targets[0];
    if (first) this.forkTemplate = { from: first.from, to: first.to, domain: first.domain, maxForwards: first.maxForwards, sdp };
    this.forks = targets.map((t) => this.fork({ ...t, sdp }));
    this.record.bCallId = this.outgoingCallIds.join(' ');
    for (const f of this.forks) f.start();
    this.ringTimer = this.deps.clock.setTimeout(() => this.ringTimeout(), this.deps.ringTimeoutMs);
    void this.checkpoint();
  }

  /** True while a fork through peer box `peer` waits for its final response. */
  ringsPeer(peer: string): boolean {
    return this.current === 'ringing' && this.forks.some((f) => f.peer === peer && f.ringing);
  }

  /**
   * Peer box `peer` was declared down (docs/failover.md): its pending forks are dropped at once
   * and `direct` (the phones of the callee's bindings it owns) ring straight from here. With
   * nothing left ringing, the call fails now as a fork that could not be reached, instead of
   * waiting for Timer B. Returns the Call-IDs of the new forks.
   */
  peerDown(peer: string, direct: Array<{ target: string; dest: OutboundSpec['dest'] }>): string[] {
    const dropped = this.forks.filter((f) => f.peer === peer && f.ringing);
    if (this.current !== 'ringing' || dropped.length === 0 || !this.forkTemplate) return [];
    for (const f of dropped) f.drop();
    const template = this.forkTemplate;
    const added = direct.map((t) => this.fork({ ...template, ...t }));
    this.forks.push(...added);
    this.record.bCallId = this.outgoingCallIds.join(' ');
    for (const f of added) f.start();
    if (added.length === 0) this.onForkFailure(dropped[0]!, UNREACHABLE);
    else void this.checkpoint();
    return added.map((f) => f.callId);
  }

  /** The caller's ACK for our 2xx arrived (RFC 3261 §13.3.1.4). */
  acknowledged(): void {
    this.a.acknowledged();
  }

  /** The caller sent CANCEL before the answer (RFC 3261 §9.2): 487, and cancel every fork. */
  cancelledByCaller(): void {
    if (this.current !== 'ringing') return;
    for (const f of this.forks) f.cancel();
    this.a.respond(487, 'Request Terminated');
    void this.finish({ disposition: 'cancelled', sipStatus: 487, sipReason: 'Request Terminated', endedBy: 'caller' });
  }

  /** Ends the call from one side (its BYE) or from the box (timeouts, shutdown). */
  hangUp(by: LegName | 'system', reason: string): Promise<void> {
    if (this.current === 'ended') return Promise.resolve();
    if (this.current === 'ringing') {
      for (const f of this.forks) f.cancel();
      const [status, phrase] = by === 'system' ? [503, 'Service Unavailable'] : [487, 'Request Terminated'];
      this.a.respond(status, phrase);
      return this.finish({ disposition: by === 'system' ? 'failed' : 'cancelled', sipStatus: status, sipReason: reason, endedBy: by === 'a' ? 'caller' : 'system' });
    }
    const headers: Array<[string, string]> = [['Reason', `SIP;cause=200;text="${reason}"`]];
    if (by !== 'a') this.a.send('BYE', IGNORE, { headers });
    if (by !== 'b') this.b?.send('BYE', IGNORE, { headers });
    return this.finish({ disposition: 'answered', sipStatus: 200, sipReason: reason, endedBy: by === 'a' ? 'caller' : by === 'b' ? 'callee' : 'system' });
  }

  /**
   * Answers a request received in `leg`'s dialog. The request already carries that leg's tag
   * in To; only the Contact differs per leg. A 2xx to the caller's re-INVITE or UPDATE is a
   * session refresh (RFC 4028 §7): it carries the session timer headers and restarts the expiry.
   */
  answerInDialog(leg: LegName, incoming: IncomingRequest, status: number, reason: string, body?: string): void {
    const { request } = incoming;
    const refresh = leg === 'a' && (request.method === 'INVITE' || request.method === 'UPDATE') && status >= 200 && status < 300;
    const headers = refresh ? this.sessionTimerHeaders : [];
    const res = this.a.build(request, status, reason, { headers, ...(body === undefined ? {} : { body }) });
    if (refresh) this.sessionRefreshed();
    const contact = this.b?.invite.headers.get('contact');
    if (leg === 'b' && contact && res.headers.has('contact')) res.headers.set('Contact', contact);
    incoming.respond(res);
  }

  /** A PRACK from `leg` (RFC 3262 §3): only the caller gets reliable provisionals from the box. */
  prack(leg: LegName, request: SipRequest): { status: number; reason: string } {
    return leg === 'a' ? this.a.prack(request) : { status: 481, reason: 'No reliable provisional pending' };
  }

  /** A party's new offer in the call: the SDP to offer the other party, or why not (491 on glare). */
  reofferFrom(leg: LegName, body: Buffer): SdpOutcome {
    return this.media.reofferFrom(leg, body);
  }

  /**
   * The other party's final response to `leg`'s re-offer: the SDP for the offerer's 2xx, or the
   * refusal to send instead. When transcoding cannot start on the new answer, the call ends.
   */
  reofferSettled(leg: LegName, res: SipResponse): { sdp?: string } | { status: number; reason: string } {
    const answer = this.media.reofferSettled(leg, res.status, res.body);
    if ('status' in answer && answer.transcodingFailed) void this.hangUp('system', 'transcoding failed');
    return answer;
  }

  /** The SDP the box last sent to `leg`'s party (the answer to a session refresh, RFC 4028 §7.4). */
  lastSdpFor(leg: LegName): string | undefined {
    return this.media.lastSdpFor(leg);
  }

  /**
   * Sends an in-dialog request to `leg`'s party; `onResponse` sees every response, and a
   * synthetic 408, 503 or 481 when it times out, cannot be sent, or the leg has no dialog.
   */
  sendTo(leg: LegName, method: string, options: BodyOptions, onResponse: (res: SipResponse) => void): void {
    const fail = (status: number, reason: string) => () =>
      onResponse({ type: 'response', status, reason, version: 'SIP/2.0', headers: new SipHeaders(), body: Buffer.alloc(0) });
    const user: ClientTransactionUser = { onResponse, onTimeout: fail(408, 'Request Timeout'), onTransportError: fail(503, 'Service Unavailable') };
    const sent = leg === 'a' ? this.a.send(method, user, options) : this.b?.send(method, user, options);
    if (!sent) fail(481, 'Call/Transaction Does Not Exist')();
  }

  /** ACKs `leg`'s 2xx to a re-INVITE the box sent it. */
  ackOn(leg: LegName, res: SipResponse): void {
    if (leg === 'b') this.b?.ack(res);
    else this.a.sendAck(Number.parseInt(res.headers.get('cseq') ?? '0', 10));
  }

  /** Headers for a 2xx to the caller's INVITE or refresh (Session-Expires, Require: timer). */
  private get sessionTimerHeaders(): Array<[string, string]> {
    return this.deps.sessionTimer?.headers ?? [];
  }

  /** The caller refreshed the session (any re-INVITE or UPDATE): restart the expiry timer. */
  private sessionRefreshed(): void {
    const timer = this.deps.sessionTimer;
    if (!timer || this.current !== 'answered') return;
    this.deps.clock.clearTimeout(this.sessionTimerHandle);
    this.sessionTimerHandle = this.deps.clock.setTimeout(() => void this.hangUp('system', 'session timer expired'), expiryDelayMs(timer.interval));
  }

  private fork(spec: OutboundSpec): OutboundLeg {
    return new OutboundLeg(spec, this.deps.signalling, {
      onProvisional: (leg, res) => this.onProvisional(leg, res),
      onAnswer: (leg, res) => this.onAnswer(leg, res),
      onFailure: (leg, failure) => this.onForkFailure(leg, failure),
    });
  }

  private onProvisional(leg: OutboundLeg, res: SipResponse): void {
    if (this.current !== 'ringing') return;
    // Early media (183 with SDP): anchor it like the answer.
    const early = res.body.length > 0 ? this.media.earlyAnswer(res.body) : undefined;
    if (early) return this.a.respond(res.status, res.reason, early.sdp === undefined ? {} : { body: early.sdp });
    this.a.respond(res.status === 183 ? 183 : 180, res.status === 183 ? 'Session Progress' : 'Ringing');
  }

  private onAnswer(leg: OutboundLeg, res: SipResponse): void {
    if (this.current !== 'ringing') return;
    const answer = this.media.finalAnswer(res.body);
    if ('problem' in answer) {
      this.log.warn({ reason: answer.problem }, 'callee answered with unusable SDP');
      leg.send('BYE', IGNORE);
      this.onForkFailure(leg, { status: 488, reason: 'Not Acceptable Here' });
      return;
    }
    this.b = leg;
    this.current = 'answered';
    this.deps.clock.clearTimeout(this.ringTimer);
    for (const f of this.forks) if (f !== leg) f.cancel();
    this.record.answeredAt = this.deps.clock.now();
    this.record.bCallId = leg.callId;
    this.record.codecB = this.media.codecOf('b', 'received');
    this.record.codecA = this.media.transcoding ? this.media.codecOf('a', 'sent') : this.record.codecB;
    this.a.respond(200, 'OK', { body: answer.sdp, headers: this.sessionTimerHeaders });
    this.sessionRefreshed();
    void this.checkpoint();
    this.log.info({ caller: this.record.caller, callee: this.record.callee }, 'call answered');
  }

  private onForkFailure(leg: OutboundLeg, failure: Failure): void {
    this.failures.push(failure);
    if (this.current !== 'ringing') return;
    if (this.forks.some((f) => f !== leg && f.ringing)) return;
    const answer = answerForCaller(bestFailure(this.failures));
    this.a.respond(answer.status, answer.reason);
    void this.finish({ disposition: answer.disposition, sipStatus: answer.status, sipReason: answer.reason, endedBy: 'callee' });
  }

  private ringTimeout(): void {
    if (this.current !== 'ringing') return;
    for (const f of this.forks) f.cancel();
    this.a.respond(480, 'No Answer');
    void this.finish({ disposition: 'no-answer', sipStatus: 480, sipReason: 'No Answer', endedBy: 'system' });
  }

  private async finish(outcome: CallOutcome): Promise<void> {
    if (this.current === 'ended') return;
    this.current = 'ended';
    this.deps.clock.clearTimeout(this.ringTimer);
    this.deps.clock.clearTimeout(this.sessionTimerHandle);
    this.a.stop();
    const media = this.media.release();
    this.deps.onEnded(this);
    this.log.info({ disposition: outcome.disposition, status: outcome.sipStatus, endedBy: outcome.endedBy }, 'call ended');
    await this.deps.cdr.close(this.record, outcome, media);
  }
}
