/**
 * The default digest offer registers the project's test phones: a box whose config has no
 * `sip.auth` and no `sip.flood` section (the defaults), one REGISTER from sipp 3.6 (which answers
 * the first challenge only, and MD5 only) and one from Debian 12's baresip 1.0 (which gives up on
 * any challenge naming SHA-256). Both must end with a live binding. See docs/config/sip-auth.md.
 * Runs alone too: node --import tsx test/integration/auth-defaults.test.ts
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeToneWav } from '../helpers/audio.ts';
import { startBaresip, type Baresip } from '../helpers/baresip.ts';
import { addUsers, passwordOf, SIPP_SCENARIOS } from '../helpers/calls.ts';
import { runCli, startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { runSipp, sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const DOMAIN = 'auth-defaults.example';
const SIPP_USER = '4001';
const BARESIP_USER = '4002';

interface Ctx {
  dir: string;
  node: NodeProcess;
  phone?: Baresip;
}

const defaults = suite<Ctx>('the default auth config registers sipp and baresip');

defaults.before(async (ctx) => {
  ctx.dir = tempDir('outpost-auth-defaults-');
  const config = writeNodeConfig(ctx.dir, '', DOMAIN);
  addUsers(join(ctx.dir, 'data'), DOMAIN, [SIPP_USER, BARESIP_USER]);
  ctx.node = await startNode(config, ctx.dir);
});

defaults.after(async (ctx) => {
  ctx.phone?.kill();
  assert.is(await ctx.node?.stop(), 0, 'node stops cleanly on SIGTERM');
});

async function boundAors(ctx: Ctx): Promise<string[]> {
  const res = await runCli(['status', '--json', '--config', ctx.node.configFile], ctx.dir);
  assert.is(res.code, 0, res.stderr);
  return (JSON.parse(res.stdout) as { registrations: Array<{ aor: string }> }).registrations.map((r) => r.aor);
}

defaults('sipp 3.6 registers against the default challenge', async (ctx) => {
  const injection = [`${SIPP_USER};[authentication username=${SIPP_USER} password=${passwordOf(SIPP_USER)}];${DOMAIN}`];
  const res = await runSipp({ scenario: join(SIPP_SCENARIOS, 'register-auth.xml'), target: ctx.node.udp, transport: 'u1', calls: 1, rate: 1, injection, dir: ctx.dir, timeoutS: 15 });
  assert.is(res.code, 0, `sipp exit ${res.code}: ${res.stderr.slice(-800)}\n${res.stdout.slice(-1500)}`);
  assert.equal(sippCounts(res.stdout), { successful: 1, failed: 0 });
  assert.ok((await boundAors(ctx)).includes(SIPP_USER));
});

defaults('baresip 1.0 registers against the default challenge', async (ctx) => {
  const wav = join(ctx.dir, 'tone.wav');
  writeToneWav(wav, 1000, 1);
  ctx.phone = await startBaresip({
    home: join(ctx.dir, 'baresip'), ext: BARESIP_USER, password: passwordOf(BARESIP_USER), domain: DOMAIN, proxy: ctx.node.udp, sourceWav: wav, autoAnswer: false, rtpPorts: [32700, 32719], lifetimeS: 60,
  });
  const phone = ctx.phone;
  await waitFor(async () => (await boundAors(ctx)).includes(BARESIP_USER), `baresip to register (output: ${phone.output().slice(-600)})`, 15_000, 200);
  assert.match(phone.output(), /200 OK/);
  assert.not.match(phone.output(), /Function not implemented/);
});

defaults.run();
