/**
 * What `GET /metrics` serves on every box and on the hub (docs/metrics.md): the process
 * (prom-client's default metrics), the switch's counts and its SIP traffic (on a node), the
 * media relay, bans, replication while it runs, and the replicated tables' row counts and
 * digests. Built by a composition root from the parts it holds; sources are read at scrape
 * time (one snapshot of each per scrape), the table digests at most every DIGEST_CACHE_MS.
 */
import { collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../lib/clock.ts';
import type { RelayTraffic } from '../media/udp-media-relay.ts';
import type { Store } from '../store/store.ts';
import type { TableDigest } from '../store/table-digest.ts';
import type { SyncStatus } from '../sync/sync-status.ts';
import { BoxRegistry, perScrape, readMetric } from './box-registry.ts';
import type { SipCounters } from './sip-counters.ts';
import { registerSyncMetrics, registerTableMetrics } from './sync-metrics.ts';

/** A node's switch at scrape time (the hub has none). */
export interface SwitchCounts {
  /** Live registrations (bindings) this replica holds, of every box of its scope. */
  registrations: number;
  activeCalls: number;
  registrar: { registered: number; removed: number; challenged: number; rejected: number; shed: number };
}

/** The flood guard's counts (agent/switch/flood-guard.ts) and the bans in force. */
export interface BanCounts {
  active: number;
  issued: number;
  rateLimited: number;
  bannedDrops: number;
}

export interface BoxMetricsOptions {
  store: Store;
  clock: Clock;
  switch?: () => SwitchCounts;
  /** Replication's snapshot; undefined while the box does not replicate. */
  sync?: () => SyncStatus | undefined;
  /** The endpoint's SIP counters (a node). */
  sip?: SipCounters;
  relay?: () => RelayTraffic;
  bans?: () => BanCounts;
  /** The software version, exported as `outpost_build_info{version}`. */
  version?: string;
  /** The SIP trace's HEP export counters (a box); undefined while `trace.hep` is not set (served as 0). */
  hep?: () => { sent: number; dropped: number } | undefined;
}

const DIGEST_CACHE_MS = 2000;

/** The registry the box's (or hub's) `/metrics` renders. */
export function boxMetrics(options: BoxMetricsOptions): BoxRegistry {
  const registry = new BoxRegistry();
  collectDefaultMetrics({ register: registry });
  let digests: { at: number; value: TableDigest[] } | undefined;
  const tables = () => {
    const now = options.clock.now();
    if (!digests || now - digests.at > DIGEST_CACHE_MS) digests = { at: now, value: options.store.digests() };
    return digests.value;
  };
  if (options.version !== undefined) {
    const version = options.version;
    readMetric(registry, 'gauge', 'outpost_build_info', 'the software version (label), always 1', () => [{ labels: { version }, value: 1 }], ['version']);
  }
  if (options.switch) registerSwitchMetrics(registry, perScrape(registry, options.switch));
  options.sip?.register(registry);
  if (options.relay) registerRelayMetrics(registry, perScrape(registry, options.relay));
  if (options.bans) {
    const bans = perScrape(registry, options.bans);
    readMetric(registry, 'gauge', 'outpost_bans_active', 'source addresses banned now (this box and replicated)', () => bans().active);
    readMetric(registry, 'counter', 'outpost_bans_issued_total', 'bans this box issued', () => bans().issued);
    readMetric(registry, 'counter', 'outpost_flood_rate_limited_total', 'SIP messages dropped by the per-source rate limit', () => bans().rateLimited);
    readMetric(registry, 'counter', 'outpost_flood_banned_drops_total', 'SIP messages dropped because their source is banned', () => bans().bannedDrops);
  }
  if (options.hep) {
    const hep = options.hep;
    readMetric(registry, 'counter', 'outpost_hep_packets_sent_total', 'HEP packets sent to the trace.hep collector', () => hep()?.sent ?? 0);
    readMetric(registry, 'counter', 'outpost_hep_packets_dropped_total', 'HEP packets not sent (not encodable, collector unresolved, socket error)', () => hep()?.dropped ?? 0);
  }
  if (options.sync) registerSyncMetrics(registry, perScrape(registry, options.sync));
  registerTableMetrics(registry, tables);
  return registry;
}

function registerSwitchMetrics(registry: BoxRegistry, s: () => SwitchCounts): void {
  const g = (name: string, help: string, read: () => number) => readMetric(registry, 'gauge', name, help, read);
  const c = (name: string, help: string, read: () => number) => readMetric(registry, 'counter', name, help, read);
  g('outpost_registrations', 'live registrations (bindings) this replica holds', () => s().registrations);
  g('outpost_calls_active', 'calls in progress on this box', () => s().activeCalls);
  c('outpost_registrar_bindings_saved_total', 'bindings added or refreshed by REGISTER', () => s().registrar.registered);
  c('outpost_registrar_bindings_removed_total', 'bindings removed by REGISTER', () => s().registrar.removed);
  c('outpost_registrar_challenges_total', 'REGISTER requests answered with a digest challenge', () => s().registrar.challenged);
  c('outpost_registrar_rejected_total', 'REGISTER requests refused', () => s().registrar.rejected);
  c('outpost_registrar_shed_total', 'REGISTER requests answered 503 because the box was overloaded', () => s().registrar.shed);
}

/** Direction labels: RTP from the caller (relay leg a) and from the callee (leg b). */
const DIRECTIONS = [['a', 'from_caller'], ['b', 'from_callee']] as const;

function registerRelayMetrics(registry: BoxRegistry, t: () => RelayTraffic): void {
  const per = (value: (d: RelayTraffic['a']) => number) => () => DIRECTIONS.map(([leg, direction]) => ({ labels: { direction }, value: value(t()[leg]) }));
  readMetric(registry, 'counter', 'outpost_rtp_packets_total', 'RTP packets relayed, by the party that sent them', per((d) => d.packets), ['direction']);
  readMetric(registry, 'counter', 'outpost_rtp_lost_packets_total', 'RTP packets lost before the box (sequence gaps), by the sending party', per((d) => d.lost), ['direction']);
  readMetric(registry, 'gauge', 'outpost_rtp_jitter_seconds', 'mean interarrival jitter (RFC 3550) over the calls in progress, by the sending party', per((d) => d.jitterMs / 1000), ['direction']);
  readMetric(registry, 'gauge', 'outpost_transcoder_channels', 'transcoder channels in use (one per direction of a transcoded call)', () => t().transcoding * 2);
}
