/**
 * Version 10: config push (docs/config-push.md). `desired_configs` (admin-owned, written by the
 * hub only): one desired config document per scope, `fleet`, `site:<id>` or `node:<id>`, as
 * JSON of sections of the box config schema, with a version that grows by one per write, who set
 * it and when. `site` places the row on a stream ('' = global for the fleet document; a site's
 * own id; a node's site for a node document). `config_reports` (node-owned): what each box made
 * of them, the versions it applied and saw, the keys waiting for a restart and the problems of
 * the last refused change, as JSON. Two new CRRs.
 */
import type { Migration } from './index.ts';

export const desiredConfig: Migration = {
  version: 10,
  name: 'desired-config',
  up(db) {
    db.exec(`
      CREATE TABLE desired_configs (
        scope TEXT PRIMARY KEY NOT NULL,
        site TEXT NOT NULL DEFAULT '',
        document TEXT NOT NULL DEFAULT '{}',
        version INTEGER NOT NULL DEFAULT 0,
        set_by TEXT NOT NULL DEFAULT '',
        set_at INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE config_reports (
        node_id TEXT PRIMARY KEY NOT NULL,
        applied TEXT NOT NULL DEFAULT '{}',
        desired TEXT NOT NULL DEFAULT '{}',
        pending_restart TEXT NOT NULL DEFAULT '[]',
        problems TEXT NOT NULL DEFAULT '[]',
        reported_at INTEGER NOT NULL DEFAULT 0
      );
    `);
    db.prepare(`SELECT crsql_as_crr('main', ?)`).get('desired_configs');
    db.prepare(`SELECT crsql_as_crr('main', ?)`).get('config_reports');
  },
};
