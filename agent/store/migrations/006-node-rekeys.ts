/**
 * Version 6: `node_rekeys` (admin-owned, global like `nodes`): one row per node id whose
 * key the hub's admin let be replaced (`outpost node replace`): the key it retires. Every
 * replica then pins the next other key that node announces in place of that one, once
 * (agent/sync/key-pinning.ts). A new CRR; an empty table makes no changes to replicate.
 */
import type { Migration } from './index.ts';

export const nodeRekeys: Migration = {
  version: 6,
  name: 'node-rekeys',
  up(db) {
    db.exec(`
      CREATE TABLE node_rekeys (
        node_id TEXT PRIMARY KEY NOT NULL,
        old_public_key TEXT NOT NULL DEFAULT '',
        requested_at INTEGER NOT NULL DEFAULT 0
      );
    `);
    db.prepare(`SELECT crsql_as_crr('main', ?)`).get('node_rekeys');
  },
};
