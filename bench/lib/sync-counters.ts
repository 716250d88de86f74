/**
 * The sync counters of a running hub or node, from the `sync-status.json` it rewrites in its
 * data directory every second.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SyncStatus } from '../../agent/sync/sync-status.ts';
import { sleep } from './sync-config.ts';
import { now } from './outpost-process.ts';

export function readStatus(dataDir: string): SyncStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'sync-status.json'), 'utf8')) as SyncStatus;
  } catch {
    return undefined;
  }
}

const COUNTERS = ['batchesIn', 'batchesOut', 'changesApplied', 'requestsIn', 'requestsOut', 'malformed', 'badSignature', 'unknownSender'] as const;
export type Counters = Record<(typeof COUNTERS)[number], number>;

export function counters(dataDir: string): Counters | undefined {
  const s = readStatus(dataDir);
  if (!s) return undefined;
  return Object.fromEntries(COUNTERS.map((k) => [k, s.counters[k]])) as Counters;
}

/** What changed between two readings (counters that did not move are left out). */
export function counterDelta(a: Counters | undefined, b: Counters | undefined): Partial<Counters> | undefined {
  if (!b) return undefined;
  return Object.fromEntries(COUNTERS.map((k) => [k, b[k] - (a?.[k] ?? 0)]).filter(([, v]) => v !== 0));
}

/** The status file is rewritten each second: wait for one written after `t`. */
export async function freshCounters(dataDir: string, t: number): Promise<Counters | undefined> {
  const deadline = now() + 3000;
  while (now() < deadline) {
    const s = readStatus(dataDir);
    if (s && Date.parse(s.at) > t) return counters(dataDir);
    await sleep(100);
  }
  return counters(dataDir);
}
