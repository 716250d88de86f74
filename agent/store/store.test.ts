import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { StoreError } from './errors.ts';
import { MIGRATIONS, SCHEMA_VERSION, STORE_VERSION } from './migrations/index.ts';
import { DEFAULT_CRSQLITE_PATH, Store } from './store.ts';
import { REPLICATED_TABLES } from './replicated-tables.ts';
import type { Binding } from './registrations.ts';
import { interruptedCdr } from './cdrs.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'outpost-store-'));

function binding(over: Partial<Binding> = {}): Binding {
  return {
    aor: '1001', contact: 'sip:1001@10.0.0.5:5060', nodeId: 'a1', expiresAt: 2_000, q: null, callId: 'c1', cseq: 1,
    path: '', userAgent: 'test', received: 'udp:10.0.0.5:5060', instanceId: '', regId: 0, updatedAt: 1_000, ...over,
  };
}

const open = suite('Store.open');

open('durable: false opens a throwaway store that does not flush its commits', () => {
  const store = Store.open({ dataDir: tempDir(), durable: false });
  try {
    assert.is(store['db'].pragma('synchronous', { simple: true }), 0); // OFF
  } finally {
    store.close();
  }
});

open('applies pragmas, migrations and makes CRR tables', () => {
  const store = Store.open({ dataDir: tempDir() });
  try {
    assert.is(store['db'].pragma('journal_mode', { simple: true }), 'wal');
    assert.is(store['db'].pragma('synchronous', { simple: true }), 2); // FULL
    assert.is(store['db'].pragma('temp_store', { simple: true }), 2); // MEMORY
    assert.is(store.schemaVersion(), STORE_VERSION);
    const crrs = store['db'].prepare(`SELECT name FROM sqlite_master WHERE name LIKE '%__crsql_clock' ORDER BY name`).all() as { name: string }[];
    // Exactly the catalogue of replicated tables is CRR (sync and digests rely on it).
    assert.equal(crrs.map((r) => r.name), REPLICATED_TABLES.map((t) => `${t.name}__crsql_clock`).sort());
  } finally {
    store.close();
  }
});

open('a local-only migration creates no CRR and leaves the replication schema where it was', () => {
  const db = new Database(':memory:');
  db.loadExtension(DEFAULT_CRSQLITE_PATH);
  try {
    for (const m of MIGRATIONS) {
      const before = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '%__crsql_clock'`).get() as { n: number };
      m.up(db);
      const after = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name LIKE '%__crsql_clock'`).get() as { n: number };
      if (m.localOnly) assert.is(after.n, before.n, `migration ${m.version} (${m.name}) is local-only but made a CRR`);
    }
    assert.is(SCHEMA_VERSION, [...MIGRATIONS].reverse().find((m) => !m.localOnly)!.version);
    assert.ok(SCHEMA_VERSION <= STORE_VERSION);
  } finally {
    db.prepare('SELECT crsql_finalize()').get();
    db.close();
  }
});

open('data survives close and reopen; migrations are not re-run', () => {
  const dataDir = tempDir();
  const a = Store.open({ dataDir });
  a.users.upsert({ ext: '1001', displayName: 'Ann', realm: 'r', ha1Md5: 'x', ha1Sha256: 'y', site: 's' }, 5);
  a.close();
  const b = Store.open({ dataDir });
  try {
    assert.is(b.users.get('1001')?.displayName, 'Ann');
    assert.is(b.schemaVersion(), STORE_VERSION);
  } finally {
    b.close();
  }
});

open('a missing extension or a newer schema is a clear StoreError', () => {
  try {
    Store.open({ dataDir: tempDir(), crsqlitePath: '/nonexistent/crsqlite.so' });
    assert.unreachable();
  } catch (err) {
    assert.instance(err, StoreError);
    assert.is((err as StoreError).code, 'store.extension');
  }
  const dataDir = tempDir();
  Store.open({ dataDir }).close();
  const raw = new Database(join(dataDir, 'outpost.db'));
  raw.prepare('INSERT INTO local_migrations VALUES (99, ?, 0)').run('future');
  raw.close();
  try {
    Store.open({ dataDir });
    assert.unreachable();
  } catch (err) {
    assert.is((err as StoreError).code, 'store.migration');
    assert.match((err as Error).message, 'schema version 99');
  }
});

