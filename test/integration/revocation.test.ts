/**
 * Certificate revocation and replacement (docs/cli/node-revoke.md, docs/cli/node-replace.md),
 * with real processes: a secure cluster (hub with its embedded broker over mutual TLS, boxes a1
 * and a2 of site a enrolled with claim codes, each box with its own broker for its site peer).
 * `outpost node revoke a2` at the hub: the hub and a1 refuse a2 (its connections, states and
 * batches: nothing it writes afterwards reaches them), a1 also while the hub is stopped (and
 * after a1 restarted: its copy of the revocation is in its store). Then
 * `outpost node replace a2`: the rebuilt a2 enrols with the printed claim code and converges.
 * Last, the hub's log holds neither the CA key nor a claim code, and the CA key file is 0600.
 * Runs alone too: node --import tsx test/integration/revocation.test.ts
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import mqtt from 'mqtt';
import { readRuntimeInfo } from '../../agent/cli/runtime-file.ts';
import { Store } from '../../agent/store/store.ts';
import { CA_DIR, CA_KEY_FILE } from '../../agent/trust/ca.ts';
import { readCredentials } from '../../agent/trust/credentials.ts';
import { REVOKED_MESSAGE } from '../../agent/trust/revocation.ts';
import { runCli } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { explainedOn, SyncCluster, type Replica } from '../helpers/sync-cluster.ts';

interface Ctx {
  cluster: SyncCluster;
  failed: boolean;
  /** Every claim code printed during the run (none may appear in the hub's log). */
  claims: string[];
}

const USERS = ['2001', '2002', '2003'];
const CONVERGE_MS = 30_000;
const test = suite<Ctx>('revoking and replacing a box (processes)');
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

/** Connects to `url` with these credentials: 'connected' or the reason it failed. */
function connectAs(c: { key: string; cert: string; ca: string }, url: string): Promise<string> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      clientId: `revocation-test-${Date.now()}`, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ca: c.ca, key: c.key, cert: c.cert,
      ...({ checkServerIdentity: () => undefined } as object),
    });
    const done = (outcome: string) => {
      client.end(true);
      resolve(outcome);
    };
    client.once('connect', () => done('connected'));
    client.once('error', (err) => done(err.message));
    client.once('close', () => done('closed'));
  });
}

/** How many revocations of `nodeId` the store of `r` holds. */
function revocationsAt(r: Replica, nodeId: string): number {
  const store = Store.open({ dataDir: r.dataDir, mustExist: true });
  try {
    return store.revocations.ofNode(nodeId).length;
  } finally {
    store.close();
  }
}

const has = (ctx: Ctx, r: Replica, contact: string) => [...ctx.cluster.snapshot(r).bindings].some((b) => b.includes(contact));

/** REGISTERs at a2 (still answered locally) and returns the new contact. */
async function a2Writes(ctx: Ctx, user: string, tag: string): Promise<string> {
  const { result, binding } = await ctx.cluster.register(ctx.cluster.node('a2'), user, tag);
  assert.ok(result.ok, `REGISTER of ${user} at a2: ${result.status ?? 'no answer'} ${result.reason}`);
  return binding.contact;
}

test.before(async (ctx) => {
  ctx.failed = false;
  ctx.claims = [];
  ctx.cluster = await SyncCluster.create({ broker: 'embedded', nodes: ['a1', 'a2'] });
  assert.ok(ctx.cluster.secure, 'a secure cluster');
  await ctx.cluster.start();
  await ctx.cluster.addUsers(USERS.map((ext) => ({ ext, site: ctx.cluster.site })));
  await ctx.cluster.waitForUsers(ctx.cluster.nodes, USERS, CONVERGE_MS);
});

test.after(async (ctx) => {
  await ctx.cluster?.destroy(!ctx.failed);
});

test('before: a2\'s registration reaches the hub and a1', explained(async (ctx) => {
  const c = ctx.cluster;
  const contact = await a2Writes(ctx, '2001', 'before');
  await waitFor(() => has(ctx, c.hub, contact) && has(ctx, c.node('a1'), contact), 'a2\'s registration at the hub and a1', CONVERGE_MS, 50);
}));

