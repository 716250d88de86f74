/**
 * A real softphone: baresip (Debian package) registers to `outpost node` with digest auth and
 * the binding shows in `outpost status`; when baresip quits it unregisters and the binding goes.
 * Runs alone too: node --import tsx test/integration/baresip.test.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { computeHa1 } from '../../agent/sip/auth/digest.ts';
import { Store } from '../../agent/store/store.ts';
import { runCli, startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const DOMAIN = 'branch-b.example';

interface Ctx {
  dir: string;
  node: NodeProcess;
  phone?: ChildProcess;
}

const softphone = suite<Ctx>('baresip softphone');

softphone.before(async (ctx) => {
  ctx.dir = tempDir();
  const config = writeNodeConfig(ctx.dir, '  auth: { algorithms: [MD5] }\n', DOMAIN);
  const store = Store.open({ dataDir: join(ctx.dir, 'data') });
  store.users.upsert({ ext: '2001', displayName: 'Phone', realm: DOMAIN, site: 'branch-a', ha1Md5: computeHa1('2001', DOMAIN, 'phone-pw', 'MD5'), ha1Sha256: computeHa1('2001', DOMAIN, 'phone-pw', 'SHA-256') }, Date.now());
  store.close();
  ctx.node = await startNode(config, ctx.dir);
});

softphone.after(async (ctx) => {
  ctx.phone?.kill('SIGKILL');
  await ctx.node?.stop();
});

async function bindings(ctx: Ctx): Promise<Array<{ aor: string; userAgent: string; contact: string }>> {
  const res = await runCli(['status', '--json', '--config', ctx.node.configFile], ctx.dir);
  return (JSON.parse(res.stdout) as { registrations: Array<{ aor: string; userAgent: string; contact: string }> }).registrations;
}

softphone('baresip registers with digest auth, shows in status, and unregisters on exit', async (ctx) => {
  const home = join(ctx.dir, 'baresip');
  mkdirSync(home);
  writeFileSync(join(home, 'accounts'), `<sip:2001@${DOMAIN}>;auth_pass=phone-pw;outbound="sip:127.0.0.1:${ctx.node.udp.port}";regint=300\n`);
  writeFileSync(
    join(home, 'config'),
    ['sip_listen 127.0.0.1:0', 'module_path /usr/lib/baresip/modules', 'module g711.so', 'module aubridge.so', 'audio_player aubridge,nil', 'audio_source aubridge,nil', 'module_app account.so', ''].join('\n'),
  );
  let output = '';
  const phone = spawn('baresip', ['-f', home], { stdio: ['ignore', 'pipe', 'pipe'] });
  ctx.phone = phone;
  phone.stdout!.on('data', (c: Buffer) => (output += c.toString('latin1')));
  phone.stderr!.on('data', (c: Buffer) => (output += c.toString('latin1')));
  const binding = await waitFor(async () => (await bindings(ctx)).find((b) => b.aor === '2001'), `baresip to register (output: ${output.slice(-400)})`, 15_000, 200);
  assert.match(binding.userAgent, /baresip/i);
  assert.match(output, /200 OK/);
  phone.kill('SIGTERM');
  await waitFor(async () => (await bindings(ctx)).every((b) => b.aor !== '2001'), 'baresip to unregister', 15_000, 200);
});

softphone.run();
