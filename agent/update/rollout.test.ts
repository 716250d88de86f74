import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { nextOffers, nextPermits, type BoxPermitView, type BoxUpdateView } from './rollout.ts';

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

const pbox = (node: string, site: string, over: Partial<BoxPermitView> = {}): BoxPermitView => ({ ...box(node, site), target: '2.0', permitted: undefined, ...over });

test('permits: one box of each site first, with its own target version', () => {
  const step = nextPermits([pbox('b2', 's1'), pbox('b1', 's1'), pbox('c1', 's2', { target: '3.0' })]);
  assert.equal(step.permit, [{ node: 'b1', site: 's1', version: '2.0' }, { node: 'c1', site: 's2', version: '3.0' }]);
});

test('permits: an unused permit (the box is offline) holds the site back', () => {
  const step = nextPermits([pbox('b1', 's1', { permitted: '2.0' }), pbox('b2', 's1')]);
  assert.equal(step.permit, []);
});

test('permits: the next box once the first committed; none while one is in flight; a failure halts', () => {
  const committed = { phase: 'committed' as const, version: '2.0', running: '2.0', permitted: '2.0' };
  assert.equal(nextPermits([pbox('b1', 's1', committed), pbox('b2', 's1')]).permit, [{ node: 'b2', site: 's1', version: '2.0' }]);
  assert.equal(nextPermits([pbox('b1', 's1', { phase: 'installing', version: '2.0', permitted: '2.0' }), pbox('b2', 's1')]).permit, []);
  const failed = nextPermits([pbox('b1', 's1', { phase: 'failed', version: '2.0', permitted: '2.0' }), pbox('b2', 's1')]);
  assert.equal(failed.permit, []);
  assert.equal(failed.halted, [{ site: 's1', node: 'b1', reason: 'failed on b1' }]);
  // A new version offered after the failure: the site goes on.
  assert.equal(nextPermits([pbox('b1', 's1', { phase: 'failed', version: '2.0', permitted: '2.0', target: '2.1' })]).permit, [{ node: 'b1', site: 's1', version: '2.1' }]);
});

test.run();
