/** The dial plan (admin-owned CRR rows): number patterns with priorities and an action. */
import type { Database, Statement } from 'better-sqlite3';

export type RouteAction = 'extension' | 'trunk' | 'reject';

export interface RouteRecord {
  id: string;
  /** Dial pattern: digits and X (0-9), Z (1-9), N (2-9), [1-5] sets, and a final `.` (one or more of anything). */
  pattern: string;
  /** Lower numbers are tried first. */
  priority: number;
  action: RouteAction;
  /** Trunk id for 'trunk'; the status code for 'reject'. */
  target: string;
  /** Digits removed from the front, then `prefix` put in front. */
  strip: number;
  prefix: string;
  site: string;
  enabled: boolean;
}

interface RouteRow extends Omit<RouteRecord, 'enabled'> {
  enabled: number;
}

export class RouteRepository {
  private readonly listStmt: Statement<[], RouteRow>;
  private readonly upsertStmt: Statement;
  private readonly removeStmt: Statement<[string]>;

  constructor(db: Database) {
    this.listStmt = db.prepare('SELECT id, pattern, priority, action, target, strip, prefix, site, enabled FROM routes ORDER BY priority, id');
    this.upsertStmt = db.prepare(`INSERT INTO routes (id, pattern, priority, action, target, strip, prefix, site, enabled,
      created_at, updated_at) VALUES (@id, @pattern, @priority, @action, @target, @strip, @prefix, @site, @enabled, @now, @now)
      ON CONFLICT (id) DO UPDATE SET pattern = excluded.pattern, priority = excluded.priority, action = excluded.action,
      target = excluded.target, strip = excluded.strip, prefix = excluded.prefix, site = excluded.site,
      enabled = excluded.enabled, updated_at = excluded.updated_at`);
    this.removeStmt = db.prepare('DELETE FROM routes WHERE id = ?');
  }

  /** Every route, in the order they are tried (priority, then id). */
  list(): RouteRecord[] {
    return this.listStmt.all().map((r) => ({ ...r, enabled: r.enabled !== 0 }));
  }

  upsert(route: RouteRecord, now: number): void {
    this.upsertStmt.run({ ...route, enabled: route.enabled ? 1 : 0, now });
  }

  remove(id: string): boolean {
    return this.removeStmt.run(id).changes > 0;
  }
}
