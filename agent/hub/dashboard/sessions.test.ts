import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { cookieValue, Sessions } from './sessions.ts';

const sessions = suite('Sessions');

sessions('a token names its user until it expires; logout ends it', () => {
  const clock = new ManualClock(0);
  const s = new Sessions(clock, 1000);
  const t = s.create('admin');
  assert.is(s.userOf(t), 'admin');
  assert.is(s.userOf('forged'), undefined);
  clock.advance(1000);
  assert.is(s.userOf(t), undefined);
  const u = s.create('admin');
  s.end(u);
  assert.is(s.userOf(u), undefined);
});

sessions.run();

const cookies = suite('cookieValue');

cookies('finds one cookie among several', () => {
  assert.is(cookieValue('a=1; outpost_session=xyz; b=2', 'outpost_session'), 'xyz');
  assert.is(cookieValue(undefined, 'x'), undefined);
  assert.is(cookieValue('xoutpost_session=1', 'outpost_session'), undefined);
});

cookies.run();
