/**
 * Version 4: a user's codec preference order, `users.codecs`: codec names (agent/config/
 * codec-names.ts) separated by commas, most preferred first; '' means the box default
 * (`rtp.codecs`). `users` is a CRR, so the column is added between crsql_begin_alter and
 * crsql_commit_alter (which drop and re-create its triggers). Existing rows hold the default
 * '', for which cr-sqlite writes no clock entries: the migration makes no changes to replicate.
 * The migration's transaction encloses both: begin_alter opens a savepoint that commit_alter
 * releases.
 */
import type { Migration } from './index.ts';

export const userCodecs: Migration = {
  version: 4,
  name: 'user-codecs',
  up(db) {
    db.prepare(`SELECT crsql_begin_alter('main', 'users')`).get();
    db.exec(`ALTER TABLE users ADD COLUMN codecs TEXT NOT NULL DEFAULT ''`);
    db.prepare(`SELECT crsql_commit_alter('main', 'users')`).get();
  },
};
