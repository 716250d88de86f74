/**
 * The calls of this box: which call a request belongs to (by Call-ID, then the call matches
 * the dialog's tags, RFC 3261 §12.2.2), which call a CANCEL names (its INVITE server
 * transaction), the Call-IDs of the INVITEs the box sent (an INVITE with one is a loop), and
 * the counts the limits read. An ended call stays findable for a while, so late BYE and ACK
 * retransmissions still reach it and get the call's answer rather than a stranger's.
 */
import type { Clock, TimerHandle } from '../../lib/clock.ts';
import type { LegName } from '../../media/relay-types.ts';
import { dialogKeyOf } from '../../sip/dialog/dialog-key.ts';
import type { SipRequest } from '../../sip/message/sip-message.ts';
import { callId } from '../../sip/transaction/header-fields.ts';
import type { InviteServerTransaction } from '../../sip/transaction/invite-server-transaction.ts';
import type { Call } from './call.ts';

/** How long an ended call still answers its dialogs' requests: 64*T1, like Timer J (RFC 3261 §17.2.2). */
export const LINGER_MS = 32_000;

export class CallRegistry {
  private readonly live = new Set<Call>();
  private readonly byCallId = new Map<string, Call[]>();
  private readonly byInvite = new Map<InviteServerTransaction, Call>();
  private readonly outgoing = new Set<string>();
  /** INVITEs between admission and the start of their call (ports being bound). */
  private readonly admitting = new Set<InviteServerTransaction>();
  /** Timers that drop ended calls from the Call-ID index (cleared on stop so the process can exit). */
  private readonly lingering = new Set<TimerHandle>();

  constructor(private readonly clock: Clock) {}

  /** Calls not yet ended. */
  get size(): number {
    return this.live.size;
  }

  /** The calls not yet ended. */
  calls(): Call[] {
    return [...this.live];
  }

  /** How many calls not yet ended have `user` as caller or callee. */
  countOf(user: string): number {
    let n = 0;
    for (const c of this.live) if (c.involves(user)) n++;
    return n;
  }

  /** True when `id` is the Call-ID of an INVITE this box sent for a call in progress. */
  isOutgoingCallId(id: string): boolean {
    return this.outgoing.has(id);
  }

  /** The call and leg of the dialog `request` belongs to (as UAS), if any. */
  find(request: SipRequest): { call: Call; leg: LegName } | undefined {
    const key = dialogKeyOf(request, 'uas');
    if (key === undefined) return undefined;
    for (const call of this.byCallId.get(callId(request.headers)) ?? []) {
      const leg = call.legOf(key);
      if (leg) return { call, leg };
    }
    return undefined;
  }

  /** The call started by this INVITE server transaction (a CANCEL matched it). */
  byInviteTransaction(invite: InviteServerTransaction): Call | undefined {
    return this.byInvite.get(invite);
  }

  /** An INVITE passed admission and waits for its media ports. */
  admit(invite: InviteServerTransaction): void {
    this.admitting.add(invite);
  }

  /**
   * The INVITE's ports are bound (or not): false when a CANCEL came meanwhile. A CANCEL that
   * finds the INVITE still admitting calls this too, and the INVITE then sees false.
   */
  settleAdmission(invite: InviteServerTransaction): boolean {
    return this.admitting.delete(invite);
  }

  /** A call started: index it. Call after ring(), which chooses the outgoing Call-IDs. */
  add(call: Call): void {
    if (call.state === 'ended') return;
    this.live.add(call);
    this.byInvite.set(call.inviteTransaction, call);
    for (const id of call.outgoingCallIds) this.outgoing.add(id);
    for (const id of call.callIds) this.byCallId.set(id, [...(this.byCallId.get(id) ?? []), call]);
  }

  /** A call rang more forks (`ids`: their Call-IDs) after it started: index them too. */
  forked(call: Call, ids: readonly string[]): void {
    for (const id of ids) {
      this.outgoing.add(id);
      this.byCallId.set(id, [...(this.byCallId.get(id) ?? []), call]);
    }
  }

  /** A call ended: it stops counting now, and leaves the Call-ID index after LINGER_MS. */
  ended(call: Call): void {
    this.live.delete(call);
    this.byInvite.delete(call.inviteTransaction);
    for (const id of call.outgoingCallIds) this.outgoing.delete(id);
    const timer = this.clock.setTimeout(() => {
      this.lingering.delete(timer);
      for (const id of call.callIds) {
        const rest = (this.byCallId.get(id) ?? []).filter((c) => c !== call);
        if (rest.length > 0) this.byCallId.set(id, rest);
        else this.byCallId.delete(id);
      }
    }, LINGER_MS);
    this.lingering.add(timer);
  }

  /** Cancels the linger timers (shutdown). */
  stop(): void {
    for (const t of this.lingering) this.clock.clearTimeout(t);
    this.lingering.clear();
  }
}
