/**
 * `outpost trunk add|list|remove`, and the warning of `route add --action trunk` for a trunk the
 * store does not hold, run in-process against a temporary store: output, bad input as one-line
 * errors, and the admin-write rules `route add` follows.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Store } from '../store/store.ts';
import { NODE_KEY_FILE, NodeKey } from '../sync/node-key.ts';
import { assertRefused, cliRunner, writeConfig } from './cli-test-support.ts';
import { registerRouteCommands } from './route-command.ts';
import { registerTrunkCommands } from './trunk-command.ts';

interface Ctx {
  dir: string;
  box: string;
}

let warnings: string[] = [];

const run = cliRunner((program, out) => {
  registerTrunkCommands(program, out);
  registerRouteCommands(program, out, (line) => warnings.push(line));
});
const refused = (args: string[], message: RegExp) => assertRefused(run, args, message);

function withStore<T>(ctx: Ctx, fn: (store: Store) => T): T {
  const store = Store.open({ dataDir: join(ctx.dir, 'data'), mustExist: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

const BOX = (extra = '') => `node: { id: a1, site: branch-a }
dataDir: ./data
sip: { domain: branch-a.example, listen: ["udp:127.0.0.1:5070"] }
${extra}`;

const trunk = suite<Ctx>('trunk command');

trunk.before.each((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-trunk-cli-'));
  ctx.box = writeConfig(ctx.dir, 'a1.yaml', BOX());
  warnings = [];
});

trunk('add, replace, list as text and JSON, remove', (ctx) => {
  const c = ['--config', ctx.box];
  assert.equal(run(['trunk', 'add', 'pstn', '--host', '192.0.2.10', '--codecs', 'pcma, PCMU', ...c]), ['added trunk pstn: udp:192.0.2.10:5060, codecs PCMA,PCMU']);
  assert.equal(run(['trunk', 'add', 'carrier-b', '--host', '2001:db8::5', '--port', '5080', '--transport', 'TCP', '--disabled', ...c]), [
    'added trunk carrier-b: tcp:[2001:db8::5]:5080, codecs box default [disabled]',
  ]);
  assert.equal(run(['trunk', 'list', ...c]), [
    'carrier-b        tcp:[2001:db8::5]:5080       box default              site branch-a [disabled]',
    'pstn             udp:192.0.2.10:5060          PCMA,PCMU                site branch-a',
  ]);
  assert.equal(JSON.parse(run(['trunk', 'list', '--json', ...c])[0]!), [
    { id: 'carrier-b', host: '2001:db8::5', port: 5080, transport: 'tcp', codecs: [], site: 'branch-a', enabled: false },
    { id: 'pstn', host: '192.0.2.10', port: 5060, transport: 'udp', codecs: ['PCMA', 'PCMU'], site: 'branch-a', enabled: true },
  ]);
  // add replaces every setting: omitted options go back to their defaults.
  assert.equal(run(['trunk', 'add', 'pstn', '--host', 'gw.example.net', '--port', '5070', ...c]), ['updated trunk pstn: udp:gw.example.net:5070, codecs box default']);
  withStore(ctx, (s) => assert.equal(s.trunks.get('pstn'), { id: 'pstn', host: 'gw.example.net', port: 5070, transport: 'udp', codecs: [], site: 'branch-a', enabled: true }));
  assert.equal(run(['trunk', 'remove', 'carrier-b', ...c]), ['removed trunk carrier-b']);
  assert.equal(run(['trunk', 'remove', 'pstn', ...c]), ['removed trunk pstn']);
  assert.equal(run(['trunk', 'list', ...c]), ['no trunks']);
  assert.equal(run(['trunk', 'list', '--json', ...c]), ['[]']);
});

trunk('bad id, host, port, transport and codecs, and an unknown trunk, are one-line errors; nothing is written', (ctx) => {
  const c = ['--config', ctx.box];
  run(['trunk', 'add', 'pstn', '--host', '192.0.2.10', ...c]);
  refused(['trunk', 'add', 'bad id', '--host', '192.0.2.10', ...c], /^invalid trunk id "bad id": use 1-64 letters, digits or _ \. - starting with a letter or digit$/);
  for (const host of ['sip:gw.example', 'gw.example:5060', '[2001:db8::1]', 'gw example', '999.1.1.1', ''])
    refused(['trunk', 'add', 'gw', '--host', host, ...c], /^invalid --host ".*": use an IP address or a DNS name, without scheme, port or brackets$/);
  for (const port of ['0', '65536', 'sip', '50.5'])
    refused(['trunk', 'add', 'gw', '--host', 'gw.example', '--port', port, ...c], new RegExp(`^invalid --port "${port}": use a whole number from 1 to 65535$`));
  refused(['trunk', 'add', 'gw', '--host', 'gw.example', '--transport', 'tls', ...c], /^invalid --transport "tls": use udp, tcp$/);
  refused(['trunk', 'add', 'gw', '--host', 'gw.example', '--codecs', 'G711', ...c], /^invalid codec list: unknown codec "G711": use PCMA, PCMU, G722, opus, G729$/);
  refused(['trunk', 'add', 'gw', '--host', 'gw.example', '--codecs', 'opus,OPUS', ...c], /^invalid codec list: codec opus is listed twice$/);
  refused(['trunk', 'add', 'gw', '--host', 'gw.example', '--site', 'branch-b', ...c], /^box a1 belongs to site branch-a; --site branch-b can only be set on the hub$/);
  refused(['trunk', 'remove', 'nope', ...c], /^no trunk nope$/);
  assert.equal(run(['trunk', 'list', ...c]).length, 1, 'only pstn');
});

trunk('route add --action trunk warns (and still adds the route) when the store has no such trunk', (ctx) => {
  const c = ['--config', ctx.box];
  assert.equal(run(['route', 'add', '0.', '--action', 'trunk', '--target', 'pstn', '--id', 'out', ...c]), ['route out: 0. -> trunk pstn (priority 100)']);
  assert.equal(warnings, ['warning: no trunk pstn in this store yet; calls on route out get 503 until it exists (outpost trunk add)']);
  withStore(ctx, (s) => assert.equal(s.routes.list().map((r) => r.id), ['out']));
  warnings = [];
  run(['trunk', 'add', 'pstn', '--host', '192.0.2.10', ...c]);
  run(['route', 'add', '0.', '--action', 'trunk', '--target', 'pstn', '--id', 'out', ...c]);
  run(['route', 'add', '9.', '--action', 'reject', '--target', '403', ...c]);
  assert.equal(warnings, [], 'the trunk exists; reject routes are not looked at');
});

trunk('a box that syncs without the site admin key may list but not add or remove; the hub may, for any site', (ctx) => {
  const hub = writeConfig(ctx.dir, 'hub.yaml', 'dataDir: ./data\n');
  const synced = writeConfig(ctx.dir, 'synced.yaml', BOX('hub: { url: "mqtt://127.0.0.1:1883" }\n'));
  assert.equal(run(['trunk', 'add', 'pstn', '--host', 'gw.example', '--site', 'branch-a', '--config', hub]), ['added trunk pstn: udp:gw.example:5060, codecs box default']);
  assert.equal(run(['trunk', 'add', 'all', '--host', '198.51.100.1', '--config', hub]), ['added trunk all: udp:198.51.100.1:5060, codecs box default']);
  assert.equal(run(['trunk', 'list', '--config', synced]), [
    'all              udp:198.51.100.1:5060        box default              all sites',
    'pstn             udp:gw.example:5060          box default              site branch-a',
  ]);
  refused(['trunk', 'add', 'gw', '--host', 'gw.example', '--config', synced], /^users, routes and trunks are admin-owned and box a1 syncs with hub "hub"/);
  refused(['trunk', 'remove', 'pstn', '--config', synced], /admin-owned/);
  refused(['trunk', 'add', 'pstn', '--host', 'gw.example', '--config', hub], /^trunk pstn belongs to site branch-a; to move it, name the new site with --site$/);
  withStore(ctx, (s) => assert.equal(s.trunks.list().map((t) => [t.id, t.site]), [['all', ''], ['pstn', 'branch-a']]));
  assert.equal(run(['trunk', 'remove', 'pstn', '--config', hub]), ['removed trunk pstn']);
});

trunk('a box with the site admin key may change trunks of its own site only', (ctx) => {
  const keyDir = join(ctx.dir, 'admin-key');
  mkdirSync(keyDir);
  NodeKey.loadOrCreate(keyDir);
  const hub = writeConfig(ctx.dir, 'hub.yaml', 'dataDir: ./data\n');
  const keyed = writeConfig(ctx.dir, 'keyed.yaml', BOX(`hub: { url: "mqtt://127.0.0.1:1883" }\nsync: { siteAdminKey: ${join(keyDir, NODE_KEY_FILE)} }\n`));
  run(['trunk', 'add', 'all', '--host', '198.51.100.1', '--config', hub]);
  assert.equal(run(['trunk', 'add', 'local', '--host', '10.0.0.5', '--config', keyed]), ['added trunk local: udp:10.0.0.5:5060, codecs box default']);
  refused(['trunk', 'add', 'all', '--host', '10.0.0.6', '--config', keyed], /^trunk all belongs to every site; box a1 may change only rows of site branch-a/);
  refused(['trunk', 'remove', 'all', '--config', keyed], /^trunk all belongs to every site; box a1 may change only rows of site branch-a/);
  assert.equal(run(['trunk', 'remove', 'local', '--config', keyed]), ['removed trunk local']);
  withStore(ctx, (s) => assert.equal(s.trunks.list().map((t) => [t.id, t.host, t.site]), [['all', '198.51.100.1', '']]));
});

trunk.run();
