/** Sites (admin-owned CRR rows): id, name and the public key of the site's admin key, if any. */
import type { Database, Statement } from 'better-sqlite3';

export interface SiteRecord {
  id: string;
  name: string;
  /** ed25519 public key (SPKI DER, base64) a box of the site may sign admin changes with; '' = none. */
  adminPublicKey: string;
  createdAt: number;
  updatedAt: number;
}

interface SiteRow {
  id: string;
  name: string;
  admin_public_key: string;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: SiteRow): SiteRecord => ({ id: r.id, name: r.name, adminPublicKey: r.admin_public_key, createdAt: r.created_at, updatedAt: r.updated_at });

export class SiteRepository {
  private readonly byId: Statement;
  private readonly upsertStmt: Statement;

  constructor(private readonly db: Database) {
    this.byId = db.prepare('SELECT * FROM sites WHERE id = ?');
    this.upsertStmt = db.prepare(
      `INSERT INTO sites (id, name, admin_public_key, created_at, updated_at) VALUES (@id, @name, @adminPublicKey, @now, @now)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, admin_public_key = excluded.admin_public_key, updated_at = excluded.updated_at`,
    );
  }

  get(id: string): SiteRecord | undefined {
    const r = this.byId.get(id) as SiteRow | undefined;
    return r && toRecord(r);
  }

  list(): SiteRecord[] {
    return (this.db.prepare('SELECT * FROM sites ORDER BY id').all() as SiteRow[]).map(toRecord);
  }

  upsert(s: { id: string; name: string; adminPublicKey: string }, now: number): void {
    this.upsertStmt.run({ ...s, now });
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM sites WHERE id = ?').run(id).changes > 0;
  }
}
