/**
 * Version 5: `trunks` (admin-owned, site-scoped like routes): SIP peers that a `trunk` route of
 * the dial plan names by id. A trunk is reached without registration or authentication (a
 * gateway that trusts the box by address): host, port and transport, plus a codec preference
 * order in the same encoding as `users.codecs` ('' = the box default). A new CRR, created as
 * 002 creates routes; an empty table has no clock entries, so the migration makes no changes to
 * replicate.
 */
import type { Migration } from './index.ts';

export const trunks: Migration = {
  version: 5,
  name: 'trunks',
  up(db) {
    db.exec(`
      CREATE TABLE trunks (
        id TEXT PRIMARY KEY NOT NULL,
        host TEXT NOT NULL DEFAULT '',
        port INTEGER NOT NULL DEFAULT 5060,
        transport TEXT NOT NULL DEFAULT 'udp',
        codecs TEXT NOT NULL DEFAULT '',
        site TEXT NOT NULL DEFAULT '',
        enabled INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL DEFAULT 0
      );
    `);
    db.prepare(`SELECT crsql_as_crr('main', ?)`).get('trunks');
  },
};
