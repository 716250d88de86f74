/**
 * The telemetry shell: a sample every `telemetry.interval` seconds on the injected clock,
 * published QoS 0 on `node/<id>/telemetry` through `publish` (the replicator's hub link; a box
 * without a hub only keeps it), and kept as `last` for the status page. Temperatures come from
 * systeminformation, refreshed at most every TEMPS_EVERY_MS in the background.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { telemetryTopics, type Telemetry } from '../wire/telemetry.ts';
import type { TelemetrySampler } from './telemetry-core.ts';

export const TEMPS_EVERY_MS = 60_000;

export interface TelemetryServiceOptions {
  nodeId: string;
  sampler: TelemetrySampler;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
  /** Sends one sample; false when it could not (no hub link up). */
  publish: (topic: string, payload: string) => boolean;
  /** Reads the temperatures (slow); the result goes to `temps`. */
  readTemps?: () => Promise<number[]>;
}

export class TelemetryService {
  readonly #o: TelemetryServiceOptions;
  #timer: TimerHandle | undefined;
  #last: Telemetry | undefined;
  #temps: number[] = [];
  #tempsAt = -Infinity;
  #published = 0;

  constructor(options: TelemetryServiceOptions) {
    this.#o = options;
  }

  /** The last sample (undefined before the first). */
  get last(): Telemetry | undefined {
    return this.#last;
  }

  get published(): number {
    return this.#published;
  }

  /** The temperatures last read, for the sampler. */
  get temps(): number[] {
    return this.#temps;
  }

  start(): void {
    this.#refreshTemps();
    this.#tick();
  }

  stop(): void {
    this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #tick = (): void => {
    try {
      const sample = this.#o.sampler.sample();
      this.#last = sample;
      if (this.#o.publish(telemetryTopics.of(this.#o.nodeId), JSON.stringify(sample))) this.#published++;
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'telemetry sample failed');
    }
    this.#refreshTemps();
    this.#timer = this.#o.clock.setTimeout(this.#tick, this.#o.intervalMs);
  };

  #refreshTemps(): void {
    const now = this.#o.clock.now();
    if (!this.#o.readTemps || now - this.#tempsAt < TEMPS_EVERY_MS) return;
    this.#tempsAt = now;
    this.#o.readTemps().then(
      (t) => (this.#temps = t),
      () => undefined,
    );
  }
}
