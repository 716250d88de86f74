/**
 * Update delivery rows (docs/updates.md): `update_offers` (hub-written, one bundle per scope key
 * `fleet`, `site:<id>` or `node:<id>`), `update_permits` (hub-written, the boxes allowed to
 * install a version now) and `update_states` (each box's own update state, for the hub).
 */
import type { Database, Statement } from 'better-sqlite3';

export interface UpdateOfferRecord {
  scope: string;
  /** The stream the row travels on: '' for the fleet, else a site id. */
  site: string;
  version: string;
  /** The bundle's file name in the hub's bundle folder (`<dataDir>/bundles/`). */
  bundle: string;
  sha256: string;
  size: number;
  setBy: string;
  setAt: number;
}

export interface UpdatePermitRecord {
  nodeId: string;
  site: string;
  version: string;
  at: number;
}

export interface UpdateStateRecord {
  nodeId: string;
  phase: string;
  /** The version the phase is about ('' = none). */
  version: string;
  running: string;
  slot: string;
  targetSlot: string;
  error: string;
  at: number;
}

const OFFER = 'scope, site, version, bundle, sha256, size, set_by AS setBy, set_at AS setAt';
const PERMIT = 'node_id AS nodeId, site, version, at';
const STATE = 'node_id AS nodeId, phase, version, running, slot, target_slot AS targetSlot, error, at';

export class UpdateRepository {
  private readonly offerStmt: Statement;
  private readonly permitStmt: Statement;
  private readonly stateStmt: Statement;

  constructor(private readonly db: Database) {
    this.offerStmt = db.prepare(`SELECT ${OFFER} FROM update_offers WHERE scope = ?`);
    this.permitStmt = db.prepare(`SELECT ${PERMIT} FROM update_permits WHERE node_id = ?`);
    this.stateStmt = db.prepare(`SELECT ${STATE} FROM update_states WHERE node_id = ?`);
  }

  offer(scope: string): UpdateOfferRecord | undefined {
    return this.offerStmt.get(scope) as UpdateOfferRecord | undefined;
  }

  offers(): UpdateOfferRecord[] {
    return this.db.prepare(`SELECT ${OFFER} FROM update_offers ORDER BY scope`).all() as UpdateOfferRecord[];
  }

  /** The offer that applies to a box: its own, else its site's, else the fleet's. */
  offerFor(nodeId: string, site: string): UpdateOfferRecord | undefined {
    return this.offer(`node:${nodeId}`) ?? this.offer(`site:${site}`) ?? this.offer('fleet');
  }

  setOffer(o: UpdateOfferRecord): void {
    this.db
      .prepare(
        `INSERT INTO update_offers (scope, site, version, bundle, sha256, size, set_by, set_at) VALUES (@scope, @site, @version, @bundle, @sha256, @size, @setBy, @setAt)
         ON CONFLICT (scope) DO UPDATE SET site = excluded.site, version = excluded.version, bundle = excluded.bundle, sha256 = excluded.sha256,
           size = excluded.size, set_by = excluded.set_by, set_at = excluded.set_at`,
      )
      .run(o);
  }

  /** Withdraws the offer of a scope; false when there was none. */
  removeOffer(scope: string): boolean {
    return this.db.prepare('DELETE FROM update_offers WHERE scope = ?').run(scope).changes > 0;
  }

  permit(nodeId: string): UpdatePermitRecord | undefined {
    return this.permitStmt.get(nodeId) as UpdatePermitRecord | undefined;
  }

  permits(): UpdatePermitRecord[] {
    return this.db.prepare(`SELECT ${PERMIT} FROM update_permits ORDER BY node_id`).all() as UpdatePermitRecord[];
  }

  setPermit(p: UpdatePermitRecord): void {
    this.db
      .prepare(
        `INSERT INTO update_permits (node_id, site, version, at) VALUES (@nodeId, @site, @version, @at)
         ON CONFLICT (node_id) DO UPDATE SET site = excluded.site, version = excluded.version, at = excluded.at`,
      )
      .run(p);
  }

  state(nodeId: string): UpdateStateRecord | undefined {
    return this.stateStmt.get(nodeId) as UpdateStateRecord | undefined;
  }

  states(): UpdateStateRecord[] {
    return this.db.prepare(`SELECT ${STATE} FROM update_states ORDER BY node_id`).all() as UpdateStateRecord[];
  }

  setState(s: UpdateStateRecord): void {
    this.db
      .prepare(
        `INSERT INTO update_states (node_id, phase, version, running, slot, target_slot, error, at) VALUES (@nodeId, @phase, @version, @running, @slot, @targetSlot, @error, @at)
         ON CONFLICT (node_id) DO UPDATE SET phase = excluded.phase, version = excluded.version, running = excluded.running, slot = excluded.slot,
           target_slot = excluded.target_slot, error = excluded.error, at = excluded.at`,
      )
      .run(s);
  }
}
