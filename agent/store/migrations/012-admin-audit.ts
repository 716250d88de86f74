/**
 * Version 12: the hub's audit trail of the admin API (docs/security.md "Audit trail").
 * `admin_audit` is hub-local and NOT a CRR: one row per verified admin request that changes
 * something or was refused (reads are not recorded): when, which admin, the op, the request's
 * transaction id, `ok` or `refused` with its problems (JSON array text, '' when ok), and the
 * body as JSON text with secrets replaced by "***" (agent/store/admin-audit.ts). Local only:
 * the replication schema stays 11.
 */
import type { Migration } from './index.ts';

export const adminAudit: Migration = {
  version: 12,
  name: 'admin-audit',
  localOnly: true,
  up(db) {
    db.exec(`
      CREATE TABLE admin_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        admin TEXT NOT NULL,
        op TEXT NOT NULL,
        tx TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'refused')),
        problems TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX admin_audit_at ON admin_audit (at);
    `);
  },
};
