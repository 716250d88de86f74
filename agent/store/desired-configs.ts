/**
 * Desired config documents (`desired_configs`, admin-owned CRR rows the hub writes; docs/config-push.md):
 * one per scope key (`fleet`, `site:<id>`, `node:<id>`), the document kept as JSON text.
 */
import type { Database, Statement } from 'better-sqlite3';

export interface DesiredConfigRecord {
  /** `fleet`, `site:<id>` or `node:<id>`. */
  scope: string;
  /** The stream the row travels on: '' (global) for the fleet, else a site id. */
  site: string;
  /** The document, JSON text of an object of config sections. */
  document: string;
  version: number;
  setBy: string;
  setAt: number;
}

const COLUMNS = 'scope, site, document, version, set_by AS setBy, set_at AS setAt';

export class DesiredConfigRepository {
  private readonly byScope: Statement;
  private readonly upsertStmt: Statement;

  constructor(private readonly db: Database) {
    this.byScope = db.prepare(`SELECT ${COLUMNS} FROM desired_configs WHERE scope = ?`);
    this.upsertStmt = db.prepare(
      `INSERT INTO desired_configs (scope, site, document, version, set_by, set_at) VALUES (@scope, @site, @document, @version, @setBy, @setAt)
       ON CONFLICT (scope) DO UPDATE SET site = excluded.site, document = excluded.document, version = excluded.version,
         set_by = excluded.set_by, set_at = excluded.set_at`,
    );
  }

  get(scope: string): DesiredConfigRecord | undefined {
    return this.byScope.get(scope) as DesiredConfigRecord | undefined;
  }

  /** The documents of these scopes that exist, in the order asked. */
  getAll(scopes: readonly string[]): DesiredConfigRecord[] {
    return scopes.map((s) => this.get(s)).filter((r): r is DesiredConfigRecord => r !== undefined);
  }

  /**
   * Writes the next version of a scope's document (one transaction: read, then write). IMMEDIATE:
   * a deferred read-then-write loses to a merge committed by another connection in between
   * (SQLITE_BUSY at once, no busy wait); inside an outer transaction it is a savepoint.
   */
  write(scope: string, site: string, document: string, setBy: string, setAt: number): number {
    return this.db.transaction(() => {
      const version = (this.get(scope)?.version ?? 0) + 1;
      this.upsertStmt.run({ scope, site, document, version, setBy, setAt });
      return version;
    }).immediate();
  }

  list(): DesiredConfigRecord[] {
    return this.db.prepare(`SELECT ${COLUMNS} FROM desired_configs ORDER BY scope`).all() as DesiredConfigRecord[];
  }
}
