import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Change } from '../store/change-log.ts';
import { DirectSqlPool } from '../store/direct-sql.ts';
import { Store } from '../store/store.ts';
import { checkAuthority, type Signer } from './authority.ts';

const opened: Store[] = [];
const open = () => opened[opened.push(Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-authority-')) })) - 1]!;
/** Rows the test writes as local writes of a replica (through a connection of its own). */
const direct = new DirectSqlPool({ durable: false });

/** The changes of one transaction run on `store` (as that replica would publish them). */
function changesOf(store: Store, sql: string, ...params: unknown[]): Change[] {
  const before = store.changes.head();
  direct.run(store, sql, ...params);
  return store.changes.page(before, {}, 10_000).changes;
}

function signerOf(store: Store, nodeId: string, extra: Partial<Signer> = {}): Signer {
  return { nodeId, siteId: store.changes.siteId().toString('hex'), isHub: false, ...extra };
}

const receiver = () => {
  const r = open();
  return (t: string, pk: Uint8Array, col: string) => r.changes.column(t, pk, col);
};

const test = suite('checkAuthority');
test.after.each(() => {
  direct.closeAll();
  opened.splice(0).forEach((s) => s.close());
});

test('a node may write its own registrations, bans and CDRs', () => {
  const n1 = open();
  const changes = [
    ...changesOf(n1, `INSERT INTO registrations (aor, contact, node_id, expires_at) VALUES ('1001', 'sip:a@h', 'n1', 5)`),
    ...changesOf(n1, `INSERT INTO bans (ip, node_id, until) VALUES ('10.0.0.1', 'n1', 5)`),
    ...changesOf(n1, `INSERT INTO cdrs (uuid, node_id, caller) VALUES ('u1', 'n1', '1001')`),
  ];
  const v = checkAuthority(changes, signerOf(n1, 'n1'), receiver());
  assert.is(v.rejected.length, 0, v.rejected.map((r) => r.reason).join('; '));
  assert.is(v.accepted.length, changes.length);
});

test("rows of another node, admin tables and relayed changes are refused with a reason", () => {
  const n3 = open();
  const cases: Array<[Change[], RegExp]> = [
    [changesOf(n3, `INSERT INTO registrations (aor, contact, node_id) VALUES ('1001', 'sip:x@h', 'n1')`), /belongs to n1, not n3/],
    [changesOf(n3, `INSERT INTO cdrs (uuid, node_id, caller) VALUES ('forged', 'n1', 'x')`), /belongs to n1|unknown owner/],
    [changesOf(n3, `INSERT INTO users (ext, display_name) VALUES ('9999', 'mallory')`), /admin-owned/],
    [changesOf(n3, `INSERT INTO nodes (id, public_key) VALUES ('n9', 'k')`), /admin-owned/],
  ];
  for (const [changes, reason] of cases) {
    const v = checkAuthority(changes, signerOf(n3, 'n3'), receiver());
    assert.is(v.accepted.length, 0, `${changes[0]!.table}: ${v.accepted.map((c) => c.cid).join(',')}`);
    for (const r of v.rejected) assert.match(r.reason, reason);
  }
  // n3 passing on changes that originated at another replica: only the hub relays.
  const n1 = open();
  const foreign = changesOf(n1, `INSERT INTO cdrs (uuid, node_id) VALUES ('c1', 'n1')`);
  const v = checkAuthority(foreign, signerOf(n3, 'n3'), receiver());
  assert.is(v.accepted.length, 0);
  assert.match(v.rejected[0]!.reason, /only the hub relays/);
});

test("an update to someone else's existing CDR is refused by looking up the stored owner", () => {
  const recv = open();
  direct.run(recv, `INSERT INTO cdrs (uuid, node_id, disposition) VALUES ('c7', 'n1', 'answered')`);
  const n3 = open();
  direct.run(n3, `INSERT INTO cdrs (uuid, node_id, disposition) VALUES ('c7', 'n1', 'answered')`);
  const update = changesOf(n3, `UPDATE cdrs SET disposition = 'failed' WHERE uuid = 'c7'`);
  assert.equal(update.map((c) => c.cid), ['disposition']);
  const v = checkAuthority(update, signerOf(n3, 'n3'), (t, pk, col) => recv.changes.column(t, pk, col));
  assert.is(v.accepted.length, 0);
  assert.match(v.rejected[0]!.reason, /belongs to n1, not n3/);
});

test('the hub may change anything, including relayed rows', () => {
  const hub = open();
  const changes = [
    ...changesOf(hub, `INSERT INTO users (ext, site) VALUES ('2001', 'a')`),
    ...changesOf(hub, `INSERT INTO registrations (aor, contact, node_id) VALUES ('2001', 'sip:b@h', 'n2')`),
  ];
  const v = checkAuthority(changes, signerOf(hub, 'hub', { isHub: true }), receiver());
  assert.is(v.rejected.length, 0);
});

test('a site admin key allows users and routes of its own site only', () => {
  const n1 = open();
  const own = [
    ...changesOf(n1, `INSERT INTO users (ext, display_name, site) VALUES ('3001', 'Ann', 'a')`),
    ...changesOf(n1, `INSERT INTO routes (id, pattern, site) VALUES ('r1', '9X.', 'a')`),
  ];
  assert.is(checkAuthority(own, signerOf(n1, 'n1', { adminOfSite: 'a' }), receiver()).rejected.length, 0);
  // Without the admin signature the same changes are refused.
  assert.is(checkAuthority(own, signerOf(n1, 'n1'), receiver()).accepted.length, 0);
  // Another site's rows, a global row, moving a row away, and sites/nodes stay refused.
  const other = changesOf(n1, `INSERT INTO users (ext, site) VALUES ('3002', 'b')`);
  const global = changesOf(n1, `INSERT INTO users (ext, site) VALUES ('3003', '')`);
  const nodes = changesOf(n1, `INSERT INTO sites (id, admin_public_key) VALUES ('a', 'mine')`);
  for (const changes of [other, global, nodes]) {
    const v = checkAuthority(changes, signerOf(n1, 'n1', { adminOfSite: 'a' }), receiver());
    assert.is(v.accepted.length, 0, changes.map((c) => `${c.table}.${c.cid}`).join(','));
  }
  const recv = open();
  direct.run(recv, `INSERT INTO users (ext, site) VALUES ('4001', 'b')`);
  direct.run(n1, `INSERT INTO users (ext, site) VALUES ('4001', 'b')`);
  const takeover = changesOf(n1, `UPDATE users SET site = 'a', display_name = 'mine' WHERE ext = '4001'`);
  const v = checkAuthority(takeover, signerOf(n1, 'n1', { adminOfSite: 'a' }), (t, pk, col) => recv.changes.column(t, pk, col));
  assert.is(v.accepted.length, 0, 'a row of site b cannot be moved into site a');
});

test.run();
