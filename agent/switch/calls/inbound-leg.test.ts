import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ManualClock } from '../../lib/clock.ts';
import { createSilentLogger } from '../../lib/logger.ts';
import type { SipRequest, SipResponse } from '../../sip/message/sip-message.ts';
import { SipEndpoint } from '../../sip/sip-endpoint.ts';
import { FakeTransport, PEER, makeRequest } from '../../sip/transaction/test-support.ts';
import { TransactionLayer } from '../../sip/transaction/transaction-layer.ts';
import type { InviteServerTransaction } from '../../sip/transaction/invite-server-transaction.ts';
import { InboundLeg } from './inbound-leg.ts';

const T1 = 500;

function setup(extra: Array<[string, string]> = []) {
  const clock = new ManualClock();
  const logger = createSilentLogger();
  const transport = new FakeTransport(clock);
  const layer = new TransactionLayer({ clock, logger, transportFor: () => transport });
  const invite: SipRequest = makeRequest('INVITE');
  invite.headers.set('Contact', '<sip:caller@192.0.2.10:5060>');
  for (const [n, v] of extra) invite.headers.append(n, v);
  const tx = layer.handleRequest(invite, PEER, transport) as InviteServerTransaction;
  // The endpoint is built only for contactFor(); it is never started.
  const endpoint = new SipEndpoint({ listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], clock, logger, admit: () => true, user: { onRequest: () => undefined } });
  let ackTimeouts = 0;
  const leg = new InboundLeg(
    { request: invite, source: PEER, transport, transaction: tx, respond: (r) => tx.respond(r) },
    { endpoint, clock, t1: T1, t2: 4000, onAckTimeout: () => ackTimeouts++ },
  );
  const sentStatuses = () => transport.sent.map((s) => (s.message as SipResponse).status);
  return { clock, transport, leg, invite, sentStatuses, ackTimeouts: () => ackTimeouts };
}

function prackFor(invite: SipRequest, res: SipResponse, rseq?: string): SipRequest {
  const prack = makeRequest('PRACK');
  prack.headers.set('Call-ID', invite.headers.get('call-id')!);
  prack.headers.set('RAck', `${rseq ?? res.headers.get('rseq')} ${invite.headers.get('cseq')}`);
  return prack;
}

const leg = suite('InboundLeg');

leg('a 2xx is retransmitted at T1, 2T1, 4T1 ... until the ACK (RFC 3261 §13.3.1.4)', () => {
  const w = setup();
  w.leg.respond(200, 'OK', { body: 'v=0\r\n' });
  w.clock.advance(T1 + 2 * T1 + 4 * T1);
  assert.equal(w.sentStatuses(), [200, 200, 200, 200]);
  w.leg.acknowledged();
  w.clock.advance(10_000);
  assert.is(w.sentStatuses().length, 4, 'no retransmission after the ACK');
  assert.ok(w.leg.dialog.state === 'confirmed');
});

leg('without an ACK the 2xx stops after 64*T1 and the call is told', () => {
  const w = setup();
  w.leg.respond(200, 'OK');
  w.clock.advance(64 * T1);
  assert.is(w.ackTimeouts(), 1);
});

leg('Require: 100rel: the 180 carries RSeq and Require, is retransmitted until PRACK, and a 200 waits for it (RFC 3262 §3)', () => {
  const w = setup([['Require', '100rel']]);
  w.leg.respond(180, 'Ringing');
  const ringing = w.transport.sent[0]!.message as SipResponse;
  assert.is(ringing.status, 180);
  assert.match(ringing.headers.get('require')!, '100rel');
  assert.ok(/^\d+$/.test(ringing.headers.get('rseq')!));
  w.clock.advance(T1 + 2 * T1);
  assert.equal(w.sentStatuses(), [180, 180, 180]);
  w.leg.respond(200, 'OK');
  assert.equal(w.sentStatuses(), [180, 180, 180], 'the 2xx is held while the 180 is unacknowledged');
  assert.equal(w.leg.prack(prackFor(w.invite, ringing, '1')), { status: 481, reason: 'Call/Transaction Does Not Exist' });
  assert.equal(w.leg.prack(prackFor(w.invite, ringing)), { status: 200, reason: 'OK' });
  return Promise.resolve().then(() => {
    assert.equal(w.sentStatuses(), [180, 180, 180, 200]);
    w.clock.advance(4 * T1);
    assert.not.ok(w.sentStatuses().slice(4).includes(180), 'no 180 retransmission after the PRACK');
  });
});

leg('without 100rel the 180 is sent once and a PRACK gets 481', () => {
  const w = setup([['Supported', '100rel']]);
  w.leg.respond(180, 'Ringing');
  w.clock.advance(10 * T1);
  assert.equal(w.sentStatuses(), [180]);
  assert.is(w.leg.prack(makeRequest('PRACK')).status, 481);
});

leg.run();
