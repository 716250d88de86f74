/**
 * The hub's side of staged updates (docs/updates.md): every few seconds it reads the offers,
 * the boxes (`nodes`) and their reported update states from its store, asks rollout.ts which
 * boxes may install now, and writes their permits (`update_permits`, replicated to each box's
 * site). A box installs only an offer its own permit names, so a box cut off from the hub starts
 * nothing new, and no two boxes of a site hold an unused permit or are in flight at once.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import { pruneBundles } from './hub-offers.ts';
import { nextPermits, type BoxPermitView } from './rollout.ts';
import type { UpdatePhase } from './update-core.ts';

/** The boxes the rule sees: every box with an offer that applies to it. */
export function permitViews(store: Store): BoxPermitView[] {
  const views: BoxPermitView[] = [];
  for (const n of store.nodes.list()) {
    if (n.role === 'hub') continue;
    const offer = store.updates.offerFor(n.id, n.site);
    if (!offer) continue;
    const s = store.updates.state(n.id);
    views.push({
      node: n.id,
      site: n.site,
      running: s?.running ?? '',
      phase: (s?.phase ?? 'idle') as UpdatePhase,
      version: s?.version || undefined,
      target: offer.version,
      permitted: store.updates.permit(n.id)?.version,
    });
  }
  return views;
}

/** One pass: writes the permits the rule gives that are not written yet; returns those and the halted sites. */
export function rolloutPass(store: Store, now: number): ReturnType<typeof nextPermits> {
  const step = nextPermits(permitViews(store));
  const written = step.permit.filter((p) => store.updates.permit(p.node)?.version !== p.version);
  for (const p of written) store.updates.setPermit({ nodeId: p.node, site: p.site, version: p.version, at: now });
  return { ...step, permit: written };
}

export interface HubRolloutOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** The hub's data directory and how many bundles no offer names it keeps (`updates.keepBundles`); absent: no pruning. */
  bundles?: { hubDataDir: string; keep: number };
  intervalMs?: number;
}

export class HubRollout {
  private timer: TimerHandle | undefined;
  private lastHalts = '';
  private lastOffers: string | undefined;

  constructor(private readonly o: HubRolloutOptions) {}

  /** When the offers changed (and at start): deletes the bundles beyond `keep` that no offer names. */
  private housekeep(): void {
    const offers = this.o.store.updates.offers();
    const key = JSON.stringify(offers.map((x) => [x.scope, x.bundle]));
    if (key === this.lastOffers) return;
    this.lastOffers = key;
    this.o.logger.info({ offers: offers.map((x) => `${x.scope} ${x.version}`) }, 'update offers');
    if (!this.o.bundles) return;
    try {
      const gone = pruneBundles(this.o.bundles.hubDataDir, new Set(offers.map((x) => x.bundle)), this.o.bundles.keep);
      if (gone.length > 0) this.o.logger.info({ deleted: gone, keep: this.o.bundles.keep }, 'update bundles pruned');
    } catch (err) {
      // The rollout goes on; the next change of the offers tries again.
      this.o.logger.warn({ err: (err as Error).message }, 'update bundles not pruned');
    }
  }

  start(): void {
    const tick = () => {
      try {
        this.housekeep();
        const step = rolloutPass(this.o.store, this.o.clock.now());
        for (const p of step.permit) this.o.logger.info({ node: p.node, site: p.site, version: p.version }, 'update permitted');
        const halts = JSON.stringify(step.halted);
        if (halts !== this.lastHalts && step.halted.length > 0) this.o.logger.warn({ halted: step.halted }, 'update rollout halted');
        this.lastHalts = halts;
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'update rollout pass failed');
      }
      this.timer = this.o.clock.setTimeout(tick, this.o.intervalMs ?? 2000);
    };
    tick();
  }

  stop(): void {
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
