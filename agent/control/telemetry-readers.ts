/**
 * The real readers of the telemetry sample: /proc and statfs for the hot values (well under a
 * millisecond, no processes spawned; measured in ../shared/notes/measurements.md "Telemetry
 * cost"), systeminformation for the temperatures only (slow: the shell refreshes them rarely).
 * A value the machine does not have (no /proc: not Linux) reads as 0.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { loadavg } from 'node:os';
import si from 'systeminformation';
import type { HotReaders } from './telemetry-core.ts';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** `cpu  user nice system idle iowait irq softirq steal ...` of /proc/stat. */
export function parseProcStat(text: string): { idle: number; total: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return { idle: 0, total: 0 };
  const n = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = n.reduce((a, b) => a + (b || 0), 0);
  return { idle: (n[3] ?? 0) + (n[4] ?? 0), total };
}

export function parseMeminfo(text: string): { totalB: number; availableB: number } {
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { totalB: kb('MemTotal'), availableB: kb('MemAvailable') };
}

/** Receive and transmit bytes summed over the interfaces of /proc/net/dev other than `lo`. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim() === 'lo') continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    rx += f[0] || 0;
    tx += f[8] || 0;
  }
  return { rx, tx };
}

export function procReaders(dataDir: string): HotReaders {
  return {
    loadavg: () => loadavg() as [number, number, number],
    cpuTimes: () => parseProcStat(read('/proc/stat')),
    memory: () => parseMeminfo(read('/proc/meminfo')),
    netBytes: () => parseNetDev(read('/proc/net/dev')),
    disk: () => {
      try {
        const s = statfsSync(dataDir);
        return { totalB: s.blocks * s.bsize, freeB: s.bavail * s.bsize };
      } catch {
        return { totalB: 0, freeB: 0 };
      }
    },
    rssB: () => process.memoryUsage.rss(),
  };
}

/** The machine's temperatures in °C (CPU package and cores), empty where it has no sensors. */
export async function readTemperatures(): Promise<number[]> {
  try {
    const t = await si.cpuTemperature();
    return [t.main, ...(t.cores ?? [])].filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > -50).slice(0, 32);
  } catch {
    return [];
  }
}
