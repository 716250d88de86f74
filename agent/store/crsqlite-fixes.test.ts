// Regression tests for the two upstream cr-sqlite bugs that native/crsqlite/patches/ fixes
// (see docs/native-build.md):
//   0002: the one-argument crsql_as_crr / crsql_commit_alter passed "main" to C without a NUL
//         terminator and could fail with "out of memory";
//   0003: empty blobs, empty text and NULLs were turned into Rust slices from a NULL pointer
//         (undefined behaviour; a debug build of the extension aborts the process).
// They load the extension that native/build-crsqlite.sh produces. CRSQLITE_EXTENSION may
// point them at another build, e.g. an unpatched one, to see them fail.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const EXTENSION = process.env.CRSQLITE_EXTENSION
  ? resolve(process.env.CRSQLITE_EXTENSION)
  : fileURLToPath(new URL('../../native/build/crsqlite.so', import.meta.url));

type DB = Database.Database;

// Read with safeIntegers: better-sqlite3 binds plain JS numbers as REAL, so an INTEGER value
// read as a number would come back from the merge as a float.
interface Change {
  table: string;
  pk: Buffer;
  cid: string;
  val: unknown;
  col_version: bigint;
  db_version: bigint;
  site_id: Buffer;
  cl: bigint;
  seq: bigint;
}

const open = new Set<DB>();

function openDb(): DB {
  if (!existsSync(EXTENSION)) {
    assert.unreachable(`${EXTENSION} is missing: run bash native/build-crsqlite.sh`);
  }
  const db = new Database(':memory:');
  db.loadExtension(EXTENSION);
  open.add(db);
  return db;
}

function closeDb(db: DB): void {
  db.prepare('SELECT crsql_finalize()').get();
  db.close();
  open.delete(db);
}

function closeAll(): void {
  for (const db of open) closeDb(db);
}

function asCrr(db: DB, table: string): unknown {
  return db.prepare('SELECT crsql_as_crr(?)').pluck().get(table);
}

function isCrr(db: DB, table: string): boolean {
  const row = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
    .get(`${table}__crsql_clock`);
  return row !== undefined;
}

function changes(db: DB): Change[] {
  return db
    .prepare(
      'SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes ORDER BY db_version, seq',
    )
    .safeIntegers(true)
    .all() as Change[];
}

function merge(into: DB, batch: Change[]): void {
  const insert = into.prepare(
    'INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  into.transaction(() => {
    for (const c of batch) {
      insert.run(c.table, c.pk, c.cid, c.val, c.col_version, c.db_version, c.site_id, c.cl, c.seq);
    }
  })();
}

// Typed snapshot of a table, so '' / x'' / NULL cannot be confused with one another.
function snapshot(db: DB, table: string, key: string): unknown[] {
  const cols = db.prepare('SELECT name FROM pragma_table_info(?) ORDER BY cid').pluck().all(table) as string[];
  const select = cols.map((c) => `typeof("${c}"), quote("${c}")`).join(', ');
  return db.prepare(`SELECT ${select} FROM "${table}" ORDER BY quote("${key}")`).raw().all();
}

const VALUES_SCHEMA = [
  'CREATE TABLE vals (id INTEGER PRIMARY KEY NOT NULL, s TEXT, b BLOB, n)',
  // Empty text and empty blob as primary keys go through crsql_pack_columns.
  'CREATE TABLE kv_text (k TEXT PRIMARY KEY NOT NULL, v)',
  'CREATE TABLE kv_blob (k BLOB PRIMARY KEY NOT NULL, v)',
];

function valuesDb(): DB {
  const db = openDb();
  for (const sql of VALUES_SCHEMA) db.exec(sql);
  // Two-argument form on purpose: this part tests the value handling only.
  for (const t of ['vals', 'kv_text', 'kv_blob']) {
    db.prepare("SELECT crsql_as_crr('main', ?)").get(t);
  }
  return db;
}

test.after.each(closeAll);

test('one-argument crsql_as_crr makes several tables CRRs', () => {
  const db = openDb();
  db.exec(`
    CREATE TABLE users (id INTEGER PRIMARY KEY NOT NULL, name TEXT, secret TEXT);
    CREATE TABLE bans (ip TEXT PRIMARY KEY NOT NULL, until INTEGER, reason TEXT);
    CREATE TABLE registrations (aor TEXT NOT NULL, contact TEXT NOT NULL, expires INTEGER,
                                PRIMARY KEY (aor, contact));
    CREATE TABLE only_pk (id INTEGER PRIMARY KEY NOT NULL);
  `);
  for (const t of ['users', 'bans', 'registrations', 'only_pk']) {
    let result: unknown;
    try {
      result = asCrr(db, t);
    } catch (err) {
      assert.unreachable(`crsql_as_crr('${t}') failed: ${(err as Error).message}`);
    }
    assert.is(result, 'OK', `crsql_as_crr('${t}')`);
    assert.ok(isCrr(db, t), `${t} has a clock table`);
  }
  // Calling it again on an existing CRR is a no-op, not an error.
  assert.is(asCrr(db, 'users'), 'OK');

  db.prepare('INSERT INTO users (id, name, secret) VALUES (1, ?, ?)').run('alice', 'pw');
  const cids = changes(db)
    .filter((c) => c.table === 'users')
    .map((c) => c.cid)
    .sort();
  assert.equal(cids, ['name', 'secret']);
  closeDb(db);
});

