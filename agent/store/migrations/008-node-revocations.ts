/**
 * Version 8: `node_revocations` (admin-owned, global like `nodes`): one row per revoked node
 * certificate, by serial (hex, as the CA wrote it), with the node id it named and when the hub's
 * admin revoked it (`outpost node revoke`, `outpost node replace`), and the node key the
 * certificate bound (inter-box SIP signed with it is refused). Every replica refuses a
 * certificate listed here (agent/trust/revocation.ts). Rows are only ever added. A new CRR.
 */
import type { Migration } from './index.ts';

export const nodeRevocations: Migration = {
  version: 8,
  name: 'node-revocations',
  up(db) {
    db.exec(`
      CREATE TABLE node_revocations (
        serial TEXT PRIMARY KEY NOT NULL,
        node_id TEXT NOT NULL DEFAULT '',
        revoked_at INTEGER NOT NULL DEFAULT 0,
        node_key TEXT NOT NULL DEFAULT ''
      );
    `);
    db.prepare(`SELECT crsql_as_crr('main', ?)`).get('node_revocations');
  },
};
