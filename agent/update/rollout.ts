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
