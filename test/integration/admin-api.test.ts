/**
 * The admin API end to end (docs/cli/admin.md, docs/mqtt/admin.md), with real processes on
 * 127.0.0.1: an `outpost hub` with its CA, enrolment endpoint and broker over mutual TLS, and a
 * box of site branch-b enrolled with a claim code (bench/lib/cluster.ts). An admin logs in with
 * `outpost enrol create --admin` + `outpost admin login`; then `outpost admin user add` reaches
 * the box and the user can REGISTER there; a bad batch changes nothing and lists its problems;
 * unsigned, forged, replayed and revoked requests are refused; a box cannot publish admin
 * requests; a site with its own domain and realm makes its box challenge with that realm; a
 * change is in the hub's audit trail (`outpost admin audit`) with the admin's name, its password
 * redacted.
 * Runs alone too: node --import tsx test/integration/admin-api.test.ts
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AdminClient } from '../../agent/admin/admin-client.ts';
import { readAdminCredential } from '../../agent/admin/admin-credential.ts';
import { signRequest } from '../../agent/admin/request-signer.ts';
import { Store } from '../../agent/store/store.ts';
import { readCredentials } from '../../agent/trust/credentials.ts';
import type { AdminResponse } from '../../agent/wire/admin.ts';
import { loginAdmin } from '../../bench/lib/admin-login.ts';
import { Cluster } from '../../bench/lib/cluster.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';
import { runCli, tempDir } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { parseDigestChallenge, registerUser } from '../../bench/lib/sip-register.ts';

interface Ctx {
  cluster: Cluster;
  client: AdminClient;
  admin: string;
}

const SITE = 'branch-b';

/** What the box's store holds (read as the CLI reads it, beside the running node). */
function boxStore<T>(c: Cluster, fn: (s: Store) => T): T {
  const store = Store.open({ dataDir: c.node('b1').dataDir, mustExist: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** The realm of the box's challenge to an unauthenticated REGISTER for `domain`. */
function challengeRealm(target: { host: string; port: number }, domain: string): Promise<string | undefined> {
  const sock = createSocket('udp4');
  const tag = randomBytes(4).toString('hex');
  return new Promise((resolve) => {
    const done = (realm: string | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(realm);
    };
    const timer = setTimeout(() => done(undefined), 2000);
    sock.on('message', (msg) => {
      const header = /^WWW-Authenticate:\s*(.*)$/im.exec(msg.toString('utf8'))?.[1];
      done(header === undefined ? undefined : parseDigestChallenge(header)?.get('realm'));
    });
    sock.bind(0, '127.0.0.1', () => {
      const port = sock.address().port;
      const text = [
        `REGISTER sip:${domain} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${tag};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@${domain}>;tag=${tag}`,
        `To: <sip:probe@${domain}>`,
        `Call-ID: probe-${tag}@test`,
        'CSeq: 1 REGISTER',
        `Contact: <sip:probe@127.0.0.1:${port}>`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      sock.send(text, target.port, target.host);
    });
  });
}

const api = suite<Ctx>('admin API through the hub');

api.before(async (ctx) => {
  ctx.cluster = await Cluster.prepare({ dir: tempDir('outpost-admin-api-'), broker: 'embedded', nodes: ['b1'], site: SITE, domain: 'box.example', nodeSip: '  auth: { algorithms: [MD5] }\n' });
  await ctx.cluster.start();
  const login = await loginAdmin(ctx.cluster.hub.configFile, ctx.cluster.dir, 'ann');
  assert.match(login.stdout, /^logged in as admin ann; credential in .*\/ann \(files mode 0600\)/);
  ctx.admin = login.credential;
  ctx.client = new AdminClient({ credential: readAdminCredential(ctx.admin), timeoutMs: 10_000 });
  await ctx.client.connect();
});

api.after(async (ctx) => {
  await ctx.client?.close();
  await ctx.cluster?.destroy(true);
});

const cli = (ctx: Ctx, args: string[]) => runCli(['admin', '--credential', ctx.admin, ...args], ctx.cluster.dir);

api('outpost admin user add: the user reaches the box and registers there', async (ctx) => {
  const res = await cli(ctx, ['user', 'add', '1001', '--password', 's3cret-1', '--name', 'Ann', '--site', SITE]);
  assert.is(res.code, 0, res.stderr);
  assert.is(res.stdout.trim(), `added user 1001 in realm box.example (site ${SITE})`);
  await waitFor(() => boxStore(ctx.cluster, (s) => s.users.get('1001')), 'user 1001 at box b1', 15_000);
  const reg = await registerUser({ target: ctx.cluster.node('b1').sip, domain: 'box.example', user: '1001', password: 's3cret-1', contact: 'sip:1001@127.0.0.1:5999' });
  assert.ok(reg.ok, `${reg.status} ${reg.reason}`);
  const nodes = await cli(ctx, ['--json', 'node', 'list']);
  const b1 = (JSON.parse(nodes.stdout) as Array<{ id: string; state: string; site: string }>).find((n) => n.id === 'b1');
  assert.equal(b1 && [b1.site, b1.state], [SITE, 'online'], nodes.stdout);
});

api('a bad batch changes nothing at the hub and answers with every problem', async (ctx) => {
  const before = (await runCli(['status', '--json', '--config', ctx.cluster.hub.configFile], ctx.cluster.dir)).stdout;
  const r = await ctx.client.request('batch', {
    items: [
      { op: 'user.add', body: { ext: '3001', password: 's3cret-3' } },
      { op: 'user.add', body: { ext: '3002', password: 'short' } },
      { op: 'user.remove', body: { ext: '1001' } },
      { op: 'trunk.remove', body: { id: 'none' } },
    ],
  });
  assert.equal(r.ok ? [] : r.problems, ['items[1] user.add: password: at least 6 characters', 'items[3] trunk.remove: no trunk none']);
  const after = (await runCli(['status', '--json', '--config', ctx.cluster.hub.configFile], ctx.cluster.dir)).stdout;
  const tables = (s: string) => (JSON.parse(s) as { tables: unknown }).tables;
  assert.equal(tables(after), tables(before), 'the hub\'s table digests did not change');
  const users = await ctx.client.request('user.list', {});
  assert.equal(users.ok && (users.result as Array<{ ext: string }>).map((u) => u.ext), ['1001']);
});

api('unsigned, forged and replayed requests are refused, and nothing runs', async (ctx) => {
  const credential = readAdminCredential(ctx.admin);
  const refused = (r: AdminResponse) => (r.ok ? 'accepted' : r.problems.join('; '));
  const signed = signRequest({ name: 'ann', key: credential.key, cert: credential.cert }, 'user.remove', { ext: '1001' }, Date.now());
  const { sig: _sig, ...unsigned } = signed;
  assert.match(refused(await ctx.client.send('user.remove', unsigned)), /^refused: malformed request: sig/);
  const forged = { ...signed, transaction: `forged-${randomBytes(4).toString('hex')}`, body: { ext: '1001' }, sig: signRequest({ name: 'ann', key: credential.key, cert: credential.cert }, 'user.add', { ext: '1001' }, Date.now()).sig };
  assert.match(refused(await ctx.client.send('user.remove', forged)), /^refused: the signature does not verify/);
  const stale = signRequest({ name: 'ann', key: credential.key, cert: credential.cert }, 'user.list', {}, Date.now() - 5 * 60_000);
  assert.match(refused(await ctx.client.send('user.list', stale)), /^refused: stale request/);
  const list = signRequest({ name: 'ann', key: credential.key, cert: credential.cert }, 'user.list', {}, Date.now());
  assert.ok((await ctx.client.send('user.list', list)).ok);
  assert.match(refused(await ctx.client.send('user.list', list)), /^refused: replayed request: transaction /);
  assert.ok(boxStore(ctx.cluster, (s) => s.users.get('1001')), 'user 1001 is still there');
  await ctx.cluster.hub.waitForLog('admin request refused', 5000, (l) => String(l['reason']).startsWith('replayed'));
});

api('a box cannot publish admin requests nor read admin responses', async (ctx) => {
  const b1 = readCredentials(ctx.cluster.node('b1').dataDir);
  const url = ctx.cluster.hubUrl!;
  const client = mqtt.connect(url, { clientId: `b1-intruder-${randomBytes(3).toString('hex')}`, protocolVersion: 4, reconnectPeriod: 0, key: b1.key, cert: b1.cert, ca: b1.ca, rejectUnauthorized: false });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (err) => reject(new HarnessError(`box connect: ${err.message}`)));
    });
    // SUBACK 0x80: mqtt.js rejects the subscription.
    const subscribed = await client.subscribeAsync('outpost/v1/admin/response/ann/+', { qos: 1 }).then(() => 'granted', (err: Error) => err.message);
    assert.match(subscribed, /Subscribe error/, 'the subscription to an admin\'s responses is refused');
    const credential = readAdminCredential(ctx.admin);
    const request = signRequest({ name: 'ann', key: credential.key, cert: credential.cert }, 'user.remove', { ext: '1001' }, Date.now());
    client.publish('outpost/v1/admin/request/user.remove', JSON.stringify(request), { qos: 1 });
    await waitFor(() => !client.connected, 'the broker closes the box\'s connection', 5000);
  } finally {
    client.end(true);
  }
  await ctx.cluster.hub.waitForLog('mqtt publish refused by the ACL', 5000, (l) => l['topic'] === 'outpost/v1/admin/request/user.remove');
  assert.ok(boxStore(ctx.cluster, (s) => s.users.get('1001')), 'user 1001 is still there');
});

