/**
 * Convergence of replication over a simulated network (test/helpers/sim-replicas.ts): the
 * production ReplicationCore of every replica on real cr-sqlite stores, real batches,
 * signatures and authority checks; fast-check picks the topology, the writes, when each
 * replica's clock moves (ticks, anti-entropy, request timeouts) and how the network loses,
 * duplicates and reorders messages. After a heal phase (links reconnect, time runs, nothing is
 * lost) every replica must hold exactly the rows of its scope, as a model says. A box may be
 * rebuilt on an empty store mid-run (its key restored).
 * FC_SEED and FC_RUNS override the fixed seed and the number of runs.
 */
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DirectSqlPool } from '../store/direct-sql.ts';
import { REPLICATED_TABLES } from '../store/replicated-tables.ts';
import type { Store } from '../store/store.ts';
import { SimNetwork, type Replica, type ReplicaSpec } from '../../test/helpers/sim-replicas.ts';

type Row = Record<string, unknown>;
type Rows = Map<string, Row>; // "table:pk" -> row

/** The columns the model follows; `update` are those an update of an existing row sets. */
const TABLES: Record<string, { pk: string[]; cols: string[]; update: string[] }> = {
  users: { pk: ['ext'], cols: ['ext', 'display_name', 'site'], update: ['display_name'] },
  cdrs: { pk: ['uuid'], cols: ['uuid', 'node_id', 'caller', 'disposition', 'duration_ms'], update: ['caller', 'duration_ms'] },
  registrations: { pk: ['aor', 'contact', 'node_id'], cols: ['aor', 'contact', 'node_id', 'expires_at', 'call_id'], update: ['expires_at', 'call_id'] },
  bans: { pk: ['ip', 'node_id'], cols: ['ip', 'node_id', 'reason', 'until'], update: ['reason', 'until'] },
};
const spec = (table: string) => TABLES[table]!;
const keyOf = (table: string, row: Row, pk: readonly string[] = spec(table).pk) => `${table}:${JSON.stringify(pk.map((c) => row[c]))}`;
const tableOf = (key: string) => key.slice(0, key.indexOf(':'));
/** The test's writes and reads of any row, through a connection of each replica's own. */
const direct = new DirectSqlPool({ durable: false });
const sqlOf = (store: Store) => direct.of(store).db;

/** Upserts rows in one transaction and mirrors it in `model` (when given). */
function upsert(store: Store, model: Rows | undefined, table: string, rows: Row[], update = spec(table).update): void {
  const { pk, cols } = spec(table);
  const sql = `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})
    ON CONFLICT (${pk.join(', ')}) DO UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(', ')}`;
  const stmt = sqlOf(store).prepare(sql);
  sqlOf(store).transaction(() => rows.forEach((r) => stmt.run(r)))();
  for (const r of rows) {
    const old = model?.get(keyOf(table, r));
    model?.set(keyOf(table, r), old ? { ...old, ...Object.fromEntries(update.map((c) => [c, r[c]])) } : r);
  }
}

function remove(store: Store, model: Rows | undefined, table: string, rows: Row[]): void {
  const { pk } = spec(table);
  const stmt = sqlOf(store).prepare(`DELETE FROM ${table} WHERE ${pk.map((c) => `${c} = @${c}`).join(' AND ')}`);
  sqlOf(store).transaction(() => rows.forEach((r) => stmt.run(Object.fromEntries(pk.map((c) => [c, r[c]])))))();
  for (const r of rows) model?.delete(keyOf(table, r));
}

/** The model's columns of every row of the four written tables. */
function snapshot(store: Store): Rows {
  const out: Rows = new Map();
  for (const [table, t] of Object.entries(TABLES)) {
    for (const row of sqlOf(store).prepare(`SELECT ${t.cols.join(', ')} FROM ${table}`).all() as Row[]) out.set(keyOf(table, row), row);
  }
  return out;
}

