/**
 * The offer/answer state of one call (RFC 3264) across the relay session that anchors its
 * media (DESIGN.md §8): the SDP each party sent last, the SDP the box sent each party, the
 * offer crossing the box and waiting for its answer, and the codecs of both legs while the box
 * transcodes. Every SDP the box sends is rewritten to point at the relay's port of that leg,
 * with the leg's own o= line. It knows no SIP: the call feeds it bodies and sends what it returns.
 */
import type { Logger } from '../../lib/logger.ts';
import type { LegCodec, LegName, LegStats, RelaySession } from '../../media/relay-types.ts';
import { checkAnswer } from '../sdp/answer-check.ts';
import { planAnswer, planOffer, type OfferPlan } from '../sdp/codec-plan.ts';
import { audioOf, negotiatedMux } from '../sdp/media-description.ts';
import { OriginState } from '../sdp/origin-state.ts';
import { rewriteForRelay } from '../sdp/rewrite-for-relay.ts';
import { parseSdp, type SessionDescription } from '../sdp/session-description.ts';

/** An SDP to send, or the status to refuse the message that carried the party's SDP. */
export type SdpOutcome = { sdp: string } | { status: number; reason: string };

/** What the other party's answer to a re-offer gives the offerer: an SDP, none, or a 488. */
export type ReofferAnswer = { sdp?: string } | { status: 488; reason: string; transcodingFailed: boolean };

/** A re-offer crossing the box (re-INVITE or UPDATE), until the other party's final answer. */
interface Reoffer {
  from: LegName;
  /** The offerer's SDP before this offer: its media goes back there when the offer is refused. */
  before: SessionDescription | undefined;
}

export class CallMedia {
  private readonly origin: Record<LegName, OriginState> = { a: new OriginState(), b: new OriginState() };
  /** The SDP each party sent last. */
  private readonly received: Partial<Record<LegName, SessionDescription>> = {};
  /** The SDP the box last sent each party, before the relay rewrite (re-sent on refreshes). */
  private readonly sent: Partial<Record<LegName, SessionDescription>> = {};
  /** The offer crossing the box, from which party, waiting for its answer. */
  private pendingOffer: { from: LegName; plan: OfferPlan; sentBefore: SessionDescription | undefined } | undefined;
  private reoffer: Reoffer | undefined;
  private transcodingCodecs: Record<LegName, LegCodec> | null = null;

  constructor(
    private readonly relay: RelaySession,
    /** The caller's offer in its INVITE. */
    callerOffer: SessionDescription,
    /** Each party's codec preference order (native names the box has), for transcoding. */
    private readonly codecs: Record<LegName, readonly string[]>,
    private readonly log: Logger,
  ) {
    this.received.a = callerOffer;
    relay.update('a', audioOf(callerOffer));
  }

  /** The two legs' codecs while the box transcodes, else null. */
  get transcoding(): Readonly<Record<LegName, LegCodec>> | null {
    return this.transcodingCodecs;
  }

  /** True while a re-offer waits for the other party's answer (RFC 3261 §14.1: a second one gets 491). */
  get reofferPending(): boolean {
    return this.reoffer !== undefined;
  }

  /** The first audio codec of the SDP a party sent last, or of what the box sent it ('' if none). */
  codecOf(leg: LegName, which: 'received' | 'sent'): string {
    const sdp = which === 'received' ? this.received[leg] : this.sent[leg];
    return sdp ? firstCodec(sdp) : '';
  }

  /** The initial offer for the callee: the caller's offer with the codecs the box can transcode to. */
  offerToCallee(): string {
    return this.offerTo('b', this.received.a!);
  }

  /**
   * Early media (a provisional with SDP): relay it, and return the SDP for the caller's
   * provisional (none when transcoding cannot start); undefined when the SDP is unreadable.
   * The offer stays pending for the 2xx.
   */
  earlyAnswer(body: Buffer): { sdp: string | undefined } | undefined {
    const early = parseSdp(body);
    if (early instanceof Error) return undefined;
    return { sdp: this.answerFrom('b', early, false) };
  }

  /**
   * The callee's answer in its 2xx: checked against the offer it got (RFC 3264 §6), then relayed
   * or transcoded. A string is the SDP for the caller's 2xx; otherwise why it cannot be used.
   */
  finalAnswer(body: Buffer): { sdp: string } | { problem: string } {
    const answer = parseSdp(body);
    if (answer instanceof Error) return { problem: answer.reason };
    const check = checkAnswer(this.sent.b!, answer);
    if (!check.ok) return { problem: check.problems[0]?.reason ?? 'answer does not match the offer' };
    const sdp = this.answerFrom('b', answer, true);
    if (sdp === undefined) return { problem: 'cannot transcode' };
    // rtcp-mux holds only when offer and answer both carry it (RFC 5761 §5.1.1).
    const mux = negotiatedMux(this.received.a!, answer);
    this.relay.update('a', { ...audioOf(this.received.a!), rtcpMux: mux });
    this.relay.update('b', { ...audioOf(answer), rtcpMux: mux });
    return { sdp };
  }

