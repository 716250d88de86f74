/**
 * When a box renews its certificate (issue 12 item 5, docs/enrolment.md "Renewal"), as a pure
 * decision on the injected clock's time: from the start of the renewal window (the last
 * `window` fraction of the certificate's validity, default one third) it asks the hub for a new
 * certificate; after a failed attempt it waits `retryMin`, doubling up to `retryMax`, and never
 * past the certificate's end; an expired certificate cannot renew (the box enrols again with a
 * claim code: `outpost node replace`). The shell (a timer and an HTTPS request) does what it says.
 */

export interface RenewalPolicy {
  /** Fraction of the validity, at its end, in which the box renews (0 < window < 1). */
  window: number;
  /** First wait after a failed attempt, ms. */
  retryMinMs: number;
  /** Longest wait between attempts, ms. */
  retryMaxMs: number;
}

export const DEFAULT_RENEWAL: RenewalPolicy = { window: 1 / 3, retryMinMs: 30_000, retryMaxMs: 3_600_000 };

export interface Validity {
  /** When the certificate was issued (not its backdated notBefore: see issuedValidity). */
  notBefore: number;
  notAfter: number;
}

/**
 * The validity counted from the issue: the CA backdates notBefore by `backdateMs` (clock skew),
 * which must not count, or a short-lived certificate would be inside its window from its issue
 * and renew again at once.
 */
export function issuedValidity(notBefore: number, notAfter: number, backdateMs: number): Validity {
  return { notBefore: Math.min(notBefore + backdateMs, notAfter), notAfter };
}

export type RenewalStep =
  /** Nothing to do before `at` (ms): ask again then. */
  | { kind: 'wait'; at: number }
  /** Ask the hub for a new certificate now. */
  | { kind: 'renew' }
  /** The certificate expired: renewal is impossible; enrol again. */
  | { kind: 'expired' };

/** The time the renewal window of `v` opens. */
export function renewalOpens(v: Validity, policy: RenewalPolicy): number {
  return v.notAfter - Math.floor((v.notAfter - v.notBefore) * policy.window);
}

/** The wait after `failures` failed attempts in a row (failures >= 1). */
export function retryDelay(failures: number, policy: RenewalPolicy): number {
  const exp = Math.min(failures - 1, 30);
  return Math.min(policy.retryMaxMs, policy.retryMinMs * 2 ** exp);
}

/**
 * The next step for a certificate of validity `v` at `now`, given the failed attempts in a row
 * and when the last one ended (undefined: none since this certificate was installed).
 */
export function nextRenewalStep(v: Validity, now: number, policy: RenewalPolicy, failures = 0, lastFailureAt?: number): RenewalStep {
  if (now >= v.notAfter) return { kind: 'expired' };
  const opens = renewalOpens(v, policy);
  if (now < opens) return { kind: 'wait', at: opens };
  if (failures === 0 || lastFailureAt === undefined) return { kind: 'renew' };
  const retryAt = Math.min(lastFailureAt + retryDelay(failures, policy), v.notAfter - 1);
  return now >= retryAt ? { kind: 'renew' } : { kind: 'wait', at: retryAt };
}
