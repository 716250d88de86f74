/**
 * SQL straight on a store's database file, for tests and benchmarks only: rows the store's
 * functions do not write (a forged row, values of any storage class, bulk rows of any table)
 * and queries they do not offer. It is a second connection, opened as the CLI opens the file,
 * with cr-sqlite loaded, so what it writes becomes changes like any local write. Agent code
 * never imports it (agent/lib/import-layers.test.ts); Store itself keeps its connection private.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_CRSQLITE_PATH, type Store } from './store.ts';

export interface DirectSqlOptions {
  /** false: commits are not fsynced (throwaway test stores). */
  durable?: boolean;
  /** Open read-only, without cr-sqlite: a watcher beside a running node (benchmarks). */
  readonly?: boolean;
}

export class DirectSql {
  /** The better-sqlite3 connection: prepare, exec, transaction, pragma. */
  readonly db: Database.Database;

  private constructor(path: string, options: DirectSqlOptions) {
    this.db = new Database(path, { fileMustExist: true, readonly: options.readonly === true });
    this.db.pragma('busy_timeout = 5000');
    if (options.readonly) return;
    this.db.pragma(`synchronous = ${options.durable === false ? 'OFF' : 'FULL'}`);
    this.db.loadExtension(DEFAULT_CRSQLITE_PATH);
  }

  /** The database of `<dataDir>` (a store opened it before: the schema exists). */
  static open(dataDir: string, options: DirectSqlOptions = {}): DirectSql {
    return new DirectSql(join(dataDir, 'outpost.db'), options);
  }

  /** The database of an open store, through a connection of its own. */
  static of(store: Store, options: DirectSqlOptions = {}): DirectSql {
    return new DirectSql(store.path, options);
  }

  close(): void {
    if (!this.db.open) return;
    if (!this.db.readonly) this.db.prepare('SELECT crsql_finalize()').get();
    this.db.close();
  }
}

/** One DirectSql per store, opened on first use and closed together (a test file's stores). */
export class DirectSqlPool {
  readonly #options: DirectSqlOptions;
  readonly #open = new Map<Store, DirectSql>();

  constructor(options: DirectSqlOptions = {}) {
    this.#options = options;
  }

  of(store: Store): DirectSql {
    let sql = this.#open.get(store);
    if (!sql) this.#open.set(store, (sql = DirectSql.of(store, this.#options)));
    return sql;
  }

  /** Runs one statement on the store's database; the number of rows it changed. */
  run(store: Store, text: string, ...params: unknown[]): number {
    return this.of(store).db.prepare(text).run(...params).changes;
  }

  closeAll(): void {
    for (const sql of this.#open.values()) sql.close();
    this.#open.clear();
  }
}
