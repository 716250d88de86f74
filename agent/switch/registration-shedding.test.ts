import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { RegistrationShedding, type SheddingConfig } from './registration-shedding.ts';

const CONFIG: SheddingConfig = { shedLag: 300, shedPending: 100, retryAfter: [1, 10] };

/** A random source that returns `values` in turn. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

const decide = suite('RegistrationShedding.decide');

decide('under both limits nothing is shed, with or without credentials', () => {
  const s = new RegistrationShedding(CONFIG, () => 0);
  assert.equal(s.decide({ lagMs: 300, pending: 99 }, false), { shed: false });
  assert.equal(s.decide({ lagMs: 0, pending: 0 }, true), { shed: false });
});

decide('over shedLag or at shedPending: a REGISTER without credentials is shed, one with credentials passes', () => {
  const s = new RegistrationShedding(CONFIG, () => 0);
  assert.equal(s.decide({ lagMs: 301, pending: 0 }, false), { shed: true, retryAfter: 1, why: 'lag' });
  assert.equal(s.decide({ lagMs: 0, pending: 100 }, false), { shed: true, retryAfter: 1, why: 'pending' });
  assert.equal(s.decide({ lagMs: 301, pending: 100 }, true), { shed: false });
});

decide('twice over a limit, a REGISTER with credentials is shed too', () => {
  const s = new RegistrationShedding(CONFIG, () => 0);
  assert.equal(s.decide({ lagMs: 601, pending: 0 }, true), { shed: true, retryAfter: 1, why: 'lag' });
  assert.equal(s.decide({ lagMs: 0, pending: 200 }, true), { shed: true, retryAfter: 1, why: 'pending' });
});

decide('Retry-After is spread uniformly over [min, max] whole seconds by the random source', () => {
  const s = new RegistrationShedding(CONFIG, sequence(0, 0.0999, 0.1, 0.5, 0.9, 0.999999, 1));
  const got = Array.from({ length: 7 }, () => {
    const d = s.decide({ lagMs: 1000, pending: 0 }, false);
    return d.shed ? d.retryAfter : 0;
  });
  assert.equal(got, [1, 1, 2, 6, 10, 10, 10], 'a source that returns 1 stays in range');
  // A stampede of 1000 phones: every second of the range gets some, none outside it.
  let seed = 42;
  const lcg = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const spread = new RegistrationShedding({ ...CONFIG, retryAfter: [2, 5] }, lcg);
  const counts = new Map<number, number>();
  for (let i = 0; i < 1000; i++) {
    const d = spread.decide({ lagMs: 1000, pending: 0 }, false);
    if (d.shed) counts.set(d.retryAfter, (counts.get(d.retryAfter) ?? 0) + 1);
  }
  assert.equal([...counts.keys()].sort(), [2, 3, 4, 5]);
  for (const n of counts.values()) assert.ok(n > 150, `each second gets about a quarter: ${[...counts]}`);
});

decide.run();
