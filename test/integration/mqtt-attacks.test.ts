/**
 * The attacks of issue 12 against a secure cluster (docs/security.md), with real processes: a
 * hub (embedded aedes over mutual TLS) and boxes a1, a2 of site a, enrolled with claim codes;
 * the attacker is an anonymous MQTT client, then a box b1 of site b enrolled for real, speaking
 * MQTT with its own certificate (mqtt.js). Each attack must now fail: an anonymous client cannot
 * connect; b1 cannot subscribe to site a's scope (users with their HA1) or to everything, cannot
 * publish outside its topics or overwrite another node's retained state, cannot claim site a in
 * its own state, and a batch or catch-up request naming an unknown sender creates no stream, no
 * `nodes` row and no answer. Last, a box rebuilt with a new key rejoins with a claim for its id.
 * Runs alone too: node --import tsx test/integration/mqtt-attacks.test.ts
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Store } from '../../agent/store/store.ts';
import { SCHEMA_VERSION } from '../../agent/store/migrations/index.ts';
import { NodeKey } from '../../agent/sync/node-key.ts';
import { readCredentials } from '../../agent/trust/credentials.ts';
import { derOfPem } from '../../agent/trust/verify-certificate.ts';
import { encodeBatch } from '../../agent/wire/change-batch.ts';
import { topics } from '../../agent/wire/topics.ts';
import { runCli } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { explainedOn, SyncCluster } from '../helpers/sync-cluster.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

interface Ctx {
  cluster: SyncCluster;
  failed: boolean;
  /** b1's data directory (its credentials and node key). */
  b1Dir: string;
  url: string;
}

const test = suite<Ctx>('MQTT attacks against a secure cluster');
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

