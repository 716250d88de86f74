/**
 * What a data command (user, route, cdr, status) works on: a node's or the hub's store, read
 * from either kind of config file. Admin-owned rows (users, routes) are written on the hub, on a
 * box that holds its site's admin key (only rows of its site), or on a box that does not sync;
 * elsewhere every other replica would refuse them, so the command says where to run it instead.
 */
import { loadAnyConfig } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';
import { NodeKey } from '../sync/node-key.ts';
import { CliError } from './cli-error.ts';

export interface CliTarget {
  kind: 'node' | 'hub';
  file: string;
  dataDir: string;
  nodeId: string;
  /** The box's site; '' for the hub. */
  site: string;
  /** SIP realm for users' HA1 hashes (hub: from its optional `sip` section). */
  realm: string | undefined;
  /** Why admin-owned rows cannot be written here; undefined when they can. */
  adminRefusal: string | undefined;
}

export function loadCliTarget(file: string): CliTarget {
  const any = loadAnyConfig(file);
  if (any.kind === 'hub') {
    const c = any.config;
    return { kind: 'hub', file, dataDir: c.dataDir, nodeId: c.id, site: '', realm: c.sip ? (c.sip.realm ?? c.sip.domain) : undefined, adminRefusal: undefined };
  }
  const c = any.config;
  return {
    kind: 'node',
    file,
    dataDir: c.dataDir,
    nodeId: c.node.id,
    site: c.node.site,
    realm: c.sip.realm ?? c.sip.domain,
    adminRefusal: adminRefusalOf(c),
  };
}

function adminRefusalOf(c: Config): string | undefined {
  const syncs = c.hub !== undefined || c.peers.length > 0 || c.mqtt !== undefined;
  if (!syncs) return undefined;
  if (c.sync.siteAdminKey === undefined) {
    const where = c.hub ? `syncs with hub "${c.hub.id}"` : 'syncs with its peers';
    return `users, routes and trunks are admin-owned and box ${c.node.id} ${where}: run this command with the hub's config, or give the box its site's admin key (sync.siteAdminKey)`;
  }
  NodeKey.load(c.sync.siteAdminKey, 'site admin key'); // a missing or bad key fails here, not at the next start
  return undefined;
}

/** Throws the one-line reason when admin-owned rows may not be written through this target. */
export function requireAdmin(t: CliTarget): void {
  if (t.adminRefusal) throw new CliError(t.adminRefusal);
}

/**
 * A box with a site admin key may change only rows of its own site: refuse before writing a
 * change every other replica would refuse.
 */
export function requireOwnSiteRow(t: CliTarget, what: string, rowSite: string | undefined): void {
  if (t.kind === 'hub' || rowSite === undefined || t.adminRefusal !== undefined || rowSite === t.site) return;
  throw new CliError(`${what} belongs to ${rowSite ? `site ${rowSite}` : 'every site'}; box ${t.nodeId} may change only rows of site ${t.site} (run this with the hub's config)`);
}

/** The site an admin row gets: a box's own site, or on the hub `--site` ('' = every site). */
export function adminSite(t: CliTarget, requested: string | undefined): string {
  if (t.kind === 'hub') return requested ?? '';
  if (requested !== undefined && requested !== t.site) throw new CliError(`box ${t.nodeId} belongs to site ${t.site}; --site ${requested} can only be set on the hub`);
  return t.site;
}
