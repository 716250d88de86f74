/**
 * Replacing a box (docs/replication.md, "Replacing a box"), with real processes: a hub (embedded
 * broker) and boxes a1, a2 of site a. a2 owns registrations, a CDR and a ban; it is stopped, its
 * data directory wiped, and it starts again under the same id. First with its node.key restored
 * (a new cr-sqlite site id, the same key): it must recover its rows from the hub and its new
 * writes must reach everyone. Then with a new key: refused (and logged with both fingerprints)
 * until `outpost node replace a2` at the hub, after which every table's digest converges on the
 * hub, a1 and a2. Prints how long convergence took after each start.
 * Runs in the insecure dev mode (plain MQTT, keys pinned on first use); the secure rejoin of a
 * rebuilt box with a `--node` claim is in mqtt-attacks.test.ts.
 * Runs alone too: node --import tsx test/integration/sync-replace-box.test.ts
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DirectSql } from '../../agent/store/direct-sql.ts';
import { Store } from '../../agent/store/store.ts';
import { runCli } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { explainedOn, SyncCluster, type BindingKey, type Replica } from '../helpers/sync-cluster.ts';

interface Ctx {
  cluster: SyncCluster;
  acked: BindingKey[];
  failed: boolean;
}

const USERS = ['2001', '2002', '2003', '2004'];
const CONVERGE_MS = 30_000;
/** The writes of owned rows, each with a ban of its own address. */
const TAGS = ['old', 'early', 'rebuilt', 'new-key'];
const test = suite<Ctx>('replacing a box (processes)');
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

async function registerAcked(ctx: Ctx, node: Replica, user: string, tag: string): Promise<void> {
  const { result, binding } = await ctx.cluster.register(node, user, tag);
  assert.ok(result.ok, `REGISTER of ${user} at ${node.name}: ${result.status ?? 'no answer'} ${result.reason}`);
  ctx.acked.push(binding);
}

/** Rows a2 owns besides registrations (written by another connection while a2 runs). */
function writeOwnedRows(a2: Replica, tag: string): void {
  const sql = DirectSql.open(a2.dataDir);
  try {
    const now = Date.now();
    sql.db
      .prepare(`INSERT INTO cdrs (uuid, node_id, caller, callee, started_at, answered_at, ended_at, duration_ms, disposition, sip_status)
        VALUES (?, 'a2', '2001', '2003', ?, ?, ?, 1000, 'answered', 200)`)
      .run(`cdr-${tag}`, now - 2000, now - 1000, now);
    sql.db.prepare(`INSERT INTO bans (ip, node_id, reason, until) VALUES (?, 'a2', 'scanner', ?)`).run(`203.0.113.${TAGS.indexOf(tag) + 1}`, now + 3_600_000);
  } finally {
    sql.close();
  }
}

/**
 * A box that ran for a while has a head far beyond what a rebuilt one merges back: 120 own
 * transactions (a ban's expiry moved), so the rebuilt a2 writes at versions its receivers passed.
 */
function ageStore(a2: Replica): void {
  const sql = DirectSql.open(a2.dataDir);
  try {
    const stmt = sql.db.prepare(`UPDATE bans SET until = ? WHERE node_id = 'a2'`);
    for (let i = 0; i < 120; i++) stmt.run(Date.now() + 3_600_000 + i);
  } finally {
    sql.close();
  }
}

/** Stops a2 and empties its data directory, keeping its node.key when asked. */
async function wipe(a2: Replica, keepKey: boolean): Promise<void> {
  assert.is(await a2.stop('SIGTERM'), 0, 'a2 exits 0 on SIGTERM');
  const saved = join(a2.dir, 'a2-node.key');
  if (keepKey) copyFileSync(join(a2.dataDir, 'node.key'), saved);
  rmSync(a2.dataDir, { recursive: true, force: true });
  mkdirSync(a2.dataDir);
  if (keepKey) copyFileSync(saved, join(a2.dataDir, 'node.key'));
}

async function converge(ctx: Ctx, what: string): Promise<void> {
  const t0 = Date.now();
  await ctx.cluster.waitForConvergence(ctx.cluster.replicas, CONVERGE_MS, ctx.acked);
  process.stdout.write(`  replace-box: ${what}: converged in ${Date.now() - t0} ms\n`);
}

