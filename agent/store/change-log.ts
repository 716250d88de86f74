/**
 * Change extraction and merge for replication (the loop of cr-sqlite's README): read
 * `crsql_changes` after a version, merge a peer's changes by inserting them back, and keep the
 * per-source watermarks in the same transaction as the merge, so a crash never records a
 * watermark for changes that are not on disk. Also keeps batches from a newer schema until a
 * migration makes them applicable, and the node keys this replica has seen. sync/ calls this;
 * it never writes SQL itself.
 */
import type { Database, Statement } from 'better-sqlite3';
import { REPLICATED_TABLES, replicatedTable } from './replicated-tables.ts';
import { unpackPrimaryKey } from './pk-codec.ts';

export type SqlValue = null | bigint | number | string | Uint8Array;

/** One row of crsql_changes. `siteId` is the origin replica; `dbVersion` is in the reader's space. */
export interface Change {
  table: string;
  pk: Uint8Array;
  cid: string;
  val: SqlValue;
  colVersion: bigint;
  dbVersion: bigint;
  siteId: Uint8Array;
  cl: bigint;
  seq: bigint;
}

/** Changes in (from, to] of one replica's version space, whole transactions only. */
export interface ChangePage {
  changes: Change[];
  from: bigint;
  to: bigint;
  /** True when more changes follow `to` (the page hit its limit). */
  more: boolean;
}

export interface ChangeFilter {
  /** Only changes that originated at this replica (a node's own stream). */
  onlySite?: Uint8Array;
  /** Leave out changes that originated at this replica (the requester's own). */
  excludeSite?: Uint8Array;
}

/** The head before and after a merge: the merged changes took exactly the versions in (before, after]. */
export interface AppliedRange {
  before: bigint;
  after: bigint;
}

export interface Watermark {
  source: string;
  stream: string;
  version: bigint;
  updatedAt: number;
}

export interface KnownKey {
  nodeId: string;
  publicKey: string;
  siteId: string;
  site: string;
  role: string;
}

interface ChangeRow {
  table: string;
  pk: Uint8Array;
  cid: string;
  val: SqlValue;
  col_version: bigint;
  db_version: bigint;
  site_id: Uint8Array;
  cl: bigint;
  seq: bigint;
}

const MAX_VERSION = (1n << 63n) - 1n;
const COLUMNS = `"table", pk, cid, val, col_version, db_version, site_id, cl, seq`;

export class ChangeLog {
  private readonly db: Database;
  private readonly ownSite: Buffer;
  private readonly insert: Statement;
  private readonly selectAll: Statement;
  private readonly selectOnly: Statement;
  private readonly selectExcept: Statement;
  private readonly headStmt: Statement;
  private readonly upsertWatermark: Statement;
  private readonly lookups = new Map<string, Statement>();

