/**
 * Version 11: update delivery (docs/updates.md). `update_offers` (admin-owned, written by the
 * hub only): one offered bundle per scope, `fleet`, `site:<id>` or `node:<id>` (version, the
 * bundle's file name in the hub's bundle folder, sha256, size, who set it and when); `site`
 * places the row on a stream as for desired configs. `update_permits` (admin-owned, hub only):
 * the hub's staging decision, one row per box allowed to install a version now; a box acts only
 * on an offer whose version its own permit names. `update_states` (node-owned): each box's
 * update state (phase, version, running version, slot, error, when), for the hub. Three CRRs.
 */
import type { Migration } from './index.ts';

export const updateOffers: Migration = {
  version: 11,
  name: 'update-offers',
  up(db) {
    db.exec(`
      CREATE TABLE update_offers (
        scope TEXT PRIMARY KEY NOT NULL,
        site TEXT NOT NULL DEFAULT '',
        version TEXT NOT NULL DEFAULT '',
        bundle TEXT NOT NULL DEFAULT '',
        sha256 TEXT NOT NULL DEFAULT '',
        size INTEGER NOT NULL DEFAULT 0,
        set_by TEXT NOT NULL DEFAULT '',
        set_at INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE update_permits (
        node_id TEXT PRIMARY KEY NOT NULL,
        site TEXT NOT NULL DEFAULT '',
        version TEXT NOT NULL DEFAULT '',
        at INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE update_states (
        node_id TEXT PRIMARY KEY NOT NULL,
        phase TEXT NOT NULL DEFAULT 'idle',
        version TEXT NOT NULL DEFAULT '',
        running TEXT NOT NULL DEFAULT '',
        slot TEXT NOT NULL DEFAULT '',
        target_slot TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        at INTEGER NOT NULL DEFAULT 0
      );
    `);
    for (const t of ['update_offers', 'update_permits', 'update_states']) db.prepare(`SELECT crsql_as_crr('main', ?)`).get(t);
  },
};
