/**
 * Event-loop lag as the box's own timers see it: a timer every `intervalMs` on the injected
 * Clock, and how much later than asked it fired, averaged over the last `window` samples (one
 * second by default). A sample taken while the loop is blocked counts the whole delay. Used by
 * the registrar's load shedding (agent/switch/registration-shedding.ts).
 */
import type { Clock, TimerHandle } from './clock.ts';

export class LoopLag {
  private readonly samples: number[] = [];
  private timer: TimerHandle | undefined;
  private due = 0;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs = 100,
    private readonly window = 10,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Mean lag (ms) over the last samples; 0 before any. */
  get lagMs(): number {
    if (this.samples.length === 0) return 0;
    return this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
  }

  private schedule(): void {
    this.due = this.clock.now() + this.intervalMs;
    this.timer = this.clock.setTimeout(() => {
      this.samples.push(Math.max(0, this.clock.now() - this.due));
      if (this.samples.length > this.window) this.samples.shift();
      this.schedule();
    }, this.intervalMs);
  }
}