  constructor(db: Database) {
    this.db = db;
    this.ownSite = Buffer.from((db.prepare('SELECT crsql_site_id() AS s').get() as { s: Buffer }).s);
    this.insert = db.prepare(`INSERT INTO crsql_changes (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const base = `SELECT ${COLUMNS} FROM crsql_changes WHERE db_version > ? AND db_version <= ?`;
    const order = 'ORDER BY db_version, seq LIMIT ?';
    this.selectAll = db.prepare(`${base} ${order}`).safeIntegers(true);
    this.selectOnly = db.prepare(`${base} AND site_id = ? ${order}`).safeIntegers(true);
    this.selectExcept = db.prepare(`${base} AND site_id IS NOT ? ${order}`).safeIntegers(true);
    // The highest version a change is recorded at. Not crsql_db_version(): cr-sqlite 0.16 moves
    // that up for a write that records nothing (an UPDATE to the same value, a rolled-back
    // savepoint) and back down at the next commit without changes, so a head read from it can
    // announce a version that a later, real change then takes; receivers would skip that change.
    const clocks = REPLICATED_TABLES.map((t) => `SELECT max(db_version) AS v FROM "${t.name}__crsql_clock"`).join(' UNION ALL ');
    this.headStmt = db.prepare(`SELECT coalesce(max(v), 0) AS v FROM (${clocks})`).safeIntegers(true);
    this.upsertWatermark = db.prepare(
      `INSERT INTO local_sync_watermarks (source, stream, version, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (source, stream) DO UPDATE SET version = max(version, excluded.version), updated_at = excluded.updated_at`,
    );
  }

  /** This replica's cr-sqlite site id (16 bytes). */
  siteId(): Buffer {
    return this.ownSite;
  }

  /** The newest db_version at which this replica recorded a change (0 when none). */
  head(): bigint {
    return (this.headStmt.get() as { v: bigint }).v;
  }

  /**
   * Up to about `limit` changes after `since`, never splitting one db_version across pages (a
   * transaction larger than `limit` comes whole). `to` is the head when nothing more follows.
   */
  page(since: bigint, filter: ChangeFilter, limit: number): ChangePage {
    return this.db.transaction((): ChangePage => {
      const head = this.head();
      const rows = this.select(since, filter, limit + 1);
      if (rows.length <= limit) return { changes: rows.map(toChange), from: since, to: head > since ? head : since, more: false };
      // Over the limit: cut before the last (possibly incomplete) version, unless it is the only one.
      const lastVersion = rows[limit]!.db_version;
      let end = limit;
      while (end > 0 && rows[end - 1]!.db_version === lastVersion) end--;
      if (end === 0) {
        const whole = this.select(since, filter, -1, lastVersion);
        const after = this.select(lastVersion, filter, 1);
        return { changes: whole.map(toChange), from: since, to: after.length > 0 ? lastVersion : head, more: after.length > 0 };
      }
      return { changes: rows.slice(0, end).map(toChange), from: since, to: rows[end - 1]!.db_version, more: true };
    })();
  }

  private select(since: bigint, filter: ChangeFilter, limit: number, upTo?: bigint): ChangeRow[] {
    const top = upTo ?? MAX_VERSION;
    if (filter.onlySite) return this.selectOnly.all(since, top, filter.onlySite, limit) as ChangeRow[];
    if (filter.excludeSite) return this.selectExcept.all(since, top, filter.excludeSite, limit) as ChangeRow[];
    return this.selectAll.all(since, top, limit) as ChangeRow[];
  }

  /**
   * Merges changes (idempotent: cr-sqlite ignores what it already has) and, in the same
   * transaction, raises the watermark of the source they came from. Returns the head before and
   * after, read inside the transaction (so no other writer's versions fall in between).
   */
  apply(changes: readonly Change[], watermark?: { source: string; stream: string; version: bigint }, now = Date.now()): AppliedRange {
    // IMMEDIATE: the transaction reads before it writes; a deferred one could not wait for a
    // writer in another process (the CLI) and would fail at once with "database is locked".
    return this.db.transaction((): AppliedRange => {
      const before = this.head();
      for (const c of changes) {
        this.insert.run(c.table, c.pk, c.cid, c.val, c.colVersion, c.dbVersion, c.siteId, c.cl, c.seq);
      }
      if (watermark) this.upsertWatermark.run(watermark.source, watermark.stream, watermark.version, now);
      return { before, after: changes.length > 0 ? this.head() : before };
    }).immediate();
  }

  watermark(source: string, stream: string): bigint {
    const row = this.db
      .prepare('SELECT version FROM local_sync_watermarks WHERE source = ? AND stream = ?')
      .safeIntegers(true)
      .get(source, stream) as { version: bigint } | undefined;
    return row?.version ?? 0n;
  }

  watermarks(): Watermark[] {
    const rows = this.db
      .prepare('SELECT source, stream, version, updated_at FROM local_sync_watermarks ORDER BY source, stream')
      .safeIntegers(true)
      .all() as Array<{ source: string; stream: string; version: bigint; updated_at: bigint }>;
    return rows.map((r) => ({ source: r.source, stream: r.stream, version: r.version, updatedAt: Number(r.updated_at) }));
  }

  /** Runs `fn` in one transaction (several small local writes, one fsync). */
  inTransaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** The site an admin row was last published to (hub), and recording a new one. */
  publishedSite(table: string, pk: Uint8Array): string | undefined {
    const r = this.db.prepare('SELECT site FROM local_admin_row_sites WHERE tbl = ? AND pk = ?').get(table, pk) as { site: string } | undefined;
    return r?.site;
  }

  recordPublishedSite(table: string, pk: Uint8Array, site: string): void {
    this.db.prepare('INSERT INTO local_admin_row_sites (tbl, pk, site) VALUES (?, ?, ?) ON CONFLICT (tbl, pk) DO UPDATE SET site = excluded.site').run(table, pk, site);
  }

  /** Every change recorded for one row (its whole current state, as changes). */
  rowChanges(table: string, pk: Uint8Array): Change[] {
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM crsql_changes WHERE "table" = ? AND pk = ?`).safeIntegers(true).all(table, pk) as ChangeRow[];
    return rows.map(toChange);
  }

  /** The current value of one column of the row a change addresses; undefined when no such row. */
  column(table: string, pk: Uint8Array, column: string): SqlValue | undefined {
    const t = replicatedTable(table);
    if (!t) return undefined;
    const key = `${table}.${column}`;
    let stmt = this.lookups.get(key);
    if (!stmt) {
      const where = t.primaryKey.map((c) => `"${c}" = ?`).join(' AND ');
      stmt = this.db.prepare(`SELECT "${column}" AS v FROM "${table}" WHERE ${where}`).safeIntegers(true);
      this.lookups.set(key, stmt);
    }
    const row = stmt.get(...unpackPrimaryKey(pk)) as { v: SqlValue } | undefined;
    return row === undefined ? undefined : row.v;
  }

  /** Keeps a batch this schema cannot apply yet (it came from a newer schema). */
  keepPending(source: string, schemaVersion: number, payload: Uint8Array, now = Date.now()): void {
    this.db.prepare('INSERT INTO local_sync_pending (source, schema_version, received_at, payload) VALUES (?, ?, ?, ?)').run(source, schemaVersion, now, payload);
  }

  /** Kept batches whose schema is at most `schemaVersion`, oldest first. */
  pendingUpTo(schemaVersion: number): Array<{ id: number; source: string; payload: Buffer }> {
    return this.db
      .prepare('SELECT id, source, payload FROM local_sync_pending WHERE schema_version <= ? ORDER BY id')
      .all(schemaVersion) as Array<{ id: number; source: string; payload: Buffer }>;
  }

  pendingCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM local_sync_pending').get() as { n: number }).n;
  }

