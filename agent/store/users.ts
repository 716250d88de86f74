/** Users (admin-owned CRR rows): extension, display name and digest HA1 hashes only. */
import type { Database, Statement } from 'better-sqlite3';

export interface UserRecord {
  ext: string;
  displayName: string;
  realm: string;
  ha1Md5: string;
  ha1Sha256: string;
  site: string;
  createdAt: number;
  updatedAt: number;
}

interface UserRow {
  ext: string;
  display_name: string;
  realm: string;
  ha1_md5: string;
  ha1_sha256: string;
  site: string;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: UserRow): UserRecord => ({
  ext: r.ext,
  displayName: r.display_name,
  realm: r.realm,
  ha1Md5: r.ha1_md5,
  ha1Sha256: r.ha1_sha256,
  site: r.site,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Largest number of users kept in the read cache before it is dropped and refilled. */
const CACHE_LIMIT = 20_000;

export class UserRepository {
  /**
   * Read cache for get() (every authentication reads a user). Writes through this repository
   * clear it; writes by other connections (the CLI) or by replication must call invalidate():
   * the node does so when SQLite's data_version changes (checked every second).
   */
  private readonly cache = new Map<string, UserRecord | null>();
  private readonly getStmt: Statement<[string], UserRow>;
  private readonly listStmt: Statement<[], UserRow>;
  private readonly upsertStmt: Statement;
  private readonly removeStmt: Statement<[string]>;
  private readonly countStmt: Statement<[], { n: number }>;

  constructor(db: Database) {
    this.getStmt = db.prepare('SELECT * FROM users WHERE ext = ?');
    this.listStmt = db.prepare('SELECT * FROM users ORDER BY ext');
    this.upsertStmt = db.prepare(`
      INSERT INTO users (ext, display_name, realm, ha1_md5, ha1_sha256, site, created_at, updated_at)
      VALUES (@ext, @displayName, @realm, @ha1Md5, @ha1Sha256, @site, @now, @now)
      ON CONFLICT (ext) DO UPDATE SET display_name = excluded.display_name, realm = excluded.realm,
        ha1_md5 = excluded.ha1_md5, ha1_sha256 = excluded.ha1_sha256, site = excluded.site,
        updated_at = excluded.updated_at`);
    this.removeStmt = db.prepare('DELETE FROM users WHERE ext = ?');
    this.countStmt = db.prepare('SELECT count(*) AS n FROM users');
  }

  get(ext: string): UserRecord | undefined {
    const cached = this.cache.get(ext);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.getStmt.get(ext);
    const user = row ? toRecord(row) : null;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(ext, user);
    return user ?? undefined;
  }

  /** Forgets cached users (after another connection or replication changed the table). */
  invalidate(): void {
    this.cache.clear();
  }

  list(): UserRecord[] {
    return this.listStmt.all().map(toRecord);
  }

  count(): number {
    return this.countStmt.get()!.n;
  }

  /** Inserts or replaces a user; `now` is the write time in ms. */
  upsert(user: Omit<UserRecord, 'createdAt' | 'updatedAt'>, now: number): void {
    this.upsertStmt.run({ ...user, now });
    this.cache.delete(user.ext);
  }

  /** Removes a user; returns false when there was none. */
  remove(ext: string): boolean {
    this.cache.delete(ext);
    return this.removeStmt.run(ext).changes > 0;
  }
}
