/**
 * Version 9: each site's own SIP domain and realm, `sites.domain` and `sites.realm` ('' = not
 * set: the box uses its config's `sip.domain` / `sip.realm`). Set by the admin API
 * (`site.create`, `site.update`, agent/admin/); a box reads its site's row and follows changes
 * live (agent/switch/site-sip.ts). `sites` is a CRR: the columns are added between
 * crsql_begin_alter and crsql_commit_alter; existing rows keep the default ''.
 */
import type { Migration } from './index.ts';

export const siteDomains: Migration = {
  version: 9,
  name: 'site-domains',
  up(db) {
    db.prepare(`SELECT crsql_begin_alter('main', 'sites')`).get();
    db.exec(`ALTER TABLE sites ADD COLUMN domain TEXT NOT NULL DEFAULT ''`);
    db.exec(`ALTER TABLE sites ADD COLUMN realm TEXT NOT NULL DEFAULT ''`);
    db.prepare(`SELECT crsql_commit_alter('main', 'sites')`).get();
  },
};
