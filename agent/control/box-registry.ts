/**
 * prom-client glue: a Registry that counts its scrapes (so several metrics can share one
 * snapshot of a source per scrape), and metrics whose value is read from a source at scrape
 * time. A counter read this way mirrors a count kept elsewhere (it restarts with the process).
 */
import { Counter, Gauge, Registry } from 'prom-client';

export class BoxRegistry extends Registry {
  #scrape = 0;

  get scrape(): number {
    return this.#scrape;
  }

  override async metrics(): Promise<string> {
    this.#scrape++;
    return super.metrics();
  }
}

/** `read` once per scrape of `registry`, however many metrics ask. */
export function perScrape<T>(registry: BoxRegistry, read: () => T): () => T {
  let at = -1;
  let value: T;
  return () => {
    if (at !== registry.scrape) {
      value = read();
      at = registry.scrape;
    }
    return value;
  };
}

export interface Reading {
  labels?: Record<string, string>;
  value: number;
}

/** What a read returns: one unlabelled value, labelled samples, or undefined (no sample this scrape). */
export type Read = () => number | Reading[] | undefined;

/** A gauge or counter whose samples come from `read` at every scrape. */
export function readMetric(registry: Registry, type: 'gauge' | 'counter', name: string, help: string, read: Read, labelNames: string[] = []): void {
  const apply = (metric: Gauge | Counter) => {
    const got = read();
    metric.reset();
    if (got === undefined) {
      // reset() leaves an unlabelled metric at 0; remove it so nothing is exported.
      if (labelNames.length === 0) (metric as unknown as { hashMap: object }).hashMap = {};
      return;
    }
    const readings = typeof got === 'number' ? [{ value: got }] : got;
    for (const r of readings) {
      if (metric instanceof Gauge) metric.set(r.labels ?? {}, r.value);
      else metric.inc(r.labels ?? {}, Math.max(0, r.value));
    }
  };
  if (type === 'gauge') {
    new Gauge({ name, help, labelNames, registers: [registry], collect() { apply(this); } });
  } else {
    new Counter({ name, help, labelNames, registers: [registry], collect() { apply(this); } });
  }
}
