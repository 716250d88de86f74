/**
 * `outpost status` run in-process against a temporary store: the report is printed whether or
 * not the process runs, and a stopped box or hub ends in a one-line NotRunningError (exit 3).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Store } from '../store/store.ts';
import { writeSyncStatus, type PeerLivenessEntry } from '../sync/sync-status.ts';
import { writeHealth } from '../control/health-file.ts';
import { NotRunningError } from './cli-error.ts';
import { writeConfig } from './cli-test-support.ts';
import { writeRuntimeInfo } from './runtime-file.ts';
import { registerStatusCommand, UnhealthyError } from './status-command.ts';

/** Runs `outpost status ...`: what it printed, and what it threw (undefined: exit 0). */
function status(args: string[]): { lines: string[]; error: unknown } {
  const lines: string[] = [];
  const program = new Command('outpost').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerStatusCommand(program, (line) => lines.push(line));
  try {
    program.parse(['status', ...args], { from: 'user' });
  } catch (error) {
    return { lines, error };
  }
  return { lines, error: undefined };
}

interface Ctx {
  dir: string;
  box: string;
  hub: string;
}

const test = suite<Ctx>('status');

test.before.each((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-status-cli-'));
  ctx.box = writeConfig(ctx.dir, 'a1.yaml', 'node: { id: a1, site: branch-a }\ndataDir: ./a1\nsip: { domain: branch-a.example, listen: ["udp:127.0.0.1:5070"] }\n');
  ctx.hub = writeConfig(ctx.dir, 'hub.yaml', 'dataDir: ./hub\n');
  Store.open({ dataDir: join(ctx.dir, 'a1') }).close();
  Store.open({ dataDir: join(ctx.dir, 'hub') }).close();
});

test('a stopped box: the report, then a one-line NotRunningError that says how to start it', (ctx) => {
  const { lines, error } = status(['--config', ctx.box]);
  assert.is(lines[0], 'node      a1 (site branch-a) not running');
  assert.ok(lines.some((l) => l.startsWith('table     users')));
  assert.instance(error, NotRunningError);
  assert.is((error as Error).message, `node a1 is not running (start it with: outpost node --config ${ctx.box})`);
  assert.is(NotRunningError.EXIT_CODE, 3);
});

test('a stopped box with --json: valid JSON describing the stopped state, and the same error', (ctx) => {
  const { lines, error } = status(['--json', '--config', ctx.box]);
  assert.is(lines.length, 1);
  const report = JSON.parse(lines[0]!) as { node: { running: boolean; pid: number | null } };
  assert.equal(report.node, { id: 'a1', role: 'node', site: 'branch-a', running: false, pid: null, startedAt: null });
  assert.instance(error, NotRunningError);
});

test('a stopped hub says "hub ... is not running"', (ctx) => {
  const { error } = status(['--config', ctx.hub]);
  assert.is((error as Error).message, `hub hub is not running (start it with: outpost hub --config ${ctx.hub})`);
});

test('a running, healthy box (node.json with a live pid, fresh health.json): no error (exit 0)', (ctx) => {
  writeRuntimeInfo(join(ctx.dir, 'a1'), { pid: process.pid, nodeId: 'a1', site: 'branch-a', startedAt: '2026-12-07T10:00:00.000Z', listen: ['udp:127.0.0.1:5070'] });
  writeHealth(join(ctx.dir, 'a1'), { at: Date.now(), healthy: true, reasons: [] });
  const { lines, error } = status(['--config', ctx.box]);
  assert.is(error, undefined);
  assert.is(lines[0], `node      a1 (site branch-a) running, pid ${process.pid}, since 2026-12-07T10:00:00.000Z`);
  assert.is(lines[1], 'health    healthy');
});