/** Connects with b1's certificate (or none); resolves with the client or the connection error. */
function connect(ctx: Ctx, withCertificate: boolean, clientId: string): Promise<{ client: MqttClient } | { error: string }> {
  const c = readCredentials(ctx.b1Dir);
  return new Promise((resolve) => {
    // checkServerIdentity: the attacker does not care who the broker is (not in mqtt.js' types).
    const client = mqtt.connect(ctx.url, {
      clientId,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ca: c.ca,
      rejectUnauthorized: true,
      ...({ checkServerIdentity: () => undefined } as object),
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

async function asB1(ctx: Ctx, id = 'outpost-b1-attack'): Promise<MqttClient> {
  const r = await connect(ctx, true, id);
  if ('error' in r) throw new HarnessError(`b1 cannot connect: ${r.error}`);
  return r.client;
}

/** The QoS the broker granted the filter; 128 when it refused it (mqtt.js reports SUBACK 0x80 as an error). */
function subscribe(client: MqttClient, filter: string): Promise<number> {
  return new Promise((resolve) => client.subscribe(filter, { qos: 1 }, (err, granted) => resolve(err ? 128 : granted![0]!.qos)));
}

/** b1's state as it would announce it, with `patch` applied. */
function b1State(ctx: Ctx, patch: Record<string, unknown> = {}): string {
  const key = NodeKey.loadOrCreate(ctx.b1Dir);
  return JSON.stringify({
    nodeId: 'b1', role: 'node', site: 'b', online: true, publicKey: key.publicKey, siteId: 'b'.repeat(32), schema: SCHEMA_VERSION, head: '0', at: Date.now(),
    certificate: derOfPem(readCredentials(ctx.b1Dir).cert), ...patch,
  });
}

function hubNodes(ctx: Ctx): Array<{ id: string; site: string }> {
  const store = Store.open({ dataDir: ctx.cluster.hub.dataDir, mustExist: true });
  try {
    return store.nodes.list().map((n) => ({ id: n.id, site: n.site }));
  } finally {
    store.close();
  }
}

test.before(async (ctx) => {
  ctx.failed = false;
  ctx.cluster = await SyncCluster.create({ broker: 'embedded', nodes: ['a1', 'a2'], site: 'a' });
  await ctx.cluster.start();
  ctx.url = ctx.cluster.hubUrl!;
  await ctx.cluster.addUser('2001', 'pw-2001-secret', 'a');
  await ctx.cluster.waitForUsers(ctx.cluster.nodes, ['2001'], 30_000);
  // The attacker: a box of site b with a real certificate.
  const dir = ctx.cluster.dir;
  const claimFile = join(dir, 'b1.claim.json');
  const made = await runCli(['enrol', 'create', '--site', 'b', '--node', 'b1', '--no-qr', '--write', claimFile, '--config', ctx.cluster.hub.configFile], dir);
  assert.is(made.code, 0, made.stderr);
  writeFileSync(join(dir, 'b1.yaml'), 'node: { id: b1, site: b }\ndataDir: ./b1\nsip: { domain: sync.example, listen: ["udp:127.0.0.1:0"] }\n');
  const joined = await runCli(['enrol', 'join', '--claim-file', claimFile, '--config', join(dir, 'b1.yaml')], dir);
  assert.is(joined.code, 0, joined.stderr);
  ctx.b1Dir = join(dir, 'b1');
});

test.after(async (ctx) => {
  await ctx.cluster?.destroy(!ctx.failed);
});

test('an anonymous client (no certificate) cannot connect, over TLS or plain', explained(async (ctx) => {
  const anonymous = await connect(ctx, false, 'anonymous');
  assert.ok('error' in anonymous, 'refused in the TLS handshake');
  const plain = await new Promise<string>((resolve) => {
    const c = mqtt.connect(ctx.url.replace('mqtts:', 'mqtt:'), { reconnectPeriod: 0, connectTimeout: 3000 });
    c.once('connect', () => resolve('connected'));
    c.once('error', () => resolve('refused'));
    c.once('close', () => resolve('refused'));
  });
  assert.is(plain, 'refused');
}));

test('a certified box of another site cannot subscribe to site a\'s users, to everything, or to a\'s replies', explained(async (ctx) => {
  const b1 = await asB1(ctx);
  try {
    assert.is(await subscribe(b1, topics.hubChanges('site/a')), 128);
    assert.is(await subscribe(b1, '#'), 128);
    assert.is(await subscribe(b1, 'outpost/v1/#'), 128);
    assert.is(await subscribe(b1, topics.syncResponse('a1')), 128);
    assert.is(await subscribe(b1, topics.hubChanges('site/b')), 1, 'its own site\'s scope is allowed');
  } finally {
    b1.end(true);
  }
}));

test('it cannot overwrite another node\'s retained state, nor publish outside its topics', explained(async (ctx) => {
  for (const topic of [topics.nodeState('hub'), topics.nodeState('a1'), topics.hubChanges('site/a'), 'outpost/v1/node/a1/changes']) {
    const b1 = await asB1(ctx);
    const closed = new Promise<void>((resolve) => b1.once('close', () => resolve()));
    b1.publish(topic, b1State(ctx, { nodeId: 'hub' }), { qos: 1, retain: true });
    await closed; // aedes closes a client whose publish the ACL refuses
    b1.end(true);
  }
  // The retained states are still the real ones: a2 still believes the hub and a1.
  const hubState = await new Promise<string>((resolve) => {
    void asB1(ctx, 'outpost-b1-reader').then((c) => {
      c.on('message', (_t, p) => {
        resolve(JSON.parse(p.toString()).site as string);
        c.end(true);
      });
      c.subscribe(topics.nodeState('hub'), { qos: 1 });
    });
  });
  assert.is(hubState, '', 'the hub\'s retained state is the hub\'s');
}));

test('it cannot claim site a in its state: refused and counted by the hub, no nodes row', explained(async (ctx) => {
  const b1 = await asB1(ctx);
  try {
    await b1.publishAsync(topics.nodeState('b1'), b1State(ctx, { site: 'a' }), { qos: 1, retain: true });
    await waitFor(() => ctx.cluster.hub.logs.some((l) => l.line['msg'] === 'node state refused: not what its certificate says' && l.line['node'] === 'b1'), 'the hub refusing b1\'s state', 10_000);
    assert.not.ok(hubNodes(ctx).some((n) => n.id === 'b1'), 'no nodes row');
    // The status file is rewritten every second: the count shows there within a few seconds of the log line.
    await waitFor(async () => ((await ctx.cluster.status(ctx.cluster.hub)).sync?.counters.identityRefused ?? 0) >= 1, 'outpost status of the hub to count the refused state', 10_000, 250);
  } finally {
    await b1.publishAsync(topics.nodeState('b1'), '', { qos: 1, retain: true });
    b1.end(true);
  }
}));

test('a batch or a catch-up request from an unknown sender gets no stream, no nodes row and no answer', explained(async (ctx) => {
  const b1 = await asB1(ctx);
  try {
    // b1's state was never believed (the last one claimed site a): it is unknown to the hub.
    const key = NodeKey.loadOrCreate(ctx.b1Dir);
    const batch = encodeBatch({ sender: 'b1', stream: 'own', kind: 'push', requestId: '', from: 0n, to: 5n, more: false, schema: SCHEMA_VERSION, changes: [] }, (b) => key.sign(b));
    await b1.publishAsync(topics.nodeChanges('b1'), Buffer.from(batch), { qos: 1 });
    const request = { requester: 'b1', stream: 'site/a', since: '0', limit: 100, replyTo: topics.syncResponse('b1'), requestId: 'attack-1' };
    await b1.publishAsync(topics.syncRequest('hub'), JSON.stringify(request), { qos: 1 });
    await waitFor(async () => {
      const c = (await ctx.cluster.status(ctx.cluster.hub)).sync?.counters;
      return c !== undefined && c.unknownSender >= 1 && (c.requestsRefused ?? 0) >= 1;
    }, 'the hub refusing the batch and the request', 15_000);
    const status = await ctx.cluster.status(ctx.cluster.hub);
    assert.not.ok(JSON.stringify(status.sync).includes('"b1"'), 'no stream of b1');
    assert.not.ok(hubNodes(ctx).some((n) => n.id === 'b1'), 'no nodes row');
  } finally {
    b1.end(true);
  }
}));

test('the boxes of site a still replicate over mTLS: a user added at the hub reaches them', explained(async (ctx) => {
  await ctx.cluster.addUser('2002', 'pw-2002-secret', 'a');
  await ctx.cluster.waitForUsers(ctx.cluster.nodes, ['2001', '2002'], 30_000);
  assert.ok(readFileSync(join(ctx.cluster.node('a1').dataDir, 'node.crt'), 'utf8').includes('BEGIN CERTIFICATE'));
}));

test('a2 rebuilt with a new key enrols again with a claim for its id and converges; its old store is gone', explained(async (ctx) => {
  const a2 = ctx.cluster.node('a2');
  assert.is(await a2.stop(), 0);
  rmSync(a2.dataDir, { recursive: true, force: true });
  await ctx.cluster.reenrol(a2);
  await a2.start();
  await ctx.cluster.waitForUsers([a2], ['2001', '2002'], 30_000);
  const { result } = await ctx.cluster.register(a2, '2001', 'rebuilt');
  assert.ok(result.ok, `REGISTER at the rebuilt a2: ${result.status ?? 'no answer'}`);
  await waitFor(() => ctx.cluster.snapshot(ctx.cluster.hub).bindings.size > 0, 'a2\'s registration at the hub', 30_000);
}));

test.run();
