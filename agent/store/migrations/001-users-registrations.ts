/**
 * Version 1: users (admin-owned), registrations and bans (node-owned), all CRRs.
 * cr-sqlite rules: NOT NULL primary keys, no UNIQUE or foreign keys, NOT NULL columns need
 * defaults. The two-argument crsql_as_crr('main', t) form is used on purpose.
 */
import type { Migration } from './index.ts';

export const usersAndRegistrations: Migration = {
  version: 1,
  name: 'users-registrations-bans',
  up(db) {
    db.exec(`
      CREATE TABLE users (
        ext TEXT PRIMARY KEY NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        realm TEXT NOT NULL DEFAULT '',
        ha1_md5 TEXT NOT NULL DEFAULT '',
        ha1_sha256 TEXT NOT NULL DEFAULT '',
        site TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE registrations (
        aor TEXT NOT NULL,
        contact TEXT NOT NULL,
        node_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL DEFAULT 0,
        q REAL,
        call_id TEXT NOT NULL DEFAULT '',
        cseq INTEGER NOT NULL DEFAULT 0,
        path TEXT NOT NULL DEFAULT '',
        user_agent TEXT NOT NULL DEFAULT '',
        received TEXT NOT NULL DEFAULT '',
        instance_id TEXT NOT NULL DEFAULT '',
        reg_id INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (aor, contact, node_id)
      );
      CREATE INDEX registrations_node_expiry ON registrations (node_id, expires_at);
      CREATE TABLE bans (
        ip TEXT NOT NULL,
        node_id TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        until INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (ip, node_id)
      );
    `);
    for (const table of ['users', 'registrations', 'bans']) {
      db.prepare(`SELECT crsql_as_crr('main', ?)`).get(table);
    }
  },
};
