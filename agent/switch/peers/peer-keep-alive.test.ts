/**
 * PeerKeepAlive over real UDP on 127.0.0.1: two SIP endpoints, one probing the other, which
 * answers OPTIONS as the request dispatcher does; then the answering one goes silent.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSystemClock, ManualClock } from '../../lib/clock.ts';
import { createSilentLogger } from '../../lib/logger.ts';
import { createResponse } from '../../sip/message/create-response.ts';
import type { SipRequest } from '../../sip/message/sip-message.ts';
import { SipEndpoint } from '../../sip/sip-endpoint.ts';
import type { ClientTransactionUser } from '../../sip/transaction/client-transaction.ts';
import type { ClientTransaction } from '../../sip/transaction/transaction-layer.ts';
import type { Endpoint } from '../../sip/transport/transport.ts';
import { announcedSipAddress, PeerKeepAlive } from './peer-keep-alive.ts';
import type { Transition } from './peer-liveness.ts';
import { waitFor } from '../../../bench/lib/wait-for.ts';

const logger = createSilentLogger();
const clock = createSystemClock();

function endpoint(answer: () => boolean): SipEndpoint {
  return new SipEndpoint({
    listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    clock,
    logger,
    admit: () => true,
    user: { onRequest: (inc) => answer() && inc.respond(createResponse(inc.request, 200, 'OK')) },
  });
}

const test = suite('PeerKeepAlive');

test('probes a peer over UDP: up at its first 200, down within 1 s once it goes silent, up again', async () => {
  let answering = true;
  const a = endpoint(() => true);
  const b = endpoint(() => answering);
  await a.start();
  await b.start();
  const keepAlive = new PeerKeepAlive({ nodeId: 'a1', domain: 'site.test', userAgent: 'test', listed: ['a2', 'a1'], signalling: a, clock, logger });
  const seen: Transition[] = [];
  const unsubscribe = keepAlive.onChange((t) => seen.push(t));
  try {
    keepAlive.start();
    assert.equal(keepAlive.status().map((s) => [s.nodeId, s.state, s.sip]), [['a2', 'unknown', null]], 'a listed peer shows before its state');
    const sip = announcedSipAddress(b.bound, undefined)!;
    keepAlive.peerState({ nodeId: 'a2', online: true, sip });
    await waitFor(() => keepAlive.isUp('a2'), 'a2 up', 5000, 5);
    answering = false;
    const silentAt = Date.now();
    await waitFor(() => !keepAlive.isUp('a2'), 'a2 down', 5000, 5);
    const took = Date.now() - silentAt;
    assert.ok(took < 1500, `down after ${took} ms`);
    answering = true;
    await waitFor(() => keepAlive.isUp('a2'), 'a2 up again', 5000, 5);
    assert.equal(seen.map((t) => t.state), ['up', 'down', 'up']);
    assert.equal(keepAlive.status()[0]!.sip, sip);
  } finally {
    unsubscribe();
    keepAlive.stop();
    await a.stop();
    await b.stop();
  }
});

test('on a ManualClock: an OPTIONS to the peer box, abandoned at its deadline; stop abandons what is in flight', () => {
  const manual = new ManualClock();
  const sent: Array<{ req: SipRequest; dest: Endpoint; user: ClientTransactionUser; abandoned: boolean }> = [];
  const signalling = {
    viaFor: () => 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKtest;rport',
    request(req: SipRequest, dest: Endpoint, user: ClientTransactionUser): ClientTransaction {
      const entry = { req, dest, user, abandoned: false };
      sent.push(entry);
      return { abandon: () => (entry.abandoned = true) } as unknown as ClientTransaction;
    },
  };
  const keepAlive = new PeerKeepAlive({ nodeId: 'a1', domain: 'site.test', userAgent: 'outpost-test', signalling, clock: manual, logger });
  keepAlive.peerState({ nodeId: 'a2', online: true, sip: 'udp:10.0.0.2:5062' });
  assert.is(sent.length, 0, 'nothing before start');
  keepAlive.start();
  keepAlive.peerState({ nodeId: 'a1', online: true, sip: 'udp:10.0.0.1:5060' });
  keepAlive.peerState({ nodeId: 'a2', online: true, sip: 'udp:10.0.0.2:5062' });
  const first = sent[0]!;
  assert.equal([first.req.method, first.req.uri, first.req.headers.get('cseq'), first.req.headers.get('to')], ['OPTIONS', 'sip:10.0.0.2:5062', '1 OPTIONS', '<sip:a2@site.test>']);
  assert.equal(first.dest, { protocol: 'udp', address: '10.0.0.2', port: 5062 });
  assert.is(sent.length, 1, 'never itself');
  manual.advance(250);
  assert.ok(first.abandoned, 'missed at 250 ms, its transaction abandoned');
  const last = sent.at(-1)!;
  last.user.onResponse(createResponse(last.req, 200, 'OK'));
  assert.is(keepAlive.isUp('a2'), true);
  manual.advance(60);
  const inFlight = sent.filter((s) => !s.abandoned).length;
  assert.ok(inFlight >= 1);
  keepAlive.stop();
  assert.is(sent.filter((s) => !s.abandoned).length, 1, 'stop abandons every probe in flight but the answered one');
  const count = sent.length;
  manual.advance(5000);
  assert.is(sent.length, count, 'no probe after stop');
  keepAlive.peerLinkLost('a2');
  assert.is(sent.length, count);
});

test('on a ManualClock: a message from the peer\'s SIP address keeps it up while its probes go unanswered; one from elsewhere does not', () => {
  const manual = new ManualClock();
  const signalling = {
    viaFor: () => 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKtest;rport',
    request: () => ({ abandon: () => {} }) as unknown as ClientTransaction,
  };
  const keepAlive = new PeerKeepAlive({ nodeId: 'a1', domain: 'site.test', userAgent: 'outpost-test', signalling, clock: manual, logger });
  keepAlive.start();
  keepAlive.peerState({ nodeId: 'a2', online: true, sip: 'udp:10.0.0.2:5062' });
  keepAlive.heardFrom({ protocol: 'udp', address: '10.0.0.2', port: 5062 });
  assert.is(keepAlive.isUp('a2'), true, 'up on its traffic');
  for (let i = 0; i < 30; i++) {
    manual.advance(100);
    keepAlive.heardFrom({ protocol: 'udp', address: '10.0.0.2', port: 5062 });
  }
  assert.is(keepAlive.isUp('a2'), true, 'kept up by 3 s of traffic, no probe answered');
  for (let i = 0; i < 30; i++) {
    manual.advance(100);
    keepAlive.heardFrom({ protocol: 'udp', address: '10.0.0.2', port: 5099 });
    keepAlive.heardFrom({ protocol: 'udp', address: '10.0.0.9', port: 5062 });
  }
  assert.is(keepAlive.isUp('a2'), false, 'other sources are not the peer');
  keepAlive.stop();
});

test('announcedSipAddress: the first UDP listener; a wildcard host takes the given address', () => {
  assert.is(announcedSipAddress([{ protocol: 'tcp', address: '10.0.0.1', port: 5061 }, { protocol: 'udp', address: '10.0.0.1', port: 5060 }], undefined), 'udp:10.0.0.1:5060');
  assert.is(announcedSipAddress([{ protocol: 'udp', address: '0.0.0.0', port: 5060 }], '192.168.1.5'), 'udp:192.168.1.5:5060');
  assert.is(announcedSipAddress([{ protocol: 'tcp', address: '::1', port: 5060 }], undefined), 'tcp:[::1]:5060');
  assert.is(announcedSipAddress([], '10.0.0.1'), undefined);
});

test.run();
