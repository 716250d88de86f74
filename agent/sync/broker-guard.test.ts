/**
 * The embedded broker over mutual TLS with the certificate ACL (broker-guard.ts), in process:
 * real aedes, real TLS, real mqtt.js clients holding certificates from a CA made for the test.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { CertificateAuthority } from '../trust/ca.ts';
import { newTlsKey, type Credentials } from '../trust/credentials.ts';
import type { NodeIdentity } from '../trust/identity.ts';
import { spkiOfKey } from '../trust/x509.ts';
import { topics } from '../wire/topics.ts';
import { EmbeddedBroker } from './embedded-broker.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

interface Ctx {
  dir: string;
  ca: CertificateAuthority;
  broker: EmbeddedBroker;
  creds: Map<string, Credentials>;
  open: MqttClient[];
  revoked: Map<string, { nodeId: string; revokedAt: number }>;
}

const test = suite<Ctx>('EmbeddedBroker over mTLS (BrokerGuard)');

async function credentialsFor(ca: CertificateAuthority, identity: Omit<NodeIdentity, 'nodeKey'>): Promise<Credentials> {
  const key = newTlsKey();
  const cert = await ca.issue({ identity: { ...identity, nodeKey: undefined }, publicKey: spkiOfKey(createPrivateKey(key)), days: 1, serverNames: ['127.0.0.1'] });
  return { key, cert, ca: ca.certificatePem };
}

function connect(ctx: Ctx, who: string | undefined): Promise<MqttClient | string> {
  const c = who ? ctx.creds.get(who)! : undefined;
  return new Promise((resolve) => {
    const client = mqtt.connect(ctx.broker.url, {
      clientId: `test-${who ?? 'anonymous'}-${ctx.open.length}`, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000,
      ca: ctx.creds.get('hub')!.ca, ...(c ? { key: c.key, cert: c.cert } : {}),
    });
    ctx.open.push(client);
    client.once('connect', () => resolve(client));
    client.once('error', (err) => resolve(err.message));
    client.once('close', () => resolve('closed'));
  });
}

async function as(ctx: Ctx, who: string): Promise<MqttClient> {
  const c = await connect(ctx, who);
  if (typeof c === 'string') throw new HarnessError(`${who} cannot connect: ${c}`);
  return c;
}

const granted = (c: MqttClient, filter: string) => new Promise<number>((resolve) => c.subscribe(filter, { qos: 1 }, (err, g) => resolve(err ? 128 : g![0]!.qos)));


test.before.each(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-guard-'));
  ctx.ca = await CertificateAuthority.loadOrCreate({ dataDir: ctx.dir, hubId: 'hub', caDays: 30, clock: new ManualClock(Date.now()) });
  ctx.creds = new Map();
  ctx.open = [];
  ctx.revoked = new Map();
  ctx.creds.set('hub', await credentialsFor(ctx.ca, { nodeId: 'hub', site: '', role: 'hub' }));
  for (const [id, site] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b']] as const) ctx.creds.set(id, await credentialsFor(ctx.ca, { nodeId: id, site, role: 'node' }));
  ctx.broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, logger: createSilentLogger(), tls: { credentials: ctx.creds.get('hub')!, owner: { nodeId: 'hub', site: '', role: 'hub' }, revoked: (s) => ctx.revoked.get(s) } });
  await ctx.broker.start();
});

test.after.each(async (ctx) => {
  for (const c of ctx.open) c.end(true);
  await ctx.broker.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

test('mqtts URL; a client without a certificate fails in the TLS handshake', async (ctx) => {
  assert.match(ctx.broker.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
  assert.type(await connect(ctx, undefined), 'string');
  assert.is(ctx.broker.clients, 0);
});

test('subscriptions: its site\'s scope yes; another site\'s scope, # and another box\'s replies no', async (ctx) => {
  const a1 = await as(ctx, 'a1');
  assert.is(await granted(a1, topics.hubChanges('site/a')), 1);
  assert.is(await granted(a1, topics.hubChanges('site/b')), 128);
  assert.is(await granted(a1, '#'), 128);
  assert.is(await granted(a1, topics.syncResponse('a2')), 128);
  assert.is(ctx.broker.guard!.stats.refusedSubscribes, 3);
});

test('a box that publishes another node\'s retained state is disconnected; the retained state stays the owner\'s', async (ctx) => {
  const a2 = await as(ctx, 'a2');
  await a2.publishAsync(topics.nodeState('a2'), 'a2-real', { qos: 1, retain: true });
  const a1 = await as(ctx, 'a1');
  const closed = new Promise<void>((resolve) => a1.once('close', () => resolve()));
  a1.publish(topics.nodeState('a2'), 'forged', { qos: 1, retain: true });
  await closed;
  assert.is(ctx.broker.guard!.stats.refusedPublishes, 1);
  const reader = await as(ctx, 'hub');
  const got: string[] = [];
  reader.on('message', (_t, p) => got.push(p.toString()));
  await reader.subscribeAsync(topics.nodeState('a2'), { qos: 1 });
  await waitFor(() => got.length > 0, 'the retained state', 3000, 5);
  assert.equal(got, ['a2-real']);
});

test('node/+/state delivers the states of its own site\'s boxes only (authorizeForward)', async (ctx) => {
  const a1 = await as(ctx, 'a1');
  const got: string[] = [];
  a1.on('message', (t) => got.push(t));
  assert.is(await granted(a1, topics.allNodeStates), 1);
  const a2 = await as(ctx, 'a2');
  const b1 = await as(ctx, 'b1');
  await b1.publishAsync(topics.nodeState('b1'), 'b1', { qos: 1, retain: true });
  await a2.publishAsync(topics.nodeState('a2'), 'a2', { qos: 1, retain: true });
  await waitFor(() => got.includes(topics.nodeState('a2')), 'a2\'s state at a1', 3000, 5);
  assert.not.ok(got.includes(topics.nodeState('b1')), 'another site\'s box');
  assert.ok(ctx.broker.guard!.stats.filtered >= 1);
});

const serialOf = (ctx: Ctx, who: string) => new X509Certificate(ctx.creds.get(who)!.cert).serialNumber.toLowerCase();

test('a revoked certificate is refused at CONNECT; a connected client is cut at its next publish', async (ctx) => {
  const a2 = await as(ctx, 'a2');
  ctx.revoked.set(serialOf(ctx, 'a2'), { nodeId: 'a2', revokedAt: 0 });
  const closed = new Promise<void>((resolve) => a2.once('close', () => resolve()));
  a2.publish(topics.nodeState('a2'), 'after revocation', { qos: 1, retain: true });
  await closed;
  assert.is(ctx.broker.guard!.stats.refusedRevoked, 1);
  assert.type(await connect(ctx, 'a2'), 'string');
  assert.is(ctx.broker.guard!.stats.refusedRevoked, 2);
  assert.type(await connect(ctx, 'a1'), 'object', 'another box still connects');
});

test.run();
