/**
 * The timers a replication core asks for (`schedule` and `cancel` commands), armed on a Clock:
 * at most one per name, and a fired timer is handed back to the core as an event. The shell
 * uses the system clock, tests a ManualClock.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { TimerName } from './replication-commands.ts';

export class CoreTimers {
  private readonly handles = new Map<TimerName, TimerHandle>();

  constructor(
    private readonly clock: Clock,
    private readonly fire: (timer: TimerName) => void,
  ) {}

  /** Arms `timer` in `ms`, replacing an armed one of the same name. */
  schedule(timer: TimerName, ms: number): void {
    this.cancel(timer);
    this.handles.set(
      timer,
      this.clock.setTimeout(() => {
        this.handles.delete(timer);
        this.fire(timer);
      }, ms),
    );
  }

  cancel(timer: TimerName): void {
    this.clock.clearTimeout(this.handles.get(timer));
    this.handles.delete(timer);
  }

  armed(timer: TimerName): boolean {
    return this.handles.has(timer);
  }
}
