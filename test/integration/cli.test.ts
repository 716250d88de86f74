/**
 * The CLI against a running node: `user add` takes effect at once (the next REGISTER
 * authenticates), `user list` shows it, `user codecs` sets, shows and clears its codec list,
 * `user remove` makes the node refuse the user and drop its binding within about a second,
 * `status` shows the node, `trunk add|list` work beside it; SIGINT stops the node cleanly and
 * `status` then exits 3 (not running).
 * Runs alone too: node --import tsx test/integration/cli.test.ts
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { runSipp, sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const DOMAIN = 'branch-c.example';
const SCENARIOS = join(import.meta.dirname, 'sipp');

interface Ctx {
  dir: string;
  node: NodeProcess;
}

const cli = suite<Ctx>('CLI with a running node');

cli.before(async (ctx) => {
  ctx.dir = tempDir();
  const config = writeNodeConfig(ctx.dir, '  auth: { algorithms: [MD5] }\n', DOMAIN);
  ctx.node = await startNode(config, ctx.dir);
});

cli.after(async (ctx) => {
  await ctx.node?.stop('SIGKILL');
});

const cfg = (ctx: Ctx) => ['--config', ctx.node.configFile];

function registerOnce(ctx: Ctx, ext: string, password: string, scenario: string) {
  return runSipp({
    scenario: join(SCENARIOS, scenario), target: ctx.node.udp, transport: 'u1', calls: 1, rate: 1, dir: ctx.dir,
    injection: [`${ext};[authentication username=${ext} password=${password}];${DOMAIN}`], timeoutS: 15,
  });
}

async function liveAors(ctx: Ctx): Promise<string[]> {
  const res = await runCli(['status', '--json', ...cfg(ctx)], ctx.dir);
  return (JSON.parse(res.stdout) as { registrations: Array<{ aor: string }> }).registrations.map((r) => r.aor);
}

cli('user add on a running node: the next REGISTER authenticates', async (ctx) => {
  const add = await runCli(['user', 'add', '4001', '--password', 'fresh-4001', '--name', 'New Hire', ...cfg(ctx)], ctx.dir);
  assert.is(add.code, 0, add.stderr);
  assert.is(add.stdout.trim(), `added user 4001 (New Hire) in realm ${DOMAIN}`);
  const res = await registerOnce(ctx, '4001', 'fresh-4001', 'register-auth.xml');
  assert.equal(sippCounts(res.stdout), { successful: 1, failed: 0 }, res.stdout.slice(-800));
  assert.equal(await liveAors(ctx), ['4001']);
});

cli('user list prints the user, as text and JSON', async (ctx) => {
  const text = await runCli(['user', 'list', ...cfg(ctx)], ctx.dir);
  assert.match(text.stdout, /^4001\s+New Hire\s+box default\s+site branch-a$/m);
  const json = await runCli(['user', 'list', '--json', ...cfg(ctx)], ctx.dir);
  assert.equal(JSON.parse(json.stdout), [{ ext: '4001', name: 'New Hire', realm: DOMAIN, site: 'branch-a', codecs: [] }]);
});

cli('user codecs sets, shows and clears a user\'s codec list; user list shows it', async (ctx) => {
  const set = await runCli(['user', 'codecs', '4001', 'opus,pcma', ...cfg(ctx)], ctx.dir);
  assert.is(set.code, 0, set.stderr);
  assert.is(set.stdout.trim(), '4001: opus,PCMA');
  assert.is((await runCli(['user', 'codecs', '4001', ...cfg(ctx)], ctx.dir)).stdout.trim(), '4001: opus,PCMA');
  assert.match((await runCli(['user', 'list', ...cfg(ctx)], ctx.dir)).stdout, /^4001\s+New Hire\s+opus,PCMA\s+site branch-a$/m);
  const clear = await runCli(['user', 'codecs', '4001', '--clear', ...cfg(ctx)], ctx.dir);
  assert.is(clear.code, 0, clear.stderr);
  assert.is(clear.stdout.trim(), '4001: box default');
  assert.is((await runCli(['user', 'codecs', '4001', ...cfg(ctx)], ctx.dir)).stdout.trim(), '4001: box default');
});

cli('status shows node, listen addresses, users and the binding', async (ctx) => {
  const res = await runCli(['status', ...cfg(ctx)], ctx.dir);
  assert.is(res.code, 0);
  assert.match(res.stdout, /^node\s+a1 \(site branch-a\) running, pid \d+/m);
  assert.match(res.stdout, `udp:127.0.0.1:${ctx.node.udp.port}`);
  assert.match(res.stdout, /^users\s+1: 4001$/m);
  assert.match(res.stdout, /^bindings\s+1 live$/m);
});

cli('user remove: the node refuses the user and drops the binding within about a second', async (ctx) => {
  const rm = await runCli(['user', 'remove', '4001', ...cfg(ctx)], ctx.dir);
  assert.is(rm.code, 0, rm.stderr);
  await waitFor(async () => (await liveAors(ctx)).length === 0, 'the binding of the removed user to be swept', 5_000, 100);
  const res = await registerOnce(ctx, '4001', 'fresh-4001', 'register-bad-password.xml');
  assert.equal(sippCounts(res.stdout), { successful: 1, failed: 0 }, 'a removed user gets 403');
});

cli('bad input: unknown user to remove, short password, bad extension, bad codecs exit 1 with one line', async (ctx) => {
  for (const args of [
    ['user', 'remove', '9999'], ['user', 'add', '4002', '--password', 'abc'], ['user', 'add', 'bad ext', '--password', 'long-enough'],
    ['user', 'codecs', '4001', 'opus,G711'], ['user', 'add', '4002', '--password', 'long-enough', '--codecs', 'pcma,PCMA'], ['user', 'codecs', '9999', 'opus'],
  ]) {
    const res = await runCli([...args, ...cfg(ctx)], ctx.dir);
    assert.is(res.code, 1, args.join(' '));
    assert.is(res.stderr.trim().split('\n').length, 1);
    assert.match(res.stderr, /^outpost: /);
  }
});

cli('trunk add and list work against a running node\'s store', async (ctx) => {
  const add = await runCli(['trunk', 'add', 'pstn', '--host', '127.0.0.1', '--port', '5080', '--codecs', 'pcma', ...cfg(ctx)], ctx.dir);
  assert.is(add.code, 0, add.stderr);
  assert.is(add.stdout.trim(), 'added trunk pstn: udp:127.0.0.1:5080, codecs PCMA');
  assert.match((await runCli(['trunk', 'list', ...cfg(ctx)], ctx.dir)).stdout, /^pstn\s+udp:127\.0\.0\.1:5080\s+PCMA\s+site branch-a$/m);
  const json = await runCli(['trunk', 'list', '--json', ...cfg(ctx)], ctx.dir);
  assert.equal(JSON.parse(json.stdout), [{ id: 'pstn', host: '127.0.0.1', port: 5080, transport: 'udp', codecs: ['PCMA'], site: 'branch-a', enabled: true }]);
});

cli('SIGINT stops the node with exit 0 and removes node.json', async (ctx) => {
  assert.ok(existsSync(join(ctx.node.dataDir, 'node.json')));
  assert.is(await ctx.node.stop('SIGINT'), 0);
  assert.not.ok(existsSync(join(ctx.node.dataDir, 'node.json')));
  const res = await runCli(['status', ...cfg(ctx)], ctx.dir);
  assert.match(res.stdout, /^node\s+a1 \(site branch-a\) not running$/m);
  assert.is(res.code, 3, 'status of a stopped node exits 3');
  assert.is(res.stderr, `outpost: node a1 is not running (start it with: outpost node --config ${ctx.node.configFile})\n`);
  const json = await runCli(['status', '--json', ...cfg(ctx)], ctx.dir);
  assert.is(json.code, 3);
  assert.is((JSON.parse(json.stdout) as { node: { running: boolean } }).node.running, false);
});

cli.run();
