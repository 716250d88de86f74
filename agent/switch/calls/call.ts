/**
 * One call through the box (a B2BUA, DESIGN.md §7): the caller's leg (InboundLeg), one
 * OutboundLeg per contact it rings, and a relay session that anchors the media of both sides
 * (DESIGN.md §8). SDP crossing the box is rewritten so each party talks to the relay. The
 * call checkpoints itself while it rings and talks and writes its CDR when it ends.
 */
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { Logger } from '../../lib/logger.ts';
import { uuidv7 } from '../../lib/uuid.ts';
import type { LegCodec, LegName, RelaySession } from '../../media/relay-types.ts';
import type { SipResponse } from '../../sip/message/sip-message.ts';
import { expiryDelayMs } from '../../sip/dialog/session-timer.ts';
import type { SipEndpoint } from '../../sip/sip-endpoint.ts';
import type { ClientTransactionUser } from '../../sip/transaction/client-transaction.ts';
import type { Disposition } from '../../store/cdrs.ts';
import { audioOf, negotiatedMux } from '../sdp/media-description.ts';
import { checkAnswer } from '../sdp/answer-check.ts';
import { planAnswer, planOffer, type OfferPlan } from '../sdp/codec-plan.ts';
import { OriginState } from '../sdp/origin-state.ts';
import { rewriteForRelay } from '../sdp/rewrite-for-relay.ts';
import { parseSdp, type SessionDescription } from '../sdp/session-description.ts';
import { answerForCaller, bestFailure, type Failure } from './call-outcome.ts';
import type { CallRecord, CdrRecorder } from './cdr-recorder.ts';
import type { InboundLeg } from './inbound-leg.ts';
import { OutboundLeg, type OutboundSpec } from './outbound-leg.ts';

export type CallState = 'ringing' | 'answered' | 'ended';

export interface CallDeps {
  endpoint: SipEndpoint;
  cdr: CdrRecorder;
  clock: Clock;
  logger: Logger;
  ringTimeoutMs: number;
  /** Each party's codec preference order (native names the box has), for transcoding. */
  codecs: Record<LegName, readonly string[]>;
  /** Tells the controller which dialog key belongs to which leg of this call. */
  bindDialog(key: string, call: Call, leg: LegName): void;
  onEnded(call: Call): void;
}

export const IGNORE: ClientTransactionUser = { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined };

export class Call {
  readonly uuid = uuidv7();
  state: CallState = 'ringing';
  readonly record: CallRecord;
  readonly origin: Record<LegName, OriginState> = { a: new OriginState(), b: new OriginState() };
  /** The SDP each party sent last (for the relay). */
  readonly sdp: Partial<Record<LegName, SessionDescription>> = {};
  /** The SDP the box last sent each party, before the relay rewrite (re-sent on refreshes). */
  private readonly sent: Partial<Record<LegName, SessionDescription>> = {};
  /** The offer crossing the box, from which party, waiting for its answer. */
  private pendingOffer: { from: LegName; plan: OfferPlan; sentBefore: SessionDescription | undefined } | undefined;
  /** The two legs' codecs while the box transcodes. */
  transcoding: Record<LegName, LegCodec> | null = null;
  forks: OutboundLeg[] = [];
  b: OutboundLeg | undefined;
  /** Set while a re-INVITE/UPDATE with an offer crosses the box (RFC 3261 §14.1 glare → 491). */
  offerPending = false;
  private readonly failures: Failure[] = [];
  private ringTimer: TimerHandle | undefined;
  /** RFC 4028 on the caller's leg: interval (s) and the headers our 2xx responses carry. */
  private sessionTimer: { interval: number; headers: Array<[string, string]> } | undefined;
  private sessionTimerHandle: TimerHandle | undefined;
  readonly log: Logger;

