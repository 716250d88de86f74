/**
 * When and where a replica pushes (docs/replication.md, "Push" and "Backpressure"): one push
 * timer at a time, `sync.pushDelay` after a commit; a page at a time on every connected push
 * link, the next page only after the shell sent this one; a commit during a push pushes again
 * after it; with no link up the source skips to its head (receivers pull). The hub's relay of
 * a merge goes out at once when every link has room, else it is left to the push loop.
 */
import type { Logger } from '../lib/logger.ts';
import type { AppliedRange, Change } from '../store/change-log.ts';
import type { BatchSource } from './batch-source.ts';
import type { Command } from './replication-commands.ts';
import type { LinkView } from './replication-strategy.ts';
import type { SyncCounters } from './sync-counters.ts';

export interface PushLoopOptions {
  source: BatchSource;
  links: LinkView;
  /** The links pushes go to, in order (the strategy's). */
  pushLinks: readonly string[];
  sync: { pushDelay: number; maxInFlight: number };
  /** Publishes awaiting their acknowledgement on a link. */
  inFlight: (link: string) => number;
  counters: SyncCounters;
  logger: Logger;
}

export class PushLoop {
  private armed = false;
  private pushing = false;
  private again = false;

  constructor(private readonly o: PushLoopOptions) {}

  /** Nothing armed, nothing being pushed. */
  get idle(): boolean {
    return !this.armed && !this.pushing;
  }

  /** Something new to push: arm the timer, or push again after the running push. */
  schedule(out: Command[]): void {
    if (this.pushing) {
      this.again = true;
      return;
    }
    if (this.armed) return;
    this.armed = true;
    out.push({ kind: 'schedule', timer: 'push', ms: this.o.sync.pushDelay });
  }

  /** The push timer fired: the first page. */
  fire(out: Command[]): void {
    this.armed = false;
    this.pushing = true;
    this.page(out);
  }

  /** The shell sent a page (`published` batches); the next one when `more`. */
  pageSent(published: number, more: boolean, out: Command[]): void {
    this.o.counters.batchesOut += published;
    if (more) this.page(out);
    else this.done(out);
  }

  /** Republishes a merge straight away, or leaves it to the push loop. */
  relay(merged: readonly Change[], range: AppliedRange, out: Command[]): void {
    const targets = this.targets();
    const room = targets.every((t) => this.o.inFlight(t) < this.o.sync.maxInFlight);
    const batches = targets.length > 0 && room && !this.pushing ? this.o.source.relay(merged, range) : undefined;
    if (!batches) return this.schedule(out);
    for (const link of targets) {
      for (const b of batches) {
        out.push({ kind: 'publish', link, topic: b.topic, payload: b.bytes, retain: false });
        this.o.counters.batchesOut++;
      }
    }
  }

  private targets(): string[] {
    return this.o.pushLinks.filter((l) => this.o.links.isConnected(l));
  }

  private page(out: Command[]): void {
    const targets = this.targets();
    if (targets.length === 0) {
      this.o.source.skipToHead();
      return this.done(out);
    }
    try {
      const { batches, more } = this.o.source.nextPush();
      out.push({ kind: 'push-page', links: targets, batches, more });
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message }, 'push failed');
      this.done(out);
    }
  }

  private done(out: Command[]): void {
    this.pushing = false;
    if (this.again) {
      this.again = false;
      this.schedule(out);
    }
  }
}
