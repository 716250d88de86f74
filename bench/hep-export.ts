/**
 * What the HEP export costs per SIP message (docs/sip-trace.md#cost): building and encoding the
 * HEP packet of a 600-byte INVITE with SDP, and that plus the UDP send to a collector on
 * 127.0.0.1 (HepSender), in microseconds per message on one core. `dropped` counts what the
 * sender refused or the socket failed to send (none expected); what the collector in this same
 * process manages to read of such a flood says nothing of the box, so it is not reported.
 *
 *   node --import tsx bench/hep-export.ts [--messages N]
 *
 * Prints one JSON line.
 */
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import { createSystemClock } from '../agent/lib/clock.ts';
import { createSilentLogger } from '../agent/lib/logger.ts';
import { parseMessage } from '../agent/sip/message/parse-message.ts';
import type { SipTraffic } from '../agent/sip/sip-traffic.ts';
import { encodeHep } from '../agent/trace/hep-encoder.ts';
import { nowMicros, sipHepPacket } from '../agent/trace/hep-packets.ts';
import { HepSender } from '../agent/trace/hep-sender.ts';
import { HarnessError } from './lib/harness-error.ts';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '200000' } } });
const N = Number(values.messages);
const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n';
const data = Buffer.from(
  `INVITE sip:1002@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-1;rport\r\nFrom: <sip:1001@b.example>;tag=1\r\nTo: <sip:1002@b.example>\r\nCall-ID: abcdef0123456789@192.0.2.7\r\nCSeq: 1 INVITE\r\nContact: <sip:1001@192.0.2.7:5062>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`,
);
const parsed = parseMessage(data);
if (!parsed.ok) throw new HarnessError(`bench message does not parse: ${parsed.error.message}`);
const traffic: SipTraffic = { direction: 'in', message: parsed.message, data, local: { protocol: 'udp', address: '192.0.2.1', port: 5060 }, remote: { protocol: 'udp', address: '192.0.2.7', port: 5062 } };
const id = { captureId: 2001 };

for (let i = 0; i < 10_000; i++) encodeHep(sipHepPacket(traffic, nowMicros(), id));
let t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) encodeHep(sipHepPacket(traffic, nowMicros(), id));
const encodeUs = Number(process.hrtime.bigint() - t0) / N / 1000;

const sink = createSocket('udp4');
await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()));
const sender = new HepSender({ host: '127.0.0.1', port: sink.address().port, clock: createSystemClock(), logger: createSilentLogger() });
await sender.start();
const M = Math.min(N, 50_000);
t0 = process.hrtime.bigint();
for (let i = 0; i < M; i++) {
  sender.send(sipHepPacket(traffic, nowMicros(), id));
  // Let the socket drain now and then, as the event loop of a node does between messages.
  if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
}
const sendUs = Number(process.hrtime.bigint() - t0) / M / 1000;
const hepBytes = encodeHep(sipHepPacket(traffic, 0, id)).length;
process.stdout.write(`${JSON.stringify({ bench: 'hep-export', messageBytes: data.length, hepBytes, encodeUsPerMessage: +encodeUs.toFixed(2), encodeAndSendUsPerMessage: +sendUs.toFixed(2), sent: sender.stats.sent, dropped: sender.stats.dropped })}\n`);
await sender.stop();
sink.close();
