/**
 * Session lifecycle with real sockets: the media timeout driven by a ManualClock (the relay
 * checks once per second of clock time), release and stop freeing ports, exhaustion.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Socket } from 'node:dgram';
import { ManualClock } from '../lib/clock.ts';
import { hasCode } from '../lib/errors.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { FakePhone, findFreePortRange, rtpPacket } from './fake-phone.ts';
import type { RelaySession } from './relay-types.ts';
import { bindUdp } from './socket-pair.ts';
import { UdpMediaRelay } from './udp-media-relay.ts';

let range: [number, number] = [0, 0];
const TIMEOUT = 5000;

async function setup(portRange = range) {
  const clock = new ManualClock();
  const relay = new UdpMediaRelay({ address: '127.0.0.1', portRange, timeoutMs: TIMEOUT, clock, logger: createSilentLogger() });
  relay.start();
  const alice = await FakePhone.open();
  const bob = await FakePhone.open();
  const fired: RelaySession[] = [];
  const session = await relay.allocate('call-t', { onMediaTimeout: (s) => fired.push(s) });
  let seq = 0;
  /** One RTP packet from a phone through the relay, waited for at the other phone. */
  const talk = async (from: 'a' | 'b') => {
    const [src, dst] = from === 'a' ? [alice, bob] : [bob, alice];
    const before = dst.rtpIn.length;
    src.sendRtp(rtpPacket({ seq: ++seq, ts: seq * 160, ssrc: from === 'a' ? 1 : 2 }), session.local(from).rtpPort);
    await dst.waitRtp(before + 1);
  };
  const close = async () => {
    alice.close();
    bob.close();
    await relay.stop();
  };
  return { clock, relay, alice, bob, session, fired, talk, close };
}

const timeout = suite('media timeout');

timeout.before(async () => {
  range = await findFreePortRange(40);
});

timeout('fires once after timeoutMs without RTP from the sending parties', async () => {
  const w = await setup();
  try {
    w.session.update('a', w.alice.media());
    w.session.update('b', w.bob.media());
    w.clock.advance(TIMEOUT - 1000);
    assert.is(w.fired.length, 0);
    await w.talk('a');
    w.clock.advance(TIMEOUT - 1000); // activity seen at the next check restarts the wait
    assert.is(w.fired.length, 0);
    w.clock.advance(2000);
    assert.is(w.fired.length, 1);
    assert.is(w.fired[0], w.session);
    w.clock.advance(3 * TIMEOUT);
    assert.is(w.fired.length, 1, 'only once');
  } finally {
    await w.close();
  }
});

timeout('RTP from either sending party keeps the call alive', async () => {
  const w = await setup();
  try {
    w.session.update('a', w.alice.media());
    w.session.update('b', w.bob.media());
    for (let i = 0; i < 4; i++) {
      await w.talk(i % 2 === 0 ? 'a' : 'b');
      w.clock.advance(TIMEOUT - 1000);
    }
    assert.is(w.fired.length, 0);
  } finally {
    await w.close();
  }
});

timeout('a party on hold does not count; both on hold never times out', async () => {
  const w = await setup();
  try {
    w.session.update('a', w.alice.media({ sending: false }));
    w.session.update('b', w.bob.media());
    for (let i = 0; i < 3; i++) {
      await w.talk('b'); // only bob talks: alice is on hold, her silence is expected
      w.clock.advance(TIMEOUT - 1000);
    }
    assert.is(w.fired.length, 0);
    w.session.update('b', w.bob.media({ sending: false }));
    w.clock.advance(10 * TIMEOUT);
    assert.is(w.fired.length, 0);
    // alice resumes and gets the full timeout from the re-INVITE on
    w.session.update('a', w.alice.media());
    w.clock.advance(TIMEOUT - 1000);
    assert.is(w.fired.length, 0);
    w.clock.advance(2000);
    assert.is(w.fired.length, 1);
  } finally {
    await w.close();
  }
});

timeout('the wait starts when both legs have remote media', async () => {
  const w = await setup();
  try {
    w.session.update('a', w.alice.media());
    w.clock.advance(10 * TIMEOUT);
    assert.is(w.fired.length, 0);
    w.session.update('b', w.bob.media());
    w.clock.advance(TIMEOUT - 1000);
    assert.is(w.fired.length, 0);
    w.clock.advance(2000);
    assert.is(w.fired.length, 1);
  } finally {
    await w.close();
  }
});

const lifecycle = suite('release and stop');

lifecycle.before(async () => {
  range = await findFreePortRange(40);
});

lifecycle('release() closes the sockets and returns the ports; it is idempotent', async () => {
  const w = await setup();
  const held: Socket[] = [];
  try {
    const free = w.relay.freePortPairs;
    const ports = [w.session.local('a'), w.session.local('b')].flatMap((l) => [l.rtpPort, l.rtcpPort]);
    w.session.release();
    w.session.release();
    assert.is(w.relay.activeSessions, 0);
    assert.is(w.relay.freePortPairs, free + 2);
    for (const port of ports) held.push(await bindUdp('127.0.0.1', port));
    w.session.update('a', w.alice.media()); // after release: ignored, no throw
    assert.is(w.session.stats().a.packetsIn, 0);
  } finally {
    for (const s of held) s.close();
    await w.close();
  }
});

lifecycle('stop() releases every session; allocate() afterwards is media.stopped', async () => {
  const w = await setup();
  try {
    await w.relay.allocate('call-2', { onMediaTimeout: () => {} });
    assert.is(w.relay.activeSessions, 2);
    await w.relay.stop();
    assert.is(w.relay.activeSessions, 0);
    assert.is(w.clock.pendingCount, 0, 'no timer left');
    try {
      await w.relay.allocate('call-3', { onMediaTimeout: () => {} });
      assert.unreachable('should throw');
    } catch (err) {
      assert.ok(hasCode(err, 'media.stopped'));
    }
  } finally {
    await w.close();
  }
});

lifecycle('exhaustion: media.ports-exhausted, and a half-allocated session gives its pair back', async () => {
  const [lo] = range;
  const w = await setup([lo, lo + 5]); // 3 pairs: one session (2) and one spare
  try {
    assert.is(w.relay.freePortPairs, 1);
    try {
      await w.relay.allocate('call-2', { onMediaTimeout: () => {} });
      assert.unreachable('should throw');
    } catch (err) {
      assert.ok(hasCode(err, 'media.ports-exhausted'));
    }
    assert.is(w.relay.freePortPairs, 1);
    assert.is(w.relay.activeSessions, 1);
    w.session.release();
    const again = await w.relay.allocate('call-3', { onMediaTimeout: () => {} });
    assert.is(again.local('a').rtpPort % 2, 0);
  } finally {
    await w.close();
  }
});

timeout.run();
lifecycle.run();