test.before(async (ctx) => {
  ctx.acked = [];
  ctx.failed = false;
  // Keys pinned on first use: the insecure dev mode. With certificates, a rebuilt box enrols
  // again with a claim made for its id (test/integration/mqtt-attacks.test.ts).
  ctx.cluster = await SyncCluster.create({ broker: 'embedded', nodes: ['a1', 'a2'], secure: false });
  await ctx.cluster.start();
  await ctx.cluster.addUsers(USERS.map((ext) => ({ ext, site: ctx.cluster.site })));
  await ctx.cluster.waitForUsers(ctx.cluster.nodes, USERS, CONVERGE_MS);
});

test.after(async (ctx) => {
  await ctx.cluster?.destroy(!ctx.failed);
});

test('a2 owns registrations, a CDR and a ban; every replica has them', explained(async (ctx) => {
  const c = ctx.cluster;
  const [a1, a2] = [c.node('a1'), c.node('a2')];
  await registerAcked(ctx, a2, '2001', 'old');
  await registerAcked(ctx, a2, '2002', 'old');
  await registerAcked(ctx, a1, '2003', 'old');
  writeOwnedRows(a2, 'old');
  ageStore(a2);
  await converge(ctx, 'before the rebuild');
}));

test('a2 rebuilt with its node.key restored recovers its rows; its new writes reach everyone', explained(async (ctx) => {
  const c = ctx.cluster;
  const a2 = c.node('a2');
  await wipe(a2, true);
  // What a box writes before it first reaches anyone (a ban, a CDR): versions 1, 2, ... of its
  // new store, which its receivers' watermarks of the old store have long passed.
  Store.open({ dataDir: a2.dataDir }).close();
  writeOwnedRows(a2, 'early');
  await a2.start();
  await c.waitForUsers([a2], USERS, CONVERGE_MS); // users come from the hub: a fresh box has none
  await registerAcked(ctx, a2, '2004', 'rebuilt');
  writeOwnedRows(a2, 'rebuilt');
  await converge(ctx, 'rebuilt with its key');
}));

test('a2 rebuilt with a new key is refused until `outpost node replace a2` at the hub; then every digest converges', explained(async (ctx) => {
  const c = ctx.cluster;
  const [a1, a2] = [c.node('a1'), c.node('a2')];
  await wipe(a2, false);
  await a2.start();
  await c.waitForUsers([a2], USERS, CONVERGE_MS);
  for (const r of [c.hub, a1]) {
    const line = await r.waitForLog('node announced a different key; ignored', 10_000, (l) => l['node'] === 'a2');
    assert.match(String(line.line['pinned']), /^sha256:[0-9a-f]{16}$/, `${r.name} logs the pinned key's fingerprint`);
    assert.match(String(line.line['announced']), /^sha256:[0-9a-f]{16}$/, `${r.name} logs the announced key's fingerprint`);
    assert.is.not(line.line['pinned'], line.line['announced']);
  }
  const from = c.hub.logs.length;
  await registerAcked(ctx, a2, '2002', 'new-key');
  writeOwnedRows(a2, 'new-key');
  // Positive evidence that a2's batches reach the hub and are dropped, before checking for absence.
  await waitFor(() => c.hub.findLog('batch with a bad signature; dropped', from, (l) => l['node'] === 'a2'), 'the hub to drop a batch a2 signed with its new key', 10_000, 50);
  const last = ctx.acked[ctx.acked.length - 1]!;
  assert.not.ok([...c.snapshot(c.hub).bindings].some((b) => b.includes(last.contact)), 'the hub refuses the new key: nothing of it arrives');
  const t0 = Date.now();
  const res = await runCli(['node', 'replace', 'a2', '--config', c.hub.configFile], c.dir);
  assert.is(res.code, 0, `node replace: ${res.stderr}`);
  assert.match(res.stdout, /a2/);
  await waitFor(() => c.hub.findLog('pinned the replacement key of a node', 0, (l) => l['node'] === 'a2'), 'the hub to pin the new key', 10_000, 50);
  await converge(ctx, `new key, after node replace (${Date.now() - t0} ms since the command started)`);
}));

test.run();
