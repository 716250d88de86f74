/**
 * Mosquitto as the fleet's broker over mutual TLS (`outpost broker mosquitto-config`, docs/cli/
 * broker.md), with real processes: a hub and boxes a1, a2 of site a, enrolled with claim codes.
 * Replication works through it (test/integration/sync-mosquitto.test.ts runs the scenarios);
 * here the generated listener and ACL file refuse the attacks: a client without a certificate
 * cannot connect, and a certified box cannot read another site's scope or everything, nor
 * overwrite the hub's retained state. The hub keeps the ACL and CRL current (`mosquitto` in its
 * config, pid file written by Mosquitto's `pid_file`): a box certified after Mosquitto started
 * gets its site's scope after the hub's reload, and a box revoked at the hub cannot connect again
 * after it, while the others still can (the CRL is valid).
 * Needs mosquitto (bash setup.sh installs it).
 * Runs alone too: node --import tsx test/integration/mosquitto-acl.test.ts
 */
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSystemClock } from '../../agent/lib/clock.ts';
import { CertificateAuthority } from '../../agent/trust/ca.ts';
import { newTlsKey, readCredentials, type Credentials } from '../../agent/trust/credentials.ts';
import { spkiOfKey } from '../../agent/trust/x509.ts';
import { runCli } from '../../bench/lib/node-process.ts';
import { topics } from '../../agent/wire/topics.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { explainedOn, SyncCluster } from '../helpers/sync-cluster.ts';

interface Ctx {
  cluster: SyncCluster;
  failed: boolean;
}

const test = suite<Ctx>('Mosquitto over mutual TLS: the generated ACL');
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

/** Connects with a1's certificate (or none, or the given credentials). */
function connect(ctx: Ctx, withCertificate: boolean, clientId: string, credentials?: Credentials): Promise<{ client: MqttClient } | { error: string }> {
  const c = credentials ?? readCredentials(join(ctx.cluster.node('a1').dataDir));
  return new Promise((resolve) => {
    const client = mqtt.connect(ctx.cluster.hubUrl!, {
      clientId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ca: c.ca,
      ...(withCertificate ? { key: c.key, cert: c.cert } : {}),
    });
    client.once('connect', () => resolve({ client }));
    client.once('error', (err) => {
      client.end(true);
      resolve({ error: err.message });
    });
    client.once('close', () => resolve({ error: 'closed' }));
  });
}

const granted = (client: MqttClient, filter: string) =>
  new Promise<number>((resolve) => client.subscribe(filter, { qos: 1 }, (err, g) => resolve(err ? 128 : g![0]!.qos)));

test.before(async (ctx) => {
  ctx.failed = false;
  ctx.cluster = await SyncCluster.create({
    broker: 'mosquitto', nodes: ['a1', 'a2'], site: 'a',
    hubExtra: 'mosquitto: { dir: mosquitto-tls, pidFile: mosquitto-tls/mosquitto.pid }\n',
  });
  // Mosquitto writes its pid where the hub reads it (the hub reloads it with SIGHUP).
  const tlsDir = join(ctx.cluster.dir, 'mosquitto-tls');
  mkdirSync(tlsDir, { recursive: true });
  writeFileSync(join(tlsDir, 'pid.conf'), `pid_file ${join(tlsDir, 'mosquitto.pid')}\n`);
  await ctx.cluster.start();
  await ctx.cluster.addUser('2001', 'pw-2001-secret', 'a');
  await ctx.cluster.waitForUsers(ctx.cluster.nodes, ['2001'], 30_000);
});

test.after(async (ctx) => {
  await ctx.cluster?.destroy(!ctx.failed);
});

test('the boxes replicate through Mosquitto over mTLS (the user reached them) and a client without a certificate is refused', explained(async (ctx) => {
  assert.match(ctx.cluster.hubUrl!, /^mqtts:/);
  const anonymous = await connect(ctx, false, 'anonymous');
  assert.ok('error' in anonymous, 'refused');
}));

test('a certified box subscribed to # and to another site\'s scope receives that site\'s users never, its own site\'s yes', explained(async (ctx) => {
  const r = await connect(ctx, true, 'outpost-a1-attack');
  assert.ok('client' in r, 'a1 connects with its certificate');
  const a1 = (r as { client: MqttClient }).client;
  const got: string[] = [];
  a1.on('message', (t) => got.push(t));
  try {
    // Mosquitto grants MQTT 3.1.1 subscriptions and applies the ACL to each message it delivers.
    for (const filter of ['#', topics.hubChanges('site/b'), topics.syncResponse('a2'), topics.hubChanges('site/a')]) await granted(a1, filter);
    await ctx.cluster.addUser('3001', 'pw-3001-secret', 'b');
    await ctx.cluster.addUser('2002', 'pw-2002-secret', 'a');
    await waitFor(() => got.includes(topics.hubChanges('site/a')), 'site a\'s scope at a1', 30_000);
    await ctx.cluster.waitForUsers([ctx.cluster.hub], ['3001', '2002'], 30_000);
    assert.not.ok(got.includes(topics.hubChanges('site/b')), 'site b\'s users (with their HA1) never reach a box of site a');
  } finally {
    a1.end(true);
  }
}));

