/**
 * The telemetry sample (TelemetrySchema, agent/wire/telemetry.ts; docs/mqtt/telemetry.md):
 * built from injected readers and the injected clock. CPU use and network rates are deltas
 * since the previous sample (the first sample reports 0 for both).
 */
import type { Clock } from '../lib/clock.ts';
import type { Alarm, Telemetry } from '../wire/telemetry.ts';

/** Cheap reads (/proc, statfs) done at every sample. */
export interface HotReaders {
  loadavg(): [number, number, number];
  /** Cumulative CPU jiffies of the machine: idle (with iowait) and total. */
  cpuTimes(): { idle: number; total: number };
  memory(): { totalB: number; availableB: number };
  /** Cumulative bytes over the interfaces other than loopback. */
  netBytes(): { rx: number; tx: number };
  /** The file system of the data directory. */
  disk(): { totalB: number; freeB: number };
  rssB(): number;
}

/** What the box itself knows at sample time. */
export interface BoxReaders {
  node: string;
  site: string;
  version: string;
  uptimeS(): number;
  loopDelayMs(): number;
  /** The last temperatures read (slow; refreshed by the shell, not per sample). */
  tempsC(): number[];
  sip(): { registrations: number; activeCalls: number };
  sync(): Telemetry['sync'];
  alarms(): Alarm[];
}

const nonNegative = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);

export class TelemetrySampler {
  #prev: { at: number; cpu: { idle: number; total: number }; net: { rx: number; tx: number } } | undefined;

  constructor(
    private readonly hot: HotReaders,
    private readonly box: BoxReaders,
    private readonly clock: Clock,
  ) {}

  sample(): Telemetry {
    const at = Math.round(this.clock.now());
    const cpu = this.hot.cpuTimes();
    const net = this.hot.netBytes();
    const prev = this.#prev;
    let usedPct = 0;
    let rxBps = 0;
    let txBps = 0;
    if (prev) {
      const total = cpu.total - prev.cpu.total;
      if (total > 0) usedPct = Math.min(100, nonNegative((100 * (total - (cpu.idle - prev.cpu.idle))) / total));
      const seconds = (at - prev.at) / 1000;
      if (seconds > 0) {
        rxBps = nonNegative((net.rx - prev.net.rx) / seconds);
        txBps = nonNegative((net.tx - prev.net.tx) / seconds);
      }
    }
    this.#prev = { at, cpu, net };
    const [load1, load5, load15] = this.hot.loadavg();
    const box = this.box;
    return {
      v: 1,
      node: box.node,
      site: box.site,
      at,
      version: box.version.slice(0, 64),
      uptimeS: nonNegative(box.uptimeS()),
      cpu: { load1: nonNegative(load1), load5: nonNegative(load5), load15: nonNegative(load15), usedPct: Math.round(usedPct * 10) / 10 },
      mem: this.hot.memory(),
      disk: this.hot.disk(),
      tempsC: box.tempsC().filter((t) => Number.isFinite(t)).slice(0, 32),
      net: { rxBps: Math.round(rxBps), txBps: Math.round(txBps) },
      proc: { rssB: this.hot.rssB(), loopDelayMs: nonNegative(box.loopDelayMs()) },
      sip: box.sip(),
      sync: box.sync(),
      alarms: box.alarms().slice(0, 64),
    };
  }
}
