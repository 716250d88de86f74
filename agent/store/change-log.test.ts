import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Change, ChangeFilter, ChangePage } from './change-log.ts';
import { StoreError } from './errors.ts';
import { Store } from './store.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'outpost-changelog-'));
const opened: Store[] = [];
const open = (dataDir = tempDir()) => opened[opened.push(Store.open({ dataDir })) - 1]!;
const closeAll = () => opened.splice(0).forEach((s) => s.close());

/** One transaction upserting users ext -> display_name. */
function users(store: Store, rows: Record<string, string>): void {
  const ins = store['db'].prepare(
    'INSERT INTO users (ext, display_name) VALUES (?, ?) ON CONFLICT (ext) DO UPDATE SET display_name = excluded.display_name',
  );
  store['db'].transaction(() => {
    for (const [ext, name] of Object.entries(rows)) ins.run(ext, name);
  })();
}
const many = (prefix: string, n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `name ${i}`]));

const key = (c: Change) => `${c.dbVersion}/${c.seq}/${c.table}/${Buffer.from(c.pk).toString('hex')}/${c.cid}`;

function allPages(store: Store, filter: ChangeFilter, limit: number): ChangePage[] {
  const pages: ChangePage[] = [];
  let since = 0n;
  for (let i = 0; i < 1000; i++) {
    const p = store.changes.page(since, filter, limit);
    assert.is(p.from, since);
    pages.push(p);
    if (!p.more) return pages;
    assert.ok(p.to > since, 'a page with more must advance');
    since = p.to;
  }
  throw new Error('paging did not terminate');
}

function tableRows(store: Store, table: string): unknown[] {
  return store['db'].prepare(`SELECT * FROM "${table}" ORDER BY 1, 2, 3`).safeIntegers(true).all();
}

const page = suite('ChangeLog.page');
page.after.each(closeAll);

page('pages never split a db_version, chain from/to, and end at head', () => {
  const a = open();
  for (const n of [1, 3, 1, 2, 1, 1]) users(a, many(`v${n}-${a.changes.head()}-`, n));
  const everything = a.changes.page(0n, {}, 1_000_000);
  assert.not.ok(everything.more);
  assert.is(everything.to, a.changes.head());
  const sizes = new Map<bigint, number>();
  for (const c of everything.changes) sizes.set(c.dbVersion, (sizes.get(c.dbVersion) ?? 0) + 1);
  assert.is(sizes.size, 6);
  for (const limit of [0, 1, 5, 7, 10, 20, 22, 100]) {
    const pages = allPages(a, {}, limit);
    const seen = new Set<bigint>();
    for (const p of pages) {
      const versions = new Set(p.changes.map((c) => c.dbVersion));
      for (const v of versions) {
        assert.ok(v > p.from && v <= p.to, `version ${v} outside (${p.from}, ${p.to}]`);
        assert.not.ok(seen.has(v), `limit ${limit}: version ${v} split across pages`);
        seen.add(v);
        assert.is(p.changes.filter((c) => c.dbVersion === v).length, sizes.get(v), 'a version comes whole');
      }
      if (versions.size > 1) assert.ok(p.changes.length <= limit, `limit ${limit} exceeded by a multi-version page`);
      if (p.more) assert.ok(p.changes.length > 0);
    }
    assert.equal(pages.flatMap((p) => p.changes).map(key), everything.changes.map(key), `limit ${limit}: pages = whole log`);
    assert.is(pages.at(-1)!.to, a.changes.head());
  }
});

page('a transaction larger than the limit comes whole', () => {
  const a = open();
  users(a, many('big', 10));
  const bigVersion = a.changes.head();
  let p = a.changes.page(0n, {}, 5);
  assert.is(p.changes.length, 80); // 10 rows x 8 non-key columns
  assert.ok(p.changes.every((c) => c.dbVersion === bigVersion));
  assert.is(p.more, false);
  assert.is(p.to, a.changes.head());
  users(a, many('after', 1));
  p = a.changes.page(0n, {}, 5);
  assert.is(p.changes.length, 80);
  assert.is(p.more, true);
  assert.is(p.to, bigVersion);
  p = a.changes.page(p.to, {}, 5);
  assert.is(p.changes.length, 8);
  assert.is(p.more, false);
  assert.is(p.to, a.changes.head());
});

page('nothing after since: empty page ending at head', () => {
  const a = open();
  users(a, many('x', 2));
  const head = a.changes.head();
  assert.equal(a.changes.page(head, {}, 10), { changes: [], from: head, to: head, more: false });
});

