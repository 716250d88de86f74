/**
 * Sites (admin-owned CRR rows): id, name, the public key of the site's admin key, if any, and
 * the site's own SIP domain and realm ('' = the box's config decides; migration 9).
 */
import type { Database, Statement } from 'better-sqlite3';

export interface SiteRecord {
  id: string;
  name: string;
  /** ed25519 public key (SPKI DER, base64) a box of the site may sign admin changes with; '' = none. */
  adminPublicKey: string;
  /** The site's SIP domain; '' = the box's `sip.domain`. */
  domain: string;
  /** The site's digest realm; '' = the domain (or the box's `sip.realm`). */
  realm: string;
  createdAt: number;
  updatedAt: number;
}

export type SiteFields = Pick<SiteRecord, 'id' | 'name' | 'adminPublicKey'> & Partial<Pick<SiteRecord, 'domain' | 'realm'>>;

interface SiteRow {
  id: string;
  name: string;
  admin_public_key: string;
  domain: string;
  realm: string;
  created_at: number;
  updated_at: number;
}

const toRecord = (r: SiteRow): SiteRecord => ({
  id: r.id, name: r.name, adminPublicKey: r.admin_public_key, domain: r.domain, realm: r.realm, createdAt: r.created_at, updatedAt: r.updated_at,
});

export class SiteRepository {
  private readonly byId: Statement;
  private readonly upsertStmt: Statement;

  constructor(private readonly db: Database) {
    this.byId = db.prepare('SELECT * FROM sites WHERE id = ?');
    this.upsertStmt = db.prepare(
      `INSERT INTO sites (id, name, admin_public_key, domain, realm, created_at, updated_at) VALUES (@id, @name, @adminPublicKey, @domain, @realm, @now, @now)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, admin_public_key = excluded.admin_public_key,
         domain = excluded.domain, realm = excluded.realm, updated_at = excluded.updated_at`,
    );
  }

  get(id: string): SiteRecord | undefined {
    const r = this.byId.get(id) as SiteRow | undefined;
    return r && toRecord(r);
  }

  list(): SiteRecord[] {
    return (this.db.prepare('SELECT * FROM sites ORDER BY id').all() as SiteRow[]).map(toRecord);
  }

  /** Adds or replaces a site; a domain or realm not given keeps the row's (or '' for a new row). */
  upsert(s: SiteFields, now: number): void {
    const existing = this.get(s.id);
    this.upsertStmt.run({ id: s.id, name: s.name, adminPublicKey: s.adminPublicKey, domain: s.domain ?? existing?.domain ?? '', realm: s.realm ?? existing?.realm ?? '', now });
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM sites WHERE id = ?').run(id).changes > 0;
  }
}