  dropPending(id: number): void {
    this.db.prepare('DELETE FROM local_sync_pending WHERE id = ?').run(id);
  }

  knownKey(nodeId: string): KnownKey | undefined {
    const r = this.db.prepare('SELECT node_id, public_key, site_id, site, role FROM local_sync_keys WHERE node_id = ?').get(nodeId) as
      | { node_id: string; public_key: string; site_id: string; site: string; role: string }
      | undefined;
    return r && { nodeId: r.node_id, publicKey: r.public_key, siteId: r.site_id, site: r.site, role: r.role };
  }

  knownKeys(): KnownKey[] {
    const rows = this.db.prepare('SELECT node_id, public_key, site_id, site, role FROM local_sync_keys ORDER BY node_id').all() as Array<{
      node_id: string;
      public_key: string;
      site_id: string;
      site: string;
      role: string;
    }>;
    return rows.map((r) => ({ nodeId: r.node_id, publicKey: r.public_key, siteId: r.site_id, site: r.site, role: r.role }));
  }

  /**
   * A known node announced another store (a new cr-sqlite site id: its box was rebuilt): its
   * version space starts again, so the watermarks kept for it are dropped, and its new site id
   * (and key, when a replacement key was accepted) recorded, in one transaction.
   */
  restartSource(key: KnownKey, now = Date.now()): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM local_sync_watermarks WHERE source = ?').run(key.nodeId);
      this.pinKey(key, now);
    }).immediate();
  }

  /** Pins `key` for its node, replacing whatever key was pinned (an accepted replacement). */
  pinKey(key: KnownKey, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO local_sync_keys (node_id, public_key, site_id, site, role, first_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (node_id) DO UPDATE SET public_key = excluded.public_key, site_id = excluded.site_id, site = excluded.site, role = excluded.role`,
      )
      .run(key.nodeId, key.publicKey, key.siteId, key.site, key.role, now);
  }

  rememberKey(key: KnownKey, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO local_sync_keys (node_id, public_key, site_id, site, role, first_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (node_id) DO UPDATE SET site_id = excluded.site_id, site = excluded.site, role = excluded.role`,
      )
      .run(key.nodeId, key.publicKey, key.siteId, key.site, key.role, now);
  }
}

function toChange(r: ChangeRow): Change {
  return { table: r.table, pk: r.pk, cid: r.cid, val: r.val, colVersion: r.col_version, dbVersion: r.db_version, siteId: r.site_id, cl: r.cl, seq: r.seq };
}
