/**
 * `outpost status`: identity, listen addresses, users, live registrations, replication (per
 * peer: connected, watermark, lag; per site peer: up or down since when) and per replicated table its row count and content digest.
 * Works with a node's or the hub's config, whether or not the process runs. Exit codes
 * (docs/cli/status.md): 0 running and healthy, 1 a box that runs unhealthy (or a store that
 * does not open), 2 a config error, 3 not running.
 */
import type { Command } from 'commander';
import { loadAnyConfig } from '../config/load-config.ts';
import { readHealth, STALE_MS } from '../control/health-file.ts';
import { AgentError } from '../lib/errors.ts';
import { formatListenAddress } from '../config/listen-address.ts';
import type { TableDigest } from '../store/table-digest.ts';
import { readSyncStatus, type SyncStatus } from '../sync/sync-status.ts';
import { NotRunningError } from './cli-error.ts';
import { readRuntimeInfo } from './runtime-file.ts';
import { withStore } from './user-command.ts';

export interface StatusReport {
  node: { id: string; role: 'node' | 'hub'; site: string; running: boolean; pid: number | null; startedAt: string | null };
  sip: { domain: string; listen: string[] } | null;
  mqtt: string | null;
  users: { count: number; extensions: string[] };
  registrations: Array<{ aor: string; contact: string; node: string; expiresIn: number; userAgent: string; received: string }>;
  bans: Array<{ ip: string; node: string; reason: string; until: string }>;
  store: { path: string; schemaVersion: number; dbVersion: number };
  /** A running box's health (`<dataDir>/health.json`); null when it does not run, and for the hub. */
  health: { healthy: boolean; reasons: string[]; at: string | null } | null;
  /** Replication as the running process last wrote it; from the store alone when it is not running. */
  sync: (Omit<SyncStatus, 'at'> & { at: string | null; live: boolean }) | null;
  tables: TableDigest[];
}

export function registerStatusCommand(program: Command, out: (line: string) => void): void {
  program
    .command('status')
    .description('show identity, listen addresses, users, registrations, replication and table digests')
    .option('--json', 'print one JSON object')
    .requiredOption('-c, --config <file>', 'config file (a box or the hub)')
    .action((opts: { json?: boolean; config: string }) => {
      const report = collectStatus(opts.config);
      if (opts.json) out(JSON.stringify(report));
      else for (const line of formatStatus(report)) out(line);
      // The report is printed either way (it reads the store); the exit code tells scripts.
      if (!report.node.running) {
        const { role, id } = report.node;
        throw new NotRunningError(`${role} ${id} is not running (start it with: outpost ${role} --config ${opts.config})`);
      }
      if (report.health && !report.health.healthy) throw new UnhealthyError(`${report.node.role} ${report.node.id} is unhealthy: ${report.health.reasons.join('; ')}`);
    });
}

/** A box that runs but is unhealthy: the report is printed, then this one line; exit code 1. */
export class UnhealthyError extends AgentError {
  constructor(message: string) {
    super('cli.unhealthy', message);
  }
}

/** The running box's health from health.json; a missing or stale file is unhealthy. */
function healthOf(dataDir: string, now: number): NonNullable<StatusReport['health']> {
  const h = readHealth(dataDir);
  if (!h) return { healthy: false, reasons: ['no health.json: the node has not reported its health'], at: null };
  const at = new Date(h.at).toISOString();
  if (now - h.at > STALE_MS) return { healthy: false, reasons: [`health.json not updated since ${at}: the process does not run its timers`], at };
  return { healthy: h.healthy, reasons: h.reasons, at };
}

export function collectStatus(configFile: string): StatusReport {
  const any = loadAnyConfig(configFile);
  const dataDir = any.config.dataDir;
  const runtime = readRuntimeInfo(dataDir);
  const identity =
    any.kind === 'node'
      ? { id: any.config.node.id, role: 'node' as const, site: any.config.node.site }
      : { id: any.config.id, role: 'hub' as const, site: '' };
  const replicates = any.kind === 'hub' || any.config.hub !== undefined || any.config.peers.length > 0 || any.config.mqtt !== undefined;
  return withStore(dataDir, { mustExist: true }, (store) => {
    const now = Date.now();
    const users = store.users.list();
    let sync: StatusReport['sync'] = null;
    if (replicates) {
      const written = runtime ? readSyncStatus(dataDir) : undefined;
      sync = written
        ? { ...written, live: true }
        : {
            role: identity.role,
            nodeId: identity.id,
            site: identity.site,
            head: store.dbVersion().toString(),
            at: null,
            live: false,
            links: [],
            peers: peersFromWatermarks(store.changes.watermarks()),
            counters: { batchesIn: 0, batchesOut: 0, changesApplied: 0, changesRejected: 0, rejectedBy: {}, badSignature: 0, unknownSender: 0, malformed: 0, requestsIn: 0, requestsOut: 0, keyMismatches: 0, pendingBatches: store.changes.pendingCount() },
          };
    }
    return {
      node: { ...identity, running: runtime !== undefined, pid: runtime?.pid ?? null, startedAt: runtime?.startedAt ?? null },
      sip: any.kind === 'node' ? { domain: any.config.sip.domain, listen: runtime?.listen ?? any.config.sip.listen.map(formatListenAddress) } : null,
      mqtt: runtime?.mqtt ?? null,
      users: { count: users.length, extensions: users.map((u) => u.ext) },
      registrations: store.registrations.allLive(now).map((b) => ({
        aor: b.aor,
        contact: b.contact,
        node: b.nodeId,
        expiresIn: Math.round((b.expiresAt - now) / 1000),
        userAgent: b.userAgent,
        received: b.received,
      })),
      bans: store.bans.active(now).map((b) => ({ ip: b.ip, node: b.nodeId, reason: b.reason, until: new Date(b.until).toISOString() })),
      store: { path: store.path, schemaVersion: store.schemaVersion(), dbVersion: store.dbVersion() },
      sync,
      tables: store.digests(),
      health: runtime && any.kind === 'node' ? healthOf(dataDir, now) : null,
    };
  });
}

