/**
 * Which of the hub's streams a change travels on (DESIGN.md section 5): a box receives `global`
 * and its own site's `site/{id}`. Admin rows with a site column go to that site ('' = global):
 * a desired config document's `site` is '' for the fleet, the site, or a node's site
 * (docs/config-push.md), so a box gets the fleet's, its site's and its own, and no other site's;
 * sites and nodes go to everyone; node-owned rows go to the site of the node that wrote them.
 * What cannot be placed (an admin row's delete, an unknown origin) goes to global: better
 * delivered too widely than lost. Moving a user or route to another site is not supported (the
 * CLI refuses it): the old site's boxes would keep the row.
 */
import type { Change, SqlValue } from '../store/change-log.ts';
import { replicatedTable } from '../store/replicated-tables.ts';
import { siteStream, type StreamName } from '../wire/topics.ts';
import type { ColumnLookup } from './authority.ts';

const DELETE_SENTINEL = '-1';

/** The site of the replica a change came from (by its cr-sqlite site id, hex). */
export type OriginSite = (siteIdHex: string) => string | undefined;

export function streamOf(change: Change, siteInBatch: SqlValue | undefined, lookup: ColumnLookup, originSite: OriginSite): StreamName {
  const t = replicatedTable(change.table);
  if (!t) return 'global';
  // An admin row's delete reaches everyone: the row is gone, so its site cannot be read back,
  // and a box that still holds it must drop it.
  // (An even causal length marks a delete; an odd one on the sentinel is a re-insert.)
  if (t.owner === 'admin' && change.cid === DELETE_SENTINEL && change.cl % 2n === 0n) return 'global';
  let site: SqlValue | undefined;
  if (t.owner === 'node') site = originSite(Buffer.from(change.siteId).toString('hex'));
  else if (t.siteColumn) site = siteInBatch ?? lookup(change.table, change.pk, t.siteColumn);
  return typeof site === 'string' && site !== '' ? siteStream(site) : 'global';
}

/** Splits changes (in order) by stream; `siteColumn` values in the batch win over stored ones. */
export function splitByStream(changes: readonly Change[], lookup: ColumnLookup, originSite: OriginSite): Map<StreamName, Change[]> {
  const sites = new Map<string, SqlValue>();
  for (const c of changes) {
    const t = replicatedTable(c.table);
    if (t?.siteColumn && c.cid === t.siteColumn) sites.set(`${c.table}:${Buffer.from(c.pk).toString('hex')}`, c.val);
  }
  const out = new Map<StreamName, Change[]>();
  for (const c of changes) {
    const stream = streamOf(c, sites.get(`${c.table}:${Buffer.from(c.pk).toString('hex')}`), lookup, originSite);
    let list = out.get(stream);
    if (!list) out.set(stream, (list = []));
    list.push(c);
  }
  return out;
}
