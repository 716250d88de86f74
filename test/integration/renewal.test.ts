/**
 * Renewal before expiry without an operator (docs/enrolment.md "Renewal"), with real processes:
 * a secure cluster whose hub issues 3-minute certificates (`ca.certificateValidity`), boxes that
 * renew in the last 90% of the validity (`renewal.window`). a1 renews by itself over mutual TLS
 * (a new node.crt, same identity, later expiry; the hub logs it), and after a restart runs on the
 * renewed certificate and keeps replicating.
 * Runs alone too: node --import tsx test/integration/renewal.test.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCertificate } from '../../agent/trust/identity.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { explainedOn, SyncCluster, type Replica } from '../helpers/sync-cluster.ts';

interface Ctx {
  cluster: SyncCluster;
  failed: boolean;
}

const USERS = ['2001', '2002'];
const CONVERGE_MS = 30_000;
/** The window opens 18 s into a 3-minute certificate; the renewal must land before its end. */
const RENEW_MS = 170_000;
const test = suite<Ctx>('certificate renewal (processes)');
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

const certOf = (r: Replica) => parseCertificate(readFileSync(join(r.dataDir, 'node.crt'), 'utf8'));
const has = (ctx: Ctx, r: Replica, contact: string) => [...ctx.cluster.snapshot(r).bindings].some((b) => b.includes(contact));

test.before(async (ctx) => {
  ctx.failed = false;
  ctx.cluster = await SyncCluster.create({
    broker: 'embedded',
    nodes: ['a1'],
    hubExtra: 'ca: { certificateValidity: 3m }\n',
    nodeExtra: 'renewal: { window: 0.9, retryMin: 1, retryMax: 5 }\n',
  });
  await ctx.cluster.start();
  await ctx.cluster.addUsers(USERS.map((ext) => ({ ext, site: ctx.cluster.site })));
  await ctx.cluster.waitForUsers(ctx.cluster.nodes, USERS, CONVERGE_MS);
});

test.after(async (ctx) => {
  await ctx.cluster?.destroy(!ctx.failed);
});

test('a1 renews its certificate by itself before it expires; the hub logs it', explained(async (ctx) => {
  const c = ctx.cluster;
  const a1 = c.node('a1');
  const first = certOf(a1);
  assert.ok(first.notAfter.getTime() - first.notBefore.getTime() < 10 * 60_000, 'a short-lived certificate');
  const line = await a1.waitForLog('certificate renewed', RENEW_MS);
  assert.is(line.line['old'], first.serial);
  await c.hub.waitForLog('certificate renewed', CONVERGE_MS, (l) => l['node'] === 'a1');
  const renewed = certOf(a1);
  assert.is(renewed.serial, line.line['serial']);
  assert.ok(renewed.notAfter.getTime() > first.notAfter.getTime());
  assert.equal([renewed.nodeId, renewed.site, renewed.nodeKey], [first.nodeId, first.site, first.nodeKey]);
}));

test('restarted, a1 runs on the renewed certificate and keeps replicating', explained(async (ctx) => {
  const c = ctx.cluster;
  const a1 = c.node('a1');
  assert.is(await a1.stop(), 0);
  await a1.start();
  const { result, binding } = await c.register(a1, '2001', 'renewed');
  assert.ok(result.ok, `REGISTER at a1: ${result.status ?? 'no answer'}`);
  await waitFor(() => has(ctx, c.hub, binding.contact), 'a1\'s registration at the hub', CONVERGE_MS, 50);
}));

test.run();
