/**
 * trunks (migration 5): the table is a CRR on a fresh store and on one created at schema
 * version 4, rows round-trip through TrunkRepository (codecs in the users.codecs encoding),
 * a change merges into another replica through crsql_changes, and the CLI's input checks.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { MIGRATIONS, STORE_VERSION } from './migrations/index.ts';
import { replicatedTable } from './replicated-tables.ts';
import { DEFAULT_CRSQLITE_PATH, Store } from './store.ts';
import { isTrunkHost, isTrunkId, isTrunkTransport, parseTrunkPort, type TrunkRecord } from './trunks.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'outpost-trunks-'));
const opened: Store[] = [];
const open = (dataDir = tempDir()) => opened[opened.push(Store.open({ dataDir })) - 1]!;
const closeAll = () => opened.splice(0).forEach((s) => s.close());

const pstn: TrunkRecord = { id: 'pstn', host: '192.0.2.10', port: 5060, transport: 'udp', codecs: ['PCMA', 'PCMU'], site: 'branch-a', enabled: true };

/** A store at schema version 4 (before trunks), holding a route and a user, written as that build did. */
function storeAtVersion4(dataDir: string): void {
  const db = new Database(join(dataDir, 'outpost.db'));
  db.pragma('journal_mode = WAL');
  db.loadExtension(DEFAULT_CRSQLITE_PATH);
  db.exec(`CREATE TABLE local_migrations (version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  for (const m of MIGRATIONS.filter((x) => x.version <= 4)) {
    db.transaction(() => {
      m.up(db);
      db.prepare('INSERT INTO local_migrations (version, name, applied_at) VALUES (?, ?, 0)').run(m.version, m.name);
    })();
  }
  db.prepare(`INSERT INTO routes (id, pattern, action, target, site) VALUES ('out', '0.', 'trunk', 'pstn', 'branch-a')`).run();
  db.prepare(`INSERT INTO users (ext, display_name, site, codecs) VALUES ('1001', 'Ann', 'branch-a', 'opus')`).run();
  db.prepare('SELECT crsql_finalize()').get();
  db.close();
}

const allChanges = (db: Database.Database) =>
  db.prepare(`SELECT "table", pk, cid, val, col_version, db_version, site_id, seq FROM crsql_changes ORDER BY db_version, seq`).all();

function trunkChanges(store: Store): Array<{ cid: string; val: unknown }> {
  return store['db'].prepare(`SELECT cid, val FROM crsql_changes WHERE "table" = 'trunks' ORDER BY db_version, seq`).all() as never;
}

const migration = suite('migration 5: trunks');
migration.after.each(closeAll);

migration('a fresh store has the table as a CRR, at schema version 5, in the catalogue as admin-owned and site-scoped', () => {
  const s = open();
  assert.ok(STORE_VERSION >= 5);
  assert.is(s.schemaVersion(), STORE_VERSION);
  assert.not.ok(s['db'].inTransaction);
  const cols = s['db'].prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info('trunks') ORDER BY cid`).all();
  assert.equal(cols, [
    { name: 'id', type: 'TEXT', notnull: 1, dflt_value: null, pk: 1 },
    { name: 'host', type: 'TEXT', notnull: 1, dflt_value: "''", pk: 0 },
    { name: 'port', type: 'INTEGER', notnull: 1, dflt_value: '5060', pk: 0 },
    { name: 'transport', type: 'TEXT', notnull: 1, dflt_value: "'udp'", pk: 0 },
    { name: 'codecs', type: 'TEXT', notnull: 1, dflt_value: "''", pk: 0 },
    { name: 'site', type: 'TEXT', notnull: 1, dflt_value: "''", pk: 0 },
    { name: 'enabled', type: 'INTEGER', notnull: 1, dflt_value: '1', pk: 0 },
    { name: 'created_at', type: 'INTEGER', notnull: 1, dflt_value: '0', pk: 0 },
    { name: 'updated_at', type: 'INTEGER', notnull: 1, dflt_value: '0', pk: 0 },
  ]);
  assert.equal(replicatedTable('trunks'), { name: 'trunks', primaryKey: ['id'], owner: 'admin', siteColumn: 'site' });
  s.trunks.upsert(pstn, 1);
  assert.equal(
    trunkChanges(s).map((c) => c.cid).sort(),
    ['codecs', 'created_at', 'enabled', 'host', 'port', 'site', 'transport', 'updated_at'],
    'every column is tracked by cr-sqlite',
  );
});