/** Every column of every replicated table, without the rows in `skip`. */
function fullRows(store: Store, skip: Set<string>): Record<string, Row> {
  const out: Record<string, Row> = {};
  for (const t of REPLICATED_TABLES) {
    for (const row of sqlOf(store).prepare(`SELECT * FROM ${t.name}`).all() as Row[]) {
      const key = keyOf(t.name, row, t.primaryKey);
      if (!skip.has(key)) out[key] = row;
    }
  }
  return out;
}

const without = (rows: Rows, skip: Set<string>) => Object.fromEntries([...rows].filter(([k]) => !skip.has(k)));

const nodeRow = (table: string, node: string, k: number, v: number): Row =>
  table === 'cdrs'
    ? { uuid: `${node}-c${k}`, node_id: node, caller: `c${v}`, disposition: `d${v}`, duration_ms: v * 10 }
    : table === 'registrations'
      ? { aor: `10${k}`, contact: `sip:${node}@h${k}`, node_id: node, expires_at: 1000 * v, call_id: `call${v}` }
      : { ip: `10.0.0.${k}`, node_id: node, reason: `r${v}`, until: v };

const SITES = ['', 's1', 's2'];

type Cmd =
  | { k: 'node'; n: number; table: string; del: boolean; key: number; count: number; val: number }
  | { k: 'admin'; del: boolean; key: number; count: number; val: number; site: number }
  | { k: 'push' | 'catchup'; r: number }
  | { k: 'time'; r: number; ms: number }
  | { k: 'deliver' | 'drop' | 'dup'; i: number }
  | { k: 'evil'; n: number; fresh: number; tamper: number }
  | { k: 'rebuild'; n: number };

const writeFields = { del: fc.nat(3).map((x) => x === 0), key: fc.nat(4), count: fc.integer({ min: 1, max: 3 }), val: fc.nat(9) };
const evilArb = fc.record({ k: fc.constant('evil' as const), n: fc.nat(3), fresh: fc.nat(2), tamper: fc.nat(20) });
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('node' as const), n: fc.nat(3), table: fc.constantFrom('cdrs', 'registrations', 'bans'), ...writeFields }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('admin' as const), site: fc.nat(2), ...writeFields }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('push' as const, 'catchup' as const), r: fc.nat(4) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('time' as const), r: fc.nat(4), ms: fc.nat(2500) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('deliver' as const), i: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constantFrom('drop' as const, 'dup' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rebuild' as const), n: fc.nat(3) }) },
);
const topologyArb = fc.record({
  nodes: fc.integer({ min: 2, max: 4 }),
  twoSites: fc.boolean(),
  inS2: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  peers: fc.boolean(),
  batchSize: fc.integer({ min: 4, max: 80 }),
});
const scenarioArb = fc.record({
  topo: topologyArb,
  cmds: fc.array(cmdArb, { minLength: 20, maxLength: 80 }),
  evil: evilArb,
  evilAt: fc.nat(),
  /** The site ('', s1, s2) of each extension u0..u7; fixed per run, see the scope-change test below. */
  userSites: fc.array(fc.nat(2), { minLength: 8, maxLength: 8 }),
});

/**
 * Writes may rewrite a row with its current values, and the compromised node tries to take
 * over a foreign CDR by rewriting its node_id (both once were bugs, see the tests below). An
 * extension keeps its site within a run: a user that moves site leaves a copy (marked with the
 * new site) on the boxes of its old site by design, which the exact-scope check would flag.
 * FC_SITE_MOVES=1 lets users move anyway, to exercise that path.
 */
const SITE_MOVES = process.env.FC_SITE_MOVES === '1';

const totals = new Map<string, number>();

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

