/**
 * Version 3: what replication needs. `sites` and `nodes` are admin-owned CRRs (the hub writes a
 * node's row when it first sees it: id, site, role, cr-sqlite site id and public key). The
 * `local_sync_*` tables are never replicated: per-source watermarks (in the source's version
 * space), batches kept until a migration makes them applicable, the node keys this replica
 * has seen (trust on first use), and (hub) the site each user or route was last published to,
 * so a row that moves to another site is also sent to the site it left.
 */
import type { Migration } from './index.ts';

export const sync: Migration = {
  version: 3,
  name: 'sites-nodes-sync-state',
  up(db) {
    db.exec(`
      CREATE TABLE sites (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        admin_public_key TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE nodes (
        id TEXT PRIMARY KEY NOT NULL,
        site TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL DEFAULT 'node',
        site_id TEXT NOT NULL DEFAULT '',
        public_key TEXT NOT NULL DEFAULT '',
        first_seen INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE local_sync_watermarks (
        source TEXT NOT NULL,
        stream TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (source, stream)
      );
      CREATE TABLE local_sync_pending (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        schema_version INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        payload BLOB NOT NULL
      );
      CREATE TABLE local_admin_row_sites (
        tbl TEXT NOT NULL,
        pk BLOB NOT NULL,
        site TEXT NOT NULL,
        PRIMARY KEY (tbl, pk)
      );
      CREATE TABLE local_sync_keys (
        node_id TEXT PRIMARY KEY NOT NULL,
        public_key TEXT NOT NULL,
        site_id TEXT NOT NULL DEFAULT '',
        site TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL DEFAULT 'node',
        first_seen INTEGER NOT NULL DEFAULT 0
      );
    `);
    for (const table of ['sites', 'nodes']) {
      db.prepare(`SELECT crsql_as_crr('main', ?)`).get(table);
    }
  },
};
