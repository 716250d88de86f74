/**
 * The trace parts of a box with real sockets on 127.0.0.1: the HEP export (a collector from
 * bench/lib/hep.ts), the RTCP reports of a real media relay, and the trace socket a client reads.
 */
import { statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startHepCollector, type HepCollector } from '../../bench/lib/hep.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { FakePhone, findFreePortRange, senderReport } from '../media/fake-phone.ts';
import { UdpMediaRelay } from '../media/udp-media-relay.ts';
import { parseMessage } from '../sip/message/parse-message.ts';
import { SipTrafficObservers, type SipTraffic } from '../sip/sip-traffic.ts';
import { TraceSection } from '../config/trace-schema.ts';
import { buildSipTrace, type SipTrace } from './sip-trace.ts';
import type { TraceRecord } from './trace-wire.ts';

function traffic(user: string, direction: 'in' | 'out' = 'in', remote = '192.0.2.7'): SipTraffic {
  const data = Buffer.from(`OPTIONS sip:${user}@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK-${user}\r\nFrom: <sip:mon@b.example>;tag=1\r\nTo: <sip:${user}@b.example>\r\nCall-ID: call-${user}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`);
  const parsed = parseMessage(data);
  if (!parsed.ok) throw parsed.error;
  return { direction, message: parsed.message, data, local: { protocol: 'udp', address: '0.0.0.0', port: 5060 }, remote: { protocol: 'udp', address: remote, port: 5062 } };
}

interface World {
  dir: string;
  collector: HepCollector;
  sip: SipTrafficObservers;
  relay: UdpMediaRelay;
  trace: SipTrace;
  close(): Promise<void>;
}

async function world(hep = true, boxAddress?: string): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'outpost-trace-unit-'));
  const collector = await startHepCollector();
  const clock = new ManualClock();
  const logger = createSilentLogger();
  const sip = new SipTrafficObservers(logger);
  const relay = new UdpMediaRelay({ address: '127.0.0.1', portRange: await findFreePortRange(8), timeoutMs: 5000, clock, logger });
  await relay.start();
  const config = TraceSection.parse(hep ? { hep: { address: `127.0.0.1:${collector.port}`, captureId: 9 } } : {});
  const trace = buildSipTrace({ config, dataDir: dir, nodeId: 'a1', ...(boxAddress ? { boxAddress } : {}), observeSip: (o) => sip.observe(o), observeRtcp: (o) => relay.observeRtcp(o), clock, logger });
  await trace.start();
  return {
    dir, collector, sip, relay, trace,
    async close() {
      await trace.stop();
      await relay.stop();
      await collector.close();
    },
  };
}

const test = suite('buildSipTrace');

test('SIP in and out goes to the collector as HEP type 1; a wildcard local address stays as it is', async () => {
  const w = await world();
  try {
    w.sip.notify(traffic('1001', 'in'));
    w.sip.notify(traffic('1001', 'out'));
    const [inbound, outbound] = await waitFor(() => w.collector.packets.length >= 2 && w.collector.packets, 'two HEP packets');
    assert.equal([inbound!.srcIp, inbound!.srcPort, inbound!.dstIp, inbound!.dstPort, inbound!.protoType, inbound!.captureId], ['192.0.2.7', 5062, '0.0.0.0', 5060, 1, 9]);
    assert.equal([outbound!.srcIp, outbound!.srcPort, outbound!.dstIp, outbound!.dstPort], ['0.0.0.0', 5060, '192.0.2.7', 5062]);
    assert.ok(inbound!.payload.equals(traffic('1001').data));
    assert.is(inbound!.authKey, undefined);
    assert.equal(w.trace.hep, { sent: 2, dropped: 0 });
  } finally {
    await w.close();
  }
});

