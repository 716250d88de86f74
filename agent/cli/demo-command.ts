/**
 * `outpost demo` (what `npm start` runs): creates a demo hub and node config on first run,
 * starts the hub (embedded broker) and the node in this process, adds two demo users on the
 * hub (they reach the node by replication), prints how to register softphones, and runs until
 * Ctrl-C.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, loadHubConfig } from '../config/load-config.ts';
import { createLogger } from '../lib/logger.ts';
import { computeHa1 } from '../sip/auth/digest.ts';
import { bindFailureInConfigTerms } from './bind-failure.ts';
import { parseWholeNumber } from './cli-numbers.ts';
import { runNode } from './node-command.ts';
import { startHub, stopHub } from './hub-command.ts';
import { demoDashboardLogin } from './dashboard-command.ts';
import { ensureDemoAdmin } from '../admin/demo-admin.ts';
import { createSystemClock } from '../lib/clock.ts';

const DEMO_USERS = [
  { ext: '1001', name: 'Demo Alice', password: 'demo-1001' },
  { ext: '1002', name: 'Demo Bob', password: 'demo-1002' },
];

const demoHubConfig = (mqttPort: number, dashboardPort: number) => `# Outpost demo hub (created by "outpost demo"; edit freely). Keys: docs/config/hub.md.
dataDir: ./hub-data
log: { level: info }
# Plain MQTT on loopback: the insecure dev mode (a warning at start). Fleets use mqtts:// (docs/security.md).
mqtt: { listen: "mqtt://127.0.0.1:${mqttPort}" }
sip: { domain: demo.outpost.local }
# The fleet dashboard on loopback (docs/dashboard.md); the demo login is printed at start.
dashboard: { listen: "127.0.0.1:${dashboardPort}" }
`;

const demoConfig = (port: number, mqttPort: number) => `# Outpost demo node (created by "outpost demo"; edit freely). Keys: docs/config/.
node: { id: demo1, site: demo }
dataDir: ./data
log: { level: info }
# Plain MQTT on loopback: the insecure dev mode (a warning at start). Fleets use mqtts:// (docs/security.md).
hub: { url: "mqtt://127.0.0.1:${mqttPort}" }
sip:
  domain: demo.outpost.local
  # 127.0.0.1 keeps the demo private to this machine; use the box's LAN address for desk phones.
  listen: ["udp:127.0.0.1:${port}", "tcp:127.0.0.1:${port}"]
`;

export function registerDemoCommand(program: Command, out: (line: string) => void): void {
  program
    .command('demo')
    .description('run a demo node with two demo users (what "npm start" runs)')
    .option('--dir <dir>', 'folder for the demo config and data', './var/demo')
    .option('--port <port>', 'SIP port (UDP and TCP) for a new demo config', '5070')
    .option('--mqtt-port <port>', "the demo hub's MQTT port for a new demo config", '1884')
    .option('--dashboard-port <port>', "the demo hub's dashboard port for a new demo config", '8090')
    .action(async (opts: { dir: string; port: string; mqttPort: string; dashboardPort: string }) => {
      const port = parseWholeNumber('--port', opts.port, 0, 65535);
      const mqttPort = parseWholeNumber('--mqtt-port', opts.mqttPort, 1, 65535);
      const dashboardPort = parseWholeNumber('--dashboard-port', opts.dashboardPort, 0, 65535);
      const dir = resolve(opts.dir);
      const file = join(dir, 'outpost.yaml');
      const hubFile = join(dir, 'hub.yaml');
      if (!existsSync(hubFile)) {
        // First run, or a demo folder from before the hub: (re)write both files.
        mkdirSync(dir, { recursive: true });
        writeFileSync(hubFile, demoHubConfig(mqttPort, dashboardPort));
        writeFileSync(file, demoConfig(port, mqttPort));
      }
      const hubConfig = loadHubConfig(hubFile);
      const config = loadConfig(file);
      const realm = config.sip.realm ?? config.sip.domain;
      const logger = createLogger({ level: config.log.level });
      const hub = await startHub(hubConfig, logger.child({ role: 'hub' }));
      const dashboard = demoDashboardLogin(hub.dashboardUrl(), hubConfig.dataDir, dir);
      // Users are admin-owned: the hub writes them, replication brings them to the box.
      await Promise.all(
        DEMO_USERS.filter((u) => !hub.store.users.get(u.ext)).map((u) =>
          hub.store.writes.submit(() =>
            hub.store.users.upsert(
              { ext: u.ext, displayName: u.name, realm, site: config.node.site, ha1Md5: computeHa1(u.ext, realm, u.password, 'MD5'), ha1Sha256: computeHa1(u.ext, realm, u.password, 'SHA-256') },
              Date.now(),
            ),
          ),
        ),
      );
      // An admin credential for `outpost admin` (docs/cli/admin.md), issued by the demo hub's CA.
      const adminDir = await ensureDemoAdmin(hubConfig, hub.brokerUrl(), join(dir, 'admin'), createSystemClock());
      const running = runNode(config, logger.child({ role: 'node' }), async (node) => {
        const synced = await waitUntil(() => DEMO_USERS.every((u) => node.store.users.get(u.ext)), 5000);
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
        out(
          synced
            ? `Synced with the demo hub at ${hub.brokerUrl()}: the demo users came from the hub.`
            : `Not yet synced with the demo hub at ${hub.brokerUrl()} (see the log).`,
        );
        if (dashboard) out(dashboard);
        out(`Check it: outpost status --config ${file}   (the hub: outpost status --config ${hubFile})    Stop: Ctrl-C`);
        out(`Admin API: outpost admin --credential ${adminDir} user list`);
        out('');
      }, { configFile: file });
      try {
        await running;
      } catch (err) {
        await stopHub(hub, logger);
        throw bindFailureInConfigTerms(err, config, file) ?? err;
      }
      await stopHub(hub, logger);
    });
}

async function waitUntil(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
