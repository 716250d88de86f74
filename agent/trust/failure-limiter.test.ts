import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { FailureLimiter } from './failure-limiter.ts';

const test = suite('FailureLimiter');

test('refuses a source after max failures within the window, until the oldest leaves it; other sources are not touched', () => {
  const clock = new ManualClock();
  const limiter = new FailureLimiter(3, 60_000, clock);
  for (let i = 0; i < 3; i++) {
    assert.is(limiter.blockedFor('10.0.0.1'), 0);
    limiter.recordFailure('10.0.0.1');
    clock.advance(1000);
  }
  assert.is(limiter.blockedFor('10.0.0.1'), 60_000 - 3000);
  assert.is(limiter.blockedFor('10.0.0.2'), 0);
  clock.advance(57_000);
  assert.is(limiter.blockedFor('10.0.0.1'), 0);
});

test.run();
