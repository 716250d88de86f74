/**
 * Session timer decisions (RFC 4028) as pure functions over real messages: what a UAS
 * answers (§9), what an element in the middle forwards (§8.1), how a UAC retries after 422
 * (§7.4) and reads the 2xx (§7.2), and when to refresh or give up (§10). The switch owns the
 * timers; these functions only return intervals, headers and verdicts.
 *
 * "uac" and "uas" in a refresher always name the roles in the transaction that negotiated
 * the interval (the INVITE, or the latest re-INVITE/UPDATE), not the dialog's creator.
 */
import type { SipHeaders, SipRequest, SipResponse } from '../message/sip-message.ts';
import type { TransactionRole } from './dialog-key.ts';
import { DialogError } from './errors.ts';
import { hasOptionTag } from './option-tags.ts';
import { type Refresher, type SessionExpires, formatMinSe, formatSessionExpires, parseMinSe, parseSessionExpires } from './session-expires.ts';

/** No session interval may be shorter (RFC 4028 §4, §5). */
export const MIN_SESSION_INTERVAL = 90;
/** The interval RFC 4028 §4 recommends. */
export const RECOMMENDED_SESSION_INTERVAL = 1800;
/** The option tag of the extension (RFC 4028 §3). */
export const TIMER_OPTION_TAG = 'timer';

export interface SessionTimerPolicy {
  /** The shortest interval we accept, seconds (our Min-SE); at least 90. */
  minSe: number;
  /** The interval we want: what we insert, and the most we let a request keep. */
  interval: number;
  /** Refresher a UAS picks when the request leaves it free. Default 'uac'. */
  refresher?: Refresher;
  /** Add a timer when the request has none (UAS: only if the UAC supports it). Default false. */
  insert?: boolean;
}

/** The session timer fields of a message. */
export interface SessionTimerFields {
  sessionExpires: SessionExpires | undefined;
  minSe: number | undefined;
  /** `timer` in Supported (or Require): the sender understands 422 and the refresher rules. */
  supported: boolean;
}

/** An agreed session timer. */
export interface SessionTimer {
  interval: number;
  refresher: Refresher;
}

type Headers = [string, string][];

/** Answer 422 (Session Interval Too Small) with these headers (Min-SE, RFC 4028 §6). */
export interface SessionTimerReject {
  action: 'reject';
  status: 422;
  minSe: number;
  headers: Headers;
}

export type SessionTimerAnswer = SessionTimerReject | { action: 'accept'; timer: SessionTimer | undefined; headers: Headers };

export type SessionTimerForward =
  | SessionTimerReject
  | { action: 'forward'; sessionExpires: SessionExpires | undefined; minSe: number | undefined; headers: Headers };

/** Reads Session-Expires, Min-SE and `timer` support; throws SipParseError (→ 400) when malformed. */
export function readSessionTimer(headers: SipHeaders): SessionTimerFields {
  const se = headers.get('session-expires');
  const minSe = headers.get('min-se');
  return {
    sessionExpires: se === undefined ? undefined : parseSessionExpires(se),
    minSe: minSe === undefined ? undefined : parseMinSe(minSe),
    supported: hasOptionTag(headers, 'supported', TIMER_OPTION_TAG) || hasOptionTag(headers, 'require', TIMER_OPTION_TAG),
  };
}

/**
 * The UAS answer to a session-creating or refreshing request (RFC 4028 §9). A Session-Expires
 * below `policy.minSe` from a UAC that supports the timer gets 422 with our Min-SE; one from a
 * UAC that does not (a proxy added it) cannot be refused and is taken as it is. Otherwise the
 * interval may be lowered toward `policy.interval`, never under the request's Min-SE nor
 * raised (§9). Refresher (§9, Table 2): 'uas' when the UAC lacks support, else the request's
 * choice, else ours. `headers` go into the 2xx: Session-Expires, and Require: timer when the
 * UAC is to refresh.
 */
export function answerSessionTimer(request: SipRequest, policy: SessionTimerPolicy): SessionTimerAnswer {
  checkPolicy(policy);
  const f = readSessionTimer(request.headers);
  const floor = Math.max(MIN_SESSION_INTERVAL, f.minSe ?? 0);
  let timer: SessionTimer;
  if (f.sessionExpires !== undefined) {
    const asked = f.sessionExpires.interval;
    if (asked < policy.minSe && f.supported) return reject(Math.max(policy.minSe, f.minSe ?? 0));
    const refresher = f.supported ? (f.sessionExpires.refresher ?? policy.refresher ?? 'uac') : 'uas';
    timer = { interval: Math.min(asked, Math.max(policy.interval, floor)), refresher };
  } else if (f.supported && policy.insert === true) {
    timer = { interval: Math.max(policy.interval, floor), refresher: policy.refresher ?? 'uac' };
  } else {
    return { action: 'accept', timer: undefined, headers: [] };
  }
  const headers: Headers = [['Session-Expires', formatSessionExpires({ ...timer, params: new Map() })]];
  if (timer.refresher === 'uac') headers.push(['Require', TIMER_OPTION_TAG]);
  return { action: 'accept', timer, headers };
}