test('one-argument crsql_begin_alter / crsql_commit_alter keep a table a CRR', () => {
  const db = openDb();
  db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY NOT NULL, name TEXT)');
  // Two-argument form here, so that only crsql_commit_alter's default schema is under test.
  db.prepare("SELECT crsql_as_crr('main', 'users')").get();
  db.prepare("INSERT INTO users (id, name) VALUES (1, 'alice')").run();

  db.prepare("SELECT crsql_begin_alter('users')").get();
  db.exec("ALTER TABLE users ADD COLUMN realm TEXT NOT NULL DEFAULT ''");
  try {
    db.prepare("SELECT crsql_commit_alter('users')").get();
  } catch (err) {
    assert.unreachable(`crsql_commit_alter('users') failed: ${(err as Error).message}`);
  }
  assert.not.ok(db.inTransaction, 'commit_alter released its savepoint');

  db.prepare("UPDATE users SET realm = 'branch-a' WHERE id = 1").run();
  const realm = changes(db).find((c) => c.table === 'users' && c.cid === 'realm');
  assert.ok(realm, 'the added column is tracked');
  assert.is(realm?.val, 'branch-a');
  closeDb(db);
});

test("'', x'' and NULL read back intact from crsql_changes", () => {
  const db = valuesDb();
  db.exec(`
    INSERT INTO vals (id, s, b, n) VALUES (1, '', x'', NULL);
    INSERT INTO vals (id, s, b, n) VALUES (2, 'x', x'00', 0);
    INSERT INTO kv_text (k, v) VALUES ('', x'');
    INSERT INTO kv_blob (k, v) VALUES (x'', '');
  `);
  const typed = db
    .prepare(
      `SELECT "table", cid, typeof(val), length(val), quote(val) FROM crsql_changes
       WHERE ("table" = 'vals' AND pk = crsql_pack_columns(1)) OR "table" IN ('kv_text', 'kv_blob')
       ORDER BY "table", cid`,
    )
    .raw()
    .all();
  assert.equal(typed, [
    ['kv_blob', 'v', 'text', 0, "''"],
    ['kv_text', 'v', 'blob', 0, "X''"],
    ['vals', 'b', 'blob', 0, "X''"],
    ['vals', 'n', 'null', null, 'NULL'],
    ['vals', 's', 'text', 0, "''"],
  ]);
  // And as JavaScript values, the way a sync peer would read them.
  const row1 = db.prepare(
    `SELECT val FROM crsql_changes WHERE "table" = 'vals' AND pk = crsql_pack_columns(1) AND cid = ?`,
  );
  const blob = row1.pluck().get('b');
  assert.ok(Buffer.isBuffer(blob), 'empty blob is a Buffer');
  assert.is((blob as Buffer).length, 0);
  assert.is(row1.pluck().get('s'), '');
  assert.is(row1.pluck().get('n'), null);
  closeDb(db);
});

test("'', x'' and NULL survive a merge through INSERT INTO crsql_changes", () => {
  const a = valuesDb();
  const b = valuesDb();
  a.exec(`
    INSERT INTO vals (id, s, b, n) VALUES (1, '', x'', NULL);
    INSERT INTO vals (id, s, b, n) VALUES (2, 'x', x'00', 0);
    INSERT INTO vals (id, s, b, n) VALUES (3, NULL, NULL, '');
    INSERT INTO kv_text (k, v) VALUES ('', x''), ('k', NULL);
    INSERT INTO kv_blob (k, v) VALUES (x'', ''), (x'01', x'');
  `);
  merge(b, changes(a));

  assert.equal(snapshot(b, 'vals', 'id'), [
    ['integer', '1', 'text', "''", 'blob', "X''", 'null', 'NULL'],
    ['integer', '2', 'text', "'x'", 'blob', "X'00'", 'integer', '0'],
    ['integer', '3', 'null', 'NULL', 'null', 'NULL', 'text', "''"],
  ]);
  assert.equal(snapshot(b, 'kv_text', 'k'), snapshot(a, 'kv_text', 'k'));
  assert.equal(snapshot(b, 'kv_blob', 'k'), snapshot(a, 'kv_blob', 'k'));
  assert.equal(snapshot(b, 'kv_text', 'k'), [
    ['text', "''", 'blob', "X''"],
    ['text', "'k'", 'null', 'NULL'],
  ]);
  assert.equal(snapshot(b, 'kv_blob', 'k'), [
    ['blob', "X''", 'text', "''"],
    ['blob', "X'01'", 'blob', "X''"],
  ]);
  // Merging the same changes again changes nothing.
  merge(b, changes(a));
  assert.equal(snapshot(b, 'vals', 'id'), snapshot(a, 'vals', 'id'));
  closeDb(a);
  closeDb(b);
});

test('concurrent writes of empty and non-empty values converge on both sides', () => {
  const a = valuesDb();
  const b = valuesDb();
  // Same rows, same column versions, different values: the merge has to compare the values
  // themselves, including empty blobs, empty text and NULLs.
  a.exec(`
    INSERT INTO vals (id, s, b, n) VALUES (1, '', x'', NULL);
    INSERT INTO vals (id, s, b, n) VALUES (2, 'y', x'01', x'');
  `);
  b.exec(`
    INSERT INTO vals (id, s, b, n) VALUES (1, 'x', x'00', '');
    INSERT INTO vals (id, s, b, n) VALUES (2, '', x'', NULL);
  `);
  const fromA = changes(a);
  const fromB = changes(b);
  merge(b, fromA);
  merge(a, fromB);

  const left = snapshot(a, 'vals', 'id');
  assert.equal(left, snapshot(b, 'vals', 'id'), 'both sides hold the same rows');
  // The larger value wins a tie; NULL sorts below everything, '' and x'' below any non-empty one.
  assert.equal(left, [
    ['integer', '1', 'text', "'x'", 'blob', "X'00'", 'text', "''"],
    ['integer', '2', 'text', "'y'", 'blob', "X'01'", 'blob', "X''"],
  ]);
  closeDb(a);
  closeDb(b);
});

test.run();