page('onlySite and excludeSite select by origin', () => {
  const a = open();
  const b = open();
  users(a, many('a', 2));
  users(a, { a0: 'renamed' });
  b.changes.apply(a.changes.page(0n, {}, 1000).changes);
  users(b, many('b', 3));
  users(b, { a1: 'b renamed a1' });
  const aSite = a.changes.siteId();
  const bSite = b.changes.siteId();
  assert.is(aSite.length, 16);
  assert.not.equal(aSite, bSite);
  const hex = (c: Change) => Buffer.from(c.siteId).toString('hex');
  const all = b.changes.page(0n, {}, 1000).changes;
  const own = b.changes.page(0n, { onlySite: bSite }, 1000);
  const others = b.changes.page(0n, { excludeSite: bSite }, 1000);
  assert.ok(own.changes.length > 0 && others.changes.length > 0);
  assert.ok(own.changes.every((c) => hex(c) === bSite.toString('hex')));
  assert.ok(others.changes.every((c) => hex(c) === aSite.toString('hex')));
  assert.is(own.changes.length + others.changes.length, all.length);
  assert.is(own.to, b.changes.head());
  assert.is(others.to, b.changes.head());
  for (const [filter, expected] of [[{ onlySite: bSite }, own.changes], [{ excludeSite: bSite }, others.changes]] as const) {
    const pages = allPages(b, filter, 3);
    assert.equal(pages.flatMap((p) => p.changes).map(key), expected.map(key));
    assert.is(pages.at(-1)!.to, b.changes.head());
  }
});

const apply = suite('ChangeLog.apply');
apply.after.each(closeAll);

function writeMixed(a: Store): void {
  users(a, { '1001': 'Ann', '1002': 'Bob ☎', '1003': 'Cy' });
  a['db'].prepare(`INSERT INTO routes (id, pattern, priority, enabled) VALUES ('r1', '^9', -5, 0)`).run();
  a['db'].prepare(`INSERT INTO registrations (aor, contact, node_id, expires_at, q, cseq) VALUES ('1001', 'sip:a@h', 'n1', ?, 0.5, 7)`).run(2n ** 60n);
  a['db'].prepare(`INSERT INTO registrations (aor, contact, node_id, q) VALUES ('1002', 'sip:b@h', 'n1', NULL)`).run();
  a['db'].prepare(`INSERT INTO bans (ip, node_id, reason) VALUES ('10.0.0.1', 'n1', 'scan')`).run();
  users(a, { '1002': 'Bob' });
  a['db'].prepare(`DELETE FROM users WHERE ext = '1003'`).run();
}

apply('merging into a second store makes contents equal; applying twice changes nothing', () => {
  const a = open();
  const b = open();
  writeMixed(a);
  const p = a.changes.page(0n, {}, 10_000);
  b.changes.apply(p.changes, { source: 'a', stream: 'own', version: p.to });
  assert.equal(b.digests(), a.digests());
  for (const t of ['users', 'routes', 'registrations', 'bans']) assert.equal(tableRows(b, t), tableRows(a, t), t);
  assert.is(b.users.get('1003'), undefined);
  assert.is(b.changes.watermark('a', 'own'), p.to);
  const head = b.changes.head();
  const digests = b.digests();
  b.changes.apply(p.changes, { source: 'a', stream: 'own', version: p.to });
  assert.equal(b.digests(), digests);
  assert.is(b.changes.head(), head, 'a re-applied batch creates no new version');
  // The other direction: b's copy handed back to a is a no-op too.
  a.changes.apply(b.changes.page(0n, {}, 10_000).changes);
  assert.equal(a.digests(), digests);
});

apply('watermark only rises, per source and stream; merged rows and watermarks survive reopen', () => {
  const a = open();
  const dir = tempDir();
  const b = open(dir);
  writeMixed(a);
  b.changes.apply(a.changes.page(0n, {}, 10_000).changes, { source: 'hub', stream: 'global', version: 5n }, 100);
  b.changes.apply([], { source: 'hub', stream: 'global', version: 3n }, 200);
  assert.is(b.changes.watermark('hub', 'global'), 5n);
  b.changes.apply([], { source: 'hub', stream: 'site/x', version: 2n }, 300);
  b.changes.apply([], { source: 'hub', stream: 'global', version: (1n << 62n) + 1n }, 400);
  assert.is(b.changes.watermark('hub', 'global'), (1n << 62n) + 1n);
  assert.is(b.changes.watermark('hub', 'nope'), 0n);
  b.close();
  const again = open(dir);
  assert.equal(again.digests(), a.digests());
  assert.equal(again.changes.watermarks(), [
    { source: 'hub', stream: 'global', version: (1n << 62n) + 1n, updatedAt: 400 },
    { source: 'hub', stream: 'site/x', version: 2n, updatedAt: 300 },
  ]);
});

