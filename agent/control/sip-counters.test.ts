/**
 * SipCounters through a real SipEndpoint on UDP 127.0.0.1: requests and responses counted by
 * method, code and direction, hostile methods bounded to `other`, and the setup time of an
 * initial INVITE observed once at its first 18x.
 */
import { createSocket } from 'node:dgram';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { createResponse } from '../sip/message/create-response.ts';
import { SipEndpoint } from '../sip/sip-endpoint.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { SipCounters } from './sip-counters.ts';

const request = (method: string, callId: string, to = '<sip:1002@x>') =>
  [
    `${method} sip:1002@x SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5999;rport;branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    `To: ${to}`,
    `From: <sip:1001@x>;tag=f${callId}`,
    `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');

test('counts by method, code and direction; an INVITE 180 after 250 ms is one setup sample', async () => {
  const clock = new ManualClock();
  const counters = new SipCounters();
  const registry = new Registry();
  counters.register(registry);
  const endpoint = new SipEndpoint({
    listen: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], clock, logger: createSilentLogger(), admit: () => true, counters,
    user: {
      onRequest: (incoming) => {
        if (incoming.request.method === 'INVITE') {
          clock.advance(250);
          incoming.respond(createResponse(incoming.request, 180, 'Ringing'));
          incoming.respond(createResponse(incoming.request, 486, 'Busy Here'));
        } else incoming.respond(createResponse(incoming.request, 405, 'Method Not Allowed'));
      },
    },
  });
  await endpoint.start();
  const phone = createSocket('udp4');
  const replies: string[] = [];
  phone.on('message', (m) => replies.push(m.toString()));
  try {
    const port = endpoint.bound[0]!.port;
    phone.send(request('INVITE', 'c1'), port, '127.0.0.1');
    phone.send(request('OPTIONS', 'c2'), port, '127.0.0.1');
    phone.send(request('X-EVIL', 'c3'), port, '127.0.0.1');
    // A re-INVITE (To tag): counted, but not a call setup.
    phone.send(request('INVITE', 'c4', '<sip:1002@x>;tag=t1'), port, '127.0.0.1');
    await waitFor(() => replies.length >= 6, 'six responses');
    const text = await registry.metrics();
    for (const line of [
      'outpost_sip_requests_total{method="INVITE",direction="in"} 2',
      'outpost_sip_requests_total{method="OPTIONS",direction="in"} 1',
      'outpost_sip_requests_total{method="other",direction="in"} 1',
      'outpost_sip_responses_total{method="INVITE",code="180",direction="out"} 2',
      'outpost_sip_responses_total{method="INVITE",code="486",direction="out"} 2',
      'outpost_sip_responses_total{method="other",code="405",direction="out"} 1',
      'outpost_call_setup_seconds_count 1',
      'outpost_call_setup_seconds_sum 0.25',
      'outpost_call_setup_seconds_bucket{le="0.1"} 0',
      'outpost_call_setup_seconds_bucket{le="0.25"} 1',
    ]) {
      assert.ok(text.split('\n').includes(line), `missing: ${line}\n${text}`);
    }
    assert.not.match(text, 'X-EVIL');
  } finally {
    phone.close();
    await endpoint.stop();
  }
});

test.run();