/** Runs one scenario; throws (assert) when the replicas do not converge on the model. */
function runScenario(s: Scenario): void {
  const cmds: Cmd[] = [...s.cmds];
  cmds.splice(s.evilAt % (cmds.length + 1), 0, s.evil);
  const nodes: ReplicaSpec[] = Array.from({ length: s.topo.nodes }, (_, i) => ({ id: `n${i + 1}`, role: 'node', site: s.topo.twoSites && s.topo.inS2[i] ? 's2' : 's1' }));
  const sim = new SimNetwork([{ id: 'hub', role: 'hub', site: '' }, ...nodes], { batchSize: s.topo.batchSize, peers: s.topo.peers });
  let all = [...sim.replicas.values()];
  const hub = sim.get('hub');
  const model: Rows = new Map();
  const taint = new Set<string>(); // rows the compromised node changed in its own store
  const fresh = new Set<string>(); // rows only the compromised node may hold
  let writer: Replica | undefined;
  try {
    for (const [i, c] of cmds.entries()) {
      const q = sim.queue;
      if (c.k === 'node') {
        const node = nodes[c.n % nodes.length]!.id;
        const rows = Array.from({ length: c.count }, (_, j) => nodeRow(c.table, node, c.key + j, c.val));
        (c.del ? remove : upsert)(sim.get(node).store, model, c.table, rows);
      } else if (c.k === 'admin') {
        const rows = Array.from({ length: c.count }, (_, j) => ({ ext: `u${c.key + j}`, display_name: `name${c.val}`, site: SITES[SITE_MOVES ? c.site : s.userSites[c.key + j]!]! }));
        (c.del ? remove : upsert)(hub.store, model, 'users', rows);
      } else if (c.k === 'push') sim.push(all[c.r % all.length]!.id);
      else if (c.k === 'catchup') sim.reconnect(all[c.r % all.length]!.id);
      else if (c.k === 'time') sim.advance(all[c.r % all.length]!.id, c.ms);
      else if (c.k === 'deliver') sim.deliver(c.i % Math.max(1, q.length));
      else if (c.k === 'drop') q.splice(c.i % Math.max(1, q.length), 1);
      else if (c.k === 'dup' && q.length > 0) q.push(q[c.i % q.length]!);
      else if (c.k === 'rebuild') {
        // A box replaced with its key restored, once what it wrote has reached the others (what
        // it never sent dies with it); it then pulls its rows back before it writes again. Only
        // before the compromise: a replica that never had a row takes the owner a compromised
        // peer's change names (authority.ts reads the stored owner, and there is none).
        if (writer) continue;
        sim.heal(50);
        sim.rebuild(nodes[c.n % nodes.length]!.id, true);
        all = [...sim.replicas.values()];
        sim.heal(50);
      }
      else if (c.k === 'evil') {
        writer = sim.get(nodes[c.n % nodes.length]!.id);
        const other = nodes[(c.n + 1) % nodes.length]!.id;
        const [table, row]: [string, Row] = [
          ['cdrs', { ...nodeRow('cdrs', other, 0, 1), uuid: `evil-${i}` }] as [string, Row],
          ['users', { ext: `evil${i}`, display_name: 'evil', site: writer.site }] as [string, Row],
          ['registrations', { ...nodeRow('registrations', other, 0, 1), aor: `evil${i}` }] as [string, Row],
        ][c.fresh]!;
        upsert(writer.store, undefined, table, [row]);
        fresh.add(keyOf(table, row));
        taint.add(keyOf(table, row));
        // Also change a row it holds but does not own: an admin row or another node's.
        const foreign = [...snapshot(writer.store)].filter(([k, r]) => !fresh.has(k) && (tableOf(k) === 'users' || r.node_id !== writer!.id));
        const target = foreign[c.tamper % Math.max(1, foreign.length)];
        if (target) {
          const [key, r] = target;
          const t = tableOf(key);
          taint.add(key);
          if (t === 'users' && c.tamper % 2 === 0) remove(writer.store, undefined, t, [r]);
          else if (t === 'cdrs') upsert(writer.store, undefined, t, [{ ...r, node_id: writer.id }], ['node_id']);
          else upsert(writer.store, undefined, t, [{ ...r, [spec(t).update[0]!]: 'evil' }]);
        }
      }
    }
    sim.heal(50);
    for (const r of all) for (const [k, n] of Object.entries(r.core.counters)) if (typeof n === 'number') totals.set(k, (totals.get(k) ?? 0) + n);

    // (2) The hub holds exactly the model: every legitimate write's final state, nothing else.
    assert.equal(Object.fromEntries(snapshot(hub.store)), Object.fromEntries(model), 'hub rows = model');
    const siteOf = new Map(nodes.map((n) => [n.id, n.site]));
    for (const n of nodes) {
      const r = sim.get(n.id);
      // (3) A node holds exactly its scope: global users, its site's users, its site's node rows.
      const scope = [...model].filter(([k, row]) => (tableOf(k) === 'users' ? row.site === '' || row.site === n.site : siteOf.get(row.node_id as string) === n.site));
      const skip = r === writer ? taint : new Set<string>();
      assert.equal(without(snapshot(r.store), skip), without(new Map(scope), skip), `${n.id} (${n.site}) rows = its scope of the model`);
      // (4) Only the compromised node holds what it wrote without owning it.
      if (r !== writer) for (const k of fresh) assert.not.ok(snapshot(r.store).has(k), `${n.id} holds the compromised row ${k}`);
    }
    // (1) Nodes of one site are identical (every column of every table).
    for (const site of new Set(nodes.map((n) => n.site))) {
      const peers = nodes.filter((n) => n.site === site).map((n) => sim.get(n.id));
      const clean = peers.filter((p) => p !== writer);
      for (const p of clean.slice(1)) assert.equal(p.store.digests(), clean[0]!.store.digests(), `digests of ${p.id} = ${clean[0]!.id}`);
      for (const p of peers.slice(1)) assert.equal(fullRows(p.store, taint), fullRows(peers[0]!.store, taint), `rows of ${p.id} = ${peers[0]!.id}`);
    }
    // (4) Receivers of the compromised node's own stream rejected its changes.
    for (const r of all) {
      const c = r.core.counters;
      assert.is(c.badSignature + c.unknownSender + c.unexpected + c.malformed, 0, `${r.id}: no bad batches`);
      if (writer && r !== writer && r.core.streams().some((s) => s.key === `${writer!.id} own`)) assert.ok((c.rejectedBy.get(writer.id) ?? 0) > 0, `${r.id} rejected ${writer.id}`);
    }
    assert.ok(writer && (hub.core.counters.rejectedBy.get(writer.id) ?? 0) > 0, 'the hub rejected the compromised writes');
  } finally {
    direct.closeAll();
    sim.close();
  }
}

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : 20_251_104;
const numRuns = Number(process.env.FC_RUNS ?? 30);

