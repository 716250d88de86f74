/**
 * The registrar end to end: `outpost node` as a child process on 127.0.0.1, driven by sipp.
 * 200 users register with digest authentication over UDP and over TCP; a wrong password gets
 * 403 and, after the configured number of failures, the source is banned (no response at all).
 * Runs alone too: node --import tsx test/integration/register.test.ts
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { computeHa1 } from '../../agent/sip/auth/digest.ts';
import { Store } from '../../agent/store/store.ts';
import { runCli, startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { runSipp, sippCounts } from '../../bench/lib/sipp.ts';
import { optionsRequest, udpProbe } from '../helpers/udp-probe.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const DOMAIN = 'branch-a.example';
const USERS = 200;
const BAN_AFTER = 3;
const SCENARIOS = join(import.meta.dirname, 'sipp');

interface Ctx {
  dir: string;
  node: NodeProcess;
}

const reg = suite<Ctx>('registrar with sipp');

reg.before(async (ctx) => {
  ctx.dir = tempDir();
  // sipp's digest support is MD5 only; SHA-256 is covered by the unit tests.
  const config = writeNodeConfig(
    ctx.dir,
    `  auth: { algorithms: [MD5] }
  flood:
    rateLimit: { perSecond: 100000, burst: 100000 }
    ban: { failures: ${BAN_AFTER}, window: 60, duration: 600 }
`,
    DOMAIN,
  );
  const store = Store.open({ dataDir: join(ctx.dir, 'data') });
  for (let i = 0; i < USERS; i++) {
    const ext = String(3000 + i);
    const pw = `pw-${ext}`;
    store.users.upsert({ ext, displayName: '', realm: DOMAIN, site: 'branch-a', ha1Md5: computeHa1(ext, DOMAIN, pw, 'MD5'), ha1Sha256: computeHa1(ext, DOMAIN, pw, 'SHA-256') }, Date.now());
  }
  store.close();
  ctx.node = await startNode(config, ctx.dir);
});

reg.after(async (ctx) => {
  const code = await ctx.node?.stop();
  assert.is(code, 0, 'node exits 0 on SIGTERM');
});

/** sipp injection rows: ext; the [authentication] keyword with the credentials; domain. */
const row = (ext: string, password: string) => `${ext};[authentication username=${ext} password=${password}];${DOMAIN}`;
const injection = () => Array.from({ length: USERS }, (_, i) => row(String(3000 + i), `pw-${3000 + i}`));

async function liveBindings(ctx: Ctx, transport: string): Promise<number> {
  const res = await runCli(['status', '--json', '--config', ctx.node.configFile], ctx.dir);
  assert.is(res.code, 0, res.stderr);
  const status = JSON.parse(res.stdout) as { registrations: Array<{ contact: string; received: string }> };
  return status.registrations.filter((r) => r.received.startsWith(`${transport}:`)).length;
}

reg('200 users register with digest auth over UDP', async (ctx) => {
  const res = await runSipp({ scenario: join(SCENARIOS, 'register-auth.xml'), target: ctx.node.udp, transport: 'u1', calls: USERS, rate: 200, injection: injection(), dir: ctx.dir });
  const counts = sippCounts(res.stdout);
  assert.is(res.code, 0, `sipp exit ${res.code}: ${res.stderr}\n${res.stdout.slice(-1500)}`);
  assert.equal(counts, { successful: USERS, failed: 0 });
  assert.is(await liveBindings(ctx, 'udp'), USERS);
});

reg('200 users register with digest auth over TCP (one connection per user)', async (ctx) => {
  const res = await runSipp({ scenario: join(SCENARIOS, 'register-auth.xml'), target: ctx.node.tcp, transport: 'tn', calls: USERS, rate: 200, injection: injection(), dir: ctx.dir });
  assert.is(res.code, 0, `sipp exit ${res.code}: ${res.stderr}\n${res.stdout.slice(-1500)}`);
  assert.equal(sippCounts(res.stdout), { successful: USERS, failed: 0 });
  assert.is(await liveBindings(ctx, 'tcp'), USERS);
});

const optionsFrom = (localIp: string, target: { host: string; port: number }, waitMs: number) =>
  udpProbe((port) => optionsRequest(DOMAIN, localIp, port), target, waitMs, localIp);

reg('a wrong password gets 403, and after repeated failures the source is banned', async (ctx) => {
  const badIp = '127.0.0.2';
  assert.is(await optionsFrom(badIp, ctx.node.udp, 5000), 'SIP/2.0 200 OK', 'answers before the ban');
  const wrong = Array.from({ length: BAN_AFTER }, (_, i) => row(String(3000 + i), 'not-the-password'));
  const res = await runSipp({ scenario: join(SCENARIOS, 'register-bad-password.xml'), target: ctx.node.udp, transport: 'u1', calls: BAN_AFTER, rate: 10, injection: wrong, dir: ctx.dir, localIp: badIp, maxConcurrent: 1 });
  assert.is(res.code, 0, `every attempt got 401 then 403: ${res.stdout.slice(-1500)}`);
  assert.equal(sippCounts(res.stdout), { successful: BAN_AFTER, failed: 0 });
  // Banned: no response at all to anything from that address (a bounded negative check).
  assert.is(await optionsFrom(badIp, ctx.node.udp, 1500), undefined, 'banned source gets no response');
  // Other sources are unaffected.
  assert.is(await optionsFrom('127.0.0.1', ctx.node.udp, 5000), 'SIP/2.0 200 OK');
  const banned = await waitFor(async () => {
    const st = await runCli(['status', '--json', '--config', ctx.node.configFile], ctx.dir);
    const bans = (JSON.parse(st.stdout) as { bans: Array<{ ip: string }> }).bans;
    return bans.find((b) => b.ip === badIp);
  }, 'the ban to be stored');
  assert.ok(banned);
});

reg.run();
