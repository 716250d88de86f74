/**
 * Update delivery end to end (docs/updates.md), with real processes: a secure cluster (the hub
 * with its embedded broker and enrolment endpoint, boxes a1 and a2 of site a, enrolled with
 * claim codes). `rauc` and the reboot are fake scripts (OUTPOST_UPDATE_RAUC,
 * OUTPOST_UPDATE_REBOOT) that record their calls; the version and slot a box booted are given by
 * OUTPOST_RELEASE_FILE and OUTPOST_BOOT_SLOT, and a "reboot" is a restart of the box process with
 * the new ones and the health check's verdict written. `outpost update offer` of a bundle to the
 * site: exactly one box downloads it over mutual TLS (checksum verified), installs and reports;
 * the other gets its permit only once the first reports committed; the hub's `update status`
 * shows both; an offer whose checksum does not match its bundle is refused by the box and halts
 * the site. Runs alone too: node --import tsx test/integration/update-offer.test.ts
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { UpdateStateRecord } from '../../agent/store/update-offers.ts';
import { runCli } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { explainedOn, SyncCluster, withStoreOf } from '../helpers/sync-cluster.ts';
import { FakeUpdateCommands } from '../helpers/update-boxes.ts';

interface Ctx {
  cluster: SyncCluster;
  failed: boolean;
  dir: string;
  fake: FakeUpdateCommands;
}

const CONVERGE_MS = 60_000;
const test = suite<Ctx>('update offer (processes)');
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

const hubState = (ctx: Ctx, node: string): UpdateStateRecord | undefined => withStoreOf(ctx.cluster.hub, (s) => s.updates.state(node));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test.before(async (ctx) => {
  ctx.failed = false;
  ctx.fake = new FakeUpdateCommands('outpost-update-offer-');
  ctx.dir = ctx.fake.dir;
  ctx.cluster = await SyncCluster.create({ broker: 'embedded', nodes: ['a1', 'a2'], site: 'a' });
  assert.ok(ctx.cluster.secure, 'a secure cluster');
  await ctx.cluster.start();
  // The hub knows both boxes, and both reported that they run 1.0.
  await waitFor(() => ['a1', 'a2'].every((n) => hubState(ctx, n)?.running === '1.0') || undefined, 'both boxes reported to the hub', CONVERGE_MS, 100);
});

test.after(async (ctx) => {
  await ctx.cluster?.destroy(!ctx.failed);
  ctx.fake?.restoreEnv();
  if (!ctx.failed && ctx.dir) rmSync(ctx.dir, { recursive: true, force: true });
});

test('an offer to the site: exactly one box downloads (checksum verified), installs and reports; the other waits', explained(async (ctx) => {
  const bundle = join(ctx.dir, 'outpost-arm64-2.0.raucb');
  const bytes = randomBytes(256 * 1024);
  writeFileSync(bundle, bytes);
  const offered = await runCli(['update', 'offer', bundle, '--site', 'a', '--config', ctx.cluster.hub.configFile], ctx.dir);
  assert.is(offered.code, 0, offered.stderr);
  assert.is(offered.stdout.trim(), `offered 2.0 to site:a: outpost-arm64-2.0.raucb, ${bytes.length} bytes, sha256 ${sha256(bytes)}`);

  const first = await waitFor(() => {
    const s = hubState(ctx, 'a1');
    return s?.phase === 'rebooting' ? s : undefined;
  }, 'a1 reporting rebooting into 2.0 at the hub', CONVERGE_MS, 100);
  assert.equal([first.version, first.running, first.slot, first.targetSlot, first.error], ['2.0', '1.0', 'A', 'B', '']);
  const a1 = ctx.cluster.node('a1');
  assert.not.ok(existsSync(join(a1.dataDir, 'update', 'bundle.raucb')), 'a1 deleted the bundle once rauc install ended');
  assert.equal(ctx.fake.calls(), [`rauc install ${join(a1.dataDir, 'update', 'bundle.raucb')}`, `installed ${sha256(bytes)}`, 'rauc status --output-format=json', 'reboot']);
  assert.is(hubState(ctx, 'a2')?.phase, 'idle', 'a2 has not started');
  assert.equal(withStoreOf(ctx.cluster.hub, (s) => s.updates.permits().map((p) => [p.nodeId, p.version])), [['a1', '2.0']], 'one permit in the site');
  assert.not.ok(existsSync(join(ctx.cluster.node('a2').dataDir, 'update', 'bundle.raucb')));
}));

test('the second box gets its permit once the first reports committed; the hub\'s update status shows both', explained(async (ctx) => {
  await ctx.fake.rebootInto(ctx.cluster, 'a1', '2.0');
  await waitFor(() => hubState(ctx, 'a2')?.phase === 'rebooting' || undefined, 'a2 rebooting into 2.0 after a1 committed', CONVERGE_MS, 100);
  const a1 = hubState(ctx, 'a1')!;
  assert.equal([a1.phase, a1.running, a1.slot], ['committed', '2.0', 'B']);
  assert.is(a1.at <= hubState(ctx, 'a2')!.at, true, 'a2 moved after a1 committed');
  assert.is(ctx.fake.calls().filter((c) => c.startsWith('rauc install')).length, 2);
  const status = await runCli(['update', 'status', '--config', ctx.cluster.hub.configFile], ctx.dir);
  assert.is(status.code, 0, status.stderr);
  const lines = status.stdout.trim().split('\n');
  assert.match(lines[0]!, /^offer {2}site:a 2\.0 \(outpost-arm64-2\.0\.raucb, 262144 bytes, sha256 [0-9a-f]{12}…\), set by /);
  assert.match(status.stdout, /box {4}a1 \(site a\): committed 2\.0, runs 2\.0 on slot B, permitted 2\.0, since /);
  assert.match(status.stdout, /box {4}a2 \(site a\): rebooting 2\.0, runs 1\.0 on slot A, permitted 2\.0, since /);
}));

test('an offer whose checksum does not match the bundle is refused by the box and halts the site', explained(async (ctx) => {
  await ctx.fake.rebootInto(ctx.cluster, 'a2', '2.0');
  await waitFor(() => hubState(ctx, 'a2')?.phase === 'committed' || undefined, 'a2 committed', CONVERGE_MS, 100);
  const hub = ctx.cluster.hub;
  mkdirSync(join(hub.dataDir, 'bundles'), { recursive: true });
  writeFileSync(join(hub.dataDir, 'bundles', 'outpost-arm64-3.0.raucb'), randomBytes(64 * 1024));
  withStoreOf(hub, (s) => s.updates.setOffer({ scope: 'site:a', site: 'a', version: '3.0', bundle: 'outpost-arm64-3.0.raucb', sha256: 'ab'.repeat(32), size: 65536, setBy: 'test', setAt: Date.now() }));
  const refused = await waitFor(() => {
    const s = hubState(ctx, 'a1');
    return s?.phase === 'failed' ? s : undefined;
  }, 'a1 refusing the 3.0 bundle', CONVERGE_MS, 100);
  assert.is(refused.version, '3.0');
  assert.match(refused.error, /^checksum mismatch: got [0-9a-f]{12}…, offered abababababab…$/);
  assert.is(ctx.fake.calls().filter((c) => c.startsWith('rauc install')).length, 2, 'nothing installed');
  const status = await runCli(['update', 'status', '--config', hub.configFile], ctx.dir);
  assert.match(status.stdout, /halted site a: failed on a1/);
  assert.equal(withStoreOf(hub, (s) => s.updates.permit('a2')?.version), '2.0', 'a2 got no permit for 3.0');
}));

test.run();
