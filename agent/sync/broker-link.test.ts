/**
 * BrokerLink's backpressure against a real aedes broker on 127.0.0.1 that can go silent: while
 * `silent`, it holds every PUBLISH it receives without acknowledging it (authorizePublish never
 * answers), with the TCP connection open, as a broker behind a cut cable looks until the MQTT
 * keep-alive notices. A full link waits for room while acknowledgements come, and gives up
 * after `stallMs` without one (the partition drills' hub cut, docs/partition-drills.md).
 * The broker is test/helpers/silent-broker.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { silentBroker } from '../../test/helpers/silent-broker.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { BrokerLink } from './broker-link.ts';

async function connectedLink(url: string): Promise<BrokerLink> {
  const link = new BrokerLink({ name: 'hub', url, clientId: `test-${process.hrtime.bigint()}`, subscriptions: ['x/#'], onMessage: () => {}, logger: createSilentLogger() });
  link.start();
  await waitFor(() => link.connected, 'the link to connect', 3_000, 5);
  return link;
}

const test = suite('BrokerLink.waitForRoom');

test('a link with room: true at once', async () => {
  const broker = await silentBroker();
  const link = await connectedLink(broker.url);
  try {
    assert.is(await link.waitForRoom(2, 100), true);
    await link.publish('x/1', 'a');
    assert.is(await link.waitForRoom(2, 100), true, 'acknowledged: room again');
  } finally {
    await link.stop();
    await broker.close();
  }
});

test('full while the broker acknowledges late: waits for the acknowledgement, then true', async () => {
  const broker = await silentBroker();
  const link = await connectedLink(broker.url);
  try {
    broker.silent = true;
    void link.publish('x/1', 'a');
    void link.publish('x/2', 'b');
    await waitFor(() => link.inFlight === 2, 'two publishes in flight', 1_000, 5);
    let settled: boolean | undefined;
    const room = link.waitForRoom(2, 10_000).then((r) => (settled = r));
    // One turn of the event loop: the wait has registered; only an acknowledgement or the 10 s stall ends it.
    await new Promise((r) => setImmediate(r));
    assert.is(settled, undefined, 'still waiting: full, acknowledged nothing yet, well within stallMs');
    broker.silent = false;
    broker.release();
    assert.is(await room, true);
  } finally {
    await link.stop();
    await broker.close();
  }
});

test('full and the broker silent for stallMs: false, with the connection still up', async () => {
  const broker = await silentBroker();
  const link = await connectedLink(broker.url);
  try {
    broker.silent = true;
    void link.publish('x/1', 'a').catch(() => undefined);
    void link.publish('x/2', 'b').catch(() => undefined);
    await waitFor(() => link.inFlight === 2, 'two publishes in flight', 1_000, 5);
    const started = Date.now();
    assert.is(await link.waitForRoom(2, 150), false);
    assert.ok(Date.now() - started >= 100, 'it waited for the stall period first');
    assert.ok(link.connected, 'the connection still looks open');
    assert.is(await link.waitForRoom(2, 150), false, 'still stalled: false at once');
    broker.silent = false;
    broker.release();
    await waitFor(() => link.inFlight === 0, 'the late acknowledgements', 1_000, 5);
    assert.is(await link.waitForRoom(2, 150), true, 'acknowledged: room again');
  } finally {
    await link.stop();
    await broker.close();
  }
});

test.run();
