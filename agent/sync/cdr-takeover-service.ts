/**
 * The shell around CdrTakeover (cdr-takeover.ts), on a box and on the hub: follows a feed of
 * peer liveness changes (today the MQTT states of peer-directory.ts; the SIP keep-alive later,
 * through the same PeerChangeFeed), ticks the core every second on the injected Clock (and once
 * more at the moment a takeover falls due), and
 * commits each takeover it returns through the store's write queue (store/cdrs.ts `takeOver`:
 * the checkpoint's delete and the CDR's insert in one transaction), then replication sends it.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Store } from '../store/store.ts';
import { CdrTakeover, type PeerChangeFeed, type Takeover } from './cdr-takeover.ts';

/** How often the core looks for takeovers that are due. */
export const TAKEOVER_TICK_MS = 1000;

export interface CdrTakeoverServiceOptions {
  store: Store;
  /** This replica's node id. */
  self: string;
  /** A box's site; undefined on the hub. */
  site: string | undefined;
  /** `sync.takeoverGrace`, in seconds. */
  graceSeconds: number;
  clock: Clock;
  logger: Logger;
}

export class CdrTakeoverService {
  readonly core: CdrTakeover;
  private timer: TimerHandle | undefined;
  /** One-shot checks at the moment a takeover falls due (the tick alone would add up to 1 s). */
  private readonly dueTimers = new Set<TimerHandle>();
  private unsubscribe: (() => void) | undefined;
  private busy = false;
  /** Calls closed on another node's behalf since start. */
  closed = 0;

  constructor(private readonly o: CdrTakeoverServiceOptions) {
    this.core = new CdrTakeover({
      self: o.self,
      site: o.site,
      graceMs: o.graceSeconds * 1000,
      clock: o.clock,
      checkpointsOf: (nodeId) => o.store.cdrs.checkpointsOf(nodeId),
    });
  }

  start(feed: PeerChangeFeed): void {
    this.unsubscribe = feed.onChange((change) => {
      this.core.changed(change);
      const due = change.state === 'down' ? this.core.dueAt(change.peer) : undefined;
      if (due === undefined) return;
      this.o.logger.info({ peer: change.peer, takeoverAt: due }, 'peer declared dead');
      const timer = this.o.clock.setTimeout(() => {
        this.dueTimers.delete(timer);
        // How many calls this check found to close (0: another replica or the owner closed them).
        this.o.logger.info({ peer: change.peer, calls: this.check() }, 'takeover grace over');
      }, Math.max(0, due - this.o.clock.now()));
      this.dueTimers.add(timer);
    });
    this.timer = this.o.clock.setTimeout(() => this.tick(), TAKEOVER_TICK_MS);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const t of this.dueTimers) this.o.clock.clearTimeout(t);
    this.dueTimers.clear();
  }

  private tick(): void {
    this.timer = this.o.clock.setTimeout(() => this.tick(), TAKEOVER_TICK_MS);
    this.check();
  }

  /** Starts the takeovers due now; the number of calls they close (undefined: busy or failed). */
  private check(): number | undefined {
    if (this.busy) return undefined;
    let due: Takeover[];
    try {
      due = this.core.tick();
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message }, 'cannot read checkpoints for a takeover');
      return undefined;
    }
    if (due.length > 0) void this.execute(due);
    return due.reduce((n, t) => n + t.cdrs.length, 0);
  }

  private async execute(due: Takeover[]): Promise<void> {
    const { store, clock, logger } = this.o;
    this.busy = true;
    try {
      for (const t of due) {
        const closed = await store.writes.submit(() => t.cdrs.filter((cdr) => store.cdrs.takeOver(cdr)).length);
        this.closed += closed;
        // Another replica's takeover (or the owner itself) may have closed them meanwhile.
        if (closed > 0) logger.warn({ peer: t.owner, calls: closed, declaredDeadAt: t.declaredDeadAt, afterMs: clock.now() - t.declaredDeadAt }, 'took over the calls of a dead peer');
      }
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'cannot write the CDRs of a dead peer; trying again');
    } finally {
      this.busy = false;
    }
  }
}