migration('a store at version 4 keeps its rows, gets an empty trunks table, and the migration writes no changes', () => {
  const dataDir = tempDir();
  storeAtVersion4(dataDir);
  const raw = new Database(join(dataDir, 'outpost.db'));
  raw.loadExtension(DEFAULT_CRSQLITE_PATH);
  const before = allChanges(raw);
  const versionBefore = (raw.prepare('SELECT crsql_db_version() AS v').get() as { v: number }).v;
  raw.prepare('SELECT crsql_finalize()').get();
  raw.close();

  const s = open(dataDir);
  assert.is(s.schemaVersion(), STORE_VERSION);
  assert.equal(s.trunks.list(), []);
  assert.equal(s.routes.list().map((r) => [r.id, r.target]), [['out', 'pstn']]);
  assert.equal(s.users.get('1001')?.codecs, ['opus']);
  assert.equal(allChanges(s['db']), before, 'nothing new to replicate');
  assert.is(s.dbVersion(), versionBefore);
  s.trunks.upsert(pstn, 7);
  assert.equal(s.trunks.get('pstn'), pstn);
  assert.ok(trunkChanges(s).length > 0, 'writes to the new table are changes');
  assert.ok(s.dbVersion() > versionBefore);
  closeAll();
  const again = open(dataDir);
  assert.equal(again.trunks.get('pstn'), pstn, 'reopening keeps the row');
  assert.is((again['db'].prepare('SELECT count(*) AS n FROM local_migrations WHERE version = 5').get() as { n: number }).n, 1);
});

const repo = suite('TrunkRepository');
repo.after.each(closeAll);

repo('round trip: upsert, get, list by id, replace every column, remove', () => {
  const s = open();
  assert.is(s.trunks.get('pstn'), undefined);
  assert.equal(s.trunks.list(), []);
  s.trunks.upsert(pstn, 1);
  const v6: TrunkRecord = { id: 'carrier-b', host: '2001:db8::5', port: 5080, transport: 'tcp', codecs: [], site: '', enabled: false };
  s.trunks.upsert(v6, 2);
  assert.equal(s.trunks.get('pstn'), pstn);
  assert.equal(s.trunks.get('carrier-b'), v6);
  assert.equal(s.trunks.list().map((t) => t.id), ['carrier-b', 'pstn']);
  const row = s['db'].prepare(`SELECT codecs, enabled, created_at, updated_at FROM trunks WHERE id = 'pstn'`).get();
  assert.equal(row, { codecs: 'PCMA,PCMU', enabled: 1, created_at: 1, updated_at: 1 });

  const replaced: TrunkRecord = { ...pstn, host: 'gw.example.net', port: 5070, transport: 'tcp', codecs: ['G729'], enabled: false };
  s.trunks.upsert(replaced, 3);
  assert.equal(s.trunks.get('pstn'), replaced);
  assert.equal(s['db'].prepare(`SELECT created_at, updated_at FROM trunks WHERE id = 'pstn'`).get(), { created_at: 1, updated_at: 3 });
  s.trunks.upsert({ ...replaced, codecs: [] }, 4);
  assert.equal(s.trunks.get('pstn')?.codecs, [], '[] replaces the list (the box default)');

  assert.ok(s.trunks.remove('pstn'));
  assert.not.ok(s.trunks.remove('pstn'), 'already gone');
  assert.is(s.trunks.get('pstn'), undefined);
  assert.equal(s.trunks.list(), [v6]);
});

repo('codecs are read leniently as users.codecs; a row with a transport this build does not know is left out', () => {
  const s = open();
  s['db'].prepare(`INSERT INTO trunks (id, host, codecs) VALUES ('a', 'gw.example', 'pcma, OPUS,iLBC,PCMA')`).run();
  s['db'].prepare(`INSERT INTO trunks (id, host, transport) VALUES ('b', 'gw.example', 'tls')`).run();
  assert.equal(s.trunks.get('a'), { id: 'a', host: 'gw.example', port: 5060, transport: 'udp', codecs: ['PCMA', 'opus'], site: '', enabled: true });
  assert.is(s.trunks.get('b'), undefined);
  assert.equal(s.trunks.list().map((t) => t.id), ['a']);
  assert.ok(s.trunks.remove('b'), 'remove still deletes it');
});

const merge = suite('trunks replicate');
merge.after.each(closeAll);

