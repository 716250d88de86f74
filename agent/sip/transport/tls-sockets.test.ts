import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { waitFor } from '../../../bench/lib/wait-for.ts';
import { createSystemClock } from '../../lib/clock.ts';
import { createSilentLogger } from '../../lib/logger.ts';
import type { Credentials } from '../../trust/credentials.ts';
import { createResponse } from '../message/create-response.ts';
import { parseMessage } from '../message/parse-message.ts';
import type { SipMessage, SipResponse } from '../message/sip-message.ts';
import { SipStreamFramer } from '../message/stream-framer.ts';
import { SipEndpoint, type IncomingRequest } from '../sip-endpoint.ts';
import { TransportError } from './errors.ts';
import { testFleet, type TestFleet } from './tls-test-support.ts';
import type { Endpoint } from './transport.ts';
import { HarnessError } from '../../../bench/lib/harness-error.ts';

interface Ctx {
  fleet: TestFleet;
  other: TestFleet;
  box: Credentials;
  endpoint: SipEndpoint;
  seen: IncomingRequest[];
  sockets: TLSSocket[];
}

const tls = suite<Ctx>('SIP over TLS transport');

/** A box's endpoint on tls:127.0.0.1:0 that challenges a REGISTER without Authorization (401), else 200. */
async function boxEndpoint(box: Credentials, seen: IncomingRequest[], expectedNode?: (d: Endpoint) => string | undefined): Promise<SipEndpoint> {
  const endpoint = new SipEndpoint({
    listen: [{ protocol: 'tls', host: '127.0.0.1', port: 0 }],
    clock: createSystemClock(),
    logger: createSilentLogger(),
    admit: () => true,
    tls: { serving: box, node: box, ...(expectedNode ? { expectedNode } : {}) },
    user: {
      onRequest: (incoming) => {
        seen.push(incoming);
        const authorised = incoming.request.headers.get('authorization') !== undefined;
        incoming.respond(createResponse(incoming.request, authorised ? 200 : 401, authorised ? 'OK' : 'Unauthorized'));
      },
    },
  });
  await endpoint.start();
  return endpoint;
}

tls.before.each(async (ctx) => {
  ctx.fleet = await testFleet();
  ctx.other = await testFleet('other-hub');
  ctx.box = await ctx.fleet.credentialsFor('b1');
  ctx.seen = [];
  ctx.sockets = [];
  ctx.endpoint = await boxEndpoint(ctx.box, ctx.seen);
});
tls.after.each(async (ctx) => {
  for (const s of ctx.sockets) s.destroy();
  await ctx.endpoint.stop();
  ctx.fleet.dispose();
  ctx.other.dispose();
});

/** A phone's TLS connection (server authentication against the fleet's CA; the box certificate names no host). */
async function phone(ctx: Ctx, client?: Credentials): Promise<{ socket: TLSSocket; messages: SipMessage[]; closed: () => boolean }> {
  const { port } = ctx.endpoint.bound[0]!;
  const socket = tlsConnect({ host: '127.0.0.1', port, ca: ctx.fleet.ca, checkServerIdentity: () => undefined, ...(client ? { key: client.key, cert: client.cert } : {}) });
  ctx.sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  const messages: SipMessage[] = [];
  let closed = false;
  const framer = new SipStreamFramer();
  socket.on('data', (chunk) => {
    for (const m of framer.push(chunk)) {
      const parsed = parseMessage(m);
      if (parsed.ok) messages.push(parsed.message);
    }
  });
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  return { socket, messages, closed: () => closed };
}

