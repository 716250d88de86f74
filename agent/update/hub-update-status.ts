/**
 * What the hub knows of its updates (docs/updates.md), for `outpost update status` at the hub and
 * the admin op `update.status`: the offers, the halted sites, and per box its site, the state it
 * last reported (phase, the version it is about, the version and slot it runs, error, since when)
 * and its permit. `formatHubUpdateStatus` prints the lines both CLIs show.
 */
import type { Store } from '../store/store.ts';
import type { UpdateOfferRecord } from '../store/update-offers.ts';
import { permitViews } from './hub-rollout.ts';
import { nextPermits, type RolloutStep } from './rollout.ts';

export interface BoxUpdateStatus {
  node: string;
  site: string;
  /** false: the hub has no state from the box yet (the other fields but `permitted` are empty). */
  reported: boolean;
  phase: string;
  version: string;
  running: string;
  slot: string;
  error: string;
  /** When the box entered the phase (ms since the epoch); 0 when not reported. */
  at: number;
  /** The version the hub's permit for the box names, '' for none. */
  permitted: string;
}

export interface HubUpdateStatus {
  offers: UpdateOfferRecord[];
  halted: RolloutStep['halted'];
  boxes: BoxUpdateStatus[];
}

export function hubUpdateStatus(store: Store): HubUpdateStatus {
  const boxes = store.nodes
    .list()
    .filter((n) => n.role !== 'hub')
    .map((n): BoxUpdateStatus => {
      const s = store.updates.state(n.id);
      const permitted = store.updates.permit(n.id)?.version ?? '';
      if (!s) return { node: n.id, site: n.site, reported: false, phase: '', version: '', running: '', slot: '', error: '', at: 0, permitted };
      return { node: n.id, site: n.site, reported: true, phase: s.phase, version: s.version, running: s.running, slot: s.slot, error: s.error, at: s.at, permitted };
    });
  return { offers: store.updates.offers(), halted: nextPermits(permitViews(store)).halted, boxes };
}

export function formatHubUpdateStatus(st: HubUpdateStatus): string[] {
  const lines: string[] = [];
  for (const o of st.offers) lines.push(`offer  ${o.scope} ${o.version} (${o.bundle}, ${o.size} bytes, sha256 ${o.sha256.slice(0, 12)}…), set by ${o.setBy} at ${new Date(o.setAt).toISOString()}`);
  if (st.offers.length === 0) lines.push('offer  none');
  for (const h of st.halted) lines.push(`halted site ${h.site}: ${h.reason}`);
  if (st.boxes.length === 0) lines.push('box    none known to this hub yet');
  for (const b of st.boxes) {
    const perm = b.permitted ? `, permitted ${b.permitted}` : '';
    if (!b.reported) {
      lines.push(`box    ${b.node} (site ${b.site}): not reported${perm}`);
      continue;
    }
    const about = b.version ? ` ${b.version}` : '';
    const err = b.error ? ` (${b.error})` : '';
    lines.push(`box    ${b.node} (site ${b.site}): ${b.phase}${about}, runs ${b.running} on slot ${b.slot}${perm}, since ${new Date(b.at).toISOString()}${err}`);
  }
  return lines;
}