api('a site with its own domain and realm: its box challenges with that realm, and its users register', async (ctx) => {
  const b1 = ctx.cluster.node('b1');
  assert.is(await challengeRealm(b1.sip, 'box.example'), 'box.example', 'the config\'s realm at first');
  const created = await cli(ctx, ['site', 'create', SITE, '--domain', 'b.example', '--realm', 'Branch B']);
  assert.is(created.code, 0, created.stderr);
  await waitFor(async () => (await challengeRealm(b1.sip, 'b.example')) === 'Branch B', 'box b1 challenges with realm "Branch B"', 15_000);
  const added = await cli(ctx, ['user', 'add', '2001', '--password', 's3cret-2', '--site', SITE]);
  assert.is(added.stdout.trim(), `added user 2001 in realm Branch B (site ${SITE})`, added.stderr);
  await waitFor(() => boxStore(ctx.cluster, (s) => s.users.get('2001')), 'user 2001 at box b1', 15_000);
  const reg = await registerUser({ target: b1.sip, domain: 'b.example', user: '2001', password: 's3cret-2', contact: 'sip:2001@127.0.0.1:5998' });
  assert.ok(reg.ok, `${reg.status} ${reg.reason}`);
  const wrongDomain = await registerUser({ target: b1.sip, domain: 'box.example', user: '2001', password: 's3cret-2', contact: 'sip:2001@127.0.0.1:5998', timeoutMs: 3000 });
  assert.is(wrongDomain.status, 404, 'the config domain is no longer served');
});

