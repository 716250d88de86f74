/**
 * EmbeddedBroker against real mqtt.js clients (MQTT 3.1.1) on an OS-chosen port.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { hasCode } from '../lib/errors.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { EmbeddedBroker } from './embedded-broker.ts';
import { SyncError } from './errors.ts';

const test = suite('EmbeddedBroker');

async function waitFor(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const open: MqttClient[] = [];

async function connect(broker: EmbeddedBroker, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(broker.url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000, ...options });
  open.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

interface Received { topic: string; payload: string; retain: boolean }

function collect(client: MqttClient): Received[] {
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  return got;
}

let broker: EmbeddedBroker;

test.before.each(async () => {
  broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, logger: createSilentLogger() });
  await broker.start();
});

test.after.each(async () => {
  for (const client of open.splice(0)) client.end(true);
  await broker.stop();
});

test('binds an OS-chosen port and reports its url', () => {
  assert.is(broker.address.host, '127.0.0.1');
  assert.ok(broker.address.port > 0);
  assert.is(broker.url, `mqtt://127.0.0.1:${broker.address.port}`);
});

test('a QoS 1 publish reaches a subscriber', async () => {
  const sub = await connect(broker, { clientId: 'sub' });
  const pub = await connect(broker, { clientId: 'pub' });
  await waitFor('two clients', () => broker.clients === 2);
  const got = collect(sub);
  await sub.subscribeAsync('outpost/test', { qos: 1 });
  await pub.publishAsync('outpost/test', 'hello', { qos: 1 });
  await waitFor('delivery', () => got.length === 1);
  assert.equal(got[0], { topic: 'outpost/test', payload: 'hello', retain: false });
  assert.equal(broker.stats(), { clients: 2, published: 1 });
});

test('a retained message is delivered to a later subscriber', async () => {
  const pub = await connect(broker);
  await pub.publishAsync('outpost/state', 'up', { qos: 1, retain: true });
  const late = await connect(broker);
  const got = collect(late);
  await late.subscribeAsync('outpost/#', { qos: 1 });
  await waitFor('retained delivery', () => got.length === 1);
  assert.equal(got[0], { topic: 'outpost/state', payload: 'up', retain: true });
});

test('a will is published when a client socket is destroyed', async () => {
  const watcher = await connect(broker, { clientId: 'watcher' });
  const got = collect(watcher);
  await watcher.subscribeAsync('outpost/will/+', { qos: 1 });
  const doomed = await connect(broker, {
    clientId: 'doomed',
    will: { topic: 'outpost/will/doomed', payload: Buffer.from('gone'), qos: 1, retain: false },
  });
  await waitFor('two clients', () => broker.clients === 2);
  doomed.stream.destroy();
  await waitFor('will delivery', () => got.length === 1);
  assert.equal(got[0], { topic: 'outpost/will/doomed', payload: 'gone', retain: false });
  await waitFor('disconnect', () => broker.clients === 1);
});

test('stop() with clients connected resolves promptly and is idempotent', async () => {
  const a = await connect(broker);
  await connect(broker);
  // A socket that never sends CONNECT: aedes does not know it, stop() must still drop it.
  const silent = net.connect(broker.address.port, '127.0.0.1');
  silent.on('error', () => {});
  await new Promise((resolve) => silent.once('connect', resolve));
  await waitFor('two clients', () => broker.clients === 2);
  const started = Date.now();
  await broker.stop();
  await broker.stop();
  assert.ok(Date.now() - started < 1000, `stop took ${Date.now() - started} ms`);
  assert.is(broker.clients, 0);
  await waitFor('client sees close', () => !a.connected);
  await waitFor('silent socket closed', () => silent.closed);
});

test('start() on a busy port rejects with SyncError sync.listen naming the address', async () => {
  const second = new EmbeddedBroker({ host: '127.0.0.1', port: broker.address.port, logger: createSilentLogger() });
  try {
    await second.start();
    assert.unreachable('should throw');
  } catch (err) {
    assert.instance(err, SyncError);
    assert.ok(hasCode(err, 'sync.listen'));
    assert.is((err as Error).message, `cannot listen for MQTT on 127.0.0.1:${broker.address.port}: address in use`);
  }
  await second.stop();
});

test.run();
