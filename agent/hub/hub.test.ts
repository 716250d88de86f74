/**
 * The hub's composition root: what it logs when it stops, with nodes' links and a broker that
 * went away, over real sockets on OS-chosen ports.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { HubConfigSchema } from '../config/hub-schema.ts';
import { createLogger, createSilentLogger } from '../lib/logger.ts';
import { EmbeddedBroker } from '../sync/embedded-broker.ts';
import { buildHub } from './hub.ts';

const test = suite('buildHub');

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-hub-test-'));
  dirs.push(dir);
  return dir;
};

test.after(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A debug-level logger that keeps every line's message. */
function captureLogger(): { logger: ReturnType<typeof createLogger>; messages: string[] } {
  const messages: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) messages.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), messages };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

test('"hub stopped" is the last line, with clients connected to its embedded broker', async () => {
  const { logger, messages } = captureLogger();
  const hub = buildHub(HubConfigSchema.parse({ dataDir: tempDir(), mqtt: { listen: 'mqtt://127.0.0.1:0' }, metrics: { listen: '127.0.0.1:0' } }), logger);
  await hub.start();
  const port = Number(new URL(hub.brokerUrl()).port);
  // A client that never sends CONNECT: aedes does not know it until the broker drops it.
  const silent = net.connect(port, '127.0.0.1');
  silent.on('error', () => {});
  await new Promise((resolve) => silent.once('connect', resolve));
  await settle();
  await hub.stop();
  await settle();
  assert.is(messages.at(-1), 'hub stopped', messages.join(' | '));
});

test('"hub stopped" is the last line when its external broker went away first', async () => {
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, logger: createSilentLogger() });
  await broker.start();
  const { logger, messages } = captureLogger();
  const hub = buildHub(HubConfigSchema.parse({ dataDir: tempDir(), mqtt: { url: broker.url } }), logger);
  await hub.start();
  await settle();
  await broker.stop();
  await settle();
  await hub.stop();
  await new Promise((resolve) => setTimeout(resolve, 1500)); // past a reconnect period
  assert.is(messages.at(-1), 'hub stopped', messages.join(' | '));
});

test('"hub stopped" is the last line when its external broker hangs', async () => {
  const broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, logger: createSilentLogger() });
  await broker.start();
  // A relay to the broker that can be frozen: the link stays open but nothing gets through.
  let frozen = false;
  const sockets: net.Socket[] = [];
  const relay = net.createServer((client) => {
    const upstream = net.connect(broker.address.port, '127.0.0.1');
    sockets.push(client, upstream);
    for (const s of [client, upstream]) s.on('error', () => {});
    client.on('data', (d) => !frozen && upstream.write(d));
    upstream.on('data', (d) => !frozen && client.write(d));
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${(relay.address() as net.AddressInfo).port}`;
  const { logger, messages } = captureLogger();
  const hub = buildHub(HubConfigSchema.parse({ dataDir: tempDir(), mqtt: { url } }), logger);
  await hub.start();
  await settle();
  frozen = true;
  await hub.stop();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => setTimeout(resolve, 500));
  relay.close();
  await broker.stop();
  assert.is(messages.at(-1), 'hub stopped', messages.join(' | '));
});

test.run();