test('a running box that is unhealthy, whose health.json is stale or missing: UnhealthyError (exit 1) after the report', (ctx) => {
  const dataDir = join(ctx.dir, 'a1');
  writeRuntimeInfo(dataDir, { pid: process.pid, nodeId: 'a1', site: 'branch-a', startedAt: '2026-12-07T10:00:00.000Z', listen: ['udp:127.0.0.1:5070'] });
  let run = status(['--config', ctx.box]);
  assert.instance(run.error, UnhealthyError);
  assert.match((run.error as Error).message, 'node a1 is unhealthy: no health.json');
  writeHealth(dataDir, { at: Date.now(), healthy: false, reasons: ['SIP is not listening'] });
  run = status(['--config', ctx.box]);
  assert.is(run.lines[1], 'health    UNHEALTHY: SIP is not listening');
  assert.is((run.error as Error).message, 'node a1 is unhealthy: SIP is not listening');
  assert.not.instance(run.error, NotRunningError);
  writeHealth(dataDir, { at: Date.now() - 60_000, healthy: true, reasons: [] });
  run = status(['--json', '--config', ctx.box]);
  assert.instance(run.error, UnhealthyError);
  assert.match(JSON.parse(run.lines[0]!).health.reasons[0], 'health.json not updated since');
});

test('a config error is a ConfigError (exit 2, before any report)', (ctx) => {
  const bad = writeConfig(ctx.dir, 'bad.yaml', 'node: { id: a1, site: branch-a }\ndataDir: ./a1\nsip: { domain: x, listen: [\"udp:127.0.0.1:5070\"] }\nmetrics: { listen: "127.0.0.1:9464" }\n');
  const { lines, error } = status(['--config', bad]);
  assert.is(lines.length, 0);
  assert.is((error as Error).constructor.name, 'ConfigError');
  assert.match((error as Error).message, 'metrics.listen: a box serves /metrics on its HTTP server now: move the address to http.listen');
  assert.match((error as Error).message, bad);
});

test('a running box that replicates: each site peer up or DOWN and since when, as the node wrote it', (ctx) => {
  const box = writeConfig(ctx.dir, 'a1.yaml', 'node: { id: a1, site: branch-a }\ndataDir: ./a1\nsip: { domain: branch-a.example, listen: ["udp:127.0.0.1:5070"] }\npeers: [{ id: a2, url: "mqtt://127.0.0.1:1884" }]\n');
  writeRuntimeInfo(join(ctx.dir, 'a1'), { pid: process.pid, nodeId: 'a1', site: 'branch-a', startedAt: '2026-12-07T10:00:00.000Z', listen: ['udp:127.0.0.1:5070'] });
  const liveness: PeerLivenessEntry[] = [
    { nodeId: 'a2', state: 'down', since: '2026-12-07T10:00:05.250Z', sip: 'udp:127.0.0.1:5072' },
    { nodeId: 'a3', state: 'up', since: '2026-12-07T10:00:01.000Z', sip: 'udp:127.0.0.1:5074' },
  ];
  const counters = { batchesIn: 0, batchesOut: 0, changesApplied: 0, changesRejected: 0, rejectedBy: {}, badSignature: 0, unknownSender: 0, malformed: 0, requestsIn: 0, requestsOut: 0, keyMismatches: 0, pendingBatches: 0 };
  writeSyncStatus(join(ctx.dir, 'a1'), { role: 'node', nodeId: 'a1', site: 'branch-a', head: '1', at: '2026-12-07T10:00:06.000Z', links: [], peers: [], liveness, counters });
  const { lines } = status(['--config', box]);
  assert.ok(lines.includes('  peer a2           DOWN since 2026-12-07T10:00:05.250Z  (keep-alive udp:127.0.0.1:5072)'), lines.join('\n'));
  assert.ok(lines.includes('  peer a3           up since 2026-12-07T10:00:01.000Z  (keep-alive udp:127.0.0.1:5074)'));
  const json = status(['--json', '--config', box]);
  assert.equal(JSON.parse(json.lines[0]!).sync.liveness, liveness);
});

test.run();
