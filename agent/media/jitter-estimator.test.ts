/**
 * JitterEstimator: steady spacing has no jitter; alternating early/late arrival converges
 * towards the mean deviation (RFC 3550 A.8); a new SSRC starts over.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JitterEstimator } from './jitter-estimator.ts';

test('packets every 20 ms with timestamps 160 apart at 8 kHz have no jitter', () => {
  const j = new JitterEstimator();
  for (let i = 0; i < 100; i++) j.record(1000 + i * 20, 7, i * 160, 8000);
  assert.is(j.ms(8000), 0);
});

test('arrivals alternating 5 ms early and late converge towards 10 ms of jitter', () => {
  const j = new JitterEstimator();
  for (let i = 0; i < 400; i++) j.record(1000 + i * 20 + (i % 2 ? 5 : -5), 7, i * 160, 8000);
  const ms = j.ms(8000);
  assert.ok(ms > 9.5 && ms <= 10, String(ms));
});

test('a new SSRC starts the estimate over', () => {
  const j = new JitterEstimator();
  for (let i = 0; i < 50; i++) j.record(i * 20 + (i % 2 ? 5 : -5), 7, i * 160, 8000);
  assert.ok(j.ms(8000) > 0);
  j.record(5000, 8, 99, 8000);
  assert.is(j.ms(8000), 0);
});

test.run();
