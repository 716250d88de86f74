/**
 * One test over real UDP sockets on 127.0.0.1: a non-INVITE client transaction sends to a
 * silent peer socket, the ManualClock walks through Timer E and Timer F, and the peer counts
 * the datagrams that really arrived (RFC 3261 §17.1.2.2). The adapter and the serializer here
 * are deliberately tiny; the real ones live in sip/transport/ and sip/message/.
 */
import { createSocket, type Socket } from 'node:dgram';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { createSilentLogger } from '../../lib/logger.ts';
import type { SipMessage } from '../message/sip-message.ts';
import type { Endpoint, Transport } from '../transport/transport.ts';
import { RecordingUser, makeRequest } from './test-support.ts';
import { TransactionLayer } from './transaction-layer.ts';

function serialize(message: SipMessage): Buffer {
  const start = message.type === 'request' ? `${message.method} ${message.uri} SIP/2.0` : `SIP/2.0 ${message.status} ${message.reason}`;
  const lines = [start];
  for (const h of message.headers.list) if (h.name.toLowerCase() !== 'content-length') lines.push(`${h.name}: ${h.value}`);
  lines.push(`Content-Length: ${message.body.length}`, '', '');
  return Buffer.concat([Buffer.from(lines.join('\r\n'), 'utf8'), message.body]);
}

class LoopbackUdpTransport implements Transport {
  readonly protocol = 'udp' as const;
  readonly reliable = false;
  readonly local: Endpoint;
  sends = 0;
  private readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    const addr = socket.address();
    this.local = { protocol: 'udp', address: addr.address, port: addr.port };
  }

  send(message: SipMessage, dest: Endpoint): Promise<void> {
    this.sends++;
    return new Promise((resolve, reject) => {
      this.socket.send(serialize(message), dest.port, dest.address, (err) => (err ? reject(err) : resolve()));
    });
  }
}

function bound(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}

/** Polls `check` on the real event loop until it holds or the deadline passes. */
async function waitFor(check: () => boolean, what: string, deadlineMs = 5_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const udp = suite('TransactionLayer over real UDP');

udp('RFC 3261 §17.1.2.2: a silent peer receives the request at 0, 0.5, 1.5, 3.5, 7.5, 11.5 … 31.5 s, then Timer F', async () => {
  const peer = await bound();
  const local = await bound();
  const received: string[] = [];
  peer.on('message', (msg) => received.push(msg.toString('utf8')));
  try {
    const clock = new ManualClock();
    const transport = new LoopbackUdpTransport(local);
    const layer = new TransactionLayer({ clock, logger: createSilentLogger(), transportFor: () => transport });
    const user = new RecordingUser(clock);
    const peerAddr = peer.address();
    const dest: Endpoint = { protocol: 'udp', address: peerAddr.address, port: peerAddr.port };
    layer.createClientTransaction(makeRequest('OPTIONS', { branch: 'z9hG4bKudp1' }), dest, transport, user);
    await waitFor(() => received.length === 1, 'the first datagram');

    const expected = [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500];
    let now = 0;
    for (const [i, at] of expected.entries()) {
      clock.advance(at - 1 - now);
      assert.is(transport.sends, i + 1, `no retransmission before ${at} ms`);
      clock.advance(1);
      now = at;
      await waitFor(() => received.length === i + 2, `datagram ${i + 2} (at ${at} ms)`);
    }
    clock.advance(32_000 - now);
    assert.is(user.timeouts.length, 1, 'Timer F fired');
    assert.is(user.timeouts[0]!.at, 32_000);
    assert.is(user.timeouts[0]!.error.code, 'transaction.timer-f');
    clock.advance(60_000);
    assert.is(transport.sends, 11);
    await waitFor(() => received.length >= 11, 'all datagrams');
    assert.is(received.length, 11);
    for (const text of received) {
      assert.ok(text.startsWith('OPTIONS sip:bob@example.com SIP/2.0\r\n'));
      assert.ok(text.includes('branch=z9hG4bKudp1'));
    }
    assert.is(layer.counts().total, 0);
    layer.stop();
  } finally {
    await closeSocket(peer);
    await closeSocket(local);
  }
});

udp.run();
