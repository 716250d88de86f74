/**
 * How a call that was not answered ends for the caller: the final response of the best fork
 * (RFC 3261 §16.7 step 6 picks among forks) mapped to what the caller hears and the CDR
 * disposition. Pure functions.
 */
import type { Disposition } from '../../store/cdrs.ts';

export interface Failure {
  status: number;
  reason: string;
}

export interface CallerAnswer extends Failure {
  disposition: Disposition;
}

/** A fork's final failure, or what we record for a fork that timed out or could not be sent. */
export const TIMEOUT: Failure = { status: 408, reason: 'Request Timeout' };
export const UNREACHABLE: Failure = { status: 503, reason: 'Service Unavailable' };

/** Picks the failure to report among forks: 6xx first, then busy, then the lowest class. */
export function bestFailure(failures: readonly Failure[]): Failure {
  if (failures.length === 0) return { status: 480, reason: 'Temporarily Unavailable' };
  const rank = (f: Failure) => (f.status >= 600 ? 0 : f.status === 486 ? 1 : f.status === 408 ? 3 : f.status >= 500 ? 4 : 2);
  return [...failures].sort((x, y) => rank(x) - rank(y))[0]!;
}

/** What the caller receives for the callee side's failure. */
export function answerForCaller(f: Failure): CallerAnswer {
  if (f.status === 486 || f.status === 600) return { status: 486, reason: 'Busy Here', disposition: 'busy' };
  if (f.status === 603) return { status: 603, reason: 'Decline', disposition: 'rejected' };
  if (f.status === 408) return { status: 408, reason: 'Request Timeout', disposition: 'no-answer' };
  if (f.status === 404 || f.status === 410 || f.status === 480 || f.status >= 500) {
    return { status: 480, reason: 'Temporarily Unavailable', disposition: 'failed' };
  }
  return { status: f.status, reason: f.reason, disposition: 'failed' };
}