open('a write is visible in crsql_changes with this replica as origin', () => {
  const store = Store.open({ dataDir: tempDir() });
  try {
    const before = store.dbVersion();
    store.registrations.upsert(binding());
    assert.ok(store.dbVersion() > before);
    const rows = store['db'].prepare(`SELECT "table", cid FROM crsql_changes WHERE db_version > ?`).all(before) as { table: string; cid: string }[];
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => r.table === 'registrations'));
  } finally {
    store.close();
  }
});

const regs = suite('RegistrationRepository');

regs('live, owned, sweep of expired and of removed users', () => {
  const store = Store.open({ dataDir: tempDir() });
  try {
    store.users.upsert({ ext: '1001', displayName: '', realm: 'r', ha1Md5: '', ha1Sha256: '', site: '' }, 1);
    store.registrations.upsert(binding({ contact: 'sip:a@h', expiresAt: 5_000 }));
    store.registrations.upsert(binding({ contact: 'sip:b@h', expiresAt: 1_500 }));
    store.registrations.upsert(binding({ contact: 'sip:c@h', nodeId: 'a2', expiresAt: 1_500 }));
    store.registrations.upsert(binding({ aor: '2002', contact: 'sip:d@h', expiresAt: 5_000 }));
    assert.equal(store.registrations.live('1001', 1_000).map((b) => b.contact).sort(), ['sip:a@h', 'sip:b@h', 'sip:c@h']);
    assert.is(store.registrations.owned('1001', 'a1').length, 2);
    // At t=2000: b expired (own) is swept, c expired but owned by a2 stays, d's user does not exist.
    assert.is(store.registrations.sweep('a1', 2_000), 2);
    assert.equal(store.registrations.allLive(0).map((b) => b.contact).sort(), ['sip:a@h', 'sip:c@h']);
  } finally {
    store.close();
  }
});

const queue = suite('WriteQueue');

queue('writes submitted in one tick share one commit and settle after it', async () => {
  const store = Store.open({ dataDir: tempDir() });
  try {
    const commits = store.writes.commits;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.writes.submit(() => {
        store.registrations.upsert(binding({ contact: `sip:${i}@h` }));
        return i;
      })),
    );
    assert.equal(results, Array.from({ length: 50 }, (_, i) => i));
    assert.is(store.writes.commits - commits, 1);
    assert.is(store.registrations.allLive(0).length, 50);
  } finally {
    store.close();
  }
});

queue('a failing write rejects alone and is rolled back; the others commit', async () => {
  const store = Store.open({ dataDir: tempDir() });
  try {
    const good = store.writes.submit(() => store.registrations.upsert(binding({ contact: 'sip:good@h' })));
    const bad = store.writes.submit(() => {
      store.registrations.upsert(binding({ contact: 'sip:half@h' }));
      store['db'].prepare('INSERT INTO no_such_table VALUES (1)').run();
    });
    await good;
    await bad.then(() => assert.unreachable('should reject'), (err: Error) => assert.match(err.message, 'no_such_table'));
    assert.equal(store.registrations.allLive(0).map((b) => b.contact), ['sip:good@h']);
  } finally {
    store.close();
  }
});

queue('close flushes pending writes, then refuses new ones', async () => {
  const dataDir = tempDir();
  const store = Store.open({ dataDir });
  const pending = store.writes.submit(() => store.registrations.upsert(binding()));
  store.close();
  await pending;
  await store.writes.submit(() => 1).then(() => assert.unreachable(), (err: StoreError) => assert.is(err.code, 'store.closed'));
  const again = Store.open({ dataDir });
  assert.is(again.registrations.allLive(0).length, 1);
  again.close();
});

