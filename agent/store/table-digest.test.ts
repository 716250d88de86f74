import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REPLICATED_TABLES } from './replicated-tables.ts';
import { Store } from './store.ts';
import { tableDigests, type TableDigest } from './table-digest.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'outpost-digest-'));
const opened: Store[] = [];
function open(): Store {
  const s = Store.open({ dataDir: tempDir() });
  opened.push(s);
  return s;
}

const byTable = (ds: TableDigest[]) => Object.fromEntries(ds.map((d) => [d.table, d]));
const rowCounts = (ds: TableDigest[]) => Object.fromEntries(ds.map((d) => [d.table, d.rows]));

type UserRow = [ext: string, name: string, createdAt: bigint];
const USERS: UserRow[] = [
  ['1001', 'Ann', 1n],
  ['1002', 'Bøb ☎', 2n],
  ['2000', '', -3n],
  ['0999', '中文', 2n ** 60n],
];

function insertUser(s: Store, [ext, name, createdAt]: UserRow): void {
  s['db']
    .prepare(
      `INSERT INTO users (ext, display_name, created_at) VALUES (?, ?, ?)
       ON CONFLICT (ext) DO UPDATE SET display_name = excluded.display_name, created_at = excluded.created_at`,
    )
    .run(ext, name, createdAt);
}

function insertReg(s: Store, contact: string, q: number | null, expires: bigint): void {
  s['db'].prepare(`INSERT INTO registrations (aor, contact, node_id, q, expires_at) VALUES ('1001', ?, 'n1', ?, ?)`).run(contact, q, expires);
}

const store = suite('store.digests()');
store.after.each(() => {
  while (opened.length > 0) opened.pop()!.close();
});

store('one entry per replicated table; empty tables have zero rows and equal digests', () => {
  const a = open();
  const b = open();
  const ds = a.digests();
  assert.equal(ds.map((d) => d.table), REPLICATED_TABLES.map((t) => t.name));
  assert.ok(ds.every((d) => d.rows === 0 && /^[0-9a-f]{32}$/.test(d.digest)));
  assert.equal(b.digests(), ds);
});

store('same content written in different orders and transactions gives equal digests', () => {
  const a = open();
  const b = open();
  a['db'].transaction(() => {
    for (const u of USERS) insertUser(a, u);
    insertReg(a, 'sip:x@h', 0.5, 10n);
    insertReg(a, 'sip:y@h', null, 2n ** 62n);
  })();
  // b: reverse order, one transaction each, with an intermediate value overwritten and a row
  // that is created and deleted again (cr-sqlite clocks differ, content does not).
  insertReg(b, 'sip:y@h', 0.25, 0n);
  b['db'].prepare(`UPDATE registrations SET q = NULL, expires_at = ? WHERE contact = 'sip:y@h'`).run(2n ** 62n);
  insertReg(b, 'sip:x@h', 0.5, 10n);
  for (const u of [...USERS].reverse()) insertUser(b, [u[0], 'temporary', 0n]);
  insertUser(b, ['5555', 'gone', 0n]);
  for (const u of USERS) insertUser(b, u);
  b['db'].prepare(`DELETE FROM users WHERE ext = '5555'`).run();
  assert.equal(b.digests(), a.digests());
  assert.equal(rowCounts(a.digests()), { sites: 0, nodes: 0, node_rekeys: 0, node_revocations: 0, users: 4, routes: 0, trunks: 0, registrations: 2, bans: 0, dialogs: 0, cdrs: 0, desired_configs: 0, config_reports: 0, update_offers: 0, update_permits: 0, update_states: 0 });
});

store('a single differing value changes only that table’s digest', () => {
  const a = open();
  const b = open();
  for (const u of USERS) {
    insertUser(a, u);
    insertUser(b, u);
  }
  insertReg(a, 'sip:x@h', 0.5, 10n);
  insertReg(b, 'sip:x@h', 0.5, 10n);
  assert.equal(b.digests(), a.digests());
  const base = byTable(a.digests());
  const variants: Array<[string, string, (s: Store) => void]> = [
    ['users', 'text', (s) => s['db'].prepare(`UPDATE users SET display_name = 'Anne' WHERE ext = '1001'`).run()],
    ['users', 'integer', (s) => s['db'].prepare(`UPDATE users SET created_at = ? WHERE ext = '0999'`).run(2n ** 60n + 1n)],
    ['registrations', 'real', (s) => s['db'].prepare(`UPDATE registrations SET q = 0.5000001`).run()],
    ['registrations', 'null vs 0', (s) => s['db'].prepare(`UPDATE registrations SET q = NULL`).run()],
    ['users', 'extra row', (s) => insertUser(s, ['7', '', 0n])],
  ];
  for (const [table, what, change] of variants) {
    const c = open();
    for (const u of USERS) insertUser(c, u);
    insertReg(c, 'sip:x@h', 0.5, 10n);
    change(c);
    const got = byTable(c.digests());
    for (const t of REPLICATED_TABLES) {
      if (t.name === table) assert.is.not(got[t.name]!.digest, base[t.name]!.digest, `${what}: ${t.name} should differ`);
      else assert.equal(got[t.name], base[t.name], `${what}: ${t.name} should not change`);
    }
  }
});

store('values do not run into each other across columns', () => {
  const a = open();
  const b = open();
  a['db'].prepare(`INSERT INTO users (ext, display_name, realm) VALUES ('1', 'ab', 'c')`).run();
  b['db'].prepare(`INSERT INTO users (ext, display_name, realm) VALUES ('1', 'a', 'bc')`).run();
  assert.is.not(byTable(a.digests()).users!.digest, byTable(b.digests()).users!.digest);
});

// Column affinity in the real schema turns 1.0 and '1' into 1, so the type check uses a plain
// database whose tables have the replicated names but no declared types.
const types = suite('tableDigests: SQLite storage classes');

function untyped(value: unknown): { digests: TableDigest[]; type: string } {
  const db = new Database(':memory:');
  for (const t of REPLICATED_TABLES) {
    db.exec(`CREATE TABLE "${t.name}" (${t.primaryKey.map((c) => `"${c}"`).join(', ')}, v, PRIMARY KEY (${t.primaryKey.map((c) => `"${c}"`).join(', ')}))`);
  }
  db.prepare(`INSERT INTO users (ext, v) VALUES ('k', ?)`).run(value);
  const type = db.prepare('SELECT typeof(v) FROM users').pluck().get() as string;
  const digests = tableDigests(db);
  db.close();
  return { digests, type };
}

types('integer 1, real 1.0, text "1", blob "1" and null all differ', () => {
  const cases = [
    [1n, 'integer'],
    [1.0, 'real'],
    ['1', 'text'],
    [Buffer.from('1'), 'blob'],
    [null, 'null'],
    [Buffer.alloc(0), 'blob'],
    ['', 'text'],
  ] as const;
  const seen = new Map<string, string>();
  for (const [value, expectedType] of cases) {
    const { digests, type } = untyped(value);
    assert.is(type, expectedType, `stored ${String(value)} as ${expectedType}`);
    const d = byTable(digests).users!;
    assert.is(d.rows, 1);
    const label = `${type} ${String(value)}`;
    assert.not.ok(seen.has(d.digest), `${label} has the same digest as ${seen.get(d.digest)}`);
    seen.set(d.digest, label);
  }
  // And equal values of the same class give equal digests.
  assert.is(byTable(untyped(1n).digests).users!.digest, byTable(untyped(1n).digests).users!.digest);
  assert.is(byTable(untyped(2.5).digests).users!.digest, byTable(untyped(2.5).digests).users!.digest);
});

store.run();
types.run();