/**
 * What an element in the middle (proxy, or the B2BUA passing a call on) puts in the request it
 * sends on (RFC 4028 §8.1). Too small a Session-Expires is refused with 422 when the UAC
 * supports the timer, and raised to our minimum when it does not (it could not act on a 422);
 * a larger one is lowered toward `policy.interval` but not under the Min-SE. Min-SE is raised
 * to our minimum so no one further on lowers the interval below it. Without a
 * Session-Expires, one is inserted only when `policy.insert`. The refresher is left as the
 * request had it. `headers` replace (set) the request's Session-Expires and Min-SE.
 */
export function forwardSessionTimer(request: SipRequest, policy: SessionTimerPolicy): SessionTimerForward {
  checkPolicy(policy);
  const f = readSessionTimer(request.headers);
  const floor = Math.max(MIN_SESSION_INTERVAL, f.minSe ?? 0);
  const minSe = Math.max(policy.minSe, f.minSe ?? 0);
  let interval: number;
  if (f.sessionExpires !== undefined) {
    const asked = f.sessionExpires.interval;
    if (asked < policy.minSe && f.supported) return reject(minSe);
    interval = asked < policy.minSe ? Math.max(policy.minSe, floor) : Math.min(asked, Math.max(policy.interval, floor));
  } else if (policy.insert === true) {
    interval = Math.max(policy.interval, floor);
  } else {
    const headers: Headers = f.minSe === undefined ? [] : [['Min-SE', formatMinSe(f.minSe)]];
    return { action: 'forward', sessionExpires: undefined, minSe: f.minSe, headers };
  }
  const se: SessionExpires = { interval, params: f.sessionExpires?.params ?? new Map() };
  if (f.sessionExpires?.refresher !== undefined) se.refresher = f.sessionExpires.refresher;
  const outMinSe = f.minSe === undefined && minSe === MIN_SESSION_INTERVAL ? undefined : minSe;
  const headers: Headers = [['Session-Expires', formatSessionExpires(se)]];
  if (outMinSe !== undefined) headers.push(['Min-SE', formatMinSe(outMinSe)]);
  return { action: 'forward', sessionExpires: se, minSe: outMinSe, headers };
}

/**
 * The UAC's retry after a 422 to `sent` (RFC 4028 §7.4): Min-SE = the largest Min-SE seen,
 * Session-Expires at least that. Undefined when the 422 has no usable Min-SE or would not
 * make the interval any longer (retrying would loop).
 */
export function retryAfter422(sent: SipRequest, response: SipResponse): { sessionExpires: SessionExpires; minSe: number; headers: Headers } | undefined {
  if (response.status !== 422) return undefined;
  let theirs: number | undefined;
  try {
    const v = response.headers.get('min-se');
    theirs = v === undefined ? undefined : parseMinSe(v);
  } catch {
    theirs = undefined;
  }
  if (theirs === undefined) return undefined;
  const f = readSessionTimer(sent.headers);
  const minSe = Math.max(theirs, f.minSe ?? 0, MIN_SESSION_INTERVAL);
  const before = f.sessionExpires?.interval;
  const interval = Math.max(before ?? 0, minSe);
  if (before !== undefined && interval <= before) return undefined;
  const se: SessionExpires = { interval, params: f.sessionExpires?.params ?? new Map() };
  if (f.sessionExpires?.refresher !== undefined) se.refresher = f.sessionExpires.refresher;
  return { sessionExpires: se, minSe, headers: [['Session-Expires', formatSessionExpires(se)], ['Min-SE', formatMinSe(minSe)]] };
}

/**
 * The timer a UAC runs after a 2xx (RFC 4028 §7.2): the 2xx's Session-Expires, or none when it
 * has none. A 2xx that names no refresher breaks §9; the UAC then refreshes itself, the safe
 * side (a needless refresh costs little, a missing one ends the call).
 */
export function sessionTimerFromResponse(response: SipResponse): SessionTimer | undefined {
  const v = response.headers.get('session-expires');
  if (v === undefined) return undefined;
  const se = parseSessionExpires(v);
  return { interval: se.interval, refresher: se.refresher ?? 'uac' };
}

/** True when we send the refreshes: our role in the negotiating transaction is the refresher. */
export function isLocalRefresher(timer: SessionTimer, role: TransactionRole): boolean {
  return timer.refresher === role;
}

/** When the refresher sends its re-INVITE/UPDATE: half the interval (RFC 4028 §10), in ms. */
export function refreshDelayMs(interval: number): number {
  return interval * 500;
}

/**
 * When the side that does not refresh gives up and sends BYE, if no refresh came: the
 * interval minus the lesser of 32 s and a third of it (RFC 4028 §10), in ms.
 */
export function expiryDelayMs(interval: number): number {
  return Math.round((interval - Math.min(32, interval / 3)) * 1000);
}

function reject(minSe: number): SessionTimerReject {
  return { action: 'reject', status: 422, minSe, headers: [['Min-SE', formatMinSe(minSe)]] };
}

function checkPolicy(p: SessionTimerPolicy): void {
  if (!(p.minSe >= MIN_SESSION_INTERVAL) || !(p.interval >= p.minSe)) {
    throw new DialogError('dialog.invalid-argument', 'session timer policy needs 90 <= minSe <= interval');
  }
}
