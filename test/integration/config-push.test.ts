/**
 * Config push end to end (docs/config-push.md), with real processes: a secure cluster (the hub
 * with its embedded broker over mutual TLS, box a1 of site a enrolled with a claim code). The
 * test writes desired documents into the hub's store through setDesired (as the admin op
 * `config.set` will) and watches the box: a site document changes the registrar's bound that a
 * REGISTER gets (live) and reports a restart-only key as waiting; an invalid document is refused
 * whole and nothing is written; a document invalid with the box's file is refused by the box,
 * which keeps its config and reports the problems; SIGHUP with a broken file is refused, SIGHUP
 * after fixing the file applies it, and the node keeps running throughout; a box offline when a
 * document is set applies it once it reconnects, and a restart applies the key that waited.
 * Runs alone too: node --import tsx test/integration/config-push.test.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DesiredScope } from '../../agent/config/config-overlay.ts';
import { configStatus, setDesired, type BoxConfigStatus, type SetDesiredResult } from '../../agent/control/desired-config.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { explainedOn, passwordOf, SyncCluster, TRACE, withStoreOf } from '../helpers/sync-cluster.ts';
import { registerUser } from '../../bench/lib/sip-register.ts';
import { LOCALHOST } from '../helpers/calls.ts';

interface Ctx {
  cluster: SyncCluster;
  failed: boolean;
}

const USER = '2001';
const SITE: DesiredScope = { kind: 'site', id: 'a' };
const CONVERGE_MS = 30_000;
const test = suite<Ctx>('config push (processes)');
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

const setAtHub = (ctx: Ctx, doc: unknown): SetDesiredResult => withStoreOf(ctx.cluster.hub, (s) => setDesired(s, SITE, doc, 'config-push-test'));
const a1Status = (ctx: Ctx): BoxConfigStatus | undefined => withStoreOf(ctx.cluster.hub, (s) => configStatus(s).find((b) => b.node === 'a1'));

let seq = 0;
/** REGISTERs the user at a1 asking for `expires`: the status and the expiry the 200 grants. */
async function registerAsking(ctx: Ctx, expires: number): Promise<{ status: number | undefined; granted: number | undefined }> {
  const contact = `sip:${USER}-push-${++seq}@${LOCALHOST}:5999`;
  const r = await registerUser({ target: ctx.cluster.node('a1').sip, domain: ctx.cluster.domain, user: USER, password: passwordOf(USER), contact, expires });
  const mine = r.contacts.find((c) => c.includes(contact));
  const granted = mine === undefined ? undefined : Number(/;\s*expires=(\d+)/.exec(mine)?.[1]);
  return { status: r.status, granted };
}

test.before(async (ctx) => {
  ctx.failed = false;
  ctx.cluster = await SyncCluster.create({ broker: 'embedded', nodes: ['a1'], site: 'a' });
  assert.ok(ctx.cluster.secure, 'a secure cluster');
  await ctx.cluster.start();
  await ctx.cluster.addUsers([{ ext: USER, site: 'a' }]);
  await ctx.cluster.waitForUsers([ctx.cluster.node('a1')], [USER], CONVERGE_MS);
});

test.after(async (ctx) => {
  await ctx.cluster?.destroy(!ctx.failed);
});

test('a site document at the hub: the live key changes what a REGISTER gets, the restart-only key waits', explained(async (ctx) => {
  assert.equal(await registerAsking(ctx, 3000), { status: 200, granted: 3000 }, 'before: maxExpires is the default 7200');
  // The hub knows site a once a1 has announced itself.
  const set = await waitFor(() => {
    const r = setAtHub(ctx, { sip: { registrar: { maxExpires: 1200, defaultExpires: 600 }, timers: { t1: 400 } } });
    return r.ok ? r : undefined;
  }, 'the hub to accept a document for site a', CONVERGE_MS, 100);
  assert.is(set.version, 1);
  const t0 = performance.now();
  const reported = await waitFor(() => {
    const s = a1Status(ctx);
    return s?.reported?.applied.site === 1 ? s : undefined;
  }, "a1's report of site document v1 at the hub", CONVERGE_MS, 20);
  if (TRACE) console.log(`document set at the hub → a1's report of it at the hub: ${(performance.now() - t0).toFixed(0)} ms`);
  assert.ok(reported.inSync);
  assert.equal(reported.reported!.pendingRestart, ['sip.timers.t1']);
  assert.equal(reported.reported!.problems, []);
  const applied = ctx.cluster.node('a1').findLog('config applied', 0, (l) => l['reason'] === 'replicated');
  assert.ok(applied, 'a1 logged the change');
  assert.equal(applied!.line['live'], ['sip.registrar.defaultExpires', 'sip.registrar.maxExpires']);
  assert.equal(applied!.line['pendingRestart'], ['sip.timers.t1']);
  assert.equal(await registerAsking(ctx, 3000), { status: 200, granted: 1200 }, 'after: cut down to the new maxExpires');
}));

test('an invalid document is refused whole with its problems, and nothing is written', explained(async (ctx) => {
  const before = withStoreOf(ctx.cluster.hub, (s) => ({ head: s.changes.head(), row: s.desiredConfigs.get('site:a') }));
  const r = setAtHub(ctx, { sip: { registrar: { maxExpires: 900, maxExpire: 5 } }, log: { level: 'loud' } });
  assert.is(r.ok, false);
  if (r.ok) return;
  assert.is(r.problems.length, 2, r.problems.join('\n'));
  assert.is(r.problems[0], 'sip.registrar.maxExpire: unknown key (did you mean maxExpires?)');
  assert.match(r.problems[1]!, /^log\.level: /);
  // The hub keeps merging a1's rows meanwhile: what must not exist is a change the hub made itself.
  const after = withStoreOf(ctx.cluster.hub, (s) => ({ own: s.changes.page(before.head, { onlySite: s.changes.siteId() }, 10_000).changes, row: s.desiredConfigs.get('site:a') }));
  assert.equal(after.own, []);
  assert.equal(after.row, before.row);
}));