api('a revoked admin is refused', async (ctx) => {
  const bob = ['admin', '--credential', (await loginAdmin(ctx.cluster.hub.configFile, ctx.cluster.dir, 'bob')).credential];
  assert.is((await runCli([...bob, 'user', 'list'], ctx.cluster.dir)).code, 0);
  const revoked = await cli(ctx, ['revoke-admin', 'bob']);
  assert.is(revoked.code, 0, revoked.stderr);
  const refused = await runCli([...bob, 'user', 'list'], ctx.cluster.dir);
  assert.is(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /^outpost: the hub's broker refused this admin's certificate/);
});

api('a user add over the admin API is in the audit trail with the admin\'s name and without its password; a forged request is not', async (ctx) => {
  const added = await cli(ctx, ['user', 'add', '4001', '--password', 'audit-pw-4001', '--name', 'Audit']);
  assert.is(added.code, 0, added.stderr);
  const table = await cli(ctx, ['audit', '--op', 'user.add', '--limit', '1']);
  assert.is(table.code, 0, table.stderr);
  assert.match(table.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  ann +user\.add +ok +\{"ext":"4001","password":"\*\*\*","name":"Audit"\}\n$/);
  const credential = readAdminCredential(ctx.admin);
  const signed = signRequest({ name: 'ann', key: credential.key, cert: credential.cert }, 'user.remove', { ext: '4001' }, Date.now());
  const forged = { ...signed, body: { ext: '1001' } };
  const answer = await ctx.client.send('user.remove', forged);
  assert.match(answer.ok ? 'accepted' : answer.problems.join('; '), /^refused: the signature does not verify/);
  const json = await cli(ctx, ['--json', 'audit', '--limit', '1000']);
  assert.is(json.code, 0, json.stderr);
  const entries = JSON.parse(json.stdout) as Array<{ admin: string; op: string; tx: string; outcome: string }>;
  assert.ok(entries.some((e) => e.admin === 'ann' && e.op === 'user.add' && e.outcome === 'ok'), json.stdout);
  assert.not.ok(entries.some((e) => e.tx === forged.transaction), 'a request that failed verification is not an admin\'s action');
  assert.not.ok(entries.some((e) => e.op.endsWith('.list') || e.op === 'audit.list'), 'reads are not recorded');
  assert.not.match(json.stdout, /audit-pw-4001/);
  const atHub = await runCli(['audit', '--op', 'user.add', '--limit', '1', '--config', ctx.cluster.hub.configFile], ctx.cluster.dir);
  assert.is(atHub.stdout, table.stdout, atHub.stderr);
});

api.run();
