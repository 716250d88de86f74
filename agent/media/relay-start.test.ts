/**
 * UdpMediaRelay.start() checks that it can bind on rtp.address in rtp.portRange: a failure is a
 * MediaError('media.bind') whose cause is a BindError with the address and the whole range, at
 * start rather than at the first call; the check leaves the allocation order unchanged.
 */
import { createSocket, type Socket } from 'node:dgram';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { BindError, findCause, hasCode } from '../lib/errors.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { findFreePortRange } from './fake-phone.ts';
import { UdpMediaRelay } from './udp-media-relay.ts';

const relayOn = (address: string, portRange: [number, number]) =>
  new UdpMediaRelay({ address, portRange, timeoutMs: 5000, clock: new ManualClock(), logger: createSilentLogger() });

async function startFailure(relay: UdpMediaRelay): Promise<BindError> {
  try {
    await relay.start();
  } catch (err) {
    assert.ok(hasCode(err, 'media.bind'), String(err));
    const bind = findCause(err, BindError);
    assert.ok(bind, 'a BindError as the cause');
    return bind!;
  }
  assert.unreachable('start() should fail');
  return undefined as never;
}

function hold(port: number): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((resolve) => s.bind(port, '127.0.0.1', () => resolve(s)));
}

const test = suite('UdpMediaRelay.start bind check');

test('an address that is not on this host fails at start, naming the address and the range', async () => {
  const range = await findFreePortRange(4);
  const relay = relayOn('192.0.2.7', range);
  const bind = await startFailure(relay);
  assert.equal([bind.protocol, bind.host, bind.ports, bind.errno], ['udp', '192.0.2.7', range, 'EADDRNOTAVAIL']);
  // allocate() reports the same failure instead of binding.
  try {
    await relay.allocate('call', { onMediaTimeout: () => {} });
    assert.unreachable();
  } catch (err) {
    assert.ok(hasCode(err, 'media.bind'));
  }
});

test('a range whose every pair is taken fails at start with "every port pair of the range is in use"', async () => {
  const range = await findFreePortRange(4);
  const held = await Promise.all([range[0], range[0] + 2].map((p) => hold(p)));
  try {
    const bind = await startFailure(relayOn('127.0.0.1', range));
    assert.equal([bind.ports, bind.errno, bind.reason], [range, 'EADDRINUSE', 'every port pair of the range is in use']);
  } finally {
    for (const s of held) s.close();
  }
});

test('a successful check binds nothing for long and keeps the allocation order (first pair first)', async () => {
  const range = await findFreePortRange(4);
  const relay = relayOn('127.0.0.1', range);
  void relay.start(); // not awaited, as some callers do: allocate() waits for the check
  const session = await relay.allocate('call', { onMediaTimeout: () => {} });
  assert.is(session.local('a').rtpPort, range[0] + (range[0] % 2));
  session.release();
  await relay.stop();
});

test.run();
