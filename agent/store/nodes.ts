/** Nodes (admin-owned CRR rows, written by the hub when it first sees a node): the fleet's directory. */
import type { Database, Statement } from 'better-sqlite3';

export interface NodeRecord {
  id: string;
  site: string;
  role: string;
  /** cr-sqlite site id of the node's store, hex. */
  siteId: string;
  publicKey: string;
  firstSeen: number;
  updatedAt: number;
}

interface NodeRow {
  id: string;
  site: string;
  role: string;
  site_id: string;
  public_key: string;
  first_seen: number;
  updated_at: number;
}

const toRecord = (r: NodeRow): NodeRecord => ({
  id: r.id,
  site: r.site,
  role: r.role,
  siteId: r.site_id,
  publicKey: r.public_key,
  firstSeen: r.first_seen,
  updatedAt: r.updated_at,
});

export class NodeRepository {
  private readonly byId: Statement;
  private readonly bySite: Statement;
  private readonly upsertStmt: Statement;

  constructor(private readonly db: Database) {
    this.byId = db.prepare('SELECT * FROM nodes WHERE id = ?');
    this.bySite = db.prepare('SELECT * FROM nodes WHERE site_id = ?');
    this.upsertStmt = db.prepare(
      `INSERT INTO nodes (id, site, role, site_id, public_key, first_seen, updated_at) VALUES (@id, @site, @role, @siteId, @publicKey, @now, @now)
       ON CONFLICT (id) DO UPDATE SET site = excluded.site, role = excluded.role, site_id = excluded.site_id,
         public_key = excluded.public_key, updated_at = excluded.updated_at`,
    );
  }

  get(id: string): NodeRecord | undefined {
    const r = this.byId.get(id) as NodeRow | undefined;
    return r && toRecord(r);
  }

  bySiteId(siteId: string): NodeRecord | undefined {
    const r = this.bySite.get(siteId) as NodeRow | undefined;
    return r && toRecord(r);
  }

  list(): NodeRecord[] {
    return (this.db.prepare('SELECT * FROM nodes ORDER BY id').all() as NodeRow[]).map(toRecord);
  }

  /** Records a node; an unchanged row is not rewritten (no new change to replicate). */
  upsert(n: Omit<NodeRecord, 'firstSeen' | 'updatedAt'>, now: number): boolean {
    const cur = this.get(n.id);
    if (cur && cur.site === n.site && cur.role === n.role && cur.siteId === n.siteId && cur.publicKey === n.publicKey) return false;
    this.upsertStmt.run({ ...n, now });
    return true;
  }
}