  /**
   * A party's new offer inside the call (re-INVITE or UPDATE with SDP): applied to the relay,
   * and the SDP to offer the other party returned. Refused with 491 while another one is pending.
   */
  reofferFrom(leg: LegName, body: Buffer): SdpOutcome {
    if (this.reoffer) return { status: 491, reason: 'Request Pending' };
    const parsed = parseSdp(body);
    if (parsed instanceof Error) return { status: parsed.status, reason: parsed.reason };
    this.reoffer = { from: leg, before: this.received[leg] };
    this.received[leg] = parsed;
    this.relay.update(leg, audioOf(parsed));
    return { sdp: this.offerTo(other(leg), parsed) };
  }

  /**
   * The other party's final response to the re-offer from `leg`: a refusal puts the offerer's
   * media back as negotiated before (RFC 3261 §14.1); a 2xx body is the answer, relayed back.
   * Returns the SDP for the offerer's 2xx (none without an answer body), or a 488 when the
   * answer is unreadable or transcoding cannot start.
   */
  reofferSettled(leg: LegName, status: number, body: Buffer): ReofferAnswer {
    const reoffer = this.reoffer?.from === leg ? this.reoffer : undefined;
    this.reoffer = undefined;
    if (status >= 300) {
      if (reoffer?.before) this.restore(leg, reoffer.before);
      return {};
    }
    if (body.length === 0) return {};
    const parsed = parseSdp(body);
    if (parsed instanceof Error) return { status: 488, reason: parsed.reason, transcodingFailed: false };
    const sdp = this.answerFrom(other(leg), parsed, true);
    return sdp === undefined ? { status: 488, reason: 'Not Acceptable Here', transcodingFailed: true } : { sdp };
  }

  /** The SDP the box last sent to `leg`'s party, re-offered unchanged (RFC 3264 §8: same version). */
  lastSdpFor(leg: LegName): string | undefined {
    const sent = this.sent[leg];
    return sent ? rewriteForRelay(sent, this.relay.local(leg), this.origin[leg]) : undefined;
  }

  /** Frees the relay's ports; returns the media statistics of both legs. */
  release(): Record<LegName, LegStats> {
    const stats = this.relay.stats();
    this.relay.release();
    return stats;
  }

  /** The offer for `to`'s party: `offer` with the codecs the box can transcode to added. */
  private offerTo(to: LegName, offer: SessionDescription): string {
    const from = other(to);
    const plan = planOffer(offer, { offerer: this.codecs[from], answerer: this.codecs[to] });
    this.pendingOffer = { from, plan, sentBefore: this.sent[to] };
    this.sent[to] = plan.forwarded;
    return rewriteForRelay(plan.forwarded, this.relay.local(to), this.origin[to]);
  }

  /**
   * `leg`'s party answered the pending offer: relay or transcode as the answer decides, and
   * return the SDP to answer the offerer with (undefined when transcoding cannot start).
   * `final` false (early media) keeps the offer pending for the 2xx.
   */
  private answerFrom(leg: LegName, answer: SessionDescription, final: boolean): string | undefined {
    const to = other(leg);
    this.received[leg] = answer;
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
    if (codecs && !this.transcodingCodecs) this.log.info({ a: codecs.a.codec, b: codecs.b.codec }, 'transcoding');
    this.transcodingCodecs = codecs;
    this.sent[to] = result.forwarded;
    return rewriteForRelay(result.forwarded, this.relay.local(to), this.origin[to]);
  }

  /** Puts a party's media back to an earlier SDP (its new offer was refused by the other side). */
  private restore(leg: LegName, sdp: SessionDescription): void {
    if (this.pendingOffer?.from === leg) {
      this.sent[other(leg)] = this.pendingOffer.sentBefore;
      this.pendingOffer = undefined;
    }
    this.received[leg] = sdp;
    this.relay.update(leg, audioOf(sdp));
  }
}

/** The other leg of a call. */
export function other(leg: LegName): LegName {
  return leg === 'a' ? 'b' : 'a';
}

function firstCodec(sdp: SessionDescription): string {
  const audio = audioOf(sdp);
  for (const name of audio.payloadTypes.values()) if (!/^telephone-event\//i.test(name)) return name;
  return '';
}
