import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { CoreTimers } from './core-timers.ts';
import type { TimerName } from './replication-commands.ts';

const test = suite('CoreTimers');

test('fires a scheduled timer once, when due, and forgets it', () => {
  const clock = new ManualClock();
  const fired: TimerName[] = [];
  const timers = new CoreTimers(clock, (t) => fired.push(t));
  timers.schedule('push', 5);
  clock.advance(4);
  assert.equal(fired, []);
  assert.ok(timers.armed('push'));
  clock.advance(1);
  assert.equal(fired, ['push']);
  assert.not.ok(timers.armed('push'));
  clock.advance(100);
  assert.equal(fired, ['push']);
});

test('keeps one timer per name: a new schedule replaces the armed one, cancel disarms', () => {
  const clock = new ManualClock();
  const fired: TimerName[] = [];
  const timers = new CoreTimers(clock, (t) => fired.push(t));
  timers.schedule('tick', 50);
  timers.schedule('tick', 10);
  timers.schedule('push', 20);
  timers.cancel('push');
  clock.advance(100);
  assert.equal(fired, ['tick']);
  assert.is(clock.pendingCount, 0);
});

test.run();
