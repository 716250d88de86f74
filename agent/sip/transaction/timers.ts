/**
 * Transaction timer values (RFC 3261 §17 and Appendix A, Table 4; RFC 6026 §8.11 for L and M).
 *
 * Only T1, T2 and T4 are configurable; every lettered timer is derived from them. Retransmission
 * timers (A, E, G) exist only on unreliable transports and are `null` on reliable ones; the
 * "wait for stray retransmissions" timers (D, I, J, K) are zero on reliable transports because a
 * reliable transport never delivers a retransmission (RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1,
 * §17.2.2).
 */
import { TransactionError } from './errors.ts';

/** RTT estimate (RFC 3261 §17.1.1.1). */
export const DEFAULT_T1 = 500;
/** Maximum retransmit interval for non-INVITE requests and INVITE responses (§17.1.2.2). */
export const DEFAULT_T2 = 4_000;
/** Maximum time a message remains in the network (§17.1.2.2). */
export const DEFAULT_T4 = 5_000;
/** Delay after which an INVITE server transaction sends 100 Trying itself (§17.2.1). */
export const DEFAULT_TRYING_DELAY = 200;
/** Timer D on unreliable transports is "at least 32 seconds" (Table 4). */
const MIN_TIMER_D_UNRELIABLE = 32_000;

export interface TimerSettings {
  t1?: number;
  t2?: number;
  t4?: number;
  /** Delay before the automatic 100 Trying of an INVITE server transaction. */
  tryingDelay?: number;
}

/** Resolved timer values in milliseconds for one kind of transport. */
export interface TransactionTimers {
  readonly reliable: boolean;
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** ICT: initial INVITE retransmit interval, doubled on each firing (§17.1.1.2). UDP only. */
  readonly A: number | null;
  /** ICT: transaction timeout, 64*T1 (§17.1.1.2). */
  readonly B: number;
  /** ICT: wait in Completed for response retransmissions; >= 32 s UDP, 0 reliable (§17.1.1.2). */
  readonly D: number;
  /** NICT: initial request retransmit interval, doubled up to T2 (§17.1.2.2). UDP only. */
  readonly E: number | null;
  /** NICT: transaction timeout, 64*T1 (§17.1.2.2). */
  readonly F: number;
  /** IST: initial final-response retransmit interval, doubled up to T2 (§17.2.1). UDP only. */
  readonly G: number | null;
  /** IST: wait for ACK, 64*T1 (§17.2.1). */
  readonly H: number;
  /** IST: wait in Confirmed for ACK retransmissions; T4 UDP, 0 reliable (§17.2.1). */
  readonly I: number;
  /** NIST: wait in Completed for request retransmissions; 64*T1 UDP, 0 reliable (§17.2.2). */
  readonly J: number;
  /** NICT: wait in Completed for response retransmissions; T4 UDP, 0 reliable (§17.1.2.2). */
  readonly K: number;
  /** IST: wait in Accepted for INVITE retransmissions, 64*T1 (RFC 6026 §8.7). */
  readonly L: number;
  /** ICT: wait in Accepted for 2xx retransmissions, 64*T1 (RFC 6026 §8.4). */
  readonly M: number;
  /** IST: automatic 100 Trying delay (§17.2.1). */
  readonly trying: number;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TransactionError('transaction.config', `timer ${name} must be a positive number of ms`);
  return value;
}

/**
 * Derives every timer of Table 4 from T1/T2/T4 for a reliable or an unreliable transport.
 * Throws TransactionError('transaction.config') on a non-positive or non-finite base value.
 */
export function transactionTimers(settings: TimerSettings = {}, reliable = false): TransactionTimers {
  const t1 = positive('T1', settings.t1, DEFAULT_T1);
  const t2 = positive('T2', settings.t2, DEFAULT_T2);
  const t4 = positive('T4', settings.t4, DEFAULT_T4);
  const trying = positive('trying', settings.tryingDelay, DEFAULT_TRYING_DELAY);
  const t64 = 64 * t1;
  return Object.freeze({
    reliable,
    t1,
    t2,
    t4,
    A: reliable ? null : t1,
    B: t64,
    D: reliable ? 0 : Math.max(MIN_TIMER_D_UNRELIABLE, t64),
    E: reliable ? null : t1,
    F: t64,
    G: reliable ? null : t1,
    H: t64,
    I: reliable ? 0 : t4,
    J: reliable ? 0 : t64,
    K: reliable ? 0 : t4,
    L: t64,
    M: t64,
    trying,
  });
}
