/**
 * users.codecs (migration 4): the column is added to the users CRR on a fresh store and on one
 * created at schema version 3, reads back as a list, and a change merges between replicas
 * through crsql_changes like any other column.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { MIGRATIONS, STORE_VERSION } from './migrations/index.ts';
import { DEFAULT_CRSQLITE_PATH, Store } from './store.ts';
import { decodeCodecs, effectiveCodecs, type UserInput } from './users.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'outpost-user-codecs-'));
const opened: Store[] = [];
const open = (dataDir = tempDir()) => opened[opened.push(Store.open({ dataDir })) - 1]!;
const closeAll = () => opened.splice(0).forEach((s) => s.close());

const ann: UserInput = { ext: '1001', displayName: 'Ann', realm: 'r', ha1Md5: 'm', ha1Sha256: 's', site: 'branch-a' };

/** A store at schema version 3 (before users.codecs), holding user 1001, written as that build did. */
function storeAtVersion3(dataDir: string): void {
  const db = new Database(join(dataDir, 'outpost.db'));
  db.pragma('journal_mode = WAL');
  db.loadExtension(DEFAULT_CRSQLITE_PATH);
  db.exec(`CREATE TABLE local_migrations (version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
    db.transaction(() => {
      m.up(db);
      db.prepare('INSERT INTO local_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(m.version, m.name);
    })();
  }
  db.prepare(
    `INSERT INTO users (ext, display_name, realm, ha1_md5, ha1_sha256, site, created_at, updated_at)
     VALUES ('1001', 'Ann', 'r', 'm', 's', 'branch-a', 5, 6)`,
  ).run();
  db.prepare('SELECT crsql_finalize()').get();
  db.close();
}

function userChanges(store: Store): Array<{ cid: string; val: unknown; db_version: number }> {
  return store['db'].prepare(`SELECT cid, val, db_version FROM crsql_changes WHERE "table" = 'users' ORDER BY db_version, seq`).all() as never;
}

const migration = suite('migration 4: users.codecs');
migration.after.each(closeAll);

migration('a fresh store has the column, still a CRR, at schema version 4', () => {
  const s = open();
  assert.ok(STORE_VERSION >= 4);
  assert.is(s.schemaVersion(), STORE_VERSION);
  assert.not.ok(s['db'].inTransaction);
  const col = (s['db'].prepare(`SELECT type, "notnull", dflt_value FROM pragma_table_info('users') WHERE name = 'codecs'`).get() as Record<string, unknown>);
  assert.equal(col, { type: 'TEXT', notnull: 1, dflt_value: "''" });
  s.users.upsert(ann, 1);
  assert.ok(userChanges(s).some((c) => c.cid === 'codecs' && c.val === ''), 'the new column is tracked by cr-sqlite');
});

migration('a store at version 3 keeps its user, which gets codecs "", and the migration writes no changes', () => {
  const dataDir = tempDir();
  storeAtVersion3(dataDir);
  const raw = new Database(join(dataDir, 'outpost.db'));
  raw.loadExtension(DEFAULT_CRSQLITE_PATH);
  const before = raw.prepare(`SELECT "table", pk, cid, val, col_version, db_version, site_id, seq FROM crsql_changes ORDER BY db_version, seq`).all();
  const versionBefore = (raw.prepare('SELECT crsql_db_version() AS v').get() as { v: number }).v;
  raw.prepare('SELECT crsql_finalize()').get();
  raw.close();

  const s = open(dataDir);
  assert.is(s.schemaVersion(), STORE_VERSION);
  assert.equal(s.users.get('1001'), { ...ann, codecs: [], createdAt: 5, updatedAt: 6 });
  assert.is((s['db'].prepare(`SELECT codecs FROM users WHERE ext = '1001'`).get() as { codecs: string }).codecs, '');
  // Nothing to replicate: the old changes are as they were and no version was spent.
  assert.equal(s['db'].prepare(`SELECT "table", pk, cid, val, col_version, db_version, site_id, seq FROM crsql_changes ORDER BY db_version, seq`).all(), before);
  assert.is(s.dbVersion(), versionBefore);
  // The triggers were re-created: a write to the new column is a change.
  assert.ok(s.users.setCodecs('1001', ['G722'], 7));
  const codecs = userChanges(s).filter((c) => c.cid === 'codecs');
  assert.equal(codecs.map((c) => c.val), ['G722']);
  assert.ok(codecs[0]!.db_version > versionBefore);
});

migration('reopening a migrated store does not run the migration again', () => {
  const dataDir = tempDir();
  storeAtVersion3(dataDir);
  open(dataDir).users.setCodecs('1001', ['opus'], 7);
  closeAll();
  const s = open(dataDir);
  assert.equal(s.users.get('1001')?.codecs, ['opus']);
  assert.is((s['db'].prepare('SELECT count(*) AS n FROM local_migrations WHERE version = 4').get() as { n: number }).n, 1);
});

const repo = suite('UserRepository codecs');
repo.after.each(closeAll);

repo('round trip through upsert and setCodecs; [] clears; omitted keeps', () => {
  const s = open();
  s.users.upsert(ann, 1);
  assert.equal(s.users.get('1001')?.codecs, [], 'a new user without codecs uses the box default');
  s.users.upsert({ ...ann, codecs: ['opus', 'PCMA'] }, 2);
  assert.equal(s.users.get('1001')?.codecs, ['opus', 'PCMA']);
  assert.is((s['db'].prepare(`SELECT codecs FROM users`).get() as { codecs: string }).codecs, 'opus,PCMA');
  s.users.upsert({ ...ann, displayName: 'Ann B' }, 3);
  assert.equal(s.users.get('1001')?.codecs, ['opus', 'PCMA'], 'an upsert without codecs keeps them');
  assert.ok(s.users.setCodecs('1001', ['G729', 'PCMU', 'G722'], 4));
  assert.equal(s.users.list().map((u) => [u.ext, u.codecs, u.updatedAt]), [['1001', ['G729', 'PCMU', 'G722'], 4]]);
  assert.ok(s.users.setCodecs('1001', [], 5));
  assert.equal(s.users.get('1001')?.codecs, []);
  assert.not.ok(s.users.setCodecs('9999', ['opus'], 6), 'no such user');
  assert.is(s.users.get('9999'), undefined);
});

repo("another connection's setCodecs shows after invalidate()", () => {
  const dataDir = tempDir();
  const node = open(dataDir);
  const cli = open(dataDir);
  cli.users.upsert(ann, 1);
  assert.equal(node.users.get('1001')?.codecs, []);
  cli.users.setCodecs('1001', ['PCMU'], 2);
  node.users.invalidate();
  assert.equal(node.users.get('1001')?.codecs, ['PCMU']);
});

repo('the column is read leniently; effectiveCodecs falls back to the box default', () => {
  assert.equal(decodeCodecs(''), []);
  assert.equal(decodeCodecs('pcma, OPUS,iLBC,PCMA'), ['PCMA', 'opus'], 'unknown (newer build) and repeated names are skipped');
  const box = ['opus', 'G722', 'PCMA', 'PCMU', 'G729'] as const;
  assert.equal(effectiveCodecs({ codecs: [] }, box), box);
  assert.equal(effectiveCodecs(undefined, box), box);
  assert.equal(effectiveCodecs({ codecs: ['PCMA'] }, box), ['PCMA']);
});

const merge = suite('users.codecs replicates');
merge.after.each(closeAll);

merge('a codecs change on one replica merges into another through crsql_changes', () => {
  const a = open();
  const b = open();
  a.users.upsert(ann, 1);
  let p = a.changes.page(0n, {}, 10_000);
  b.changes.apply(p.changes, { source: 'a', stream: 'own', version: p.to });
  assert.equal(b.users.get('1001')?.codecs, []);

  const since = p.to;
  a.users.setCodecs('1001', ['opus', 'PCMA'], 2);
  p = a.changes.page(since, {}, 10_000);
  assert.equal(p.changes.map((c) => c.cid).sort(), ['codecs', 'updated_at']);
  b.changes.apply(p.changes, { source: 'a', stream: 'own', version: p.to });
  b.users.invalidate();
  assert.equal(b.users.get('1001')?.codecs, ['opus', 'PCMA']);
  assert.equal(b.digests(), a.digests());
});

merge('concurrent edits of codecs and of the name both survive (per-column merge)', () => {
  const a = open();
  const b = open();
  a.users.upsert(ann, 1);
  const p0 = a.changes.page(0n, {}, 10_000);
  b.changes.apply(p0.changes);
  const aHead = a.changes.head();
  const bHead = b.changes.head();
  a.users.setCodecs('1001', ['G722'], 2);
  b['db'].prepare(`UPDATE users SET display_name = 'Ann B' WHERE ext = '1001'`).run();
  b.changes.apply(a.changes.page(aHead, {}, 10_000).changes);
  a.changes.apply(b.changes.page(bHead, { excludeSite: a.changes.siteId() }, 10_000).changes);
  a.users.invalidate();
  b.users.invalidate();
  for (const s of [a, b]) {
    assert.equal(s.users.get('1001')?.codecs, ['G722']);
    assert.is(s.users.get('1001')?.displayName, 'Ann B');
  }
  assert.equal(b.digests(), a.digests());
});

merge('a store migrated from version 3 and a fresh one exchange codecs changes', () => {
  const dataDir = tempDir();
  storeAtVersion3(dataDir);
  const old = open(dataDir);
  const fresh = open();
  fresh.changes.apply(old.changes.page(0n, {}, 10_000).changes);
  assert.equal(fresh.users.get('1001')?.codecs, []);
  const head = fresh.changes.head();
  fresh.users.setCodecs('1001', ['PCMU', 'opus'], 9);
  old.changes.apply(fresh.changes.page(head, {}, 10_000).changes);
  old.users.invalidate();
  assert.equal(old.users.get('1001')?.codecs, ['PCMU', 'opus']);
  assert.equal(old.digests(), fresh.digests());
});

migration.run();
repo.run();
merge.run();
