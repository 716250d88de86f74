/**
 * Who may change what (DESIGN.md section 9), checked by every receiver on every change before
 * it is merged. The hub is the admin authority and the one trusted relay: changes it signs are
 * accepted (it checked them when they reached it). A node signs only its own changes, and only
 * to rows it owns: its registrations, bans, dialogs and CDRs. Admin-owned tables (users, routes,
 * sites, nodes) change through the hub, except that a box whose batch also carries a valid
 * signature by its site's admin key may change users, routes and trunks of its own site, and a box
 * may close a call of a dead box of its site on its behalf (takeover-authority.ts). A rejected
 * change is not merged; the rest of its batch is.
 */
import type { Change, SqlValue } from '../store/change-log.ts';
import { unpackPrimaryKey } from '../store/pk-codec.ts';
import { replicatedTable } from '../store/replicated-tables.ts';
import { interruptedInBatch, takeoverRefusal, type SiteOfNode } from './takeover-authority.ts';

export interface Signer {
  nodeId: string;
  /** cr-sqlite site id of the signer's store, hex. */
  siteId: string;
  /** True when the signer is this receiver's configured hub. */
  isHub: boolean;
  /** Set when the batch carries a valid signature by this site's admin key. */
  adminOfSite?: string;
  /** The signer's site as this receiver knows it (a takeover needs it; the hub has none). */
  site?: string;
}

export interface Rejection {
  change: Change;
  reason: string;
}

export interface AuthorityVerdict {
  accepted: Change[];
  rejected: Rejection[];
}

/** Reads a column of the row a change addresses in the receiver's store (undefined: no row). */
export type ColumnLookup = (table: string, pk: Uint8Array, column: string) => SqlValue | undefined;

const DELETE_SENTINEL = '-1';

/** What decides a change to another node's row: the receiver's store, the sites of nodes, the batch. */
interface Context {
  lookup: ColumnLookup;
  ownersInBatch: Map<string, SqlValue>;
  siteOf: SiteOfNode | undefined;
  interrupted: Set<string>;
}

export function checkAuthority(changes: readonly Change[], signer: Signer, lookup: ColumnLookup, siteOf?: SiteOfNode): AuthorityVerdict {
  if (signer.isHub) return { accepted: [...changes], rejected: [] };
  // Owners named inside the batch itself (a new dialog or CDR carries its node_id column).
  // and sites named inside it (a new user carries its site column).
  const ownersInBatch = new Map<string, SqlValue>();
  for (const c of changes) {
    const t = replicatedTable(c.table);
    const column = t?.nodeColumn ?? t?.siteColumn;
    if (column && c.cid === column && !t!.primaryKey.includes(column)) {
      ownersInBatch.set(`${c.table}:${Buffer.from(c.pk).toString('hex')}`, c.val);
    }
  }
  // One stored-row lookup per row and column, not per change (a row arrives as many changes).
  const stored = new Map<string, SqlValue | undefined>();
  const cachedLookup: ColumnLookup = (table, pk, column) => {
    const key = `${table}:${column}:${Buffer.from(pk).toString('hex')}`;
    if (stored.has(key)) return stored.get(key);
    const value = lookup(table, pk, column);
    stored.set(key, value);
    return value;
  };
  const accepted: Change[] = [];
  const rejected: Rejection[] = [];
  const context: Context = { lookup: cachedLookup, ownersInBatch, siteOf, interrupted: interruptedInBatch(changes) };
  for (const c of changes) {
    const reason = reasonToReject(c, signer, context);
    if (reason === undefined) accepted.push(c);
    else rejected.push({ change: c, reason });
  }
  return { accepted, rejected };
}

function reasonToReject(c: Change, signer: Signer, context: Context): string | undefined {
  const { lookup, ownersInBatch } = context;
  const origin = Buffer.from(c.siteId).toString('hex');
  if (origin !== signer.siteId) return `relays a change from another replica (${origin}); only the hub relays`;
  const t = replicatedTable(c.table);
  if (!t) return `unknown table ${c.table}`;
  if (t.owner === 'admin') return adminReason(c, signer, lookup, ownersInBatch);
  const column = t.nodeColumn!;
  const pkIndex = t.primaryKey.indexOf(column);
  let owner: SqlValue | undefined;
  if (pkIndex >= 0) {
    let pk;
    try {
      pk = unpackPrimaryKey(c.pk);
    } catch {
      return 'malformed primary key';
    }
    if (pk.length !== t.primaryKey.length) return 'primary key has the wrong number of columns';
    owner = pk[pkIndex];
  } else {
    // The stored owner decides for an existing row (so nobody can take a row over by writing
    // its node_id); for a new row, the node_id the batch gives it.
    let stored: SqlValue | undefined;
    try {
      stored = lookup(c.table, c.pk, column);
    } catch {
      return 'malformed primary key';
    }
    if (stored !== undefined && stored !== signer.nodeId) return notOwner(c, signer, stored, context);
    owner = c.cid === column ? c.val : (stored ?? ownersInBatch.get(`${c.table}:${Buffer.from(c.pk).toString('hex')}`));
    // A delete of a row this replica never had: nothing of anyone else's can change.
    if (owner === undefined && c.cid === DELETE_SENTINEL) return undefined;
  }
  if (owner === undefined) return `row of ${c.table} with unknown owner`;
  if (owner !== signer.nodeId) return notOwner(c, signer, owner, context);
  return undefined;
}

/** A change to a row of `owner`: refused, unless it is part of a takeover of owner's call. */
function notOwner(c: Change, signer: Signer, owner: SqlValue, context: Context): string | undefined {
  const reason = `row of ${c.table} belongs to ${String(owner)}, not ${signer.nodeId}`;
  if (c.table !== 'dialogs' && c.table !== 'cdrs') return reason;
  const takeover = takeoverRefusal(c, signer, owner, context.lookup, context.siteOf, context.interrupted);
  return takeover === undefined ? undefined : `${reason} (takeover: ${takeover})`;
}

function adminReason(c: Change, signer: Signer, lookup: ColumnLookup, sitesInBatch: Map<string, SqlValue>): string | undefined {
  const t = replicatedTable(c.table)!;
  if (signer.adminOfSite === undefined || !t.siteColumn || t.hubOnly) return `${c.table} is admin-owned; only the hub or a site admin key changes it`;
  let stored: SqlValue | undefined;
  try {
    stored = lookup(c.table, c.pk, t.siteColumn);
  } catch {
    return 'malformed primary key';
  }
  // An existing row must already belong to the site, and a change may not move it elsewhere.
  if (stored !== undefined && stored !== signer.adminOfSite) return `row of ${c.table} belongs to site ${String(stored)}, not ${signer.adminOfSite}`;
  const site = c.cid === t.siteColumn ? c.val : (sitesInBatch.get(`${c.table}:${Buffer.from(c.pk).toString('hex')}`) ?? stored);
  if (site === undefined) return c.cid === DELETE_SENTINEL ? undefined : `row of ${c.table} with unknown site`;
  if (site !== signer.adminOfSite) return `row of ${c.table} is for site ${String(site)}, not ${signer.adminOfSite}`;
  return undefined;
}
