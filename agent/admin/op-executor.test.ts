/**
 * OpExecutor over a real cr-sqlite store with the real op families: validation through the ops'
 * zod schemas, and a batch that is all or nothing, answering with every problem.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Store } from '../store/store.ts';
import { OpExecutor, type Outcome } from './op-executor.ts';
import { ADMIN_OPS } from './ops/index.ts';
import { DirectSql } from '../store/direct-sql.ts';

function world(options: { defaultRealm?: string } = { defaultRealm: 'fleet.example' }) {
  const defaultRealm = options.defaultRealm;
  const dir = mkdtempSync(join(tmpdir(), 'outpost-admin-exec-'));
  const store = Store.open({ dataDir: dir, durable: false });
  const executor = new OpExecutor(ADMIN_OPS, (actor) => ({ store, now: 1000, hubDataDir: dir, defaultRealm, nodeOnline: () => undefined, actor }));
  return { store, executor };
}

const problems = (o: Outcome) => (o.ok ? [] : o.problems);

const single = suite('OpExecutor: one op');

single('user.add writes the user with HA1 hashes in the hub realm; user.list shows it', async () => {
  const { store, executor } = world();
  const r = await executor.execute('user.add', { ext: '1001', password: 'secret1', name: 'Ann', codecs: ['opus', 'pcma'] });
  assert.equal(r, { ok: true, result: { ext: '1001', added: true, site: '', realm: 'fleet.example' } });
  const u = store.users.get('1001')!;
  assert.equal([u.displayName, u.realm, u.codecs], ['Ann', 'fleet.example', ['opus', 'PCMA']]);
  assert.match(u.ha1Md5, /^[0-9a-f]{32}$/);
  const list = await executor.execute('user.list', {});
  assert.equal(list.ok && (list.result as Array<{ ext: string }>).map((x) => x.ext), ['1001']);
  store.close();
});

single('a user of a site with its own realm is hashed with that realm', async () => {
  const { store, executor } = world({});
  assert.equal(problems(await executor.execute('user.add', { ext: '1', password: 'secret1', site: 'b' })), ['no realm for site b: give the site a realm (site.update --realm) or the hub a sip.domain']);
  assert.ok((await executor.execute('site.create', { id: 'b', domain: 'b.example', realm: 'B realm' })).ok);
  assert.ok((await executor.execute('user.add', { ext: '1', password: 'secret1', site: 'b' })).ok);
  assert.is(store.users.get('1')!.realm, 'B realm');
  assert.ok((await executor.execute('site.update', { id: 'b', realm: '' })).ok);
  assert.ok((await executor.execute('user.set-password', { ext: '1', password: 'secret2' })).ok);
  assert.is(store.users.get('1')!.realm, 'b.example', 'no realm: the site\'s domain');
  store.close();
});

single('an unknown op and an invalid body are problems; nothing is written', async () => {
  const { store, executor } = world();
  assert.match(problems(await executor.execute('user.rename', {}))[0]!, /^unknown op "user.rename"; the hub knows .*user.add/);
  assert.equal(problems(await executor.execute('user.add', { ext: 'a b', password: 'x', extra: 1 })), [
    'ext: use 1-32 letters, digits or _ . + -',
    'password: at least 6 characters',
    'Unrecognized key: "extra"',
  ]);
  assert.equal(store.users.list(), []);
  store.close();
});

const batch = suite('OpExecutor: batch');

batch('a good batch applies every item in one go (a route may name a trunk added before it)', async () => {
  const { store, executor } = world();
  const r = await executor.execute('batch', {
    items: [
      { op: 'trunk.add', body: { id: 'pstn', host: '192.0.2.10' } },
      { op: 'route.add', body: { id: 'r9', pattern: '9X.', action: 'trunk', target: 'pstn', strip: 1 } },
      { op: 'user.add', body: { ext: '2001', password: 'secret1' } },
    ],
  });
  assert.ok(r.ok, problems(r).join('\n'));
  assert.equal([store.trunks.list().length, store.routes.list().length, store.users.list().length], [1, 1, 1]);
  store.close();
});

batch('one bad item: nothing changes, and every problem of every item is listed', async () => {
  const { store, executor } = world();
  assert.ok((await executor.execute('user.add', { ext: '1001', password: 'secret1' })).ok);
  const before = store.digests();
  const r = await executor.execute('batch', {
    items: [
      { op: 'user.add', body: { ext: '3001', password: 'secret1' } },
      { op: 'user.add', body: { ext: 'bad ext', password: 'secret1' } },
      { op: 'route.add', body: { pattern: '9X.', action: 'trunk', target: 'nope' } },
      { op: 'user.remove', body: { ext: '1001' } },
      { op: 'user.remove', body: { ext: '9999' } },
    ],
  });
  assert.equal(problems(r), [
    'items[1] user.add: ext: use 1-32 letters, digits or _ . + -',
    'items[2] route.add: route 9X.: no trunk nope (add it first, or in the same batch)',
    'items[4] user.remove: no user 9999',
  ]);
  assert.equal(store.digests(), before, 'the valid items (3001 added, 1001 removed) were rolled back');
  assert.ok(store.users.get('1001'));
  assert.is(store.users.get('3001'), undefined);
  store.close();
});

batch('a batch holds only changes; an empty or malformed batch is a problem', async () => {
  const { store, executor } = world();
  assert.equal(problems(await executor.execute('batch', { items: [{ op: 'user.list', body: {} }] })), ['a batch holds only ops that change something (no list ops)']);
  assert.match(problems(await executor.execute('batch', { items: [] }))[0]!, /^items: /);
  assert.match(problems(await executor.execute('batch', 'x'))[0]!, /expected object/);
  store.close();
});

single('config.set validates the document whole (nothing written when invalid); config.status shows the version and who set it', async () => {
  const { store, executor } = world();
  assert.ok((await executor.execute('site.create', { id: 'b' })).ok);
  const before = store.digests();
  const bad = problems(await executor.execute('config.set', { scope: { kind: 'site', id: 'b' }, document: { sip: { registrar: { maxExpires: 'soon' } }, nonsense: 1 } }, 'alice'));
  assert.ok(bad.some((p) => p.includes('sip.registrar.maxExpires')), bad.join('; '));
  assert.ok(bad.some((p) => p.includes('nonsense')), bad.join('; '));
  assert.equal(store.digests(), before, 'nothing written');
  const ok = await executor.execute('config.set', { scope: { kind: 'site', id: 'b' }, document: 'sip:\n  registrar:\n    maxExpires: 1200\n' }, 'alice');
  assert.equal(ok, { ok: true, result: { version: 1 } });
  const status = await executor.execute('config.status', {});
  const docs = status.ok ? (status.result as { documents: Array<{ scope: string; version: number; setBy: string }> }).documents : [];
  assert.equal(docs.map((d) => [d.scope, d.version, d.setBy]), [['site:b', 1, 'alice']]);
  store.close();
});

const audit = suite('OpExecutor: audit trail');

audit('a committed change has exactly one ok record, written in the same transaction', async () => {
  const { store, executor } = world();
  const commits = store.writes.commits;
  assert.ok((await executor.execute('user.add', { ext: '1001', password: 'secret1' }, 'ann', 'tx-1')).ok);
  assert.is(store.writes.commits - commits, 1, 'one transaction for the change and its record');
  const rows = store.adminAudit.list({ limit: 10 });
  assert.equal(rows.map((r) => [r.admin, r.op, r.tx, r.outcome, r.problems, r.body]), [['ann', 'user.add', 'tx-1', 'ok', [], '{"ext":"1001","password":"***"}']]);
  assert.is(rows[0]!.at, 1000, "the hub's clock");
  store.close();
});

audit('a change whose record cannot be written is not committed either', async () => {
  const { store, executor } = world();
  const direct = DirectSql.of(store, { durable: false });
  direct.db.exec('DROP TABLE admin_audit');
  direct.close();
  const r = await executor.execute('user.add', { ext: '1001', password: 'secret1' }, 'ann', 'tx-1');
  assert.not.ok(r.ok);
  assert.match(problems(r)[0]!, /^the hub could not apply the change: .*admin_audit/);
  assert.match(problems(r).at(-1)!, /^the hub could not record the refusal in its audit trail/);
  assert.is(store.users.get('1001'), undefined);
  store.close();
});

audit('a batch with a bad item leaves one refused record with its problems, and no change', async () => {
  const { store, executor } = world();
  const before = store.digests();
  const body = { items: [{ op: 'user.add', body: { ext: '3001', password: 'secret1' } }, { op: 'user.remove', body: { ext: '9999' } }] };
  assert.not.ok((await executor.execute('batch', body, 'bob', 'tx-2')).ok);
  assert.equal(store.digests(), before);
  const rows = store.adminAudit.list({ limit: 10 });
  assert.equal(rows.map((r) => [r.admin, r.op, r.tx, r.outcome, r.problems]), [['bob', 'batch', 'tx-2', 'refused', ['items[1] user.remove: no user 9999']]]);
  assert.not.match(rows[0]!.body, /secret1/);
  store.close();
});

audit('invalid and unknown ops are recorded as refused; reads are not recorded, valid or not', async () => {
  const { store, executor } = world();
  assert.not.ok((await executor.execute('user.add', { ext: 'a b', password: 'x' }, 'ann', 'tx-3')).ok);
  assert.not.ok((await executor.execute('user.rename', { ext: '1' }, 'ann', 'tx-4')).ok);
  assert.ok((await executor.execute('user.list', {}, 'ann', 'tx-5')).ok);
  assert.not.ok((await executor.execute('user.list', { extra: 1 }, 'ann', 'tx-6')).ok);
  assert.ok((await executor.execute('audit.list', {}, 'ann', 'tx-7')).ok);
  assert.ok((await executor.execute('node.list', {}, 'ann', 'tx-8')).ok);
  const rows = store.adminAudit.list({ limit: 10 });
  assert.equal(rows.map((r) => [r.tx, r.op, r.outcome]), [['tx-4', 'user.rename', 'refused'], ['tx-3', 'user.add', 'refused']]);
  assert.equal(rows[1]!.problems, ['ext: use 1-32 letters, digits or _ . + -', 'password: at least 6 characters']);
  assert.is(rows[1]!.body, '{"ext":"a b","password":"***"}');
  store.close();
});

audit('audit.list: newest first, filtered by admin, op and since (ISO or ms), limit 1..1000', async () => {
  const { store, executor } = world();
  store.adminAudit.append({ at: Date.UTC(2026, 11, 1), admin: 'ann', op: 'user.add', tx: 'a', outcome: 'ok', problems: [], body: {} });
  store.adminAudit.append({ at: Date.UTC(2026, 11, 2), admin: 'bob', op: 'route.add', tx: 'b', outcome: 'ok', problems: [], body: {} });
  store.adminAudit.append({ at: Date.UTC(2026, 11, 3), admin: 'ann', op: 'route.add', tx: 'c', outcome: 'refused', problems: ['p'], body: {} });
  const txs = async (body: unknown) => {
    const r = await executor.execute('audit.list', body);
    return r.ok ? (r.result as Array<{ tx: string }>).map((x) => x.tx) : problems(r);
  };
  assert.equal(await txs({}), ['c', 'b', 'a']);
  assert.equal(await txs({ admin: 'ann' }), ['c', 'a']);
  assert.equal(await txs({ op: 'route.add', limit: 1 }), ['c']);
  assert.equal(await txs({ since: '2026-12-02T00:00' }), ['c', 'b']);
  assert.equal(await txs({ since: Date.UTC(2026, 11, 3) }), ['c']);
  assert.equal(await txs({ limit: 0 }), ['limit: Too small: expected number to be >=1']);
  assert.equal(await txs({ since: 'yesterday' }), ['since: not a time: "yesterday" (use ms or an ISO time, 2026-12-07T10:00Z)']);
  assert.is(store.adminAudit.count(), 3, 'audit.list is a read: not recorded');
  store.close();
});

single.run();
batch.run();
audit.run();
