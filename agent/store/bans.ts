/** Source-address bans (node-owned CRR rows) written by the flood guard. */
import type { Database, Statement } from 'better-sqlite3';

export interface Ban {
  ip: string;
  nodeId: string;
  reason: string;
  /** Ban end, ms since the epoch. */
  until: number;
  createdAt: number;
}

interface BanRow {
  ip: string;
  node_id: string;
  reason: string;
  until: number;
  created_at: number;
}

export class BanRepository {
  private readonly activeStmt: Statement<[number], BanRow>;
  private readonly upsertStmt: Statement;
  private readonly sweepStmt: Statement<[string, number]>;

  constructor(db: Database) {
    this.activeStmt = db.prepare('SELECT * FROM bans WHERE until > ? ORDER BY ip');
    this.upsertStmt = db.prepare(`
      INSERT INTO bans (ip, node_id, reason, until, created_at) VALUES (@ip, @nodeId, @reason, @until, @createdAt)
      ON CONFLICT (ip, node_id) DO UPDATE SET reason = excluded.reason, until = excluded.until,
        created_at = excluded.created_at`);
    this.sweepStmt = db.prepare('DELETE FROM bans WHERE node_id = ? AND until <= ?');
  }

  /** Bans in force at `now`, from every node. */
  active(now: number): Ban[] {
    return this.activeStmt.all(now).map((r) => ({ ip: r.ip, nodeId: r.node_id, reason: r.reason, until: r.until, createdAt: r.created_at }));
  }

  upsert(ban: Ban): void {
    this.upsertStmt.run(ban);
  }

  /** Deletes this node's expired bans. */
  sweep(nodeId: string, now: number): number {
    return this.sweepStmt.run(nodeId, now).changes;
  }
}
