/**
 * The hub's API of config push (desired-config.ts) on a real store: a valid document is written
 * with the next version, an invalid one writes nothing; status compares desired and reported.
 * Also: the scope rules carry the documents to the right streams, and only the hub writes them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import type { Change } from '../store/change-log.ts';
import { Store } from '../store/store.ts';
import { checkAuthority } from '../sync/authority.ts';
import { splitByStream } from '../sync/scope.ts';
import { configStatus, setDesired } from './desired-config.ts';

const opened: Store[] = [];
const open = () => opened[opened.push(Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-desired-')), durable: false })) - 1]!;
const clock = new ManualClock();

function hubWithBoxes(): Store {
  const hub = open();
  hub.nodes.upsert({ id: 'a1', site: 'branch-a', role: 'node', siteId: 'aa', publicKey: 'k1' }, clock.now());
  hub.nodes.upsert({ id: 'b1', site: 'branch-b', role: 'node', siteId: 'bb', publicKey: 'k2' }, clock.now());
  return hub;
}

const set = suite('setDesired');
set.after.each(() => opened.splice(0).forEach((s) => s.close()));

set('writes a valid document with the next version, who and when', () => {
  const hub = hubWithBoxes();
  assert.equal(setDesired(hub, { kind: 'site', id: 'branch-a' }, { sip: { registrar: { maxExpires: 600 } } }, 'ann', clock), { ok: true, version: 1 });
  clock.advance(1000);
  assert.equal(setDesired(hub, { kind: 'site', id: 'branch-a' }, 'log:\n  level: debug\n', 'bob', clock), { ok: true, version: 2 });
  const row = hub.desiredConfigs.get('site:branch-a')!;
  assert.equal(row, { scope: 'site:branch-a', site: 'branch-a', document: '{"log":{"level":"debug"}}', version: 2, setBy: 'bob', setAt: clock.now() });
  assert.equal(setDesired(hub, { kind: 'node', id: 'b1' }, {}, 'ann', clock), { ok: true, version: 1 });
  assert.is(hub.desiredConfigs.get('node:b1')!.site, 'branch-b', "a node's document travels on its site's stream");
  assert.is(setDesired(hub, { kind: 'fleet' }, { rtp: { codecs: ['PCMA'] } }, 'ann', clock).ok, true);
  assert.is(hub.desiredConfigs.get('fleet')!.site, '');
});

set('an invalid document is refused whole with every problem, and nothing is written', () => {
  const hub = hubWithBoxes();
  const before = hub.dbVersion();
  const r = setDesired(hub, { kind: 'site', id: 'branch-a' }, { sip: { registrar: { maxExpires: 600, colour: 1 } }, log: { level: 'loud' } }, 'ann', clock);
  assert.is(r.ok, false);
  if (r.ok) return;
  assert.is(r.problems.length, 2, r.problems.join('\n'));
  assert.is(r.problems[0], 'sip.registrar.colour: unknown key');
  assert.ok(r.problems[1]!.startsWith('log.level: '));
  assert.equal(setDesired(hub, { kind: 'node', id: 'zz' }, {}, 'ann', clock), { ok: false, problems: ['(scope): no box zz known to this hub (it appears once enrolled and connected)'] });
  assert.is(setDesired(hub, { kind: 'site', id: 'nowhere' }, {}, 'ann', clock).ok, false);
  assert.is(setDesired(hub, { kind: 'fleet' }, 'a: [', 'ann', clock).ok, false);
  assert.is(hub.dbVersion(), before, 'nothing was written');
  assert.equal(hub.desiredConfigs.list(), []);
});

const status = suite('configStatus');
status.after.each(() => opened.splice(0).forEach((s) => s.close()));

status('desired versions per box against its report', () => {
  const hub = hubWithBoxes();
  setDesired(hub, { kind: 'fleet' }, {}, 'ann', clock);
  setDesired(hub, { kind: 'site', id: 'branch-a' }, {}, 'ann', clock);
  setDesired(hub, { kind: 'site', id: 'branch-a' }, {}, 'ann', clock);
  hub.configReports.put({ nodeId: 'a1', applied: { fleet: 1, site: 2 }, desired: { fleet: 1, site: 2 }, pendingRestart: ['sip.listen'], problems: [], reportedAt: 5 });
  hub.configReports.put({ nodeId: 'b1', applied: {}, desired: { fleet: 1 }, pendingRestart: [], problems: ['x: bad'], reportedAt: 6 });
  const s = configStatus(hub);
  assert.equal(s.map((b) => [b.node, b.desired, b.inSync]), [['a1', { fleet: 1, site: 2 }, true], ['b1', { fleet: 1 }, false]]);
  assert.equal(s[0]!.reported?.pendingRestart, ['sip.listen']);
  assert.equal(s[1]!.reported?.problems, ['x: bad']);
});

const travel = suite('desired config scope and authority');
travel.after.each(() => opened.splice(0).forEach((s) => s.close()));

travel('fleet on global, a site and its nodes on the site stream; a site admin key may not write them', () => {
  const hub = hubWithBoxes();
  const from = hub.changes.head();
  setDesired(hub, { kind: 'fleet' }, { log: { level: 'warn' } }, 'ann', clock);
  setDesired(hub, { kind: 'site', id: 'branch-a' }, {}, 'ann', clock);
  setDesired(hub, { kind: 'node', id: 'b1' }, {}, 'ann', clock);
  const changes: Change[] = hub.changes.page(from, {}, 1000).changes;
  const streams = splitByStream(changes, (t, pk, col) => hub.changes.column(t, pk, col), () => undefined);
  const scopesOn = (stream: string) => [...new Set((streams.get(stream as never) ?? []).map((c) => c.table))];
  assert.equal([...streams.keys()].sort(), ['global', 'site/branch-a', 'site/branch-b']);
  assert.equal(scopesOn('global'), ['desired_configs']);
  const box = open();
  const v = checkAuthority(changes, { nodeId: 'a1', siteId: hub.changes.siteId().toString('hex'), isHub: false, adminOfSite: 'branch-a' }, (t, pk, col) => box.changes.column(t, pk, col));
  assert.is(v.accepted.length, 0);
  assert.match(v.rejected[0]!.reason, /admin-owned; only the hub/);
});

set.run();
status.run();
travel.run();