test("with the box's address given, a wildcard listen address is shown as that address", async () => {
  const w = await world(true, '192.0.2.1');
  try {
    w.sip.notify(traffic('1001', 'in'));
    const [inbound] = await waitFor(() => w.collector.packets.length >= 1 && w.collector.packets, 'one HEP packet');
    assert.equal([inbound!.dstIp, inbound!.dstPort], ['192.0.2.1', 5060]);
  } finally {
    await w.close();
  }
});

test('a message that cannot be encoded (a peer named by host name) is dropped and counted, never thrown', async () => {
  const w = await world();
  try {
    w.sip.notify(traffic('1001', 'out', 'gw.example'));
    w.sip.notify(traffic('1002', 'out'));
    await waitFor(() => w.collector.packets.length >= 1, 'the second packet');
    assert.equal(w.trace.hep, { sent: 1, dropped: 1 });
  } finally {
    await w.close();
  }
});

test("RTCP a party sends through the relay arrives as HEP type 5: Homer's JSON, the call's Call-ID as correlation id", async () => {
  const w = await world();
  const alice = await FakePhone.open();
  const bob = await FakePhone.open();
  try {
    const session = await w.relay.allocate('call-rtcp@host', { onMediaTimeout: () => undefined });
    session.update('a', alice.media());
    session.update('b', bob.media());
    alice.sendRtcp(senderReport(0x1234, 160, 0x9999, 77), session.local('a').rtcpPort);
    await bob.waitRtcp(1);
    const [report] = await waitFor(() => w.collector.packets.length >= 1 && w.collector.packets, 'the RTCP report');
    assert.is(report!.protoType, 5);
    assert.is(report!.correlationId, 'call-rtcp@host');
    assert.equal([report!.srcIp, report!.srcPort, report!.dstIp, report!.dstPort], ['127.0.0.1', alice.rtcpPort, '127.0.0.1', session.local('a').rtcpPort]);
    const json = JSON.parse(report!.payload.toString()) as { type: number; ssrc: number; report_blocks: Array<{ source_ssrc: number; highest_seq_no: number }> };
    assert.equal([json.type, json.ssrc, json.report_blocks[0]!.source_ssrc, json.report_blocks[0]!.highest_seq_no], [200, 0x1234, 0x9999, 77]);
  } finally {
    alice.close();
    bob.close();
    await w.close();
  }
});

test('the trace socket: mode 0600, a client gets only the matching messages, a bad request is refused', async () => {
  const w = await world(false);
  try {
    const path = join(w.dir, 'trace.sock');
    assert.is(statSync(path).mode & 0o777, 0o600);
    const lines: string[] = [];
    const client = connect(path);
    client.setEncoding('utf8');
    let buffered = '';
    client.on('data', (c: string) => {
      buffered += c;
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      lines.push(...parts);
    });
    client.write('{"op":"trace","match":{"user":"1002"}}\n');
    await waitFor(() => lines.length >= 1, 'the answer');
    assert.equal(JSON.parse(lines[0]!), { ok: true, node: 'a1' });
    w.sip.notify(traffic('1001'));
    w.sip.notify(traffic('1002', 'out'));
    await waitFor(() => lines.length >= 2, 'one record');
    const record = JSON.parse(lines[1]!) as TraceRecord;
    assert.equal([record.dir, record.proto, record.src, record.srcPort, record.dst, record.dstPort], ['out', 'udp', '0.0.0.0', 5060, '192.0.2.7', 5062]);
    assert.ok(Buffer.from(record.data, 'base64').equals(traffic('1002').data));
    client.destroy();

    const bad = connect(path);
    let answer = '';
    bad.on('data', (c: Buffer) => (answer += c.toString()));
    bad.write('{"op":"trace","match":{}}\n');
    await waitFor(() => answer.includes('\n'), 'the refusal');
    assert.equal(JSON.parse(answer), { ok: false, error: 'match must be {"user":"..."} or {"number":"..."} (with a digit)' });
    bad.destroy();
  } finally {
    await w.close();
  }
});

test.run();
