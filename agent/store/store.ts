/**
 * The data plane's entry point: opens `<dataDir>/outpost.db` with the cr-sqlite extension,
 * applies pragmas and migrations, and exposes the repositories and the group-commit queue.
 * Only agent/store/ contains SQL.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ensureDataDir } from './data-dir.ts';
import { StoreError } from './errors.ts';
import { MIGRATIONS } from './migrations/index.ts';
import { AdminAuditRepository } from './admin-audit.ts';
import { BanRepository } from './bans.ts';
import { CdrRepository } from './cdrs.ts';
import { ConfigReportRepository } from './config-reports.ts';
import { DesiredConfigRepository } from './desired-configs.ts';
import { UpdateRepository } from './update-offers.ts';
import { ChangeLog } from './change-log.ts';
import { NodeRepository } from './nodes.ts';
import { RevocationRepository } from './revocations.ts';
import { SiteRepository } from './sites.ts';
import { tableDigests, type TableDigest } from './table-digest.ts';
import { RegistrationRepository } from './registrations.ts';
import { RouteRepository } from './routes.ts';
import { TrunkRepository } from './trunks.ts';
import { UserRepository } from './users.ts';
import { WriteQueue } from './write-queue.ts';

/** Where native/build-crsqlite.sh puts the extension. */
export const DEFAULT_CRSQLITE_PATH = fileURLToPath(new URL('../../native/build/crsqlite.so', import.meta.url));

export interface StoreOptions {
  dataDir: string;
  /** Path of the cr-sqlite loadable extension; the project's own build by default. */
  crsqlitePath?: string;
  /** Open without creating the data directory (CLI commands on an existing box). */
  mustExist?: boolean;
  /** false: commits are not flushed to disk (synchronous=OFF), for throwaway test stores. */
  durable?: boolean;
}

export class Store {
  /** Only store/ runs SQL: tests and benchmarks elsewhere go through direct-sql.ts. */
  private readonly db: Database.Database;
  readonly users: UserRepository;
  readonly registrations: RegistrationRepository;
  readonly bans: BanRepository;
  readonly routes: RouteRepository;
  readonly trunks: TrunkRepository;
  readonly cdrs: CdrRepository;
  readonly writes: WriteQueue;
  readonly changes: ChangeLog;
  readonly nodes: NodeRepository;
  readonly revocations: RevocationRepository;
  readonly sites: SiteRepository;
  readonly desiredConfigs: DesiredConfigRepository;
  readonly configReports: ConfigReportRepository;
  /** Update offers, the hub's permits and the boxes' update states (docs/updates.md). */
  readonly updates: UpdateRepository;
  /** The hub's audit trail of admin requests (hub-local, not replicated; docs/security.md). */
  readonly adminAudit: AdminAuditRepository;
  readonly path: string;
  private closed = false;

  private constructor(db: Database.Database, path: string) {
    this.db = db;
    this.path = path;
    this.users = new UserRepository(db);
    this.registrations = new RegistrationRepository(db);
    this.bans = new BanRepository(db);
    this.routes = new RouteRepository(db);
    this.trunks = new TrunkRepository(db);
    this.cdrs = new CdrRepository(db);
    this.writes = new WriteQueue(db);
    this.changes = new ChangeLog(db);
    this.nodes = new NodeRepository(db);
    this.revocations = new RevocationRepository(db);
    this.sites = new SiteRepository(db);
    this.desiredConfigs = new DesiredConfigRepository(db);
    this.configReports = new ConfigReportRepository(db);
    this.updates = new UpdateRepository(db);
    this.adminAudit = new AdminAuditRepository(db);
  }

  static open(options: StoreOptions): Store {
    const extension = options.crsqlitePath ?? DEFAULT_CRSQLITE_PATH;
    if (!existsSync(extension)) {
      throw new StoreError('store.extension', `cr-sqlite extension not found at ${extension}; run "bash setup.sh" (or native/build-crsqlite.sh)`);
    }
    ensureDataDir(options.dataDir, options.mustExist === true);
    const path = join(options.dataDir, 'outpost.db');
    let db: Database.Database;
    try {
      db = new Database(path);
    } catch (err) {
      throw new StoreError('store.open', `cannot open ${path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(options.durable === false ? 'synchronous = OFF' : 'synchronous = FULL');
      db.pragma('temp_store = MEMORY');
      db.pragma('busy_timeout = 5000');
      db.loadExtension(extension);
      migrate(db);
    } catch (err) {
      db.close();
      if (err instanceof StoreError) throw err;
      throw new StoreError('store.open', `cannot prepare ${path}: ${(err as Error).message}`, { cause: err });
    }
    return new Store(db, path);
  }

  /** SQLite's data_version: changes when another connection (e.g. the CLI) committed. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** The cr-sqlite db_version of this replica. */
  dbVersion(): number {
    return (this.db.prepare('SELECT crsql_db_version() AS v').get() as { v: number }).v;
  }

  /** Row count and content digest of every replicated table (equal on identical replicas). */
  digests(): TableDigest[] {
    return tableDigests(this.db);
  }

  /** The schema version recorded in this database. */
  schemaVersion(): number {
    return (this.db.prepare('SELECT coalesce(max(version), 0) AS v FROM local_migrations').get() as { v: number }).v;
  }

  /** Commits pending writes, finalizes cr-sqlite and closes. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.writes.close();
    this.db.prepare('SELECT crsql_finalize()').get();
    this.db.close();
  }
}

function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS local_migrations (
    version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set((db.prepare('SELECT version FROM local_migrations').all() as { version: number }[]).map((r) => r.version));
  const known = new Set(MIGRATIONS.map((m) => m.version));
  for (const v of applied) {
    if (!known.has(v)) throw new StoreError('store.migration', `database has schema version ${v}, newer than this build knows; upgrade outpost`);
  }
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    try {
      db.transaction(() => {
        m.up(db);
        db.prepare('INSERT INTO local_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      })();
    } catch (err) {
      throw new StoreError('store.migration', `migration ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
