/**
 * Reliable provisional responses (RFC 3262): whether a 1xx to an INVITE must, may or cannot be
 * sent reliably, the RSeq numbering a UAS gives them and the PRACK matching it does, and the
 * order check a UAC applies before it PRACKs. No timers here: the switch retransmits the 1xx
 * (reliableRetransmitDelayMs) and sends PRACKs with Dialog.createRequest('PRACK', ...).
 */
import { randomInt } from 'node:crypto';
import type { CSeq } from '../message/cseq.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message/sip-message.ts';
import { readCSeq } from './dialog-fields.ts';
import { DialogError } from './errors.ts';
import { hasOptionTag } from './option-tags.ts';
import { type RAck, parseRAck, parseRSeq } from './rack.ts';

/** The option tag of the extension (RFC 3262 §6). */
export const RELIABLE_OPTION_TAG = '100rel';

/** True when the message lists 100rel in Supported or Require (RFC 3262 §3, §4). */
export function supports100rel(message: SipMessage): boolean {
  return hasOptionTag(message.headers, 'supported', RELIABLE_OPTION_TAG) || requires100rel(message);
}

/** True when the message lists 100rel in Require. */
export function requires100rel(message: SipMessage): boolean {
  return hasOptionTag(message.headers, 'require', RELIABLE_OPTION_TAG);
}

/** Our use of 100rel as a UAS: never, whenever the UAC supports it, or insist on it. */
export type ReliabilityPolicy = 'never' | 'when-supported' | 'required';

export type ProvisionalReliability =
  | { mode: 'reliable' }
  | { mode: 'unreliable' }
  | { mode: 'reject'; status: 420 | 421; headers: [string, string][] };

/**
 * How a UAS sends its 1xx to `invite` (RFC 3262 §3): reliably when the INVITE requires it
 * (420 with Unsupported when we never do, RFC 3261 §8.2.2.3), or when it supports it and our
 * policy allows; a policy of 'required' refuses an INVITE without support with 421 and
 * Require: 100rel (RFC 3261 §21.4.16).
 */
export function provisionalReliability(invite: SipRequest, policy: ReliabilityPolicy): ProvisionalReliability {
  if (requires100rel(invite)) {
    if (policy === 'never') return { mode: 'reject', status: 420, headers: [['Unsupported', RELIABLE_OPTION_TAG]] };
    return { mode: 'reliable' };
  }
  if (supports100rel(invite)) return policy === 'never' ? { mode: 'unreliable' } : { mode: 'reliable' };
  if (policy === 'required') return { mode: 'reject', status: 421, headers: [['Require', RELIABLE_OPTION_TAG]] };
  return { mode: 'unreliable' };
}

/** True for a 101-199 that carries Require: 100rel and an RSeq (RFC 3262 §4). */
export function isReliableProvisional(response: SipResponse): boolean {
  return response.status > 100 && response.status < 200 && requires100rel(response) && response.headers.has('rseq');
}

/** The RAck of the PRACK acknowledging a reliable provisional (RFC 3262 §7.2). */
export function rackFor(response: SipResponse): RAck {
  const rseq = parseRSeq(response.headers.get('rseq') ?? '');
  const cseq = readCSeq(response.headers);
  return { rseq, cseq: cseq.seq, method: cseq.method };
}

export type PrackMatch =
  | { matched: true; rseq: number }
  | { matched: false; status: 400 | 481; reason: string };

/**
 * The UAS side of one INVITE transaction: numbers its reliable provisionals and matches the
 * PRACKs. The first RSeq is random in 1..2^31-1 and each next one is one higher (RFC 3262 §3);
 * a second reliable provisional may not go out before the first is PRACKed (§3).
 */
export class ReliableProvisionals {
  private readonly invite: CSeq;
  private nextRSeq: number;
  private unacknowledged: number | undefined;

  constructor(invite: SipRequest, firstRSeq: number = randomInt(1, 2 ** 31)) {
    this.invite = readCSeq(invite.headers);
    this.nextRSeq = firstRSeq;
  }

  /** RSeq of the provisional awaiting its PRACK, if any. */
  get pending(): number | undefined {
    return this.unacknowledged;
  }

  /**
   * Marks `response` (a 101-199 to the INVITE) reliable: sets Require: 100rel and RSeq, and
   * records it as awaiting PRACK. Throws 'dialog.prack-pending' while the previous one is.
   */
  send(response: SipResponse): number {
    if (response.status <= 100 || response.status >= 200) throw new DialogError('dialog.invalid-argument', 'only 101-199 can be sent reliably');
    if (this.unacknowledged !== undefined) throw new DialogError('dialog.prack-pending', `RSeq ${this.unacknowledged} is not acknowledged yet`);
    const rseq = this.nextRSeq++;
    if (!requires100rel(response)) response.headers.append('Require', RELIABLE_OPTION_TAG);
    response.headers.set('RSeq', String(rseq));
    this.unacknowledged = rseq;
    return rseq;
  }

  /**
   * Matches a PRACK (RFC 3262 §3): its RAck must name the pending provisional (RSeq, and the
   * INVITE's CSeq number and method). A match ends that provisional's retransmissions; no
   * match gets 481, an unreadable RAck 400. A PRACK repeated after the match still gets its 2xx
   * from the transaction layer, which absorbs the retransmission.
   */
  receivePrack(prack: SipRequest): PrackMatch {
    let rack: RAck;
    try {
      rack = parseRAck(prack.headers.get('rack') ?? '');
    } catch {
      return { matched: false, status: 400, reason: 'Bad RAck' };
    }
    const same = rack.rseq === this.unacknowledged && rack.cseq === this.invite.seq && rack.method === this.invite.method;
    if (!same) return { matched: false, status: 481, reason: 'Call/Transaction Does Not Exist' };
    this.unacknowledged = undefined;
    return { matched: true, rseq: rack.rseq };
  }
}

/**
 * The UAC side for one early dialog (RFC 3262 §4): the first reliable provisional sets the
 * expected RSeq; afterwards only RSeq = last + 1 is new (PRACK it, pass it up), a lower or equal
 * one is a retransmission, a higher one arrived out of order and is dropped unPRACKed.
 */
export class ProvisionalSequence {
  private last: number | undefined;

  receive(response: SipResponse): 'new' | 'retransmission' | 'out-of-order' | 'unreliable' {
    if (!isReliableProvisional(response)) return 'unreliable';
    const rseq = parseRSeq(response.headers.get('rseq')!);
    if (this.last === undefined || rseq === this.last + 1) {
      this.last = rseq;
      return 'new';
    }
    return rseq <= this.last ? 'retransmission' : 'out-of-order';
  }
}

/** Delay before retransmission `n` (0-based) of an unPRACKed reliable 1xx: T1·2^n (RFC 3262 §3). */
export function reliableRetransmitDelayMs(n: number, t1: number): number {
  return t1 * 2 ** n;
}

/** After this long without PRACK the UAS gives up and rejects the INVITE with a 5xx (RFC 3262 §3). */
export function prackTimeoutMs(t1: number): number {
  return 64 * t1;
}