  constructor(
    readonly a: InboundLeg,
    readonly relay: RelaySession,
    offer: SessionDescription,
    caller: string,
    callee: string,
    private readonly deps: CallDeps,
  ) {
    this.sdp.a = offer;
    this.log = deps.logger.child({ call: this.uuid });
    this.record = {
      uuid: this.uuid, caller, callee, aCallId: a.dialog.id.callId, bCallId: '', startedAt: deps.clock.now(), answeredAt: null,
      codecA: firstCodec(offer), codecB: '',
    };
    relay.update('a', audioOf(offer));
    deps.bindDialog(a.dialog.key, this, 'a');
  }

  /** The caller agreed to refresh the session every `interval` seconds (RFC 4028 §7). */
  useSessionTimer(interval: number, headers: Array<[string, string]>): void {
    this.sessionTimer = { interval, headers };
  }

  /** Headers for a 2xx to the caller's INVITE or refresh (Session-Expires, Require: timer). */
  get sessionTimerHeaders(): Array<[string, string]> {
    return this.sessionTimer?.headers ?? [];
  }

  /** The caller refreshed the session (any re-INVITE or UPDATE): restart the expiry timer. */
  sessionRefreshed(): void {
    if (!this.sessionTimer || this.state !== 'answered') return;
    this.deps.clock.clearTimeout(this.sessionTimerHandle);
    this.sessionTimerHandle = this.deps.clock.setTimeout(
      () => void this.hangUp('system', 'session timer expired'),
      expiryDelayMs(this.sessionTimer.interval),
    );
  }

  /** Rings every target in parallel; the first to answer wins. */
  ring(targets: Array<Omit<OutboundSpec, 'sdp'>>): void {
    const sdp = this.offerTo('b', this.sdp.a!);
    this.forks = targets.map((t) => new OutboundLeg({ ...t, sdp }, this.deps.endpoint, {
      onProvisional: (leg, res) => this.onProvisional(leg, res),
      onAnswer: (leg, res) => this.onAnswer(leg, res),
      onFailure: (leg, failure) => this.onForkFailure(leg, failure),
    }));
    this.record.bCallId = this.forks.map((f) => f.callId).join(' ');
    for (const f of this.forks) f.start();
    this.ringTimer = this.deps.clock.setTimeout(() => this.ringTimeout(), this.deps.ringTimeoutMs);
    void this.deps.cdr.checkpoint(this.record);
  }

  private onProvisional(leg: OutboundLeg, res: SipResponse): void {
    if (this.state !== 'ringing') return;
    if (leg.dialog) this.deps.bindDialog(leg.dialog.key, this, 'b');
    // Early media (183 with SDP): anchor it like the answer.
    const early = res.body.length > 0 ? parseSdp(res.body) : undefined;
    if (early && !(early instanceof Error)) {
      const body = this.answerFrom('b', early, false);
      this.a.respond(res.status, res.reason, body === undefined ? {} : { body });
      return;
    }
    this.a.respond(res.status === 183 ? 183 : 180, res.status === 183 ? 'Session Progress' : 'Ringing');
  }

  private onAnswer(leg: OutboundLeg, res: SipResponse): void {
    if (this.state !== 'ringing') return;
    const answer = parseSdp(res.body);
    const problem = answer instanceof Error ? answer.reason : answerProblem(this.sent.b!, answer);
    if (problem !== undefined) {
      this.log.warn({ reason: problem }, 'callee answered with unusable SDP');
      leg.send('BYE', IGNORE);
      this.onForkFailure(leg, { status: 488, reason: 'Not Acceptable Here' });
      return;
    }
    if (answer instanceof Error) return; // unreachable: answerProblem covered it
    const body = this.answerFrom('b', answer, true);
    if (body === undefined) {
      leg.send('BYE', IGNORE);
      this.onForkFailure(leg, { status: 488, reason: 'Not Acceptable Here' });
      return;
    }
    this.b = leg;
    this.state = 'answered';
    this.deps.clock.clearTimeout(this.ringTimer);
    for (const f of this.forks) if (f !== leg) f.cancel();
    this.deps.bindDialog(leg.dialog!.key, this, 'b');
    // rtcp-mux holds only when offer and answer both carry it (RFC 5761 §5.1.1).
    const mux = negotiatedMux(this.sdp.a!, answer);
    this.relay.update('a', { ...audioOf(this.sdp.a!), rtcpMux: mux });
    this.relay.update('b', { ...audioOf(answer), rtcpMux: mux });
    this.record.answeredAt = this.deps.clock.now();
    this.record.bCallId = leg.callId;
    this.record.codecB = firstCodec(answer);
    this.record.codecA = this.transcoding ? firstCodec(this.sent.a!) : this.record.codecB;
    this.a.respond(200, 'OK', { body, headers: this.sessionTimerHeaders });
    this.sessionRefreshed();
    void this.deps.cdr.checkpoint(this.record);
    this.log.info({ caller: this.record.caller, callee: this.record.callee }, 'call answered');
  }