const convergence = suite('sync convergence (simulated network)');

convergence('replicas converge on the model after loss, duplication, reordering and a compromised node', () => {
  fc.assert(
    fc.property(scenarioArb, (s) => {
      try {
        runScenario(s);
      } catch (err) {
        // fast-check reports only the message: add uvu's diff to it.
        const details = (err as { details?: unknown }).details;
        if (typeof details === 'string') (err as Error).message += `\n${details.replace(/\x1b\[[0-9;]*m/g, '')}`;
        throw err;
      }
    }),
    { seed, numRuns, includeErrorInReport: true, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true },
  );
  if (process.env.FC_STATS) console.log(Object.fromEntries(totals));
});

/** A hub and nodes n1, n2, ... in the given sites; closed after `fn`. */
function withSim(sites: string[], peers: boolean, fn: (sim: SimNetwork) => void): void {
  const sim = new SimNetwork([{ id: 'hub', role: 'hub', site: '' }, ...sites.map((site, i) => ({ id: `n${i + 1}`, role: 'node' as const, site }))], { batchSize: 100, peers });
  try {
    fn(sim);
  } finally {
    direct.closeAll();
    sim.close();
  }
}
const column = (r: Replica, sql: string, ...args: unknown[]) => sqlOf(r.store).prepare(sql).pluck().all(...args);
const user = (ext: string, site: string, ha1: string) => ({ ext, displayName: 'Ann', realm: 'pbx', ha1Md5: ha1, ha1Sha256: ha1, site });

