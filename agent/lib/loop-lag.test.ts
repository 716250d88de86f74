import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock, type Clock, type TimerHandle } from './clock.ts';
import { LoopLag } from './loop-lag.ts';

/** A ManualClock whose loop can stall: `stall(ms)` makes every timer due meanwhile fire `ms` late. */
class StallingClock implements Clock {
  readonly inner = new ManualClock();
  private extra = 0;

  now(): number {
    return this.inner.now() + this.extra;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.inner.setTimeout(fn, ms);
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    this.inner.clearTimeout(handle);
  }

  /** The loop was blocked for `ms`: the next timer fires that much later than it was due. */
  stall(ms: number): void {
    this.extra += ms;
  }
}

const lag = suite('LoopLag');

lag('0 on time; a stall shows in the mean over the last second, then ages out', () => {
  const clock = new StallingClock();
  const l = new LoopLag(clock);
  assert.is(l.lagMs, 0, 'before any sample');
  l.start();
  clock.inner.advance(1000);
  assert.is(l.lagMs, 0);
  clock.stall(500);
  clock.inner.advance(100);
  assert.is(l.lagMs, 50, 'one sample of 500 ms among ten');
  clock.inner.advance(1000);
  assert.is(l.lagMs, 0, 'a second later it has aged out');
  l.stop();
  assert.is(clock.inner.pendingCount, 0, 'stop clears its timer');
});

lag.run();
