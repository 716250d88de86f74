/**
 * Writes `<dataDir>/sync-status.json`, what `outpost status` shows of a running replica, every
 * second on the injected Clock and once more on stop(). Built by a composition root (main.ts,
 * hub/hub.ts) next to the replicator it reports on.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { writeSyncStatus, type SyncStatus } from '../sync/sync-status.ts';

export interface SyncStatusFileOptions {
  dataDir: string;
  /** The snapshot to write; undefined while there is nothing to report (not started yet). */
  status: () => SyncStatus | undefined;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
}

export class SyncStatusFile {
  readonly #options: SyncStatusFileOptions;
  #timer: TimerHandle | undefined;
  #running = false;

  constructor(options: SyncStatusFileOptions) {
    this.#options = options;
  }

  start(): void {
    this.#running = true;
    this.#schedule();
  }

  /** Stops the timer and writes the last snapshot. Safe to call twice or before start(). */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#write();
  }

  #schedule(): void {
    this.#timer = this.#options.clock.setTimeout(() => {
      this.#write();
      if (this.#running) this.#schedule();
    }, this.#options.intervalMs ?? 1000);
  }

  #write(): void {
    const status = this.#options.status();
    if (!status) return;
    try {
      writeSyncStatus(this.#options.dataDir, status);
    } catch (err) {
      this.#options.logger.warn({ err: (err as Error).message }, 'cannot write sync status');
    }
  }
}