apply('a failing change rolls back the whole batch and its watermark', () => {
  const a = open();
  const b = open();
  users(a, { '1001': 'Ann' });
  const good = a.changes.page(0n, {}, 100).changes;
  const bad: Change = { ...good[0]!, table: 'no_such_table' };
  assert.throws(() => b.changes.apply([...good, bad], { source: 'a', stream: 'own', version: 50n }));
  assert.is(b.changes.watermark('a', 'own'), 0n);
  assert.is(b.users.get('1001'), undefined);
});

const misc = suite('ChangeLog column / pending / keys');
misc.after.each(closeAll);

misc('column reads the current value of the row a change addresses', () => {
  const a = open();
  const b = open();
  writeMixed(a);
  const changes = a.changes.page(0n, {}, 10_000).changes;
  const pkOf = (table: string, cid: string, pred: (c: Change) => boolean = () => true) =>
    changes.find((c) => c.table === table && c.cid === cid && pred(c))!.pk;
  const ann = pkOf('users', 'display_name', (c) => c.val === 'Ann');
  assert.is(a.changes.column('users', ann, 'display_name'), 'Ann');
  assert.is(a.changes.column('users', ann, 'created_at'), 0n);
  assert.is(a.changes.column('users', pkOf('users', 'display_name', (c) => c.val === 'Bob'), 'display_name'), 'Bob');
  const reg = pkOf('registrations', 'q', (c) => c.val === 0.5);
  assert.is(a.changes.column('registrations', reg, 'q'), 0.5);
  assert.is(a.changes.column('registrations', reg, 'expires_at'), 2n ** 60n);
  assert.is(a.changes.column('registrations', pkOf('registrations', 'q', (c) => c.val === null), 'q'), null);
  assert.is(a.changes.column('bans', pkOf('bans', 'reason'), 'reason'), 'scan');
  assert.is(a.changes.column('users', pkOf('users', '-1'), 'display_name'), undefined, 'deleted row');
  assert.is(a.changes.column('local_sync_keys', ann, 'site'), undefined, 'not a replicated table');
  assert.is(b.changes.column('users', ann, 'display_name'), undefined);
  b.changes.apply(changes);
  assert.is(b.changes.column('users', ann, 'display_name'), 'Ann');
  assert.throws(() => a.changes.column('users', new Uint8Array([1, 0x0b, 9]), 'display_name'), (err: unknown) => err instanceof StoreError && err.code === 'store.decode');
});

misc('keepPending / pendingUpTo / dropPending', () => {
  const dir = tempDir();
  const a = open(dir);
  a.changes.keepPending('hub', 4, new Uint8Array([1, 2, 3]), 10);
  a.changes.keepPending('n2', 6, Buffer.from('later'), 11);
  a.changes.keepPending('n3', 3, new Uint8Array(0), 12);
  assert.is(a.changes.pendingCount(), 3);
  assert.equal(a.changes.pendingUpTo(2), []);
  const upTo4 = a.changes.pendingUpTo(4);
  assert.equal(upTo4.map((p) => p.source), ['hub', 'n3']);
  assert.ok(upTo4[0]!.id < upTo4[1]!.id, 'oldest first');
  assert.equal([...upTo4[0]!.payload], [1, 2, 3]);
  assert.is(upTo4[1]!.payload.length, 0);
  a.changes.dropPending(upTo4[0]!.id);
  a.changes.dropPending(upTo4[0]!.id); // dropping twice is harmless
  assert.is(a.changes.pendingCount(), 2);
  a.close();
  const again = open(dir);
  assert.equal(again.changes.pendingUpTo(10).map((p) => [p.source, p.payload.toString()]), [['n2', 'later'], ['n3', '']]);
});

misc('rememberKey / knownKey keep the first public key (trust on first use)', () => {
  const a = open();
  const k = { nodeId: 'n1', publicKey: 'PK1', siteId: 'aa', site: 's1', role: 'node' };
  assert.is(a.changes.knownKey('n1'), undefined);
  a.changes.rememberKey(k);
  a.changes.rememberKey({ nodeId: 'h', publicKey: 'PKH', siteId: 'bb', site: '', role: 'hub' });
  assert.equal(a.changes.knownKey('n1'), k);
  a.changes.rememberKey({ ...k, publicKey: 'EVIL', site: 's2', role: 'hub', siteId: 'cc' });
  assert.equal(a.changes.knownKey('n1'), { nodeId: 'n1', publicKey: 'PK1', siteId: 'cc', site: 's2', role: 'hub' });
  assert.equal(a.changes.knownKeys().map((x) => x.nodeId), ['h', 'n1']);
});

page.run();
apply.run();
misc.run();