merge('a trunk, a change to it and its removal merge into another replica through crsql_changes', () => {
  const a = open();
  const b = open();
  a.trunks.upsert(pstn, 1);
  let p = a.changes.page(0n, {}, 10_000);
  assert.ok(p.changes.every((c) => c.table === 'trunks'));
  b.changes.apply(p.changes, { source: 'a', stream: 'own', version: p.to });
  assert.equal(b.trunks.get('pstn'), pstn);
  assert.equal(b.digests(), a.digests());

  let since = p.to;
  a.trunks.upsert({ ...pstn, codecs: ['G729', 'PCMA'], port: 5070 }, 2);
  p = a.changes.page(since, {}, 10_000);
  assert.equal(p.changes.map((c) => c.cid).sort(), ['codecs', 'port', 'updated_at'], 'only what changed travels');
  b.changes.apply(p.changes, { source: 'a', stream: 'own', version: p.to });
  assert.equal(b.trunks.get('pstn'), { ...pstn, codecs: ['G729', 'PCMA'], port: 5070 });
  assert.equal(b.digests(), a.digests());

  since = p.to;
  a.trunks.remove('pstn');
  p = a.changes.page(since, {}, 10_000);
  b.changes.apply(p.changes, { source: 'a', stream: 'own', version: p.to });
  assert.is(b.trunks.get('pstn'), undefined);
  assert.equal(b.digests(), a.digests());
});

merge('concurrent edits of different columns both survive (per-column merge)', () => {
  const a = open();
  const b = open();
  a.trunks.upsert(pstn, 1);
  b.changes.apply(a.changes.page(0n, {}, 10_000).changes);
  const aHead = a.changes.head();
  const bHead = b.changes.head();
  a['db'].prepare(`UPDATE trunks SET codecs = 'G722' WHERE id = 'pstn'`).run();
  b['db'].prepare(`UPDATE trunks SET enabled = 0 WHERE id = 'pstn'`).run();
  b.changes.apply(a.changes.page(aHead, {}, 10_000).changes);
  a.changes.apply(b.changes.page(bHead, { excludeSite: a.changes.siteId() }, 10_000).changes);
  for (const s of [a, b]) assert.equal(s.trunks.get('pstn'), { ...pstn, codecs: ['G722'], enabled: false });
  assert.equal(b.digests(), a.digests());
});

merge('a store migrated from version 4 and a fresh one exchange trunks', () => {
  const dataDir = tempDir();
  storeAtVersion4(dataDir);
  const old = open(dataDir);
  const fresh = open();
  fresh.changes.apply(old.changes.page(0n, {}, 10_000).changes);
  const head = fresh.changes.head();
  fresh.trunks.upsert(pstn, 9);
  old.changes.apply(fresh.changes.page(head, {}, 10_000).changes);
  assert.equal(old.trunks.get('pstn'), pstn);
  assert.equal(old.digests(), fresh.digests());
});

const checks = suite('trunk input checks');

checks('ids', () => {
  for (const ok of ['pstn', 'carrier-b', 'gw_1.example', '0', '01a20011-2d87-7b32-b24c-fa2e737ac115', 'a'.repeat(64)]) assert.ok(isTrunkId(ok), ok);
  for (const bad of ['', '-pstn', '.x', 'with space', 'a/b', 'sip:gw', 'a'.repeat(65), 'tr\u00fcnk', 'a+b']) assert.not.ok(isTrunkId(bad), bad);
});

checks('hosts: IP addresses and DNS names only', () => {
  for (const ok of ['192.0.2.10', '2001:db8::1', '::1', 'gw.example.net', 'GW-1.Example.NET', 'localhost', 'a'.repeat(63) + '.example', '1e100.net', '123.example'])
    assert.ok(isTrunkHost(ok), ok);
  for (const bad of [
    '', ' gw.example', 'gw example', 'sip:gw.example', 'gw.example:5060', '192.0.2.10:5060', '[2001:db8::1]', 'user@gw.example',
    'gw.example.', '.gw', 'gw..example', '-gw.example', 'gw-.example', 'gw_1.example', '999.1.1.1', '1.2.3', '10', 'a'.repeat(64) + '.example',
    'udp://gw', `${'a.'.repeat(127)}ab`,
  ])
    assert.not.ok(isTrunkHost(bad), bad);
});

checks('ports and transports', () => {
  assert.is(parseTrunkPort('5060'), 5060);
  assert.is(parseTrunkPort('1'), 1);
  assert.is(parseTrunkPort('65535'), 65535);
  for (const bad of ['0', '65536', '', '-1', '5060.0', '5e3', ' 5060', '0x13c4', '123456']) assert.is(parseTrunkPort(bad), undefined, bad);
  assert.ok(isTrunkTransport('udp'));
  assert.ok(isTrunkTransport('tcp'));
  for (const bad of ['tls', 'UDP', 'ws', '']) assert.not.ok(isTrunkTransport(bad), bad);
});

migration.run();
repo.run();
merge.run();
checks.run();
