/**
 * Version 2: what calls need. `routes` (admin-owned dial plan), `dialogs` (a node's checkpoint
 * of each call in progress, so a restart or a peer can close its CDR) and `cdrs` (one row per
 * call, written once at call end by the node that owned the call). All CRRs.
 */
import type { Migration } from './index.ts';

export const calls: Migration = {
  version: 2,
  name: 'routes-dialogs-cdrs',
  up(db) {
    db.exec(`
      CREATE TABLE routes (
        id TEXT PRIMARY KEY NOT NULL,
        pattern TEXT NOT NULL DEFAULT '',
        priority INTEGER NOT NULL DEFAULT 100,
        action TEXT NOT NULL DEFAULT 'extension',
        target TEXT NOT NULL DEFAULT '',
        strip INTEGER NOT NULL DEFAULT 0,
        prefix TEXT NOT NULL DEFAULT '',
        site TEXT NOT NULL DEFAULT '',
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE dialogs (
        call_uuid TEXT PRIMARY KEY NOT NULL,
        node_id TEXT NOT NULL DEFAULT '',
        caller TEXT NOT NULL DEFAULT '',
        callee TEXT NOT NULL DEFAULT '',
        a_call_id TEXT NOT NULL DEFAULT '',
        b_call_id TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'ringing',
        started_at INTEGER NOT NULL DEFAULT 0,
        answered_at INTEGER,
        codec TEXT NOT NULL DEFAULT '',
        updated_at INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX dialogs_node ON dialogs (node_id);
      CREATE TABLE cdrs (
        uuid TEXT PRIMARY KEY NOT NULL,
        node_id TEXT NOT NULL DEFAULT '',
        caller TEXT NOT NULL DEFAULT '',
        callee TEXT NOT NULL DEFAULT '',
        started_at INTEGER NOT NULL DEFAULT 0,
        answered_at INTEGER,
        ended_at INTEGER NOT NULL DEFAULT 0,
        duration_ms INTEGER NOT NULL DEFAULT 0,
        disposition TEXT NOT NULL DEFAULT '',
        sip_status INTEGER NOT NULL DEFAULT 0,
        sip_reason TEXT NOT NULL DEFAULT '',
        ended_by TEXT NOT NULL DEFAULT '',
        codec_a TEXT NOT NULL DEFAULT '',
        codec_b TEXT NOT NULL DEFAULT '',
        a_call_id TEXT NOT NULL DEFAULT '',
        b_call_id TEXT NOT NULL DEFAULT '',
        media TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX cdrs_started ON cdrs (started_at);
    `);
    for (const table of ['routes', 'dialogs', 'cdrs']) {
      db.prepare(`SELECT crsql_as_crr('main', ?)`).get(table);
    }
  },
};
