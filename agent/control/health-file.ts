/**
 * `<dataDir>/health.json`: the running box's health decision, rewritten every second, read by
 * `outpost status` (docs/cli/status.md) to choose its exit code. A file older than STALE_MS
 * means the process no longer runs its timers (hung or killed).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Health } from './health.ts';

export const STALE_MS = 10_000;

export interface HealthRecord extends Health {
  /** Epoch ms of the decision. */
  at: number;
}

const fileOf = (dataDir: string) => join(dataDir, 'health.json');

export function writeHealth(dataDir: string, record: HealthRecord): void {
  const tmp = `${fileOf(dataDir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  renameSync(tmp, fileOf(dataDir));
}

export function readHealth(dataDir: string): HealthRecord | undefined {
  try {
    return JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as HealthRecord;
  } catch {
    return undefined;
  }
}
