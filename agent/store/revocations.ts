/**
 * Revoked node certificates (`node_revocations`, admin-owned CRR rows written at the hub by
 * `outpost node revoke|replace`): the list every replica checks a certificate's serial against.
 */
import type { Database, Statement } from 'better-sqlite3';

export interface RevocationRecord {
  /** The certificate's serial, lower-case hex. */
  serial: string;
  nodeId: string;
  revokedAt: number;
}

export class RevocationRepository {
  private readonly bySerial: Statement;
  private readonly byNode: Statement;
  private readonly insert: Statement;
  private readonly byKey: Statement;

  constructor(private readonly db: Database) {
    this.bySerial = db.prepare('SELECT serial, node_id AS nodeId, revoked_at AS revokedAt FROM node_revocations WHERE serial = ?');
    this.byNode = db.prepare('SELECT serial, node_id AS nodeId, revoked_at AS revokedAt FROM node_revocations WHERE node_id = ? ORDER BY serial');
    this.insert = db.prepare('INSERT INTO node_revocations (serial, node_id, revoked_at, node_key) VALUES (?, ?, ?, ?) ON CONFLICT (serial) DO NOTHING');
    this.byKey = db.prepare('SELECT 1 FROM node_revocations WHERE node_id = ? AND node_key = ? LIMIT 1');
  }

  /** Records a revocation; false when that serial was already revoked (nothing new to replicate). */
  revoke(serial: string, nodeId: string, now: number, nodeKey = ''): boolean {
    return this.insert.run(serial.toLowerCase(), nodeId, now, nodeKey).changes > 0;
  }

  /** Does a revoked certificate of `nodeId` bind this node key (SPKI base64)? */
  keyRevoked(nodeId: string, nodeKey: string): boolean {
    return nodeKey !== '' && this.byKey.get(nodeId, nodeKey) !== undefined;
  }

  get(serial: string): RevocationRecord | undefined {
    return this.bySerial.get(serial.toLowerCase()) as RevocationRecord | undefined;
  }

  ofNode(nodeId: string): RevocationRecord[] {
    return this.byNode.all(nodeId) as RevocationRecord[];
  }

  list(): RevocationRecord[] {
    return this.db.prepare('SELECT serial, node_id AS nodeId, revoked_at AS revokedAt FROM node_revocations ORDER BY node_id, serial').all() as RevocationRecord[];
  }
}
