/**
 * `outpost demo` (what `npm start` runs): creates a demo config and two demo users on first
 * run, prints how to register softphones, and runs the node.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../lib/logger.ts';
import { computeHa1 } from '../sip/auth/digest.ts';
import { CliError } from './cli-error.ts';
import { runNode } from './node-command.ts';
import { realmOf, withStore } from './user-command.ts';

const DEMO_USERS = [
  { ext: '1001', name: 'Demo Alice', password: 'demo-1001' },
  { ext: '1002', name: 'Demo Bob', password: 'demo-1002' },
];

const demoConfig = (port: number) => `# Outpost demo node (created by "outpost demo"; edit freely). Keys: docs/config/.
node: { id: demo1, site: demo }
dataDir: ./data
log: { level: info }
sip:
  domain: demo.outpost.local
  # 127.0.0.1 keeps the demo private to this machine; use the box's LAN address for desk phones.
  listen: ["udp:127.0.0.1:${port}", "tcp:127.0.0.1:${port}"]
  # MD5 only: older SIP stacks (e.g. Debian 12's baresip 1.0) give up when any challenge names
  # an algorithm they do not know. Use [SHA-256, MD5] once every phone supports RFC 8760.
  auth: { algorithms: [MD5] }
`;

export function registerDemoCommand(program: Command, out: (line: string) => void): void {
  program
    .command('demo')
    .description('run a demo node with two demo users (what "npm start" runs)')
    .option('--dir <dir>', 'folder for the demo config and data', './var/demo')
    .option('--port <port>', 'SIP port (UDP and TCP) for a new demo config', '5070')
    .action(async (opts: { dir: string; port: string }) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid --port "${opts.port}": use 0-65535`);
      const dir = resolve(opts.dir);
      const file = join(dir, 'outpost.yaml');
      if (!existsSync(file)) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(file, demoConfig(port));
      }
      const config = loadConfig(file);
      const realm = realmOf(config);
      withStore(config.dataDir, {}, (store) => {
        for (const u of DEMO_USERS) {
          if (store.users.get(u.ext)) continue;
          store.users.upsert(
            { ext: u.ext, displayName: u.name, realm, site: config.node.site, ha1Md5: computeHa1(u.ext, realm, u.password, 'MD5'), ha1Sha256: computeHa1(u.ext, realm, u.password, 'SHA-256') },
            Date.now(),
          );
        }
      });
      await runNode(config, createLogger({ level: config.log.level }), (node) => {
        const first = node.config.sip.listen[0]!;
        const bound = node.endpoint.bound[0]!;
        const host = first.host.includes(':') ? `[${bound.address}]` : bound.address;
        const port = bound.port;
        out('');
        out(`Outpost demo node "${config.node.id}" is running. Config: ${file}`);
        out(`Register a softphone with one of these accounts (domain ${config.sip.domain}, registrar ${host}:${port}):`);
        for (const u of DEMO_USERS) out(`  user ${u.ext}  password ${u.password}  (${u.name})`);
        out('baresip: add to ~/.baresip/accounts:');
        for (const u of DEMO_USERS) {
          out(`  <sip:${u.ext}@${config.sip.domain}>;auth_pass=${u.password};outbound="sip:${host}:${port}";regint=600`);
        }
        out(`Check it: outpost status --config ${file}    Stop: Ctrl-C`);
        out('');
      });
    });
}