function peersFromWatermarks(marks: Array<{ source: string; stream: string; version: bigint }>): SyncStatus['peers'] {
  const bySource = new Map<string, SyncStatus['peers'][number]>();
  for (const m of marks) {
    let p = bySource.get(m.source);
    if (!p) bySource.set(m.source, (p = { nodeId: m.source, role: m.stream === 'own' ? 'node' : 'hub', site: '', connected: false, online: false, head: '0', streams: [] }));
    p.streams.push({ stream: m.stream, watermark: m.version.toString(), lagVersions: '0', lagSeconds: 0, pulling: false, blocked: false, applied: 0, rejected: 0 });
  }
  return [...bySource.values()];
}

function formatStatus(r: StatusReport): string[] {
  const lines = [
    `${r.node.role.padEnd(10)}${r.node.id}${r.node.site ? ` (site ${r.node.site})` : ''} ${r.node.running ? `running, pid ${r.node.pid}, since ${r.node.startedAt}` : 'not running'}`,
  ];
  if (r.health) lines.push(`health    ${r.health.healthy ? 'healthy' : `UNHEALTHY: ${r.health.reasons.join('; ')}`}`);
  if (r.sip) lines.push(`domain    ${r.sip.domain}`, `listen    ${r.sip.listen.join(', ')}`);
  if (r.mqtt) lines.push(`mqtt      ${r.mqtt}`);
  lines.push(`users     ${r.users.count}${r.users.count ? `: ${r.users.extensions.slice(0, 20).join(' ')}${r.users.count > 20 ? ' ...' : ''}` : ''}`);
  lines.push(`bindings  ${r.registrations.length} live`);
  for (const b of r.registrations.slice(0, 50)) {
    lines.push(`  ${b.aor.padEnd(10)} ${b.contact}  via ${b.received || '-'}  expires in ${b.expiresIn}s  on ${b.node}${b.userAgent ? `  (${b.userAgent})` : ''}`);
  }
  for (const b of r.bans) lines.push(`banned    ${b.ip} until ${b.until} by ${b.node}: ${b.reason}`);
  lines.push(`store     ${r.store.path} (schema ${r.store.schemaVersion}, db_version ${r.store.dbVersion})`);
  if (r.sync) {
    const c = r.sync.counters;
    lines.push(`sync      ${r.sync.live ? `as of ${r.sync.at}` : 'not running (watermarks from the store)'}; applied ${c.changesApplied}, rejected ${c.changesRejected}${c.pendingBatches ? `, ${c.pendingBatches} batches wait for a migration` : ''}`);
    for (const l of r.sync.links) lines.push(`  link ${l.name.padEnd(12)} ${l.url}  ${l.connected ? 'connected' : 'DOWN'}`);
    for (const p of r.sync.peers) {
      const streams = p.streams.map((s) => `${s.stream}@${s.watermark}${s.lagVersions !== '0' ? ` (behind ${s.lagVersions} versions, ${s.lagSeconds}s)` : ''}`).join(', ');
      lines.push(`  ${p.role} ${p.nodeId.padEnd(12)} ${p.connected ? 'connected' : 'not connected'}  ${streams || '-'}`);
    }
    for (const p of r.sync.liveness ?? []) {
      lines.push(`  peer ${p.nodeId.padEnd(12)} ${p.state === 'down' ? 'DOWN' : p.state} since ${p.since}${p.sip ? `  (keep-alive ${p.sip})` : ''}`);
    }
  }
  for (const t of r.tables) lines.push(`table     ${t.table.padEnd(14)} ${String(t.rows).padStart(7)} rows  ${t.digest}`);
  return lines;
}
