/**
 * Nodes (admin-owned CRR rows, written by the hub when it first sees a node): the fleet's
 * directory; and the replacements of node keys the hub's admin allowed (`node_rekeys`).
 */
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

  /** The replacement recorded for a node's key, if any: the key it retires. */
  replacement(id: string): { oldPublicKey: string; requestedAt: number } | undefined {
    const r = this.db.prepare('SELECT old_public_key, requested_at FROM node_rekeys WHERE node_id = ?').get(id) as
      | { old_public_key: string; requested_at: number }
      | undefined;
    return r && { oldPublicKey: r.old_public_key, requestedAt: r.requested_at };
  }

  /** Lets the next other key `id` announces replace `oldPublicKey` (hub: `outpost node replace`). */
  requestReplacement(id: string, oldPublicKey: string, now: number): void {
    this.db
      .prepare(
        `INSERT INTO node_rekeys (node_id, old_public_key, requested_at) VALUES (?, ?, ?)
         ON CONFLICT (node_id) DO UPDATE SET old_public_key = excluded.old_public_key, requested_at = excluded.requested_at`,
      )
      .run(id, oldPublicKey, now);
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
