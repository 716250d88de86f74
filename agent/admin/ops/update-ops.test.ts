/**
 * Ops `update.offer`, `update.cancel`, `update.status` through OpExecutor over a real store and
 * bundle folder: the bundle is named by file name and hashed before the transaction; errors
 * (bad name, no such bundle, unknown site or box, no offer to withdraw) are problems and change
 * nothing; a batch with a failed offer writes nothing.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Store } from '../../store/store.ts';
import { bundleDir } from '../../update/hub-offers.ts';
import type { HubUpdateStatus } from '../../update/hub-update-status.ts';
import { OpExecutor, type Outcome } from '../op-executor.ts';
import { ADMIN_OPS } from './index.ts';

interface World {
  dir: string;
  store: Store;
  executor: OpExecutor;
}

const problems = (o: Outcome) => (o.ok ? [] : o.problems);
const test = suite<World>('update ops');

test.before.each((w) => {
  w.dir = mkdtempSync(join(tmpdir(), 'outpost-update-ops-'));
  w.store = Store.open({ dataDir: w.dir, durable: false });
  w.executor = new OpExecutor(ADMIN_OPS, (actor) => ({ store: w.store, now: 1000, hubDataDir: w.dir, defaultRealm: undefined, nodeOnline: () => undefined, actor }));
  w.store.nodes.upsert({ id: 'a1', site: 'a', role: 'node', siteId: '01', publicKey: 'k1' }, 1);
  mkdirSync(bundleDir(w.dir), { recursive: true });
  writeFileSync(join(bundleDir(w.dir), 'outpost-arm64-2.0.raucb'), 'two');
});
test.after.each((w) => {
  w.store.close();
  rmSync(w.dir, { recursive: true, force: true });
});

test('update.offer names a held bundle; the offer carries its hash, the admin and the version', async (w) => {
  const r = await w.executor.execute('update.offer', { target: { kind: 'site', id: 'a' }, bundle: 'outpost-arm64-2.0.raucb' }, 'ann');
  const sha256 = createHash('sha256').update('two').digest('hex');
  assert.equal(r, { ok: true, result: { offer: 'site:a', version: '2.0', bundle: 'outpost-arm64-2.0.raucb', size: 3, sha256 } });
  assert.equal(w.store.updates.offer('site:a'), { scope: 'site:a', site: 'a', version: '2.0', bundle: 'outpost-arm64-2.0.raucb', sha256, size: 3, setBy: 'ann', setAt: 1000 });
  const custom = await w.executor.execute('update.offer', { target: { kind: 'node', id: 'a1' }, bundle: 'outpost-arm64-2.0.raucb', version: '2.0-rc1' }, 'ann');
  assert.is(custom.ok && (custom.result as { version: string }).version, '2.0-rc1');
});

test('update.offer: a bad name, a missing bundle, an unknown site or box, a bad target are problems; nothing is written', async (w) => {
  const offer = (body: unknown) => w.executor.execute('update.offer', body, 'ann').then(problems);
  assert.match((await offer({ target: { kind: 'fleet' }, bundle: '../../hub.yaml' }))[0] ?? '', /no path/);
  assert.match((await offer({ target: { kind: 'fleet' }, bundle: 'notes.txt' }))[0] ?? '', /ends in \.raucb/);
  assert.match((await offer({ target: { kind: 'fleet' }, bundle: 'outpost-arm64-9.0.raucb' }))[0] ?? '', /^no bundle outpost-arm64-9\.0\.raucb in the hub's bundle folder/);
  assert.equal(await offer({ target: { kind: 'site', id: 'b' }, bundle: 'outpost-arm64-2.0.raucb' }), ['no site b known to this hub (no site row and no box of it)']);
  assert.equal(await offer({ target: { kind: 'node', id: 'a9' }, bundle: 'outpost-arm64-2.0.raucb' }), ['no box a9 known to this hub']);
  assert.match((await offer({ target: { kind: 'region', id: 'x' }, bundle: 'outpost-arm64-2.0.raucb' }))[0] ?? '', /^target/);
  const batch = await w.executor.execute('batch', { items: [{ op: 'update.offer', body: { target: { kind: 'fleet' }, bundle: 'outpost-arm64-2.0.raucb' } }, { op: 'update.offer', body: { target: { kind: 'fleet' }, bundle: 'missing.raucb' } }] }, 'ann');
  assert.match(problems(batch)[0] ?? '', /^items\[1\] update\.offer: no bundle missing\.raucb/);
  assert.equal(w.store.updates.offers(), [], 'nothing written');
});

test('update.cancel withdraws an offer; update.status shows offers and every box', async (w) => {
  assert.ok((await w.executor.execute('update.offer', { target: { kind: 'fleet' }, bundle: 'outpost-arm64-2.0.raucb' }, 'ann')).ok);
  w.store.updates.setState({ nodeId: 'a1', phase: 'failed', version: '2.0', running: '1.0', slot: 'A', targetSlot: '', error: 'install: rauc not installed', at: 900 });
  const st = await w.executor.execute('update.status', {});
  const status = (st.ok ? st.result : undefined) as HubUpdateStatus;
  assert.equal(status.offers.map((o) => o.scope), ['fleet']);
  assert.equal(status.boxes, [{ node: 'a1', site: 'a', reported: true, phase: 'failed', version: '2.0', running: '1.0', slot: 'A', error: 'install: rauc not installed', at: 900, permitted: '' }]);
  assert.equal(status.halted, [{ site: 'a', node: 'a1', reason: 'failed on a1' }]);
  assert.equal(await w.executor.execute('update.cancel', { target: { kind: 'fleet' } }), { ok: true, result: { offer: 'fleet', version: '2.0', bundle: 'outpost-arm64-2.0.raucb' } });
  assert.equal(w.store.updates.offers(), []);
  assert.equal(problems(await w.executor.execute('update.cancel', { target: { kind: 'fleet' } })), ['no offer for fleet (offers: none)']);
});

test.run();