  private onForkFailure(leg: OutboundLeg, failure: Failure): void {
    this.failures.push(failure);
    if (this.state !== 'ringing') return;
    if (this.forks.some((f) => f !== leg && (f.state === 'calling' || f.state === 'early'))) return;
    const answer = answerForCaller(bestFailure(this.failures));
    this.a.respond(answer.status, answer.reason);
    void this.finish({ disposition: answer.disposition, sipStatus: answer.status, sipReason: answer.reason, endedBy: 'callee' });
  }

  private ringTimeout(): void {
    if (this.state !== 'ringing') return;
    for (const f of this.forks) f.cancel();
    this.a.respond(480, 'No Answer');
    void this.finish({ disposition: 'no-answer', sipStatus: 480, sipReason: 'No Answer', endedBy: 'system' });
  }

  /** The caller sent CANCEL before the answer (RFC 3261 §9.2): 487, and cancel every fork. */
  cancelledByCaller(): void {
    if (this.state !== 'ringing') return;
    for (const f of this.forks) f.cancel();
    this.a.respond(487, 'Request Terminated');
    void this.finish({ disposition: 'cancelled', sipStatus: 487, sipReason: 'Request Terminated', endedBy: 'caller' });
  }

  /** Ends an answered call from one side (its BYE) or from the box (timeouts, shutdown). */
  hangUp(by: LegName | 'system', reason: string): Promise<void> {
    if (this.state === 'ended') return Promise.resolve();
    if (this.state === 'ringing') {
      for (const f of this.forks) f.cancel();
      const [status, phrase] = by === 'system' ? [503, 'Service Unavailable'] : [487, 'Request Terminated'];
      this.a.respond(status, phrase);
      return this.finish({ disposition: by === 'system' ? 'failed' : 'cancelled', sipStatus: status, sipReason: reason, endedBy: by === 'a' ? 'caller' : 'system' });
    }
    if (by !== 'a') this.a.send('BYE', IGNORE, { headers: [['Reason', `SIP;cause=200;text="${reason}"`]] });
    if (by !== 'b') this.b?.send('BYE', IGNORE, { headers: [['Reason', `SIP;cause=200;text="${reason}"`]] });
    return this.finish({ disposition: 'answered', sipStatus: 200, sipReason: reason, endedBy: by === 'a' ? 'caller' : by === 'b' ? 'callee' : 'system' });
  }

  /** The other leg's party, for in-dialog requests crossing the box. */
  other(leg: LegName): LegName {
    return leg === 'a' ? 'b' : 'a';
  }

  /** Applies an offer a party sent in the call, and returns the SDP to offer the other one. */
  offerFromParty(leg: LegName, body: Buffer): { sdp: string } | { status: number; reason: string } {
    const parsed = parseSdp(body);
    if (parsed instanceof Error) return { status: parsed.status, reason: parsed.reason };
    this.sdp[leg] = parsed;
    this.relay.update(leg, audioOf(parsed));
    return { sdp: this.offerTo(this.other(leg), parsed) };
  }

  /** Applies the answer to the pending offer, and returns the SDP to answer the offerer with. */
  answerFromParty(leg: LegName, body: Buffer): { sdp: string } | { status: number; reason: string } {
    const parsed = parseSdp(body);
    if (parsed instanceof Error) return { status: parsed.status, reason: parsed.reason };
    const sdp = this.answerFrom(leg, parsed, true);
    if (sdp !== undefined) return { sdp };
    void this.hangUp('system', 'transcoding failed');
    return { status: 488, reason: 'Not Acceptable Here' };
  }