function register(port: number, cseq: number, auth = ''): string {
  return [
    'REGISTER sip:branch-a.example SIP/2.0',
    `Via: SIP/2.0/TLS 127.0.0.1:${port};branch=z9hG4bK-tls-${cseq};rport`,
    'Max-Forwards: 70',
    'From: <sip:alice@branch-a.example>;tag=a1',
    'To: <sip:alice@branch-a.example>',
    'Call-ID: tls-reg-1',
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:alice@127.0.0.1:${port};transport=tls>`,
    ...(auth ? [`Authorization: ${auth}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const statusOf = (m: SipMessage | undefined) => (m as SipResponse | undefined)?.status;

tls('a REGISTER over TLS gets 401, then 200, each on the connection it came in on; Via says TLS', async (ctx) => {
  const p = await phone(ctx);
  p.socket.write(register(p.socket.localPort!, 1));
  await waitFor(() => p.messages.length >= 1, '401');
  assert.is(statusOf(p.messages[0]), 401);
  p.socket.write(register(p.socket.localPort!, 2, 'Digest username="alice"'));
  await waitFor(() => p.messages.length >= 2, '200');
  assert.is(statusOf(p.messages[1]), 200);
  assert.is(ctx.seen[0]!.source.protocol, 'tls');
  assert.is(ctx.seen[0]!.source.port, p.socket.localPort);
  assert.is(ctx.seen[0]!.transport.protocol, 'tls');
  assert.is(ctx.seen[0]!.source.certifiedNode, undefined, 'a phone presents no certificate');
  assert.match(p.messages[1]!.headers.get('via')!, /^SIP\/2\.0\/TLS /);
  assert.is(ctx.endpoint.viaFor({ protocol: 'tls', address: '127.0.0.1', port: 5061 }).startsWith('SIP/2.0/TLS 127.0.0.1:'), true);
  assert.match(ctx.endpoint.contactFor({ protocol: 'tls', address: '127.0.0.1', port: 5061 }), /;transport=tls$/);
});

tls('a malformed request gets 400 with a reason, and the connection keeps serving', async (ctx) => {
  const p = await phone(ctx);
  const bad = register(p.socket.localPort!, 1).replace('Max-Forwards: 70', 'Max-Forwards: lots');
  p.socket.write(bad);
  await waitFor(() => p.messages.length >= 1, '400');
  assert.is(statusOf(p.messages[0]), 400);
  assert.is((p.messages[0] as SipResponse).reason, 'Bad Max-Forwards');
  p.socket.write(register(p.socket.localPort!, 2));
  await waitFor(() => p.messages.length >= 2, '401 after the 400');
  assert.is(statusOf(p.messages[1]), 401);
});

tls('a stream that cannot be framed closes that connection only; the listener still serves', async (ctx) => {
  const p = await phone(ctx);
  p.socket.write('REGISTER sip:x SIP/2.0\r\nContent-Length: lots\r\n\r\n');
  await waitFor(() => p.closed(), 'the connection to close');
  const again = await phone(ctx);
  again.socket.write(register(again.socket.localPort!, 1));
  await waitFor(() => again.messages.length >= 1, 'a 401 on a new connection');
  assert.is(statusOf(again.messages[0]), 401);
});

tls('a client speaking plain SIP over TCP to the TLS port is disconnected unanswered', async (ctx) => {
  const { port } = ctx.endpoint.bound[0]!;
  const socket = netConnect({ host: '127.0.0.1', port });
  let answer = '';
  let closed = false;
  socket.on('data', (d) => (answer += d.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  socket.write(register(1, 1));
  await waitFor(() => closed, 'the plain connection to close');
  assert.not.match(answer, 'SIP/2.0');
  assert.is(ctx.seen.length, 0);
});

tls('a client certificate from the fleet CA names the node; one from another CA names none (still served)', async (ctx) => {
  const peer = await phone(ctx, await ctx.fleet.credentialsFor('a2'));
  peer.socket.write(register(peer.socket.localPort!, 1));
  await waitFor(() => ctx.seen.length >= 1, 'the request of the certified peer');
  assert.is(ctx.seen[0]!.source.certifiedNode, 'a2');
  const forged = await phone(ctx, await ctx.other.credentialsFor('a2'));
  forged.socket.write(register(forged.socket.localPort!, 2));
  await waitFor(() => ctx.seen.length >= 2, 'the request of the forged peer');
  assert.is(ctx.seen[1]!.source.certifiedNode, undefined);
});

tls('a box connects to a site peer over mutual TLS only when its certificate names the expected node', async (ctx) => {
  const { port } = ctx.endpoint.bound[0]!;
  const dest: Endpoint = { protocol: 'tls', address: '127.0.0.1', port };
  const a1 = await ctx.fleet.credentialsFor('a1');
  const seenByA: IncomingRequest[] = [];
  let expected = 'b1';
  const sender = await boxEndpoint(a1, seenByA, () => expected);
  try {
    const responses: number[] = [];
    const options = (cseq: number) => {
      const req = parseMessage(Buffer.from(register(0, cseq).replace(/Via: [^\r]*/, `Via: ${sender.viaFor(dest)}`)));
      if (!req.ok || req.message.type !== 'request') throw new HarnessError('test request does not parse');
      return req.message;
    };
    const errors: Error[] = [];
    sender.request(options(1), dest, { onResponse: (r) => responses.push(r.status), onTimeout: () => undefined, onTransportError: (e) => errors.push(e) });
    await waitFor(() => responses.length >= 1, 'the peer to answer');
    assert.is(ctx.seen[0]!.source.certifiedNode, 'a1', 'the sender presented its node certificate');
    await sender.stop();
    expected = 'b9';
    const impostor = await boxEndpoint(a1, seenByA, () => expected);
    try {
      impostor.request(options(2), dest, { onResponse: (r) => responses.push(r.status), onTimeout: () => undefined, onTransportError: (e) => errors.push(e) });
      await waitFor(() => errors.length >= 1, 'the connection to be refused');
      const cause = (errors[0] as Error & { cause?: unknown }).cause;
      assert.ok(cause instanceof TransportError, 'a TransportError under the transaction error');
      assert.match((cause as Error).message, 'expected node b9');
      assert.is(ctx.seen.length, 1);
    } finally {
      await impostor.stop();
    }
  } finally {
    await sender.stop();
  }
});

tls.run();
