/**
 * The bounded window of one box's telemetry at the hub: a ring of fixed capacity holding the
 * numbers of each sample in one Float64Array (a column per series, about 100 bytes a sample),
 * so 1000 boxes with the default window cost about 12 MB whatever they send. Samples older
 * than the age limit leave it at the next prune. Time is the hub's clock at receipt: a box's
 * clock may be off, the hub's is one for the whole fleet.
 */
import type { Telemetry } from '../wire/telemetry.ts';

/** The series the window keeps, in column order. `hubLagMs` is NaN when the box had no hub link. */
export const SERIES = ['at', 'cpuPct', 'load1', 'memUsedPct', 'diskUsedPct', 'rssB', 'loopDelayMs', 'registrations', 'activeCalls', 'hubLagMs', 'rxBps', 'txBps'] as const;
export type SeriesName = (typeof SERIES)[number];
const WIDTH = SERIES.length;

/** One sample's numbers, as the window keeps them. */
export function pointOf(t: Telemetry, receivedAt: number): Record<SeriesName, number> {
  const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0);
  return {
    at: receivedAt,
    cpuPct: t.cpu.usedPct,
    load1: t.cpu.load1,
    memUsedPct: pct(t.mem.totalB - t.mem.availableB, t.mem.totalB),
    diskUsedPct: pct(t.disk.totalB - t.disk.freeB, t.disk.totalB),
    rssB: t.proc.rssB,
    loopDelayMs: t.proc.loopDelayMs,
    registrations: t.sip.registrations,
    activeCalls: t.sip.activeCalls,
    hubLagMs: t.sync.hubLagMs ?? Number.NaN,
    rxBps: t.net.rxBps,
    txBps: t.net.txBps,
  };
}

/** The window as columns, oldest first; NaN becomes null (a gap in a chart). */
export type WindowSeries = Record<SeriesName, Array<number | null>>;

export class TelemetryWindow {
  private readonly data: Float64Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.data = new Float64Array(capacity * WIDTH);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a sample; the oldest leaves when the window is full. */
  push(point: Record<SeriesName, number>): void {
    const slot = (this.head + this.count) % this.capacity;
    for (let c = 0; c < WIDTH; c++) this.data[slot * WIDTH + c] = point[SERIES[c]!];
    if (this.count < this.capacity) this.count++;
    else this.head = (this.head + 1) % this.capacity;
  }

  /** Drops the samples received before `oldest` (ms); returns how many went. */
  prune(oldest: number): number {
    let dropped = 0;
    while (this.count > 0 && this.data[this.head * WIDTH]! < oldest) {
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      dropped++;
    }
    return dropped;
  }

  /** When the newest sample arrived, or undefined for an empty window. */
  newestAt(): number | undefined {
    if (this.count === 0) return undefined;
    return this.data[((this.head + this.count - 1) % this.capacity) * WIDTH]!;
  }

  series(): WindowSeries {
    const out = Object.fromEntries(SERIES.map((s) => [s, new Array<number | null>(this.count)])) as WindowSeries;
    for (let i = 0; i < this.count; i++) {
      const base = ((this.head + i) % this.capacity) * WIDTH;
      for (let c = 0; c < WIDTH; c++) {
        const v = this.data[base + c]!;
        out[SERIES[c]!][i] = Number.isNaN(v) ? null : v;
      }
    }
    return out;
  }
}
