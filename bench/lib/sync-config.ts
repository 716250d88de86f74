/**
 * What every part of bench/sync.ts shares: the options it was started with (parsed by
 * bench/sync.ts), the targets, and the small helpers for logging and rounding.
 */
import type { SyncConfig } from '../../agent/config/sync-schema.ts';

export interface SyncBenchConfig {
  /** Rows per burst (changes / CHANGES_PER_ROW, rounded up). */
  rows: number;
  rowsPerTx: number;
  /** Single-row transactions per second in the latency phase, and how many. */
  latRate: number;
  latCount: number;
  rawRepeats: number;
  /** Longest wait for rows to arrive. */
  timeoutMs: number;
  /** Longest wait for a quiet machine before each measurement. */
  quietWaitS: number;
  /** The `sync` options given on the command line (written into hub and node configs). */
  syncOverrides: Partial<SyncConfig>;
  /** What hub and nodes run with: their defaults plus the overrides. */
  sync: SyncConfig;
  nodelay: boolean;
  mosquittoMaxQueued: number | undefined;
  cpuProfDir: string | undefined;
  keep: boolean;
}

export const TARGETS = { e2eRatioMin: 0.5, e2eRatioAim: 0.8, latencyP99MaxMs: 250, backlogMaxS: 10, backlogAimS: 2 };

export const log = (msg: string) => process.stderr.write(`[bench:sync] ${msg}\n`);
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
