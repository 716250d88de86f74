/**
 * Updates through the admin API end to end (docs/updates.md "The admin API", docs/cli/admin.md
 * "Updates"), with real processes: a secure cluster (the hub with its embedded broker and
 * enrolment endpoint, boxes a1 and a2 of site a), an admin logged in with a claim code, fake
 * `rauc` and reboot commands (OUTPOST_UPDATE_RAUC, OUTPOST_UPDATE_REBOOT) recording their calls,
 * and a "reboot" being a restart of the box process with the new version and a good health
 * verdict. The bundle is placed with `outpost update import` at the hub and offered by
 * `outpost admin update offer`: one box downloads, installs, deletes the bundle and reports;
 * `update.status` over the admin API shows every box; `update.cancel` leaves the box in flight
 * to finish and gives the other box no permit; a partial download is deleted at the next start.
 * Runs alone too: node --import tsx test/integration/admin-update.test.ts
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AdminClient } from '../../agent/admin/admin-client.ts';
import { readAdminCredential } from '../../agent/admin/admin-credential.ts';
import type { UpdateStateRecord } from '../../agent/store/update-offers.ts';
import { permitViews } from '../../agent/update/hub-rollout.ts';
import type { HubUpdateStatus } from '../../agent/update/hub-update-status.ts';
import { nextPermits } from '../../agent/update/rollout.ts';
import type { AdminResponse } from '../../agent/wire/admin.ts';
import { loginAdmin } from '../../bench/lib/admin-login.ts';
import { runCli } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { explainedOn, SyncCluster, withStoreOf } from '../helpers/sync-cluster.ts';
import { FakeUpdateCommands } from '../helpers/update-boxes.ts';

interface Ctx {
  cluster: SyncCluster;
  client: AdminClient;
  admin: string;
  failed: boolean;
  dir: string;
  fake: FakeUpdateCommands;
  bundle: Buffer;
}

const CONVERGE_MS = 60_000;
const BUNDLE = 'outpost-arm64-2.0.raucb';
const test = suite<Ctx>('updates through the admin API (processes)');
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

const hubState = (ctx: Ctx, node: string): UpdateStateRecord | undefined => withStoreOf(ctx.cluster.hub, (s) => s.updates.state(node));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const admin = (ctx: Ctx, args: string[]) => runCli(['admin', '--credential', ctx.admin, ...args], ctx.cluster.dir);
const problems = (r: AdminResponse) => (r.ok ? [] : r.problems);

test.before(async (ctx) => {
  ctx.failed = false;
  ctx.fake = new FakeUpdateCommands('outpost-admin-update-');
  ctx.dir = ctx.fake.dir;
  ctx.cluster = await SyncCluster.create({ broker: 'embedded', nodes: ['a1', 'a2'], site: 'a' });
  assert.ok(ctx.cluster.secure, 'a secure cluster');
  await ctx.cluster.start();
  ctx.admin = (await loginAdmin(ctx.cluster.hub.configFile, ctx.cluster.dir, 'ann')).credential;
  ctx.client = new AdminClient({ credential: readAdminCredential(ctx.admin), timeoutMs: 10_000 });
  await ctx.client.connect();
  await waitFor(() => ['a1', 'a2'].every((n) => hubState(ctx, n)?.running === '1.0') || undefined, 'both boxes reported to the hub', CONVERGE_MS, 100);
});

test.after(async (ctx) => {
  await ctx.client?.close();
  await ctx.cluster?.destroy(!ctx.failed);
  ctx.fake?.restoreEnv();
  if (!ctx.failed && ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

test('an admin offers a bundle the hub holds; one box downloads, installs, deletes the bundle and reports', explained(async (ctx) => {
  ctx.bundle = randomBytes(256 * 1024);
  const file = join(ctx.dir, BUNDLE);
  writeFileSync(file, ctx.bundle);
  const missing = await ctx.client.request('update.offer', { target: { kind: 'site', id: 'a' }, bundle: BUNDLE });
  assert.match(problems(missing)[0] ?? '', /^no bundle outpost-arm64-2\.0\.raucb in the hub's bundle folder/, 'not imported yet');
  const imported = await runCli(['update', 'import', file, '--config', ctx.cluster.hub.configFile], ctx.dir);
  assert.is(imported.stdout.trim(), `imported ${BUNDLE}: ${ctx.bundle.length} bytes, sha256 ${sha256(ctx.bundle)}`, imported.stderr);
  assert.equal(problems(await ctx.client.request('update.offer', { target: { kind: 'site', id: 'b' }, bundle: BUNDLE })), ['no site b known to this hub (no site row and no box of it)']);
  assert.equal(problems(await ctx.client.request('update.offer', { target: { kind: 'node', id: 'a9' }, bundle: BUNDLE })), ['no box a9 known to this hub']);
  assert.match(problems(await ctx.client.request('update.offer', { target: { kind: 'fleet' }, bundle: `../${BUNDLE}` }))[0] ?? '', /no path/);
  assert.equal(withStoreOf(ctx.cluster.hub, (s) => s.updates.offers()), [], 'no offer written by the refused requests');

  const offered = await admin(ctx, ['update', 'offer', BUNDLE, '--site', 'a']);
  assert.is(offered.code, 0, offered.stderr);
  assert.is(offered.stdout.trim(), `offered 2.0 to site:a: ${BUNDLE}, ${ctx.bundle.length} bytes, sha256 ${sha256(ctx.bundle)}`);
  const first = await waitFor(() => {
    const s = hubState(ctx, 'a1');
    return s?.phase === 'rebooting' ? s : undefined;
  }, 'a1 reporting rebooting into 2.0 at the hub', CONVERGE_MS, 100);
  assert.equal([first.version, first.running, first.targetSlot, first.error], ['2.0', '1.0', 'B', '']);
  assert.equal(ctx.fake.calls().filter((c) => !c.startsWith('rauc install ')), [`installed ${sha256(ctx.bundle)}`, 'rauc status --output-format=json', 'reboot'], 'rauc installed the offered bytes');
  assert.not.ok(existsSync(join(ctx.cluster.node('a1').dataDir, 'update', 'bundle.raucb')), 'a1 deleted the bundle after the install');
  assert.is(hubState(ctx, 'a2')?.phase, 'idle', 'a2 has not started');
  assert.is(withStoreOf(ctx.cluster.hub, (s) => s.updates.offer('site:a')?.setBy), 'ann', 'the offer names the admin');
}));

test('update.status over the admin API: each box with its site, phase, running version, permit', explained(async (ctx) => {
  const r = await ctx.client.request('update.status', {});
  assert.ok(r.ok, problems(r).join('; '));
  const st = r.result as HubUpdateStatus;
  assert.equal(st.offers.map((o) => [o.scope, o.version, o.bundle, o.sha256]), [['site:a', '2.0', BUNDLE, sha256(ctx.bundle)]]);
  assert.equal(st.boxes.map((b) => [b.node, b.site, b.phase, b.version, b.running, b.permitted, b.error]), [
    ['a1', 'a', 'rebooting', '2.0', '1.0', '2.0', ''],
    ['a2', 'a', 'idle', '', '1.0', '', ''],
  ]);
  const cli = await admin(ctx, ['update', 'status']);
  assert.is(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /^offer {2}site:a 2\.0 \(outpost-arm64-2\.0\.raucb, 262144 bytes, sha256 [0-9a-f]{12}…\), set by ann at /);
  assert.match(cli.stdout, /box {4}a1 \(site a\): rebooting 2\.0, runs 1\.0 on slot A, permitted 2\.0, since /);
  assert.match(cli.stdout, /box {4}a2 \(site a\): idle, runs 1\.0 on slot A, since /);
}));

test('update.cancel: the box in flight finishes, the other gets no permit; a partial download goes at the next start', explained(async (ctx) => {
  const hub = ctx.cluster.hub;
  const from = hub.logs.length;
  const cancelled = await admin(ctx, ['update', 'cancel', '--site', 'a']);
  assert.is(cancelled.stdout.trim(), 'withdrew the offer of 2.0 to site:a', cancelled.stderr);
  // The hub's rollout saw the offers change: from this pass on it sees no box under an offer.
  await waitFor(() => hub.findLog('update offers', from, (l) => Array.isArray(l['offers']) && l['offers'].length === 0), 'the hub rollout to see the withdrawn offer', CONVERGE_MS, 50);

  const a1 = ctx.cluster.node('a1');
  writeFileSync(join(a1.dataDir, 'update', 'bundle.raucb.part'), randomBytes(1024));
  await ctx.fake.rebootInto(ctx.cluster, 'a1', '2.0');
  assert.not.ok(existsSync(join(a1.dataDir, 'update', 'bundle.raucb.part')), 'the partial download was deleted at start');
  await waitFor(() => hubState(ctx, 'a1')?.phase === 'committed' || undefined, 'a1 committed 2.0 without the offer', CONVERGE_MS, 100);
  // Every rollout pass since the log above saw no offer for site a, so none could write a permit
  // for a2: the permits table shows it, and the rule on the hub's store agrees after a1's commit.
  withStoreOf(hub, (s) => {
    assert.equal(nextPermits(permitViews(s)).permit, [], 'the rule gives a2 nothing');
    assert.equal(s.updates.permits().map((p) => [p.nodeId, p.version]), [['a1', '2.0']], 'a2 holds no permit');
  });
  assert.is(hubState(ctx, 'a2')?.phase, 'idle');
  assert.equal(ctx.fake.calls().filter((c) => c.startsWith('rauc install')).length, 1, 'a2 installed nothing');
}));

test.run();