test('a certified box cannot overwrite the hub\'s retained state', explained(async (ctx) => {
  const r = await connect(ctx, true, 'outpost-a1-attack2');
  const a1 = (r as { client: MqttClient }).client;
  try {
    // Mosquitto acknowledges a denied publish and drops it.
    await a1.publishAsync(topics.nodeState('hub'), JSON.stringify({ nodeId: 'hub', forged: true }), { qos: 1, retain: true });
    const state = await new Promise<Record<string, unknown>>((resolve) => {
      a1.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as Record<string, unknown>));
      a1.subscribe(topics.nodeState('hub'), { qos: 1 });
    });
    assert.is(state['forged'], undefined, 'still the hub\'s own state');
    assert.is(state['role'], 'hub');
  } finally {
    a1.end(true);
  }
}));

/** Waits until the hub has reloaded Mosquitto with files that list `boxes` boxes and `revoked` revoked certificates. */
async function reloaded(ctx: Ctx, boxes: number, revoked: number): Promise<void> {
  await ctx.cluster.hub.waitForLog('mosquitto files rewritten and reloaded', 30_000, (l) => l['boxes'] === boxes && l['revoked'] === revoked);
}

test('a box certified after Mosquitto started gets its site\'s scope after the hub\'s reload', explained(async (ctx) => {
  const c = ctx.cluster;
  await reloaded(ctx, 2, 0);
  // An enrolment as the hub's enrolment service makes it: a certificate from the hub's CA in ca/issued/.
  const ca = await CertificateAuthority.loadOrCreate({ dataDir: c.hub.dataDir, hubId: 'hub', caDays: 3650, clock: createSystemClock() });
  const key = newTlsKey();
  const cert = await ca.issue({ identity: { nodeId: 'a3', site: 'a', role: 'node', nodeKey: undefined }, publicKey: spkiOfKey(createPrivateKey(key)), days: 1 });
  await reloaded(ctx, 3, 0);
  const r = await connect(ctx, true, 'outpost-a3-late', { key, cert, ca: ca.certificatePem });
  assert.ok('client' in r, `a3 connects: ${'error' in r ? r.error : ''}`);
  const a3 = (r as { client: MqttClient }).client;
  const got: string[] = [];
  a3.on('message', (t) => got.push(t));
  try {
    await granted(a3, topics.hubChanges('site/a'));
    await c.addUser('2003', 'pw-2003-secret', 'a');
    await waitFor(() => got.includes(topics.hubChanges('site/a')), 'site a\'s scope at a3', 30_000);
  } finally {
    a3.end(true);
  }
}));

/** The retained state of `nodeId` as a1 reads it now. */
async function retainedState(ctx: Ctx, nodeId: string): Promise<Record<string, unknown>> {
  const r = await connect(ctx, true, `outpost-a1-read-${Date.now()}`);
  const a1 = (r as { client: MqttClient }).client;
  try {
    return await new Promise<Record<string, unknown>>((resolve) => {
      a1.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as Record<string, unknown>));
      a1.subscribe(topics.nodeState(nodeId), { qos: 1 });
    });
  } finally {
    a1.end(true);
  }
}

test('a box revoked at the hub cannot connect to Mosquitto again after the reload, and a connection it kept is denied everything; the others still connect', explained(async (ctx) => {
  const c = ctx.cluster;
  const a2 = c.node('a2');
  const creds = readCredentials(a2.dataDir);
  assert.is(await a2.stop(), 0);
  const before = await connect(ctx, true, 'outpost-a2-kept', creds);
  assert.ok('client' in before, 'a2 connects before its revocation');
  const kept = (before as { client: MqttClient }).client;
  try {
    await kept.publishAsync(topics.nodeState('a2'), JSON.stringify({ nodeId: 'a2', marker: 'before' }), { qos: 1, retain: true });
    assert.is((await retainedState(ctx, 'a2'))['marker'], 'before', 'a2 may write its own state');
    const res = await runCli(['node', 'revoke', 'a2', '--config', c.hub.configFile], c.dir);
    assert.is(res.code, 0, `node revoke: ${res.stderr}`);
    await reloaded(ctx, 2, 1);
    // Mosquitto reloads after the signal, on its next loop: a new connection of a2 refused shows
    // the CRL, and with it the ACL (one reload), are in force.
    let last = '';
    await waitFor(async () => {
      const r = await connect(ctx, true, `outpost-a2-again-${Date.now()}`, creds);
      if ('client' in r) r.client.end(true);
      last = 'error' in r ? r.error : 'connected';
      return /revoked/.test(last);
    }, 'Mosquitto to refuse a2\'s certificate', 10_000, 100);
    // It keeps the connection a2 opened before, but the reloaded ACL denies it everything.
    await kept.publishAsync(topics.nodeState('a2'), JSON.stringify({ nodeId: 'a2', marker: 'after' }), { qos: 1, retain: true });
    assert.is((await retainedState(ctx, 'a2'))['marker'], 'before', 'the revoked connection writes nothing');
  } finally {
    kept.end(true);
  }
  const a1 = await connect(ctx, true, 'outpost-a1-after');
  assert.ok('client' in a1, `a1 still connects: ${'error' in a1 ? a1.error : ''}`);
  (a1 as { client: MqttClient }).client.end(true);
}));

test.run();
