/** `outpost status`: node identity, listen addresses, users and live registrations. */
import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import { formatListenAddress } from '../config/listen-address.ts';
import { readRuntimeInfo } from './runtime-file.ts';
import { withStore } from './user-command.ts';

export interface StatusReport {
  node: { id: string; site: string; running: boolean; pid: number | null; startedAt: string | null };
  sip: { domain: string; listen: string[] };
  users: { count: number; extensions: string[] };
  registrations: Array<{ aor: string; contact: string; node: string; expiresIn: number; userAgent: string; received: string }>;
  bans: Array<{ ip: string; node: string; reason: string; until: string }>;
  store: { path: string; schemaVersion: number; dbVersion: number };
}

export function registerStatusCommand(program: Command, out: (line: string) => void): void {
  program
    .command('status')
    .description('show node id, site, listen addresses, users and live registrations')
    .option('--json', 'print one JSON object')
    .requiredOption('-c, --config <file>', 'config file')
    .action((opts: { json?: boolean; config: string }) => {
      const report = collectStatus(opts.config);
      if (opts.json) return out(JSON.stringify(report));
      for (const line of formatStatus(report)) out(line);
    });
}

export function collectStatus(configFile: string): StatusReport {
  const config = loadConfig(configFile);
  const runtime = readRuntimeInfo(config.dataDir);
  return withStore(config.dataDir, { mustExist: true }, (store) => {
    const now = Date.now();
    const users = store.users.list();
    return {
      node: { id: config.node.id, site: config.node.site, running: runtime !== undefined, pid: runtime?.pid ?? null, startedAt: runtime?.startedAt ?? null },
      sip: { domain: config.sip.domain, listen: runtime?.listen ?? config.sip.listen.map(formatListenAddress) },
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
    };
  });
}

function formatStatus(r: StatusReport): string[] {
  const lines = [
    `node      ${r.node.id} (site ${r.node.site}) ${r.node.running ? `running, pid ${r.node.pid}, since ${r.node.startedAt}` : 'not running'}`,
    `domain    ${r.sip.domain}`,
    `listen    ${r.sip.listen.join(', ')}`,
    `users     ${r.users.count}${r.users.count ? `: ${r.users.extensions.slice(0, 20).join(' ')}${r.users.count > 20 ? ' ...' : ''}` : ''}`,
    `bindings  ${r.registrations.length} live`,
  ];
  for (const b of r.registrations) {
    lines.push(`  ${b.aor.padEnd(10)} ${b.contact}  via ${b.received || '-'}  expires in ${b.expiresIn}s  on ${b.node}${b.userAgent ? `  (${b.userAgent})` : ''}`);
  }
  for (const b of r.bans) lines.push(`banned    ${b.ip} until ${b.until} by ${b.node}: ${b.reason}`);
  lines.push(`store     ${r.store.path} (schema ${r.store.schemaVersion}, db_version ${r.store.dbVersion})`);
  return lines;
}
