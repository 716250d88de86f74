import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TransactionError } from './errors.ts';
import { transactionTimers } from './timers.ts';

const timers = suite('transactionTimers');

timers('RFC 3261 Table 4: defaults T1=500 ms, T2=4 s, T4=5 s and the derived A-K on UDP', () => {
  const t = transactionTimers();
  assert.is(t.reliable, false);
  assert.equal([t.t1, t.t2, t.t4], [500, 4_000, 5_000]);
  assert.equal([t.A, t.B, t.D], [500, 32_000, 32_000]);
  assert.equal([t.E, t.F, t.K], [500, 32_000, 5_000]);
  assert.equal([t.G, t.H, t.I, t.J], [500, 32_000, 5_000, 32_000]);
  assert.equal([t.L, t.M, t.trying], [32_000, 32_000, 200]);
});

timers('RFC 3261 §17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2: reliable transports drop A/E/G and zero D/I/J/K', () => {
  const t = transactionTimers({}, true);
  assert.equal([t.A, t.E, t.G], [null, null, null]);
  assert.equal([t.D, t.I, t.J, t.K], [0, 0, 0, 0]);
  assert.equal([t.B, t.F, t.H, t.L, t.M], [32_000, 32_000, 32_000, 32_000, 32_000]);
});

timers('RFC 3261 §17.1.1.1: T1/T2/T4 are overridable and every 64*T1 timer follows T1', () => {
  const t = transactionTimers({ t1: 1_000, t2: 8_000, t4: 10_000, tryingDelay: 100 });
  assert.equal([t.A, t.B, t.F, t.H, t.J, t.L, t.M], [1_000, 64_000, 64_000, 64_000, 64_000, 64_000, 64_000]);
  assert.is(t.D, 64_000, 'D is at least 32 s and never shorter than 64*T1');
  assert.equal([t.I, t.K, t.trying], [10_000, 10_000, 100]);
  assert.is(transactionTimers({ t1: 100 }).D, 32_000, 'D stays >= 32 s with a small T1');
});

timers('non-positive base values are configuration bugs', () => {
  const isConfigError = (e: unknown) => e instanceof TransactionError && e.code === 'transaction.config';
  assert.throws(() => transactionTimers({ t1: 0 }), isConfigError);
  assert.throws(() => transactionTimers({ t2: Number.NaN }), isConfigError);
  assert.throws(() => transactionTimers({ t4: -1 }), isConfigError);
});

timers.run();
