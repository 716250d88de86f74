import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { issuedValidity, nextRenewalStep, renewalOpens, retryDelay, type RenewalPolicy } from './renewal-schedule.ts';

const MIN = 60_000;
const policy: RenewalPolicy = { window: 1 / 3, retryMinMs: MIN, retryMaxMs: 8 * MIN };
const T0 = Date.UTC(2026, 11, 7);
/** A certificate valid 90 minutes: its renewal window is its last 30. */
const cert = { notBefore: T0, notAfter: T0 + 90 * MIN };

const opens = suite('renewalOpens');
opens('the last third of the validity', () => {
  assert.is(renewalOpens(cert, policy), T0 + 60 * MIN);
  assert.is(renewalOpens(cert, { ...policy, window: 0.5 }), T0 + 45 * MIN);
});
opens.run();

const delay = suite('retryDelay');
delay('doubles from retryMin up to retryMax', () => {
  assert.equal([1, 2, 3, 4, 5, 40].map((n) => retryDelay(n, policy) / MIN), [1, 2, 4, 8, 8, 8]);
});
delay.run();

const step = suite('nextRenewalStep');
step('waits until the window opens, then renews', () => {
  const clock = new ManualClock(T0 + MIN);
  assert.equal(nextRenewalStep(cert, clock.now(), policy), { kind: 'wait', at: T0 + 60 * MIN });
  clock.advance(59 * MIN - 1);
  assert.is(nextRenewalStep(cert, clock.now(), policy).kind, 'wait');
  clock.advance(1);
  assert.equal(nextRenewalStep(cert, clock.now(), policy), { kind: 'renew' });
});
step('after failures it backs off, never past the end of the certificate', () => {
  const clock = new ManualClock(T0 + 61 * MIN);
  assert.equal(nextRenewalStep(cert, clock.now(), policy, 1, clock.now()), { kind: 'wait', at: T0 + 62 * MIN });
  assert.equal(nextRenewalStep(cert, clock.now(), policy, 3, clock.now()), { kind: 'wait', at: T0 + 65 * MIN });
  clock.advance(4 * MIN);
  assert.equal(nextRenewalStep(cert, clock.now(), policy, 3, T0 + 61 * MIN), { kind: 'renew' });
  const late = T0 + 89 * MIN;
  assert.equal(nextRenewalStep(cert, late, policy, 4, late), { kind: 'wait', at: cert.notAfter - 1 });
});
step('a certificate just issued with a backdated notBefore is not yet in its window', () => {
  const issued = T0 + 100 * MIN;
  const fresh = issuedValidity(issued - 5 * MIN, issued + 3 * MIN, 5 * MIN);
  const wide = { ...policy, window: 0.9 };
  assert.equal(nextRenewalStep(fresh, issued, wide), { kind: 'wait', at: issued + 18_000 });
  // Counted from the backdated notBefore it would renew at once, again and again.
  assert.equal(nextRenewalStep({ notBefore: issued - 5 * MIN, notAfter: issued + 3 * MIN }, issued, wide), { kind: 'renew' });
});
step('an expired certificate cannot renew', () => {
  assert.equal(nextRenewalStep(cert, cert.notAfter, policy), { kind: 'expired' });
});
step.run();
