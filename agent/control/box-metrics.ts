/**
 * What `GET /metrics` serves on every box and on the hub: the process, the switch's counts (on a
 * node), replication while it runs, and the replicated tables' row counts and digests. Built by
 * a composition root (main.ts, hub/hub.ts) from the parts it holds; sources are read at scrape
 * time, the table digests at most every DIGEST_CACHE_MS.
 */
import type { Clock } from '../lib/clock.ts';
import type { Store } from '../store/store.ts';
import type { TableDigest } from '../store/table-digest.ts';
import type { SyncStatus } from '../sync/sync-status.ts';
import type { MetricSample } from './metrics-server.ts';
import { syncMetrics, tableMetrics } from './sync-metrics.ts';

/** A node's switch at scrape time (the hub has none). */
export interface SwitchCounts {
  /** Live registrations (bindings) this replica holds, of every box of its scope. */
  registrations: number;
  activeCalls: number;
  registrar: { registered: number; removed: number; challenged: number; rejected: number; shed: number };
}

export interface BoxMetricsOptions {
  store: Store;
  clock: Clock;
  switch?: () => SwitchCounts;
  /** Replication's snapshot; undefined when the box does not replicate. */
  sync?: () => SyncStatus | undefined;
}

const DIGEST_CACHE_MS = 2000;

/** The collect() of the box's MetricsServer. */
export function boxMetrics(options: BoxMetricsOptions): () => MetricSample[] {
  let digests: { at: number; value: TableDigest[] } | undefined;
  return () => {
    const now = options.clock.now();
    if (!digests || now - digests.at > DIGEST_CACHE_MS) digests = { at: now, value: options.store.digests() };
    const status = options.sync?.();
    const tables = digests.value;
    return [
      ...processMetrics(),
      ...(options.switch ? switchMetrics(options.switch()) : []),
      ...(status ? syncMetrics(status, tables) : tableMetrics(tables)),
    ];
  };
}

function processMetrics(): MetricSample[] {
  const cpu = process.cpuUsage();
  return [
    { name: 'process_start_time_seconds', help: 'start of the process, seconds since the epoch', type: 'gauge', value: Math.round(performance.timeOrigin) / 1000 },
    { name: 'process_cpu_seconds_total', help: 'user and system CPU time of the process', type: 'counter', value: (cpu.user + cpu.system) / 1e6 },
    { name: 'process_resident_memory_bytes', help: 'resident memory of the process', type: 'gauge', value: process.memoryUsage.rss() },
  ];
}

function switchMetrics(s: SwitchCounts): MetricSample[] {
  const r = s.registrar;
  return [
    { name: 'outpost_registrations', help: 'live registrations (bindings) this replica holds', type: 'gauge', value: s.registrations },
    { name: 'outpost_calls_active', help: 'calls in progress on this box', type: 'gauge', value: s.activeCalls },
    { name: 'outpost_registrar_bindings_saved_total', help: 'bindings added or refreshed by REGISTER', type: 'counter', value: r.registered },
    { name: 'outpost_registrar_bindings_removed_total', help: 'bindings removed by REGISTER', type: 'counter', value: r.removed },
    { name: 'outpost_registrar_challenges_total', help: 'REGISTER requests answered with a digest challenge', type: 'counter', value: r.challenged },
    { name: 'outpost_registrar_rejected_total', help: 'REGISTER requests refused', type: 'counter', value: r.rejected },
    { name: 'outpost_registrar_shed_total', help: 'REGISTER requests answered 503 because the box was overloaded', type: 'counter', value: r.shed },
  ];
}
