/**
 * Version 7: `cdrs.link` and `dialogs.link`, the correlation of the CDRs one call leaves on
 * every box of the site it passed through (docs/inter-box.md, "CDRs of a call across boxes"):
 * the uuid of the CDR of the box where the call entered the site, on that box's CDR and on the
 * CDR of each box it forwarded the call to; '' for a call that stayed on one box. The checkpoint
 * carries it so that a call closed as `interrupted` (by its node or by a peer's takeover) keeps
 * it. Both tables are CRRs, so each column is added between crsql_begin_alter and
 * crsql_commit_alter; existing rows hold the default '', for which cr-sqlite writes no clock
 * entries: the migration makes no changes to replicate.
 */
import type { Migration } from './index.ts';

export const cdrLinks: Migration = {
  version: 7,
  name: 'cdr-links',
  up(db) {
    for (const table of ['cdrs', 'dialogs']) {
      db.prepare(`SELECT crsql_begin_alter('main', ?)`).get(table);
      db.exec(`ALTER TABLE ${table} ADD COLUMN link TEXT NOT NULL DEFAULT ''`);
      db.prepare(`SELECT crsql_commit_alter('main', ?)`).get(table);
    }
  },
};
