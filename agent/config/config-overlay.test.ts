/** Desired documents (config-overlay.ts): the overlay order, null, what a document may hold, scopes. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DesiredScopeSchema, documentProblems, overlay, parseScope, scopeKey } from './config-overlay.ts';

const over = suite('overlay');

over('later documents win key by key; lists replace; null removes the key below', () => {
  const local = { sip: { domain: 'x', registrar: { maxExpires: 7200, minExpires: 60 } }, rtp: { codecs: ['opus', 'PCMA'] }, log: { level: 'warn' } };
  const fleet = { sip: { registrar: { maxExpires: 3600 } }, rtp: { codecs: ['PCMU'] } };
  const site = { sip: { registrar: { maxExpires: 1800 } }, log: null };
  const node = { sip: { registrar: { minExpires: 120 } } };
  const out = overlay(local, [fleet, site, node]);
  assert.equal(out, { sip: { domain: 'x', registrar: { maxExpires: 1800, minExpires: 120 } }, rtp: { codecs: ['PCMU'] } });
  assert.equal(local.sip.registrar.maxExpires, 7200, 'the inputs are not changed');
});

const problems = suite('documentProblems');

problems('a valid document of several sections has none', () => {
  assert.equal(documentProblems({ log: { level: 'debug' }, sip: { registrar: { maxExpires: 600 }, flood: { ban: { window: 30 } } }, rtp: { codecs: ['pcma'] } }), []);
  assert.equal(documentProblems({}), []);
  assert.equal(documentProblems({ calls: { ringTimeout: null } }), [], 'null: back to the default');
});

problems('unknown keys are named by their path, with a guess', () => {
  assert.equal(documentProblems({ sip: { registrar: { maxExpire: 600, colour: 'red' } }, frobnicate: 1 }), [
    'sip.registrar.maxExpire: unknown key (did you mean maxExpires?)',
    'sip.registrar.colour: unknown key',
    'frobnicate: unknown key',
  ]);
});

problems('bad values name the key; identity and storage stay local', () => {
  const p = documentProblems({ sip: { registrar: { maxExpires: 0 } }, log: { level: 'loud' }, node: { id: 'b2' }, dataDir: '/tmp' });
  assert.is(p.length, 4, p.join('\n'));
  assert.ok(p[0]!.startsWith('sip.registrar.maxExpires: '));
  assert.ok(p[1]!.startsWith('log.level: '));
  assert.is(p[2], "node: set only in the box's own file, not by a desired config");
  assert.is(p[3], "dataDir: set only in the box's own file, not by a desired config");
  assert.equal(documentProblems([1]), ['(document): expected a mapping of config sections, got a list']);
});

problems('a list of objects is checked whole', () => {
  const p = documentProblems({ peers: [{ id: 'a2', url: 'nope' }] });
  assert.is(p.length, 1);
  assert.ok(p[0]!.startsWith('peers[0].url: '), p[0]);
});

const scopes = suite('parseScope');

scopes('fleet, site:ID, node:ID round-trip; anything else is refused', () => {
  for (const s of ['fleet', 'site:branch-a', 'node:a1']) assert.is(scopeKey(parseScope(s) as never), s);
  assert.type(parseScope('site:'), 'string');
  assert.type(parseScope('box:a1'), 'string');
  assert.equal(DesiredScopeSchema.parse({ kind: 'site', id: 'branch-a' }), { kind: 'site', id: 'branch-a' });
  assert.not.ok(DesiredScopeSchema.safeParse({ kind: 'site' }).success);
  assert.not.ok(DesiredScopeSchema.safeParse({ kind: 'fleet', id: 'x' }).success);
});

over.run();
problems.run();
scopes.run();