convergence('a dropped push leaves a gap; the catch-up fills it and the hub relays to a site peer', () =>
  withSim(['s1', 's1'], false, (sim) => {
    const n1 = sim.get('n1');
    const hubStream = sim.stream('hub', 'n1', 'own');
    upsert(n1.store, undefined, 'cdrs', [nodeRow('cdrs', 'n1', 1, 1)]);
    assert.is(sim.push('n1'), 1, 'the first push goes to the hub only');
    sim.queue.splice(0); // lost
    upsert(n1.store, undefined, 'cdrs', [nodeRow('cdrs', 'n1', 2, 2)]);
    sim.push('n1');
    sim.deliver(0);
    assert.is(hubStream.gaps, 1, 'the second push leaves a gap');
    assert.ok(hubStream.pulling, 'and the hub asks for a catch-up');
    sim.drain();
    assert.is(hubStream.watermark, n1.store.changes.head());
    assert.not.ok(hubStream.pulling);
    sim.push('hub');
    sim.drain();
    assert.equal(column(sim.get('hub'), 'SELECT uuid FROM cdrs ORDER BY uuid'), ['n1-c1', 'n1-c2']);
    assert.equal(column(sim.get('n2'), 'SELECT uuid FROM cdrs ORDER BY uuid'), ['n1-c1', 'n1-c2'], 'n2 got n1 rows through the hub');
    assert.equal(sim.get('n2').store.digests(), n1.store.digests());
  }),
);

// Regression tests for bugs this property found (fixed in change-log.ts, batch-source.ts, authority.ts).

convergence('head never announces a version a later change takes (a no-op write, then a merge without changes)', () =>
  withSim(['s1'], false, (sim) => {
    const hub = sim.get('hub');
    const heads: bigint[] = [];
    hub.store.users.upsert(user('1001', '', 'a'), 1);
    sim.push('hub');
    sim.drain(); // n1 merges 1001: n1's head is 1
    hub.store.users.upsert(user('1001', '', 'a'), 1); // the same values: nothing recorded, yet head() 1 -> 2
    heads.push(hub.store.changes.head());
    sim.catchUpAll('n1');
    sim.drain(); // the reply's `to` is the head: n1's global watermark is 2
    const watermark = sim.stream('n1', 'hub', 'global').watermark;
    sim.catchUpAll('hub');
    sim.drain(); // the hub merges n1's own stream (nothing new, only the watermark): head() 2 -> 1
    heads.push(hub.store.changes.head());
    hub.store.users.upsert(user('1002', '', 'b'), 2); // recorded at version 2, which n1 has passed
    heads.push(hub.store.changes.head());
    sim.push('hub');
    sim.heal();
    assert.equal(column(sim.get('n1'), 'SELECT ext FROM users ORDER BY ext'), ['1001', '1002'], `n1 never gets 1002 (hub head ${heads.join(' -> ')}, n1 watermark ${watermark})`);
  }),
);

convergence('a user re-created in another site reaches its old site too, as a row of the new site', () =>
  withSim(['s1', 's2'], false, (sim) => {
    const hub = sim.get('hub');
    hub.store.users.upsert(user('1001', 's1', 'old'), 1);
    sim.push('hub');
    sim.heal();
    hub.store.users.remove('1001');
    hub.store.users.upsert(user('1001', 's2', 'new'), 2);
    sim.push('hub');
    sim.heal();
    assert.equal(column(sim.get('n2'), 'SELECT ha1_md5 FROM users'), ['new']);
    // n1 cannot drop the row (a delete by a box would be refused), but it no longer holds the
    // old password and sees the user belongs to s2 (its registrar refuses users of other sites).
    assert.equal(column(sim.get('n1'), "SELECT site || ' ' || ha1_md5 FROM users"), ['s2 new'], 'n1 (s1) replaced its copy');
  }),
);

convergence('a user moved to another site arrives whole there, and its old site learns it moved', () =>
  withSim(['s1', 's2'], false, (sim) => {
    const hub = sim.get('hub');
    hub.store.users.upsert(user('1001', 's1', 'h'), 1);
    sim.push('hub');
    sim.heal();
    hub.store.users.upsert(user('1001', 's2', 'h'), 2);
    sim.push('hub');
    sim.heal();
    assert.equal(column(sim.get('n2'), 'SELECT realm || \' \' || ha1_md5 FROM users'), ['pbx h'], 'n2 (s2) has the whole row');
    assert.equal(column(sim.get('n1'), 'SELECT site FROM users'), ['s2'], 'n1 (s1) sees the user is now of s2');
  }),
);

