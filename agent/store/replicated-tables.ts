/**
 * The catalogue of replicated (CRR) tables: primary-key columns in order, the column naming the
 * owning node (node-owned tables) and the column naming the site (admin-owned, site-scoped
 * tables). sync/ reads it to check authority and scope; digest.ts to hash every table alike.
 */
export type TableOwner = 'admin' | 'node';

export interface ReplicatedTable {
  readonly name: string;
  readonly primaryKey: readonly string[];
  readonly owner: TableOwner;
  /** Node-owned tables: the column holding the owning node's id. */
  readonly nodeColumn?: string;
  /** Admin-owned tables scoped to a site: the column holding the site ('' = global). */
  readonly siteColumn?: string;
  /** Admin rows only the hub writes: a site admin key may not change them (desired config). */
  readonly hubOnly?: boolean;
}

export const REPLICATED_TABLES: readonly ReplicatedTable[] = [
  { name: 'sites', primaryKey: ['id'], owner: 'admin' },
  { name: 'nodes', primaryKey: ['id'], owner: 'admin' },
  { name: 'node_rekeys', primaryKey: ['node_id'], owner: 'admin' },
  { name: 'node_revocations', primaryKey: ['serial'], owner: 'admin' },
  { name: 'users', primaryKey: ['ext'], owner: 'admin', siteColumn: 'site' },
  { name: 'routes', primaryKey: ['id'], owner: 'admin', siteColumn: 'site' },
  { name: 'trunks', primaryKey: ['id'], owner: 'admin', siteColumn: 'site' },
  // Config push (docs/config-push.md): the fleet document on global, a site's and a node's on that site's stream.
  { name: 'desired_configs', primaryKey: ['scope'], owner: 'admin', siteColumn: 'site', hubOnly: true },
  // Update delivery (docs/updates.md): offers and the hub's per-box permits, on the stream of their site ('' = fleet).
  { name: 'update_offers', primaryKey: ['scope'], owner: 'admin', siteColumn: 'site', hubOnly: true },
  { name: 'update_permits', primaryKey: ['node_id'], owner: 'admin', siteColumn: 'site', hubOnly: true },
  { name: 'registrations', primaryKey: ['aor', 'contact', 'node_id'], owner: 'node', nodeColumn: 'node_id' },
  { name: 'bans', primaryKey: ['ip', 'node_id'], owner: 'node', nodeColumn: 'node_id' },
  { name: 'dialogs', primaryKey: ['call_uuid'], owner: 'node', nodeColumn: 'node_id' },
  { name: 'cdrs', primaryKey: ['uuid'], owner: 'node', nodeColumn: 'node_id' },
  { name: 'config_reports', primaryKey: ['node_id'], owner: 'node', nodeColumn: 'node_id' },
  { name: 'update_states', primaryKey: ['node_id'], owner: 'node', nodeColumn: 'node_id' },
];

const BY_NAME = new Map(REPLICATED_TABLES.map((t) => [t.name, t]));

export function replicatedTable(name: string): ReplicatedTable | undefined {
  return BY_NAME.get(name);
}
