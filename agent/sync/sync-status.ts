/**
 * A snapshot of replication for `outpost status` and metrics: links, and per known peer whether
 * it is reachable, each stream's watermark and lag (in versions of the source and in seconds),
 * and the counters; on a running box also its site peers' liveness (`liveness`, added by main.ts
 * from agent/switch/peers/). Written by the running process to `<dataDir>/sync-status.json` each second.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Replicator } from './replicator.ts';

export interface StreamStatus {
  stream: string;
  watermark: string;
  /** Source head minus watermark, in versions (transactions) of the source. */
  lagVersions: string;
  lagSeconds: number;
  pulling: boolean;
  blocked: boolean;
  applied: number;
  rejected: number;
}

export interface PeerStatus {
  nodeId: string;
  role: 'node' | 'hub';
  site: string;
  connected: boolean;
  online: boolean;
  head: string;
  streams: StreamStatus[];
}

/** A site peer's liveness (docs/peer-liveness.md), as the box's keep-alive last saw it. */
export interface PeerLivenessEntry {
  nodeId: string;
  state: 'up' | 'down' | 'unknown';
  /** ISO 8601: when it entered `state`. */
  since: string;
  /** Where its keep-alive goes (`udp:host:port`); null while unknown. */
  sip: string | null;
}

export interface SyncStatus {
  role: 'node' | 'hub';
  nodeId: string;
  site: string;
  head: string;
  at: string;
  links: Array<{ name: string; url: string; connected: boolean; inFlight: number; published: number }>;
  peers: PeerStatus[];
  /** A running box: each site peer up, down or unknown, and since when (the hub has none). */
  liveness?: PeerLivenessEntry[];
  /** This replica's embedded broker over mTLS: its ACL's refusals (broker-guard.ts). */
  broker?: { refusedConnects: number; refusedPublishes: number; refusedSubscribes: number; filtered: number; refusedRevoked: number };
  counters: {
    batchesIn: number;
    batchesOut: number;
    changesApplied: number;
    changesRejected: number;
    rejectedBy: Record<string, number>;
    badSignature: number;
    unknownSender: number;
    malformed: number;
    requestsIn: number;
    requestsOut: number;
    keyMismatches: number;
    pendingBatches: number;
    /** States and batches refused for disagreeing with a certificate (docs/security.md). */
    identityRefused?: number;
    /** Catch-up requests refused: unknown requester or a stream it is not entitled to. */
    requestsRefused?: number;
    /** States, batches and requests refused because the certificate is revoked. */
    revokedRefused?: number;
  };
}

export function syncStatus(r: Replicator, now = Date.now()): SyncStatus {
  const o = r.options;
  const streams = r.streamStatus();
  const ids = new Set<string>(streams.map((s) => s.source));
  for (const n of r.directory.all()) if (r.reportsOn(n)) ids.add(n.nodeId);
  if (o.hub) ids.add(o.hub.id);
  ids.delete(o.nodeId);
  const peers: PeerStatus[] = [...ids].sort().map((id) => {
    const known = r.directory.get(id);
    const head = known?.head ?? 0n;
    return {
      nodeId: id,
      role: known?.role ?? (id === o.hub?.id ? 'hub' : 'node'),
      site: known?.site ?? '',
      connected: r.isConnectedTo(id),
      online: known?.online ?? false,
      head: head.toString(),
      streams: streams
        .filter((s) => s.source === id)
        .map((s) => ({
          stream: s.stream,
          watermark: s.watermark.toString(),
          lagVersions: (head > s.watermark ? head - s.watermark : 0n).toString(),
          lagSeconds: s.lagSeconds(now),
          pulling: s.pulling,
          blocked: s.blocked,
          applied: s.applied,
          rejected: s.rejected,
        })),
    };
  });
  const c = r.counters;
  return {
    role: o.role,
    nodeId: o.nodeId,
    site: o.site,
    head: o.store.changes.head().toString(),
    at: new Date(now).toISOString(),
    links: r.linkStatus(),
    peers,
    counters: {
      batchesIn: c.batchesIn,
      batchesOut: c.batchesOut,
      changesApplied: c.changesApplied,
      changesRejected: c.changesRejected,
      rejectedBy: Object.fromEntries(c.rejectedBy),
      badSignature: c.badSignature,
      unknownSender: c.unknownSender,
      malformed: c.malformed,
      requestsIn: c.requestsIn,
      requestsOut: c.requestsOut,
      keyMismatches: r.directory.keyMismatches,
      identityRefused: r.directory.identityRefused + c.identityRefused,
      requestsRefused: c.requestsRefused,
      revokedRefused: r.directory.revokedRefused + c.revokedRefused,
      pendingBatches: o.store.changes.pendingCount(),
    },
  };
}

const fileOf = (dataDir: string) => join(dataDir, 'sync-status.json');

export function writeSyncStatus(dataDir: string, status: SyncStatus): void {
  const tmp = `${fileOf(dataDir)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(status)}\n`, { mode: 0o600 });
  renameSync(tmp, fileOf(dataDir));
}

export function readSyncStatus(dataDir: string): SyncStatus | undefined {
  try {
    return JSON.parse(readFileSync(fileOf(dataDir), 'utf8')) as SyncStatus;
  } catch {
    return undefined;
  }
}
