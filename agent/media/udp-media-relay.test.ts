/**
 * The relay with real UDP sockets on 127.0.0.1: fake phones send RTP/RTCP through a session and
 * the tests check the bytes that come out the other side. Negative checks ("this packet was
 * dropped") send the unwanted packet first and a wanted one after it on the same path, then wait
 * for the wanted one: loopback keeps the order, so no sleep is needed.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { FakePhone, findFreePortRange, pollUntil, rtpPacket, senderReport } from './fake-phone.ts';
import type { UdpRelaySession } from './relay-session.ts';
import { UdpMediaRelay } from './udp-media-relay.ts';

interface World {
  relay: UdpMediaRelay;
  clock: ManualClock;
  session: UdpRelaySession;
  alice: FakePhone;
  bob: FakePhone;
  timeouts: number;
  close(): Promise<void>;
}

let range: [number, number] = [0, 0];

async function world(opts: { timeoutMs?: number; range?: [number, number] } = {}): Promise<World> {
  const clock = new ManualClock();
  const relay = new UdpMediaRelay({ address: '127.0.0.1', portRange: opts.range ?? range, timeoutMs: opts.timeoutMs ?? 5000, clock, logger: createSilentLogger() });
  relay.start();
  const alice = await FakePhone.open();
  const bob = await FakePhone.open();
  const w: World = {
    relay,
    clock,
    alice,
    bob,
    timeouts: 0,
    session: await relay.allocate('call-1', { onMediaTimeout: () => w.timeouts++ }),
    async close() {
      alice.close();
      bob.close();
      await relay.stop();
    },
  };
  return w;
}

const rtp = (seq: number, extra: { pt?: number; marker?: boolean; ssrc?: number; ts?: number; payload?: Buffer } = {}) =>
  rtpPacket({ seq, ts: extra.ts ?? seq * 160, ssrc: extra.ssrc ?? 0x1234, pt: extra.pt ?? 0, marker: extra.marker ?? false, ...(extra.payload ? { payload: extra.payload } : {}) });

const test = suite('UdpMediaRelay');

test.before(async () => {
  range = await findFreePortRange(40);
});

test('relays RTP both ways, byte for byte, from the leg ports', async () => {
  const w = await world();
  try {
    const { session, alice, bob } = w;
    session.update('a', alice.media());
    session.update('b', bob.media());
    const a = session.local('a');
    const b = session.local('b');
    assert.is(a.address, '127.0.0.1');
    assert.is(a.rtpPort % 2, 0);
    assert.is(a.rtcpPort, a.rtpPort + 1);
    const p1 = rtp(1, { payload: Buffer.from('hello bob') });
    alice.sendRtp(p1, a.rtpPort);
    const [got] = await bob.waitRtp(1);
    assert.ok(got!.data.equals(p1));
    assert.is(got!.fromPort, b.rtpPort, 'leaves from leg b (symmetric)');
    const p2 = rtp(7, { ssrc: 0x9999, payload: Buffer.from('hello alice') });
    bob.sendRtp(p2, b.rtpPort);
    const [back] = await alice.waitRtp(1);
    assert.ok(back!.data.equals(p2));
    assert.is(back!.fromPort, a.rtpPort);
    const s = session.stats();
    assert.is(s.a.packetsIn, 1);
    assert.is(s.a.bytesIn, p1.length);
    assert.is(s.b.packetsOut, 1);
    assert.is(s.b.bytesOut, p1.length);
    assert.is(s.a.packetsOut, 1);
    assert.is(s.a.latchedTo, `127.0.0.1:${alice.rtpPort}`);
    assert.is(s.b.latchedTo, `127.0.0.1:${bob.rtpPort}`);
  } finally {
    await w.close();
  }
});

test('latches to the real source instead of the SDP address', async () => {
  const w = await world();
  const natted = await FakePhone.open();
  try {
    const { session, alice, bob } = w;
    session.update('a', alice.media()); // SDP says alice, but media really comes from `natted`
    session.update('b', bob.media());
    const a = session.local('a');
    const b = session.local('b');
    bob.sendRtp(rtp(1), b.rtpPort);
    await alice.waitRtp(1); // before latching: the SDP address
    natted.sendRtp(rtp(1), a.rtpPort);
    await bob.waitRtp(1);
    bob.sendRtp(rtp(2), b.rtpPort);
    const [got] = await natted.waitRtp(1);
    assert.is(got!.data.readUInt16BE(2), 2);
    assert.is(alice.rtpIn.length, 1, 'nothing more to the SDP address');
    assert.is(session.stats().a.latchedTo, `127.0.0.1:${natted.rtpPort}`);
  } finally {
    natted.close();
    await w.close();
  }
});

test('drops and counts a third party after latching; update() re-arms latching', async () => {
  const w = await world();
  const intruder = await FakePhone.open();
  try {
    const { session, alice, bob } = w;
    session.update('a', alice.media());
    session.update('b', bob.media());
    const a = session.local('a');
    alice.sendRtp(rtp(1), a.rtpPort);
    await bob.waitRtp(1);
    intruder.sendRtp(rtp(500, { payload: Buffer.from('intruder') }), a.rtpPort);
    alice.sendRtp(rtp(2), a.rtpPort);
    const got = await bob.waitRtp(2);
    assert.is(got.length, 2);
    assert.is(got[1]!.data.readUInt16BE(2), 2);
    assert.is(session.stats().a.unexpectedSource, 1);
    // A re-INVITE on leg a: the next source latches, even a new one.
    session.update('a', alice.media());
    intruder.sendRtp(rtp(3, { payload: Buffer.from('new phone') }), a.rtpPort);
    await bob.waitRtp(3);
    assert.is(bob.rtpIn[2]!.data.subarray(12).toString(), 'new phone');
    assert.is(session.stats().a.latchedTo, `127.0.0.1:${intruder.rtpPort}`);
  } finally {
    intruder.close();
    await w.close();
  }
});

test('maps telephone-event 101 <-> 96 and keeps the marker bit', async () => {
  const w = await world();
  try {
    const { session, alice, bob } = w;
    session.update('a', alice.media({ payloadTypes: new Map([[0, 'PCMU/8000'], [101, 'telephone-event/8000']]) }));
    session.update('b', bob.media({ payloadTypes: new Map([[0, 'PCMU/8000'], [96, 'TELEPHONE-EVENT/8000']]) }));
    alice.sendRtp(rtp(1, { pt: 101, marker: true }), session.local('a').rtpPort);
    alice.sendRtp(rtp(2, { pt: 0 }), session.local('a').rtpPort);
    const got = await bob.waitRtp(2);
    assert.is(got[0]!.data[1], 0x80 | 96);
    assert.is(got[1]!.data[1], 0);
    bob.sendRtp(rtp(1, { pt: 96 }), session.local('b').rtpPort);
    const [back] = await alice.waitRtp(1);
    assert.is(back!.data[1], 101);
  } finally {
    await w.close();
  }
});

test('keeps SSRC and sequence/timestamp continuity when the phone restarts its stream', async () => {
  const w = await world();
  try {
    const { session, alice, bob } = w;
    session.update('a', alice.media());
    session.update('b', bob.media());
    const port = session.local('a').rtpPort;
    alice.sendRtp(rtpPacket({ seq: 1000, ts: 8000, ssrc: 0x11111111 }), port);
    alice.sendRtp(rtpPacket({ seq: 1001, ts: 8160, ssrc: 0x11111111 }), port);
    // re-INVITE (e.g. after hold): the phone starts a new stream
    session.update('a', alice.media());
    alice.sendRtp(rtpPacket({ seq: 5, ts: 999, ssrc: 0x22222222 }), port);
    alice.sendRtp(rtpPacket({ seq: 6, ts: 1159, ssrc: 0x22222222 }), port);
    const got = (await bob.waitRtp(4)).map((r) => [r.data.readUInt32BE(8), r.data.readUInt16BE(2), r.data.readUInt32BE(4)]);
    assert.equal(got, [
      [0x11111111, 1000, 8000],
      [0x11111111, 1001, 8160],
      [0x11111111, 1002, 8320],
      [0x11111111, 1003, 8480],
    ]);
  } finally {
    await w.close();
  }
});

test('relays RTCP on port+1', async () => {
  const w = await world();
  try {
    const { session, alice, bob } = w;
    session.update('a', alice.media());
    session.update('b', bob.media());
    const sr = senderReport(0x1234, 160, 0x9999, 7);
    alice.sendRtcp(sr, session.local('a').rtcpPort);
    const [got] = await bob.waitRtcp(1);
    assert.ok(got!.data.equals(sr));
    assert.is(got!.fromPort, session.local('b').rtcpPort);
    bob.sendRtcp(senderReport(0x9999, 0, 0x1234, 1), session.local('b').rtcpPort);
    await alice.waitRtcp(1);
    const s = session.stats();
    assert.is(s.a.rtcpIn, 1);
    assert.is(s.b.rtcpOut, 1);
    assert.is(s.b.rtcpIn, 1);
    assert.is(s.a.rtcpOut, 1);
    assert.is(s.a.packetsIn, 0, 'RTCP is not counted as RTP');
  } finally {
    await w.close();
  }
});

test('rtcp-mux: RTCP shares the RTP port on the leg that asks for it', async () => {
  const w = await world();
  try {
    const { session, alice, bob } = w;
    session.update('a', alice.media());
    session.update('b', bob.media({ rtcpMux: true }));
    alice.sendRtcp(senderReport(0x1234, 160, 0x9999, 7), session.local('a').rtcpPort);
    const [got] = await bob.waitRtp(1);
    assert.is(got!.data[1], 200);
    assert.is(got!.fromPort, session.local('b').rtpPort);
    // Bob's RTCP on his RTP socket to leg b's RTP port, out of leg a's RTCP port to alice.
    bob.sendRtp(senderReport(0x9999, 0, 0x1234, 1), session.local('b').rtpPort);
    bob.sendRtp(rtp(1, { ssrc: 0x9999 }), session.local('b').rtpPort);
    const [back] = await alice.waitRtcp(1);
    assert.is(back!.fromPort, session.local('a').rtcpPort);
    const [media] = await alice.waitRtp(1);
    assert.is(media!.data.readUInt32BE(8), 0x9999);
    assert.is(session.stats().b.rtcpIn, 1);
    assert.is(session.stats().b.packetsIn, 1);
  } finally {
    await w.close();
  }
});

test('counts loss from a sequence gap, not from reordering', async () => {
  const w = await world();
  try {
    const { session, alice, bob } = w;
    session.update('a', alice.media());
    session.update('b', bob.media());
    for (const seq of [1, 2, 5, 4, 6]) alice.sendRtp(rtp(seq), session.local('a').rtpPort);
    await bob.waitRtp(5);
    assert.is(session.stats().a.lost, 1);
  } finally {
    await w.close();
  }
});

test('traffic(): packets and loss per direction, of calls in progress and released ones, and jitter', async () => {
  const w = await world();
  try {
    const { session, alice, bob, relay } = w;
    session.update('a', alice.media());
    session.update('b', bob.media());
    for (const seq of [1, 2, 5, 4, 6]) alice.sendRtp(rtp(seq), session.local('a').rtpPort);
    await bob.waitRtp(5);
    bob.sendRtp(rtp(1), session.local('b').rtpPort);
    await alice.waitRtp(1);
    let t = relay.traffic();
    assert.equal({ a: t.a.packets, lostA: t.a.lost, b: t.b.packets, lostB: t.b.lost, transcoding: t.transcoding }, { a: 5, lostA: 1, b: 1, lostB: 0, transcoding: 0 });
    assert.ok(t.a.jitterMs >= 0 && Number.isFinite(t.a.jitterMs));
    session.release();
    t = relay.traffic();
    assert.equal({ a: t.a.packets, lostA: t.a.lost, b: t.b.packets, jitter: t.a.jitterMs }, { a: 5, lostA: 1, b: 1, jitter: 0 }, 'kept after release; no jitter without calls');
  } finally {
    await w.close();
  }
});

test('drops and counts malformed packets and packets with no destination', async () => {
  const w = await world();
  try {
    const { session, alice, bob } = w;
    session.update('a', alice.media());
    const port = session.local('a').rtpPort;
    alice.sendRtp(rtp(1), port); // leg b has no remote yet
    alice.sendRtp(Buffer.from([0x80, 0]), port);
    const v1 = rtp(2);
    v1[0] = 0x40;
    alice.sendRtp(v1, port);
    alice.sendRtp(rtp(3).subarray(0, 10), port);
    await pollUntil(() => session.stats().a.malformed === 3 && session.stats().a.unroutable === 1, 'drops counted');
    session.update('b', bob.media());
    alice.sendRtp(rtp(4), port);
    const got = await bob.waitRtp(1);
    assert.is(got.length, 1);
    assert.is(got[0]!.data.readUInt16BE(2), 4);
    const s = session.stats().a;
    assert.is(s.malformed, 3);
    assert.is(s.unroutable, 1);
    assert.is(s.packetsIn, 1);
  } finally {
    await w.close();
  }
});

test.run();