  /** The offer for `to`'s party: `offer` with the codecs the box can transcode to added. */
  private offerTo(to: LegName, offer: SessionDescription): string {
    const from = this.other(to);
    const plan = planOffer(offer, { offerer: this.deps.codecs[from], answerer: this.deps.codecs[to] });
    this.pendingOffer = { from, plan, sentBefore: this.sent[to] };
    this.sent[to] = plan.forwarded;
    return rewriteForRelay(plan.forwarded, this.relay.local(to), this.origin[to]);
  }

  /**
   * `leg`'s party answered the pending offer: relay or transcode as the answer decides, and
   * return the SDP to answer the offerer with (undefined when transcoding cannot start: the
   * call is then ended). `final` false (early media) keeps the offer pending for the 2xx.
   */
  private answerFrom(leg: LegName, answer: SessionDescription, final: boolean): string | undefined {
    const to = this.other(leg);
    this.sdp[leg] = answer;
    this.relay.update(leg, audioOf(answer));
    const pending = this.pendingOffer?.from === to ? this.pendingOffer : undefined;
    if (final) this.pendingOffer = undefined;
    const result = pending ? planAnswer(pending.plan, answer) : { forwarded: answer, transcode: null };
    const codecs = result.transcode && (to === 'a'
      ? { a: result.transcode.offerer, b: result.transcode.answerer }
      : { a: result.transcode.answerer, b: result.transcode.offerer });
    try {
      this.relay.setTranscoding(codecs);
    } catch (err) {
      this.log.error({ err: (err as Error).message, codecs }, 'cannot transcode');
      return undefined;
    }
    if (codecs && !this.transcoding) this.log.info({ a: codecs.a.codec, b: codecs.b.codec }, 'transcoding');
    this.transcoding = codecs;
    this.sent[to] = result.forwarded;
    return rewriteForRelay(result.forwarded, this.relay.local(to), this.origin[to]);
  }

  /** Puts a party's media back to an earlier SDP (its new offer was refused by the other side). */
  restoreMedia(leg: LegName, sdp: SessionDescription): void {
    if (this.pendingOffer?.from === leg) {
      this.sent[this.other(leg)] = this.pendingOffer.sentBefore;
      this.pendingOffer = undefined;
    }
    this.sdp[leg] = sdp;
    this.relay.update(leg, audioOf(sdp));
  }

  /** The SDP the box last sent to `leg`'s party, re-offered unchanged (RFC 3264 §8: same version). */
  lastSdpFor(leg: LegName): string | undefined {
    const sent = this.sent[leg];
    return sent ? rewriteForRelay(sent, this.relay.local(leg), this.origin[leg]) : undefined;
  }

  private async finish(outcome: { disposition: Disposition; sipStatus: number; sipReason: string; endedBy: 'caller' | 'callee' | 'system' }): Promise<void> {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.deps.clock.clearTimeout(this.ringTimer);
    this.deps.clock.clearTimeout(this.sessionTimerHandle);
    this.a.stop();
    const media = this.relay.stats();
    this.relay.release();
    this.deps.onEnded(this);
    this.log.info({ disposition: outcome.disposition, status: outcome.sipStatus, endedBy: outcome.endedBy }, 'call ended');
    await this.deps.cdr.close(this.record, outcome, media);
  }
}

/** Why an answer cannot be used with this offer (RFC 3264 §6), or undefined when it can. */
function answerProblem(offer: SessionDescription, answer: SessionDescription): string | undefined {
  const check = checkAnswer(offer, answer);
  return check.ok ? undefined : check.problems[0]?.reason ?? 'answer does not match the offer';
}

function firstCodec(sdp: SessionDescription): string {
  const audio = audioOf(sdp);
  for (const name of audio.payloadTypes.values()) if (!/^telephone-event\//i.test(name)) return name;
  return '';
}
