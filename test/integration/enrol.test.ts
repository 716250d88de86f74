/**
 * Enrolment end to end with real processes on 127.0.0.1: an `outpost hub` with its enrolment
 * endpoint on port 0, `outpost enrol create` at the hub, `outpost enrol join` on a box; then the
 * files and modes, the certificate's identity against the CA, and the refusals: a reused code,
 * an expired code, a wrong code; and a box that enrols by itself at its first start (enrol.*).
 * Runs alone too: node --import tsx test/integration/enrol.test.ts
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OutpostProcess } from '../../bench/lib/outpost-process.ts';
import { runCli, tempDir } from '../../bench/lib/node-process.ts';
import { NodeKey } from '../../agent/sync/node-key.ts';
import { parseCertificate } from '../../agent/trust/identity.ts';

interface Ctx {
  dir: string;
  hub: OutpostProcess;
  url: string;
}

function writeBox(dir: string, id: string, extra = ''): string {
  const file = join(dir, `${id}.yaml`);
  writeFileSync(file, `node: { id: ${id}, site: branch-a }
dataDir: ./${id}
sip:
  domain: branch-a.example
  listen: ["udp:127.0.0.1:0"]
${extra}`);
  return file;
}

async function create(dir: string, args: string[]): Promise<{ code: string; id: string }> {
  const res = await runCli(['enrol', 'create', '--no-qr', '--config', 'hub.yaml', ...args], dir);
  assert.is(res.code, 0, res.stderr);
  const m = /^claim code (\w{4})-(\w{4})-(\w{4}) \(id (\w{4})\)/.exec(res.stdout);
  assert.ok(m, res.stdout);
  return { code: `${m![1]}-${m![2]}-${m![3]}`, id: m![4]! };
}

const enrol = suite<Ctx>('enrolment end to end');

enrol.before(async (ctx) => {
  ctx.dir = tempDir('outpost-enrol-');
  writeFileSync(join(ctx.dir, 'hub.yaml'), `dataDir: ./hub-data
mqtt: { listen: "mqtt://127.0.0.1:0" }
enrol: { listen: "127.0.0.1:0", maxFailures: 100 }
`);
  ctx.hub = new OutpostProcess('hub', 'hub', ctx.dir, join(ctx.dir, 'hub.yaml'), join(ctx.dir, 'hub-data'), join(ctx.dir, 'hub.log'));
  await ctx.hub.start();
  ctx.url = ctx.hub.info!.enrol!;
  assert.match(ctx.url, /^https:\/\/127\.0\.0\.1:\d+$/);
});

enrol.after(async (ctx) => {
  await ctx.hub.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

enrol('the hub made its CA (key 0600) and its own certificate at the first start', ({ dir }) => {
  assert.is(statSync(join(dir, 'hub-data/ca/ca.key')).mode & 0o777, 0o600);
  assert.is(statSync(join(dir, 'hub-data/node-tls.key')).mode & 0o777, 0o600);
  const hub = parseCertificate(readFileSync(join(dir, 'hub-data/node.crt'), 'utf8'));
  assert.equal([hub.nodeId, hub.role, hub.site], ['hub', 'hub', '']);
  assert.is(hub.nodeKey, NodeKey.loadOrCreate(join(dir, 'hub-data')).publicKey);
});

enrol('create, then join: the box gets node-tls.key (0600), node.crt naming a1 of branch-a, and the CA', async (ctx) => {
  const { code, id } = await create(ctx.dir, ['--site', 'branch-a']);
  const config = writeBox(ctx.dir, 'a1');
  // Typed as a technician might: lower case, spaces for dashes.
  const res = await runCli(['enrol', 'join', '--hub', ctx.url, '--claim', code.toLowerCase().replace(/-/g, ' '), '--config', config], ctx.dir);
  assert.is(res.code, 0, res.stderr);
  assert.match(res.stdout, /^enrolled box a1 of site branch-a \(role node\)/);
  const data = join(ctx.dir, 'a1');
  assert.is(statSync(join(data, 'node-tls.key')).mode & 0o777, 0o600);
  assert.is(statSync(join(data, 'node.key')).mode & 0o777, 0o600);
  const pem = readFileSync(join(data, 'node.crt'), 'utf8');
  const ca = new X509Certificate(readFileSync(join(data, 'ca.crt')));
  assert.is(ca.fingerprint256, new X509Certificate(readFileSync(join(ctx.dir, 'hub-data/ca/ca.crt'))).fingerprint256);
  assert.ok(new X509Certificate(pem).verify(ca.publicKey));
  const facts = parseCertificate(pem);
  assert.equal([facts.nodeId, facts.site, facts.role], ['a1', 'branch-a', 'node']);
  assert.is(facts.nodeKey, NodeKey.loadOrCreate(data).publicKey, 'the replication key is bound');
  assert.ok(res.stdout.includes(ca.fingerprint256));
  await ctx.hub.waitForLog('box enrolled', 5000, (l) => l['node'] === 'a1' && l['claim'] === id);
});

enrol('a reused code is refused with a clear error, and the hub logs it without the secret', async (ctx) => {
  const { code, id } = await create(ctx.dir, ['--site', 'branch-a']);
  assert.is((await runCli(['enrol', 'join', '--hub', ctx.url, '--claim', code, '--config', writeBox(ctx.dir, 'a2')], ctx.dir)).code, 0);
  const again = await runCli(['enrol', 'join', '--hub', ctx.url, '--claim', code, '--config', writeBox(ctx.dir, 'a3')], ctx.dir);
  assert.is(again.code, 1);
  assert.is(again.stderr.trim(), `outpost: the hub refused the enrolment: claim code ${id} was already used (by box a2); a code enrols one box only`);
  const refused = await ctx.hub.waitForLog('enrolment refused', 5000, (l) => l['claim'] === id);
  assert.is(refused.line['code'], 'trust.claim-used');
  const secret = code.slice(5).replace('-', '');
  assert.not.ok(ctx.hub.tail(200).includes(secret), 'the secret part of a code is never logged');
});

enrol('an expired code is refused', async (ctx) => {
  const { code, id } = await create(ctx.dir, ['--site', 'branch-a', '--ttl', '1m']);
  // Let it expire without waiting a minute: move its expiry into the past in the hub's book.
  const file = join(ctx.dir, 'hub-data/ca/claims', `${id}.json`);
  const claim = JSON.parse(readFileSync(file, 'utf8')) as { expiresAt: number };
  writeFileSync(file, JSON.stringify({ ...claim, expiresAt: Date.now() - 1 }));
  const res = await runCli(['enrol', 'join', '--hub', ctx.url, '--claim', code, '--config', writeBox(ctx.dir, 'a4')], ctx.dir);
  assert.is(res.code, 1);
  assert.match(res.stderr, new RegExp(`^outpost: the hub refused the enrolment: claim code ${id} expired at `));
  const list = await runCli(['enrol', 'list', '--json', '--config', 'hub.yaml'], ctx.dir);
  assert.is((JSON.parse(list.stdout) as Array<{ id: string; state: string }>).find((c) => c.id === id)?.state, 'expired');
});

enrol('a wrong code and a malformed code are refused; nothing is written on the box', async (ctx) => {
  const { code } = await create(ctx.dir, ['--site', 'branch-a']);
  const wrong = `${code.slice(0, 5)}${code.slice(5, 6) === '0' ? '1' : '0'}${code.slice(6)}`;
  const config = writeBox(ctx.dir, 'a5');
  const res = await runCli(['enrol', 'join', '--hub', ctx.url, '--claim', wrong, '--config', config], ctx.dir);
  assert.is(res.code, 1);
  assert.match(res.stderr, /^outpost: the hub refused the enrolment: wrong claim code/);
  const bad = await runCli(['enrol', 'join', '--hub', ctx.url, '--claim', 'ABCD-EFGH', '--config', config], ctx.dir);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /^outpost: invalid claim code: it has 8 letters and digits/);
  assert.throws(() => statSync(join(ctx.dir, 'a5/node.crt')));
});

enrol('a box with enrol.hub and enrol.claim enrols at its first start, then runs', async (ctx) => {
  const { code } = await create(ctx.dir, ['--site', 'branch-a', '--node', 'a6']);
  const config = writeBox(ctx.dir, 'a6', `enrol: { hub: "${ctx.url}", claim: "${code}" }\n`);
  mkdirSync(join(ctx.dir, 'a6'), { recursive: true });
  const box = new OutpostProcess('a6', 'node', ctx.dir, config, join(ctx.dir, 'a6'), join(ctx.dir, 'a6.log'));
  await box.start();
  try {
    assert.ok(box.findLog('enrolled', 0, (l) => l['node'] === 'a6' && l['site'] === 'branch-a'));
    assert.is(parseCertificate(readFileSync(join(ctx.dir, 'a6/node.crt'), 'utf8')).nodeId, 'a6');
  } finally {
    await box.stop();
  }
  // Restarted with the spent code in its config: it has its certificate, so it does not enrol again.
  await box.start();
  try {
    assert.not.ok(box.findLog('enrolled'));
  } finally {
    await box.stop();
  }
});

enrol.run();
