/**
 * outpost-health.service (docs/updates.md): after every boot, watches the agent until the slot
 * is healthy or the deadline passes (health-core.ts), then commits the slot with
 * `rauc status mark-good`, or marks it bad and reboots so that GRUB falls back to the other slot.
 * Writes the outcome to /data/outpost/update/health.json for the agent and `outpost update
 * status`. Run by systemd as root with plain `node` (Node strips the types; no tsx, no compile):
 *
 *   node /opt/outpost/agent/update/health-main.ts [--config /data/outpost.yaml]
 *   OUTPOST_HEALTH_DEADLINE (seconds, default 300), OUTPOST_HEALTH_MAX_RESTARTS (default 3)
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { storeOpens } from '../store/store-probe.ts';
import { optionsRequest } from '../lib/options-request.ts';
import { DEFAULT_HEALTH_POLICY, judgeHealth, parseRaucStatus, slotAction, type HealthObservation, type SlotView, type Uplink } from './health-core.ts';

const run = promisify(execFile);
const argv = process.argv.slice(2);
const configPath = argv[argv.indexOf('--config') + 1] ?? '/data/outpost.yaml';
const policy = {
  deadlineMs: Number(process.env.OUTPOST_HEALTH_DEADLINE ?? DEFAULT_HEALTH_POLICY.deadlineMs / 1000) * 1000,
  maxRestarts: Number(process.env.OUTPOST_HEALTH_MAX_RESTARTS ?? DEFAULT_HEALTH_POLICY.maxRestarts),
};

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), mod: 'health', msg, ...fields })}\n`);
}

interface BoxConfig {
  dataDir: string;
  sipPort: number;
  domain: string;
  uplinks: Array<{ host: string; port: number }>;
}

function readConfig(): BoxConfig {
  const raw = parse(readFileSync(configPath, 'utf8')) as {
    dataDir?: string;
    sip?: { domain?: string; listen?: string[] };
    hub?: { url?: string };
    peers?: Array<{ url?: string }>;
  };
  const udp = (raw.sip?.listen ?? []).find((l) => l.startsWith('udp:')) ?? 'udp:0.0.0.0:5060';
  const urls = [raw.hub?.url, ...(raw.peers ?? []).map((p) => p.url)].filter((u): u is string => typeof u === 'string');
  return {
    dataDir: raw.dataDir ?? '/data/outpost',
    sipPort: Number(udp.slice(udp.lastIndexOf(':') + 1)),
    domain: raw.sip?.domain ?? 'outpost.local',
    uplinks: urls.map((u) => {
      const url = new URL(u);
      return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || (url.protocol === 'mqtts:' ? 8883 : 1883)) };
    }),
  };
}

async function agentState(): Promise<{ active: boolean; restarts: number }> {
  const { stdout } = await run('systemctl', ['show', 'outpost.service', '--property=ActiveState,NRestarts']);
  const props = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  return { active: props.ActiveState === 'active', restarts: Number(props.NRestarts ?? 0) };
}

function sipAnswers(port: number, domain: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const id = randomBytes(8).toString('hex');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 2000);
    sock.on('error', () => done(false));
    sock.on('message', (data) => done(/^SIP\/2\.0 [1-6]\d\d /.test(data.toString('latin1'))));
    sock.bind(0, '127.0.0.1', () => {
      const msg = optionsRequest(domain, sock.address().port, id, 'health');
      sock.send(msg, port, '127.0.0.1');
    });
  });
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port, timeout: 3000 });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('timeout', () => done(false));
    sock.once('error', () => done(false));
  });
}

async function uplink(config: BoxConfig): Promise<Uplink> {
  if (config.uplinks.length === 0) return 'not-configured';
  const results = await Promise.all(config.uplinks.map((u) => reachable(u.host, u.port)));
  return results.some(Boolean) ? 'reachable' : 'unreachable';
}

async function observe(config: BoxConfig): Promise<HealthObservation> {
  const agent = await agentState();
  return {
    agentActive: agent.active,
    agentRestarts: agent.restarts,
    sipAnswers: agent.active ? await sipAnswers(config.sipPort, config.domain) : false,
    storeOpens: agent.active ? storeOpens(config.dataDir) : false,
    uplink: config.uplinks.length === 0 ? 'not-configured' : agent.active ? await uplink(config) : 'unreachable',
  };
}

function writeOutcome(dataDir: string, outcome: Record<string, unknown>): void {
  const dir = join(dataDir, 'update');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'health.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(outcome)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The pause between two looks at the agent or RAUC; every loop is bounded by policy.deadlineMs. */
const POLL_MS = 3000;
const nextPoll = () => new Promise((r) => setTimeout(r, POLL_MS));

/** RAUC's slot view; retried while RAUC is busy (an install in progress answers "already processing"). */
async function slotView(startedAt: number): Promise<SlotView> {
  for (;;) {
    try {
      return parseRaucStatus((await run('rauc', ['status', '--output-format=json'])).stdout);
    } catch (err) {
      if (Date.now() - startedAt > policy.deadlineMs) throw err;
      log('rauc status failed; retrying', { error: String((err as { stderr?: string }).stderr ?? err).trim().split('\n').pop() });
      await nextPoll();
    }
  }
}

async function main(): Promise<number> {
  const startedAt = Date.now();
  const version = /^VERSION=(.*)$/m.exec(readFileSync('/etc/outpost-release', 'utf8'))?.[1] ?? 'unknown';
  const slots = await slotView(startedAt);
  log('health check started', { slot: slots.booted, version, deadlineS: policy.deadlineMs / 1000, maxRestarts: policy.maxRestarts });
  let config: BoxConfig | undefined;
  for (;;) {
    if (config === undefined && existsSync(configPath)) config = readConfig();
    const o: HealthObservation = config
      ? await observe(config)
      : { agentActive: false, agentRestarts: (await agentState()).restarts, sipAnswers: false, storeOpens: false, uplink: 'unreachable' };
    const verdict = judgeHealth(o, startedAt, Date.now(), policy);
    const action = slotAction(verdict, slots);
    if (action !== undefined) {
      const seconds = Math.round((Date.now() - startedAt) / 100) / 10;
      const base = { slot: slots.booted, version, seconds, at: new Date().toISOString() };
      const dataDir = config?.dataDir ?? '/data/outpost';
      if (action.kind === 'mark-good') {
        await run('rauc', ['status', 'mark-good']);
        writeOutcome(dataDir, { ...base, result: 'good' });
        log(`slot ${slots.booted} healthy: marked good (committed)`, { ...base, uplink: o.uplink });
        return 0;
      }
      const reason = verdict.kind === 'fail' ? verdict.reason : '';
      if (action.kind === 'fall-back') {
        await run('rauc', ['status', 'mark-bad']);
        writeOutcome(dataDir, { ...base, result: 'bad', reason, fallBackTo: action.to });
        log(`slot ${slots.booted} unhealthy: marked bad, rebooting into slot ${action.to}`, { ...base, reason });
        await run('systemctl', ['reboot']);
        return 1;
      }
      writeOutcome(dataDir, { ...base, result: 'unhealthy', reason: `${reason}; ${action.reason}` });
      log(`slot ${slots.booted} unhealthy; ${action.reason}`, { ...base, reason });
      return 1;
    }
    await nextPoll();
  }
}

process.exitCode = await main().catch((err: Error) => {
  console.error(`outpost-health: ${err.message}`);
  return 2;
});