test('a document invalid with the box file: the box keeps its config and reports the problems', explained(async (ctx) => {
  // Valid alone, but a1's file keeps the default minExpires 60.
  const set = setAtHub(ctx, { sip: { registrar: { maxExpires: 30 } } });
  assert.equal(set, { ok: true, version: 2 });
  const refused = await waitFor(() => {
    const s = a1Status(ctx);
    return s?.reported?.seen.site === 2 ? s : undefined;
  }, "a1's report of site document v2 at the hub", CONVERGE_MS, 100);
  assert.equal(refused.reported!.applied, { site: 1 });
  assert.equal(refused.reported!.problems, ['sip.registrar: must satisfy minExpires <= defaultExpires <= maxExpires (from site document v2)']);
  assert.not.ok(refused.inSync);
  assert.ok(ctx.cluster.node('a1').findLog('config change refused: keeping the last good config'));
  assert.equal(await registerAsking(ctx, 3000), { status: 200, granted: 1200 }, 'the last good config still holds');
  assert.ok(ctx.cluster.node('a1').running);
}));

test('SIGHUP: a broken file is refused, the fixed file applies its live keys, the node keeps running', explained(async (ctx) => {
  const a1 = ctx.cluster.node('a1');
  const file = readFileSync(a1.configFile, 'utf8');
  if (!file.includes('maxContactsPerAor: 100 }')) throw new HarnessError(`unexpected config of a1:\n${file}`);
  const pid = a1.pid;
  writeFileSync(a1.configFile, `${file}\nsip: [`);
  process.kill(pid, 'SIGHUP');
  await a1.waitForLog('config change refused: keeping the last good config', CONVERGE_MS, (l) => l['reason'] === 'file');
  assert.equal(await registerAsking(ctx, 25), { status: 423, granted: undefined }, 'minExpires is still 60');
  // Lower minExpires in the file: with it the site document v2 (maxExpires 30) is valid.
  writeFileSync(a1.configFile, file.replace('maxContactsPerAor: 100 }', 'maxContactsPerAor: 100, minExpires: 20, defaultExpires: 25 }'));
  process.kill(pid, 'SIGHUP');
  const applied = await a1.waitForLog('config applied', CONVERGE_MS, (l) => l['reason'] === 'file');
  assert.equal(applied.line['live'], ['sip.registrar.defaultExpires', 'sip.registrar.maxExpires', 'sip.registrar.minExpires']);
  assert.equal(await registerAsking(ctx, 25), { status: 200, granted: 25 }, 'above the new minExpires');
  assert.equal(await registerAsking(ctx, 3000), { status: 200, granted: 30 }, 'cut down to the site document v2');
  const s = await waitFor(() => {
    const st = a1Status(ctx);
    return st?.reported?.applied.site === 2 ? st : undefined;
  }, "a1's report of site document v2 applied", CONVERGE_MS, 100);
  assert.equal(s.reported!.problems, []);
  assert.ok(s.inSync);
  assert.ok(a1.running && a1.pid === pid, 'the same node process runs');
}));

test('a box offline when a document is set applies it on reconnect; a restart applies the waiting key', explained(async (ctx) => {
  const a1 = ctx.cluster.node('a1');
  await a1.stop();
  assert.equal(setAtHub(ctx, { sip: { registrar: { maxExpires: 40 }, timers: { t1: 400 } } }), { ok: true, version: 3 });
  await a1.start();
  const caughtUp = await waitFor(() => {
    const st = a1Status(ctx);
    return st?.reported?.applied.site === 3 ? st : undefined;
  }, "a1's report of site document v3 after it reconnected", CONVERGE_MS, 100);
  assert.equal(caughtUp.reported!.pendingRestart, ['sip.timers.t1'], 'the document came after the start');
  assert.equal(await registerAsking(ctx, 3000), { status: 200, granted: 40 });
  await a1.stop();
  await a1.start();
  // At start the store already holds v3: the box boots with it, t1 included.
  await waitFor(() => a1Status(ctx)?.reported?.pendingRestart.length === 0, "a1's report with nothing waiting for a restart", CONVERGE_MS, 100);
  assert.equal(await registerAsking(ctx, 3000), { status: 200, granted: 40 });
}));

test('SIGHUP at the hub: it keeps running and names a changed key as waiting for its next start', explained(async (ctx) => {
  const hub = ctx.cluster.hub;
  const pid = hub.pid;
  const file = readFileSync(hub.configFile, 'utf8');
  writeFileSync(hub.configFile, `${file}\nupdates: { keepBundles: 7 }\n`);
  try {
    process.kill(pid, 'SIGHUP');
    const line = await hub.waitForLog('config file read again: these keys take effect at the next start of the hub', CONVERGE_MS);
    assert.equal(line.line['changed'], ['updates.keepBundles']);
  } finally {
    writeFileSync(hub.configFile, file);
  }
  assert.ok(hub.running && hub.pid === pid, 'the same hub process runs');
}));

test.run();
