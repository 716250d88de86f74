/**
 * Failed attempts per source address (enrolment; the dashboard's logins, agent/hub/dashboard/): after `max` failures within `windowMs`, the
 * address is refused until its oldest counted failure leaves the window. Clocked, no timers.
 */
import type { Clock } from '../lib/clock.ts';

export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** Milliseconds until `source` may try again; 0 when it may now. */
  blockedFor(source: string): number {
    const list = this.recent(source);
    return list.length < this.max ? 0 : list[list.length - this.max]! + this.windowMs - this.clock.now();
  }

  recordFailure(source: string): void {
    const list = this.recent(source);
    list.push(this.clock.now());
    this.failures.set(source, list);
    if (this.failures.size > 10_000) this.prune();
  }

  private recent(source: string): number[] {
    const since = this.clock.now() - this.windowMs;
    return (this.failures.get(source) ?? []).filter((t) => t > since);
  }

  private prune(): void {
    for (const source of [...this.failures.keys()]) {
      const list = this.recent(source);
      if (list.length === 0) this.failures.delete(source);
      else this.failures.set(source, list);
    }
  }
}