test('node revoke a2: the hub and a1 refuse a2; nothing it writes reaches them', explained(async (ctx) => {
  const c = ctx.cluster;
  const [a1] = [c.node('a1')];
  const res = await runCli(['node', 'revoke', 'a2', '--config', c.hub.configFile], c.dir);
  assert.is(res.code, 0, `node revoke: ${res.stderr}`);
  assert.match(res.stdout, /revoked certificate [0-9a-f]+ of box a2/);
  // A replica refuses a2 from the moment it holds the revocation: wait until a1 has it.
  await waitFor(() => revocationsAt(a1, 'a2') > 0, 'the revocation to reach a1', CONVERGE_MS, 50);
  const [hubFrom, a1From] = [c.hub.logs.length, a1.logs.length];
  const contact = await a2Writes(ctx, '2002', 'revoked');
  // Positive evidence that each refuses a2 (at its broker or its receiver), then the absence.
  await waitFor(() => c.hub.findLog(REVOKED_MESSAGE, hubFrom, (l) => l['node'] === 'a2'), 'the hub to refuse a2', CONVERGE_MS, 50);
  await waitFor(() => a1.findLog(REVOKED_MESSAGE, a1From, (l) => l['node'] === 'a2'), 'a1 to refuse a2 (the revocation reached it)', CONVERGE_MS, 50);
  assert.not.ok(has(ctx, c.hub, contact), 'the hub merged nothing of a2 after the revocation');
  assert.not.ok(has(ctx, a1, contact), 'a1 merged nothing of a2 after the revocation');
  const refusals = async (r: Replica) => {
    const sync = (await c.status(r)).sync;
    return (sync?.counters.revokedRefused ?? 0) + (sync?.broker?.refusedRevoked ?? 0);
  };
  await waitFor(async () => (await refusals(a1)) > 0, 'a1 to count the refusals in its status', CONVERGE_MS, 200);
  await waitFor(async () => (await refusals(c.hub)) > 0, 'the hub to count the refusals in its status', CONVERGE_MS, 200);
}));

test('with the hub stopped and a1 restarted, a1 still refuses a2\'s certificate', explained(async (ctx) => {
  const c = ctx.cluster;
  const [a1, a2] = [c.node('a1'), c.node('a2')];
  assert.is(await c.hub.stop(), 0);
  assert.is(await a1.stop(), 0);
  await a1.start();
  const url = readRuntimeInfo(a1.dataDir)?.mqtt;
  assert.ok(url, 'a1 runs its broker');
  const from = a1.logs.length;
  const outcome = await connectAs(readCredentials(a2.dataDir), url!);
  assert.not.ok(outcome === 'connected', 'a1\'s broker refuses a2\'s certificate');
  await waitFor(() => a1.findLog(REVOKED_MESSAGE, from, (l) => l['node'] === 'a2'), 'a1 to log the refusal without the hub', CONVERGE_MS, 50);
  const other = await connectAs(readCredentials(a1.dataDir), url!);
  assert.is(other, 'connected', 'a certificate that is not revoked still connects');
  await c.hub.start();
}));

test('node replace a2: the rebuilt a2 enrols with the printed claim code and converges', explained(async (ctx) => {
  const c = ctx.cluster;
  const [a1, a2] = [c.node('a1'), c.node('a2')];
  const res = await runCli(['node', 'replace', 'a2', '--config', c.hub.configFile], c.dir);
  assert.is(res.code, 0, `node replace: ${res.stderr}`);
  const join = /enrol join --hub (\S+) --claim (\S+) /.exec(res.stdout);
  assert.ok(join, `node replace prints the enrol join line: ${res.stdout}`);
  ctx.claims.push(join![2]!);
  assert.is(await a2.stop(), 0);
  rmSync(a2.dataDir, { recursive: true, force: true });
  const config = readFileSync(a2.configFile, 'utf8').split('\n').filter((l) => !l.startsWith('enrol:')).join('\n');
  writeFileSync(a2.configFile, `${config}\nenrol: { hub: "${join![1]}", claim: "${join![2]}" }\n`);
  await a2.start();
  await c.waitForUsers([a2], USERS, CONVERGE_MS);
  const contact = await a2Writes(ctx, '2001', 'rebuilt');
  await waitFor(() => has(ctx, c.hub, contact) && has(ctx, a1, contact), 'the rebuilt a2\'s registration at the hub and a1', CONVERGE_MS, 50);
}));

test('the CA key stays in a 0600 file and is never logged; nor is a claim code', explained(async (ctx) => {
  const c = ctx.cluster;
  const keyFile = join(c.hub.dataDir, CA_DIR, CA_KEY_FILE);
  assert.is(statSync(keyFile).mode & 0o777, 0o600);
  const body = readFileSync(keyFile, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  assert.ok(body.length > 0);
  const log = readFileSync(c.hub.logFile, 'utf8');
  assert.ok(log.includes('revoked node certificate refused'), 'the log is the one of this run');
  for (const line of body) assert.not.ok(log.includes(line), 'a line of the CA key in the hub\'s log');
  assert.not.ok(log.includes(body.join('')), 'the CA key in the hub\'s log');
  for (const code of ctx.claims) assert.not.ok(log.toUpperCase().includes(code.toUpperCase()), `claim code ${code} in the hub's log`);
}));

test.run();