convergence('a node cannot take over another node\'s CDR by rewriting its node_id', () =>
  withSim(['s1', 's1'], true, (sim) => {
    upsert(sim.get('n2').store, undefined, 'cdrs', [nodeRow('cdrs', 'n2', 1, 1)]);
    sim.push('n2');
    sim.heal();
    // n1 is compromised: it claims n2's CDR and changes it.
    direct.run(sim.get('n1').store, "UPDATE cdrs SET node_id = 'n1', caller = 'forged' WHERE uuid = 'n2-c1'");
    sim.push('n1');
    sim.heal();
    upsert(sim.get('n2').store, undefined, 'cdrs', [{ ...nodeRow('cdrs', 'n2', 1, 2) }]); // n2's own later update
    sim.push('n2');
    sim.heal();
    for (const id of ['hub', 'n2']) {
      assert.equal(column(sim.get(id), "SELECT node_id || ' ' || caller FROM cdrs"), ['n2 c2'], `${id}: n2's CDR unchanged by n1`);
    }
  }),
);

/** n1 owns rows, dies, and comes back on an empty store; it writes before it has synced. */
function rebuildN1(sim: SimNetwork, keepKey: boolean): Replica {
  for (let k = 0; k < 30; k++) upsert(sim.get('n1').store, undefined, 'bans', [nodeRow('bans', 'n1', 1, k)]); // a head far beyond
  upsert(sim.get('n1').store, undefined, 'cdrs', [nodeRow('cdrs', 'n1', 1, 1)]);
  sim.push('n1');
  sim.heal();
  const n1 = sim.rebuild('n1', keepKey);
  upsert(n1.store, undefined, 'cdrs', [nodeRow('cdrs', 'n1', 2, 2)]); // versions 1, 2 of the new store
  upsert(n1.store, undefined, 'bans', [nodeRow('bans', 'n1', 2, 2)]);
  sim.push('n1');
  return n1;
}
const same = (sim: SimNetwork, ids: string[]) => ids.slice(1).forEach((id) => assert.equal(sim.get(id).store.digests(), sim.get(ids[0]!).store.digests(), `digests of ${id} = ${ids[0]}`));

convergence('a box rebuilt with its key restored: receivers restart its stream from 0, it gets its old rows back', () =>
  withSim(['s1', 's1'], true, (sim) => {
    rebuildN1(sim, true);
    sim.heal();
    same(sim, ['hub', 'n1', 'n2']);
    assert.equal(column(sim.get('n2'), 'SELECT uuid FROM cdrs ORDER BY uuid'), ['n1-c1', 'n1-c2'], 'n2 has the rows of both stores');
  }),
);

convergence('a box rebuilt with a new key is refused until the hub records a replacement; then it converges', () =>
  withSim(['s1', 's1'], true, (sim) => {
    const oldKey = sim.get('n1').key.publicKey;
    const n1 = rebuildN1(sim, false);
    sim.heal();
    assert.equal(column(sim.get('hub'), 'SELECT uuid FROM cdrs ORDER BY uuid'), ['n1-c1'], 'the hub refuses the new key');
    assert.ok(sim.get('n2').core.directory.keyMismatches > 0, 'and so does n2');
    const hub = sim.get('hub');
    hub.store.nodes.requestReplacement('n1', oldKey, 1); // outpost node replace n1
    sim.push('hub');
    sim.heal();
    same(sim, ['hub', 'n1', 'n2']);
    assert.equal(column(hub, 'SELECT uuid FROM cdrs ORDER BY uuid'), ['n1-c1', 'n1-c2']);
    for (const id of ['hub', 'n2']) assert.is(sim.get(id).core.directory.get('n1')?.publicKey, n1.key.publicKey, `${id} pinned the new key`);
  }),
);

convergence.run();
