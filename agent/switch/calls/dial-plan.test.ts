import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RouteRecord } from '../../store/routes.ts';
import { compilePattern, decideRoute, matchesPattern, rewriteNumber } from './dial-plan.ts';

const route = (over: Partial<RouteRecord>): RouteRecord => ({ id: 'r', pattern: 'X.', priority: 100, action: 'trunk', target: 't1', strip: 0, prefix: '', site: '', enabled: true, ...over });

const patterns = suite('matchesPattern');

patterns('X, Z, N, sets, literals and the trailing dot', () => {
  assert.ok(matchesPattern('1XXX', '1234'));
  assert.not.ok(matchesPattern('1XXX', '12345'));
  assert.ok(matchesPattern('NXXNXXXXXX', '2125551234'));
  assert.not.ok(matchesPattern('NXX', '112'));
  assert.ok(matchesPattern('9Z.', '912'));
  assert.not.ok(matchesPattern('9Z.', '9'));
  assert.ok(matchesPattern('[1-3]5', '25'));
  assert.not.ok(matchesPattern('[1-3]5', '45'));
  assert.ok(matchesPattern('*72', '*72'));
  assert.ok(matchesPattern('+X.', '+4930123'));
});

patterns('malformed patterns match nothing', () => {
  for (const p of ['', '1.2', '[a]5', '[15', 'abc', '1(2)', '[5-1]XX']) assert.is(compilePattern(p), null, p);
});

const decide = suite('decideRoute');

decide('an existing extension wins over routes', () => {
  const d = decideRoute('1001', { isExtension: (e) => e === '1001', routes: [route({ pattern: 'X.' })] });
  assert.equal(d, { kind: 'extension', ext: '1001', route: null });
});

decide('routes in priority order, with strip/prefix rewrite; disabled ones skipped', () => {
  const routes = [
    route({ id: 'off', pattern: '9X.', enabled: false, target: 'never' }),
    route({ id: 'out', pattern: '9X.', strip: 1, prefix: '+49', target: 'pstn' }),
    route({ id: 'all', pattern: 'X.', target: 'other' }),
  ];
  assert.equal(decideRoute('9301234', { isExtension: () => false, routes }), { kind: 'trunk', trunk: 'pstn', number: '+49301234', route: 'out' });
  assert.equal(rewriteNumber('9301', { strip: 5, prefix: '' }), '');
});

decide('an extension route maps short codes; reject routes answer their status; no match is 404', () => {
  const routes = [route({ id: 'op', pattern: '0', action: 'extension', prefix: '1000', strip: 1 }), route({ id: 'block', pattern: '900X.', action: 'reject', target: '403' })];
  const isExtension = (e: string) => e === '1000';
  assert.equal(decideRoute('0', { isExtension, routes }), { kind: 'extension', ext: '1000', route: 'op' });
  assert.equal(decideRoute('9001234', { isExtension, routes }), { kind: 'reject', status: 403, reason: 'Rejected by dial plan', route: 'block' });
  assert.equal(decideRoute('5555', { isExtension, routes }), { kind: 'reject', status: 404, reason: 'No route to 5555', route: null });
});

patterns.run();
decide.run();