const users = suite('UserRepository');

users('reads are cached; another connection\'s change shows after invalidate()', () => {
  const dataDir = tempDir();
  const node = Store.open({ dataDir });
  const cli = Store.open({ dataDir });
  try {
    const user = { ext: '1001', displayName: 'Ann', realm: 'r', ha1Md5: 'a', ha1Sha256: 'b', site: '' };
    cli.users.upsert(user, 1);
    assert.is(node.users.get('1001')?.displayName, 'Ann');
    const before = node.dataVersion();
    cli.users.upsert({ ...user, displayName: 'Bea' }, 2);
    assert.is(node.users.get('1001')?.displayName, 'Ann', 'cached');
    assert.is.not(node.dataVersion(), before, 'data_version tells the node to invalidate');
    node.users.invalidate();
    assert.is(node.users.get('1001')?.displayName, 'Bea');
    cli.users.remove('1001');
    node.users.invalidate();
    assert.is(node.users.get('1001'), undefined);
  } finally {
    cli.close();
    node.close();
  }
});

const cdrs = suite('CdrRepository');

cdrs('a call is either checkpointed or closed, and a CDR is written once', () => {
  const store = Store.open({ dataDir: tempDir() });
  try {
    const base = { callUuid: 'u1', nodeId: 'a1', caller: '1001', callee: '1002', aCallId: 'ca', bCallId: 'cb', startedAt: 10, codec: 'PCMU/8000', link: '' };
    store.cdrs.checkpoint({ ...base, state: 'ringing', answeredAt: null, updatedAt: 10 });
    store.cdrs.checkpoint({ ...base, state: 'answered', answeredAt: 20, updatedAt: 20 });
    assert.equal(store.cdrs.checkpointsOf('a1').map((c) => [c.callUuid, c.state, c.answeredAt]), [['u1', 'answered', 20]]);
    const cdr = {
      uuid: 'u1', nodeId: 'a1', caller: '1001', callee: '1002', startedAt: 10, answeredAt: 20, endedAt: 80, durationMs: 60,
      disposition: 'answered' as const, sipStatus: 200, sipReason: 'OK', endedBy: 'caller', codecA: 'PCMU/8000', codecB: 'PCMU/8000',
      aCallId: 'ca', bCallId: 'cb', media: '{}', link: '',
    };
    store.cdrs.close(cdr);
    store.cdrs.close({ ...cdr, durationMs: 999 });
    assert.equal(store.cdrs.checkpointsOf('a1'), []);
    assert.equal(store.cdrs.since(0), [cdr]);
  } finally {
    store.close();
  }
});

cdrs('the link of a call (version 7) is stored with its checkpoint and its CDR, replicates, and an interrupted CDR keeps it', () => {
  const store = Store.open({ dataDir: tempDir() });
  const peer = Store.open({ dataDir: tempDir() });
  try {
    const link = '01a20011-8153-737e-9e34-74aa050b84ca';
    store.cdrs.checkpoint({ callUuid: 'u2', nodeId: 'a2', caller: '1001', callee: '1002', aCallId: 'ca', bCallId: 'cb', startedAt: 10, codec: 'PCMU/8000', link, state: 'answered', answeredAt: 20, updatedAt: 30 });
    const [checkpoint] = store.cdrs.checkpointsOf('a2');
    assert.is(checkpoint!.link, link);
    store.cdrs.close(interruptedCdr(checkpoint!));
    assert.equal(store.cdrs.since(0).map((c) => [c.uuid, c.disposition, c.link]), [['u2', 'interrupted', link]]);
    peer.changes.apply(store.changes.page(0n, {}, 10_000).changes);
    assert.is(peer.cdrs.get('u2')?.link, link, 'the column replicates');
  } finally {
    store.close();
    peer.close();
  }
});

open('the default extension path points into native/build', () => {
  assert.match(DEFAULT_CRSQLITE_PATH, /native\/build\/crsqlite\.so$/);
});

open.run();
regs.run();
users.run();
cdrs.run();
queue.run();
