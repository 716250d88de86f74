import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { nextOffers, type BoxUpdateView } from './rollout.ts';

const box = (node: string, site: string, over: Partial<BoxUpdateView> = {}): BoxUpdateView => ({ node, site, running: '1.0', phase: 'idle', version: undefined, ...over });
const test = suite('rollout staging');

test('one box of each site first', () => {
  const step = nextOffers('2.0', [box('b2', 's1'), box('b1', 's1'), box('c1', 's2'), box('c2', 's2')]);
  assert.equal(step.offer, ['b1', 'c1']);
});

test('never a second box of a site while one is in flight', () => {
  const step = nextOffers('2.0', [box('b1', 's1', { phase: 'rebooting', version: '2.0' }), box('b2', 's1')]);
  assert.equal(step.offer, []);
});

test('the next box only after the one before committed; a site where all run it is done', () => {
  const committed = { phase: 'committed' as const, version: '2.0', running: '2.0' };
  assert.equal(nextOffers('2.0', [box('b1', 's1', committed), box('b2', 's1')]).offer, ['b2']);
  assert.equal(nextOffers('2.0', [box('b1', 's1', committed), box('b2', 's1', committed)]).done, ['s1']);
});

test('a rollback halts the site', () => {
  const step = nextOffers('2.0', [box('b1', 's1', { phase: 'rolled-back', version: '2.0' }), box('b2', 's1'), box('c1', 's2')]);
  assert.equal(step.offer, ['c1']);
  assert.equal(step.halted, [{ site: 's1', node: 'b1', reason: 'rolled-back on b1' }]);
});

test.run();
