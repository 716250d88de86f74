/**
 * The hub's staging rule for an update of a site (docs/updates.md): one box first; the next
 * only after the one before it committed; never two boxes of a site at once (the site keeps
 * serving phones); a box that rolled back or failed stops the site's rollout until an admin
 * looks. Pure: fed with each box's reported state, returns the boxes to offer the update now.
 */
import type { UpdatePhase } from './update-core.ts';

export interface BoxUpdateView {
  readonly node: string;
  readonly site: string;
  /** The version the box runs. */
  readonly running: string;
  readonly phase: UpdatePhase;
  /** The version its phase is about. */
  readonly version: string | undefined;
}

const IN_FLIGHT: readonly UpdatePhase[] = ['offered', 'downloading', 'installing', 'installed', 'rebooting'];

export interface RolloutStep {
  /** Boxes to offer the version to now (at most one a site). */
  readonly offer: string[];
  /** Sites whose rollout stopped, with the box and why. */
  readonly halted: Array<{ site: string; node: string; reason: string }>;
  /** Sites where every box runs the version. */
  readonly done: string[];
}

export function nextOffers(version: string, boxes: readonly BoxUpdateView[]): RolloutStep {
  const sites = new Map<string, BoxUpdateView[]>();
  for (const b of boxes) sites.set(b.site, [...(sites.get(b.site) ?? []), b]);
  const step: RolloutStep = { offer: [], halted: [], done: [] };
  for (const [site, members] of [...sites].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...members].sort((a, b) => a.node.localeCompare(b.node));
    const broken = sorted.find((b) => b.version === version && (b.phase === 'rolled-back' || b.phase === 'failed'));
    if (broken) {
      step.halted.push({ site, node: broken.node, reason: `${broken.phase} on ${broken.node}` });
      continue;
    }
    if (sorted.some((b) => b.version === version && IN_FLIGHT.includes(b.phase))) continue;
    const next = sorted.find((b) => b.running !== version);
    if (next === undefined) step.done.push(site);
    else step.offer.push(next.node);
  }
  return step;
}

/** A box as the hub's permit rule sees it: its reported state and the version offered to it. */
export interface BoxPermitView extends BoxUpdateView {
  /** The version of the offer that applies to the box (its own, its site's or the fleet's). */
  readonly target: string;
  /** The version the box's current permit names, if any. */
  readonly permitted: string | undefined;
}

/**
 * The permits to write now, one site at a time (the same rule as `nextOffers`, with each box's
 * own target version): a site with a box in flight or one that holds an unused permit gets
 * nothing new; a site whose box rolled back or failed on its target is halted; else its first
 * box (by id) not running its target gets a permit. Returns the permits to write and the halts.
 */
export function nextPermits(boxes: readonly BoxPermitView[]): { permit: Array<{ node: string; site: string; version: string }>; halted: RolloutStep['halted'] } {
  const sites = new Map<string, BoxPermitView[]>();
  for (const b of boxes) sites.set(b.site, [...(sites.get(b.site) ?? []), b]);
  const out: { permit: Array<{ node: string; site: string; version: string }>; halted: RolloutStep['halted'] } = { permit: [], halted: [] };
  for (const [site, members] of [...sites].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...members].sort((a, b) => a.node.localeCompare(b.node));
    const broken = sorted.find((b) => b.version === b.target && (b.phase === 'rolled-back' || b.phase === 'failed'));
    if (broken) {
      out.halted.push({ site, node: broken.node, reason: `${broken.phase} on ${broken.node}` });
      continue;
    }
    if (sorted.some((b) => IN_FLIGHT.includes(b.phase))) continue;
    // A permit given and not yet acted on (the box is offline, or has not seen it): wait for it.
    const waiting = sorted.find((b) => b.permitted !== undefined && b.permitted !== b.running && b.permitted === b.target);
    if (waiting) continue;
    const next = sorted.find((b) => b.running !== b.target);
    if (next) out.permit.push({ node: next.node, site, version: next.target });
  }
  return out;
}
