/**
 * Calls through the box under load, end to end: `outpost node` as a child process on 127.0.0.1,
 * a sipp caller (digest auth, G.711 A-law from g711a.pcap) and a sipp callee that echoes RTP.
 * 50 calls (10 new calls a second, at most 20 at once, 2 s of audio each) must all complete on
 * both sides, and their CDRs must show media relayed both ways on both legs, with no packet
 * from an unexpected source. Then one call plays RFC 4733 DTMF (payload type 101) to a callee
 * in this process that answered with telephone-event on payload type 96: the events must arrive
 * there renumbered to 96.
 * Runs alone too: node --import tsx test/integration/calls-sipp.test.ts
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addUsers, assertRelayedBothWays, callNodeSections, describeSipp, freeUdpPorts, injectBinding, listCdrs, passwordOf, spawnSipp, SIPP_SCENARIOS, udpPortBound, type Cdr, type SippProcess,
} from '../helpers/calls.ts';
import { startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { SipCallee, pcmaAnswer } from '../../bench/lib/sip-callee.ts';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const DOMAIN = 'calls-sipp.example';
const PORT_RANGE: [number, number] = [31000, 31999];
const CALLS = 50;
const CALLER = '1001';
const CALLEE = '1002';
const DTMF_CALLEE = '1003';

interface Ctx {
  dir: string;
  node: NodeProcess;
  sipps: SippProcess[];
  callee?: SipCallee;
}

const calls = suite<Ctx>('calls through the box with sipp');

calls.before(async (ctx) => {
  ctx.dir = tempDir('outpost-calls-sipp-');
  ctx.sipps = [];
  const config = writeNodeConfig(ctx.dir, callNodeSections({ portRange: PORT_RANGE }), DOMAIN);
  addUsers(join(ctx.dir, 'data'), DOMAIN, [CALLER, CALLEE, DTMF_CALLEE]);
  ctx.node = await startNode(config, ctx.dir);
});

calls.after(async (ctx) => {
  for (const s of ctx.sipps ?? []) s.kill();
  ctx.callee?.close();
  assert.is(await ctx.node?.stop(), 0, 'node stops cleanly on SIGTERM');
});

const callerRow = (callee: string) => `${CALLER};[authentication username=${CALLER} password=${passwordOf(CALLER)}];${DOMAIN};${callee}`;

calls(`${CALLS} calls with G.711 audio echoed by the callee: all complete, CDRs show media both ways`, async (ctx) => {
  const uasPort = await freeUdpPorts(1);
  injectBinding(ctx.node.dataDir, CALLEE, uasPort);
  const uas = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uas.xml'), dir: ctx.dir, name: 'load-uas', port: uasPort, mediaPort: await freeUdpPorts(4),
    calls: CALLS, maxConcurrent: 100, rtpEcho: true, timeoutS: 60,
  });
  ctx.sipps.push(uas);
  await waitFor(() => udpPortBound(uasPort), 'the sipp callee to listen', 5_000);
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uac.xml'), dir: ctx.dir, name: 'load-uac', port: await freeUdpPorts(1), mediaPort: await freeUdpPorts(4),
    target: ctx.node.udp, injection: Array.from({ length: CALLS }, () => callerRow(CALLEE)), calls: CALLS, rate: 10, maxConcurrent: 20, timeoutS: 60,
  });
  ctx.sipps.push(uac);
  const uacRes = await uac.done;
  const uasRes = await uas.done;
  assert.equal(sippCounts(uacRes.stdout), { successful: CALLS, failed: 0 }, describeSipp('caller', uac, uacRes));
  assert.is(uacRes.code, 0, describeSipp('caller', uac, uacRes));
  assert.equal(sippCounts(uasRes.stdout), { successful: CALLS, failed: 0 }, describeSipp('callee', uas, uasRes));
  assert.is(uasRes.code, 0, describeSipp('callee', uas, uasRes));

  const cdrs = await waitFor(async () => {
    const all = (await listCdrs(ctx.node)).filter((c) => c.callee === CALLEE);
    return all.length >= CALLS && all;
  }, `${CALLS} CDRs`, 10_000, 200);
  assert.is(cdrs.length, CALLS);
  const summary = (c: Cdr) => `${c.uuid} ${c.disposition} ${c.endedBy} ${JSON.stringify(c.media)}`;
  for (const c of cdrs) {
    assert.is(c.disposition, 'answered', summary(c));
    assert.is(c.endedBy, 'caller', summary(c));
    assert.is(c.codecA, 'PCMA/8000', summary(c));
    // a: the caller's leg (sipp plays the pcap into it, gets the echo back); b: the callee's leg.
    assertRelayedBothWays(c, summary);
    assert.ok(c.durationMs >= 1500, `about 2 s of talk: ${summary(c)}`);
  }
  // Every call's b-leg latched the echoing callee, and its a-leg the playing caller.
  assert.is(new Set(cdrs.map((c) => c.aCallId)).size, CALLS, 'one CDR per call');
});

calls('DTMF: RFC 4733 events sent as payload type 101 reach a callee that asked for 96, renumbered', async (ctx) => {
  // The callee lives in this test process: sipp cannot show which payload type arrived.
  ctx.callee = await SipCallee.start((port) => pcmaAnswer(port, 96));
  injectBinding(ctx.node.dataDir, DTMF_CALLEE, ctx.callee.sipPort);
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uac-dtmf.xml'), dir: ctx.dir, name: 'dtmf-uac', port: await freeUdpPorts(1), mediaPort: await freeUdpPorts(4),
    target: ctx.node.udp, injection: [callerRow(DTMF_CALLEE)], calls: 1, rate: 1, timeoutS: 20,
  });
  ctx.sipps.push(uac);
  const res = await uac.done;
  assert.equal(sippCounts(res.stdout), { successful: 1, failed: 0 }, describeSipp('caller', uac, res));
  const callee = ctx.callee;
  // dtmf_2833_1.pcap: 10 packets of the event '1' (code 1), PT 101, with the marker on the first.
  const events = await waitFor(() => callee.rtp.length >= 10 && callee.rtp, 'the 10 telephone-event packets at the callee', 5_000);
  const pts = [...new Set(events.map((p) => p.payloadType))];
  assert.equal(pts, [96], `payload types that arrived: ${pts.join(', ')} (101 means no renumbering)`);
  assert.ok(events.every((p) => p.firstPayloadByte === 1), `event code 1 in every packet: ${events.map((p) => p.firstPayloadByte).join(',')}`);
  assert.ok(events[0]!.marker, 'the first packet of the event carries the marker bit');
  assert.is(events.length, 10, 'no packet lost or duplicated');
  await waitFor(() => callee.requests.some((r) => r.method === 'BYE'), 'the caller\'s BYE to reach the callee through the box', 5_000);
  const cdr = await waitFor(async () => (await listCdrs(ctx.node)).find((c) => c.callee === DTMF_CALLEE), 'the DTMF call CDR');
  assert.is(cdr.disposition, 'answered');
  assert.is(cdr.media.a?.packetsIn, 10, JSON.stringify(cdr.media));
  assert.is(cdr.media.b?.packetsOut, 10, JSON.stringify(cdr.media));
});

calls.run();
