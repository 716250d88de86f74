/**
 * `outpost user codecs` and `user add --codecs`, run in-process against a temporary store: set,
 * show, clear, bad names, and the admin-write rules `user add` follows.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Store } from '../store/store.ts';
import { NODE_KEY_FILE, NodeKey } from '../sync/node-key.ts';
import { assertRefused, cliRunner, writeConfig } from './cli-test-support.ts';
import { registerUserCommands } from './user-command.ts';

interface Ctx {
  dir: string;
  box: string;
}

const run = cliRunner(registerUserCommands);
const refused = (args: string[], message: RegExp) => assertRefused(run, args, message);

const BOX = (extra = '') => `node: { id: a1, site: branch-a }
dataDir: ./data
sip: { domain: branch-a.example, listen: ["udp:127.0.0.1:5070"] }
${extra}`;

const codecs = suite<Ctx>('user codecs');

codecs.before.each((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-user-cli-'));
  ctx.box = writeConfig(ctx.dir, 'a1.yaml', BOX());
});

codecs('add --codecs, show, set, clear', (ctx) => {
  const c = ['--config', ctx.box];
  assert.equal(run(['user', 'add', '1001', '--password', 's3cret-ann', '--name', 'Ann', '--codecs', 'opus, pcma', ...c]), [
    'added user 1001 (Ann) in realm branch-a.example, codecs opus,PCMA',
  ]);
  assert.equal(run(['user', 'codecs', '1001', ...c]), ['1001: opus,PCMA']);
  assert.equal(run(['user', 'add', '1001', '--password', 's3cret-ann2', ...c]), ['updated user 1001 (Ann) in realm branch-a.example']);
  assert.equal(run(['user', 'codecs', '1001', ...c]), ['1001: opus,PCMA'], 'add without --codecs keeps the list');
  assert.equal(run(['user', 'codecs', '1001', 'G722,OPUS,g729', ...c]), ['1001: G722,opus,G729']);
  assert.equal(run(['user', 'codecs', '1001', ...c]), ['1001: G722,opus,G729']);
  assert.equal(run(['user', 'codecs', '1001', '--clear', ...c]), ['1001: box default']);
  assert.equal(run(['user', 'codecs', '1001', ...c]), ['1001: box default']);
  run(['user', 'add', '1002', '--password', 's3cret-bob', ...c]);
  assert.equal(run(['user', 'codecs', '1002', ...c]), ['1002: box default'], 'a new user without --codecs');
});

codecs('user list shows the codecs column, as text and JSON', (ctx) => {
  const c = ['--config', ctx.box];
  run(['user', 'add', '1001', '--password', 's3cret-ann', '--name', 'Ann', '--codecs', 'opus,PCMA', ...c]);
  run(['user', 'add', '1002', '--password', 's3cret-bob', ...c]);
  assert.equal(run(['user', 'list', ...c]), [
    '1001         Ann                      opus,PCMA                site branch-a',
    '1002         -                        box default              site branch-a',
  ]);
  assert.equal(JSON.parse(run(['user', 'list', '--json', ...c])[0]!), [
    { ext: '1001', name: 'Ann', realm: 'branch-a.example', site: 'branch-a', codecs: ['opus', 'PCMA'] },
    { ext: '1002', name: '', realm: 'branch-a.example', site: 'branch-a', codecs: [] },
  ]);
});

codecs('bad names, a duplicate, an empty list, list with --clear and an unknown user are one-line errors; nothing is written', (ctx) => {
  const c = ['--config', ctx.box];
  run(['user', 'add', '1001', '--password', 's3cret-ann', '--codecs', 'PCMU', ...c]);
  refused(['user', 'codecs', '1001', 'opus,G711', ...c], /^invalid codec list: unknown codec "G711": use PCMA, PCMU, G722, opus, G729$/);
  refused(['user', 'codecs', '1001', 'opus,OPUS', ...c], /^invalid codec list: codec opus is listed twice$/);
  refused(['user', 'codecs', '1001', '', ...c], /^invalid codec list: empty codec list/);
  refused(['user', 'codecs', '1001', 'opus', '--clear', ...c], /^give a codec list or --clear, not both$/);
  refused(['user', 'codecs', '1009', 'opus', ...c], /^no user 1009$/);
  refused(['user', 'codecs', '1009', ...c], /^no user 1009$/);
  refused(['user', 'add', '1002', '--password', 's3cret-bob', '--codecs', 'speex', ...c], /^invalid codec list: unknown codec "speex"/);
  assert.equal(run(['user', 'codecs', '1001', ...c]), ['1001: PCMU']);
  assert.equal(run(['user', 'list', ...c]).length, 1, '1002 was not added');
});

codecs('a box that syncs without the site admin key may show but not set; the hub may set', (ctx) => {
  const hub = writeConfig(ctx.dir, 'hub.yaml', 'dataDir: ./data\nsip: { domain: branch-a.example }\n');
  const synced = writeConfig(ctx.dir, 'synced.yaml', BOX('hub: { url: "mqtt://127.0.0.1:1883" }\n'));
  run(['user', 'add', '2001', '--password', 's3cret-two', '--site', 'branch-a', '--config', hub]);
  assert.equal(run(['user', 'codecs', '2001', '--config', synced]), ['2001: box default']);
  refused(['user', 'codecs', '2001', 'PCMA', '--config', synced], /^users, routes and trunks are admin-owned and box a1 syncs with hub "hub"/);
  refused(['user', 'codecs', '2001', '--clear', '--config', synced], /admin-owned/);
  refused(['user', 'add', '2002', '--password', 's3cret-two', '--codecs', 'PCMA', '--config', synced], /admin-owned/);
  assert.equal(run(['user', 'codecs', '2001', 'pcma', '--config', hub]), ['2001: PCMA']);
  const store = Store.open({ dataDir: join(ctx.dir, 'data'), mustExist: true });
  try {
    assert.equal(store.users.get('2001')?.codecs, ['PCMA']);
    assert.is(store.users.get('2002'), undefined);
  } finally {
    store.close();
  }
});

codecs('a box with the site admin key may set codecs of its own site only', (ctx) => {
  const keyDir = join(ctx.dir, 'admin-key');
  mkdirSync(keyDir);
  NodeKey.loadOrCreate(keyDir);
  const hub = writeConfig(ctx.dir, 'hub.yaml', 'dataDir: ./data\nsip: { domain: branch-a.example }\n');
  const keyed = writeConfig(ctx.dir, 'keyed.yaml', BOX(`hub: { url: "mqtt://127.0.0.1:1883" }\nsync: { siteAdminKey: ${join(keyDir, NODE_KEY_FILE)} }\n`));
  run(['user', 'add', '3001', '--password', 's3cret-three', '--site', 'branch-a', '--config', hub]);
  run(['user', 'add', '3002', '--password', 's3cret-three', '--config', hub]);
  assert.equal(run(['user', 'codecs', '3001', 'G729', '--config', keyed]), ['3001: G729']);
  refused(['user', 'codecs', '3002', 'G729', '--config', keyed], /^user 3002 belongs to every site; box a1 may change only rows of site branch-a/);
  assert.equal(run(['user', 'codecs', '3002', '--config', keyed]), ['3002: box default']);
});

codecs.run();
