/**
 * SIP trace end to end (docs/sip-trace.md): `outpost node` with `trace.hep` pointed at a HEP
 * collector in this process (UDP, 127.0.0.1, OS port). A REGISTER exchange and a call (sipp
 * caller and callee) must reach the collector as HEP3 packets whose payloads are the SIP
 * messages, with the real addresses and ports, the capture id and the auth key. While that call
 * runs, `outpost trace --user 1001` writes a pcap holding the call's messages and none of
 * another user's registration; tshark and sngrep read it when they are installed. An RTCP sender
 * report a callee sends to the relay during a call reaches the collector as HEP type 5 (JSON)
 * with the caller's Call-ID as correlation id.
 * Runs alone too: node --import tsx test/integration/sip-trace.test.ts
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readRuntimeInfo } from '../../agent/cli/runtime-file.ts';
import { startHepCollector, type DecodedHep, type HepCollector } from '../../bench/lib/hep.ts';
import { parseProm } from '../../bench/lib/prometheus.ts';
import { OUTPOST_BIN, runCli, startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { hasSngrep, hasTshark, readPcap, sngrepDialogCount, tsharkSip } from '../../bench/lib/pcap.ts';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { addUsers, callNodeSections, describeSipp, freeUdpPorts, injectBinding, passwordOf, spawnSipp, SIPP_SCENARIOS, udpPortBound, type SippProcess } from '../helpers/calls.ts';
import { registerUser } from '../../bench/lib/sip-register.ts';
import { pcmaAnswer, SipCallee } from '../../bench/lib/sip-callee.ts';
import { senderReport } from '../../agent/media/fake-phone.ts';

const DOMAIN = 'trace.example';
const CAPTURE_ID = 4242;
const HEP_KEY = 'hep-secret';

interface Ctx {
  dir: string;
  node: NodeProcess;
  collector: HepCollector;
  sipps: SippProcess[];
  callee?: SipCallee;
}

const trace = suite<Ctx>('SIP trace: HEP export and outpost trace');

trace.before(async (ctx) => {
  ctx.dir = tempDir('outpost-trace-');
  ctx.sipps = [];
  ctx.collector = await startHepCollector();
  const hep = `trace:\n  hep: { address: "127.0.0.1:${ctx.collector.port}", captureId: ${CAPTURE_ID}, password: ${HEP_KEY} }\nhttp: { listen: "127.0.0.1:0" }\n`;
  const config = writeNodeConfig(ctx.dir, callNodeSections({ portRange: [32000, 32999] }) + hep, DOMAIN);
  addUsers(join(ctx.dir, 'data'), DOMAIN, ['1001', '1002', '1003']);
  ctx.node = await startNode(config, ctx.dir);
});

trace.after(async (ctx) => {
  // The node first: it ends the call still up (the RTCP test's) with both parties there to answer.
  assert.is(await ctx.node?.stop(), 0, 'node stops cleanly on SIGTERM');
  for (const s of ctx.sipps ?? []) s.kill();
  ctx.callee?.close();
  await ctx.collector?.close();
});

const text = (p: DecodedHep) => p.payload.toString('utf8');
const firstLine = (p: DecodedHep) => text(p).split('\r\n')[0]!;
const callIdOf = (payload: string) => /^Call-ID:\s*(.*)$/im.exec(payload)?.[1]?.trim();

trace('a REGISTER exchange arrives at the collector as HEP: REGISTER, 401, REGISTER, 200 with the real addresses', async (ctx) => {
  const reg = await registerUser({ target: ctx.node.udp, domain: DOMAIN, user: '1001', password: passwordOf('1001'), contact: `sip:1001@127.0.0.1:5999` });
  assert.ok(reg.ok, reg.reason);
  const exchange = await waitFor(() => {
    const mine = ctx.collector.packets.filter((p) => p.protoType === 1 && /^From: <sip:1001@/m.test(text(p)) && /REGISTER/.test(text(p)));
    return mine.length >= 4 && mine;
  }, 'four HEP packets of the REGISTER exchange');
  assert.equal(exchange.slice(0, 4).map(firstLine), [`REGISTER sip:${DOMAIN} SIP/2.0`, 'SIP/2.0 401 Unauthorized', `REGISTER sip:${DOMAIN} SIP/2.0`, 'SIP/2.0 200 OK']);
  const [request, challenge] = exchange;
  const node = ctx.node.udp;
  // Requests go from the UA to the node's UDP listener, responses come back the other way.
  assert.equal([request!.dstIp, request!.dstPort, request!.srcIp], ['127.0.0.1', node.port, '127.0.0.1']);
  assert.equal([challenge!.srcIp, challenge!.srcPort, challenge!.dstIp, challenge!.dstPort], ['127.0.0.1', node.port, '127.0.0.1', request!.srcPort]);
  for (const p of exchange) {
    assert.equal([p.ipFamily, p.ipProtocol, p.captureId, p.authKey], [2, 17, CAPTURE_ID, HEP_KEY]);
    assert.ok(Math.abs(p.timeSeconds - Date.now() / 1000) < 60, 'a timestamp of now');
  }
  assert.is(ctx.collector.invalid, 0);
});


trace('/metrics counts the HEP packets sent, none dropped', async (ctx) => {
  const port = readRuntimeInfo(ctx.node.dataDir)?.metricsPort;
  assert.ok(port, 'the node serves /metrics');
  const { samples } = parseProm(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  const sent = samples.get('outpost_hep_packets_sent_total') ?? 0;
  assert.ok(sent >= 4, `sent ${sent}: at least the REGISTER exchange`);
  assert.ok(sent >= ctx.collector.packets.length, `sent ${sent}, the collector got ${ctx.collector.packets.length}`);
  assert.is(samples.get('outpost_hep_packets_dropped_total'), 0);
});
trace('outpost trace --user 1001 writes the pcap of a running call, and not the SIP of user 1003', async (ctx) => {
  const pcap = join(ctx.dir, 'call.pcap');
  const tracer = spawn(process.execPath, [OUTPOST_BIN, 'trace', '--user', '1001', '--out', pcap, '--config', ctx.node.configFile], { cwd: ctx.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  tracer.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  tracer.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => tracer.once('exit', resolve));
  await waitFor(() => stderr.includes('tracing user 1001 on node a1'), 'outpost trace to connect', 15_000);

  const uasPort = await freeUdpPorts(1);
  injectBinding(ctx.node.dataDir, '1002', uasPort);
  const uas = spawnSipp({ scenario: join(SIPP_SCENARIOS, 'call-uas.xml'), dir: ctx.dir, name: 'trace-uas', port: uasPort, mediaPort: await freeUdpPorts(4), calls: 1, rtpEcho: true, timeoutS: 30 });
  ctx.sipps.push(uas);
  await waitFor(() => udpPortBound(uasPort), 'the sipp callee to listen', 5_000);
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uac.xml'), dir: ctx.dir, name: 'trace-uac', port: await freeUdpPorts(1), mediaPort: await freeUdpPorts(4),
    target: ctx.node.udp, injection: [`1001;[authentication username=1001 password=${passwordOf('1001')}];${DOMAIN};1002`], calls: 1, timeoutS: 30,
  });
  ctx.sipps.push(uac);
  // Another user registers while the call runs: not in 1001's trace.
  const other = await registerUser({ target: ctx.node.udp, domain: DOMAIN, user: '1003', password: passwordOf('1003'), contact: 'sip:1003@127.0.0.1:5998' });
  assert.ok(other.ok, other.reason);
  const uacRes = await uac.done;
  const uasRes = await uas.done;
  assert.equal(sippCounts(uacRes.stdout), { successful: 1, failed: 0 }, describeSipp('caller', uac, uacRes));
  assert.equal(sippCounts(uasRes.stdout), { successful: 1, failed: 0 }, describeSipp('callee', uas, uasRes));

  // The caller's leg: INVITE, 407, ACK, INVITE, ..., 200, ACK, BYE, 200. Wait for its BYE's 200 (both legs'), then Ctrl-C.
  const callerCallId = await waitFor(() => ctx.collector.packets.map(text).filter((t) => t.startsWith('INVITE ') && /^From: <sip:1001@/m.test(t)).map(callIdOf)[0], 'the INVITE at the collector');
  const calleeInvite = await waitFor(() => ctx.collector.packets.map(text).find((t) => t.startsWith('INVITE sip:1002@127.0.0.1')), "the callee leg's INVITE at the collector");
  const calleeCallId = callIdOf(calleeInvite)!;
  await waitFor(() => ctx.collector.packets.filter((p) => /^CSeq: \d+ BYE/m.test(text(p)) && text(p).startsWith('SIP/2.0 200')).length >= 2, 'both legs to end (200 to BYE)');
  tracer.kill('SIGINT');
  assert.is(await exited, 0, stderr);
  const written = /^(\d+) SIP messages written to (.*)$/m.exec(stdout);
  assert.ok(written, stdout);

  const { records } = readPcap(readFileSync(pcap));
  assert.is(records.length, Number(written![1]), 'the count printed is the count written');
  const payloads = records.map((r) => r.payload.toString('utf8'));
  const callIds = new Set(payloads.map(callIdOf));
  assert.ok(callIds.has(callerCallId), "the caller's leg is in the trace");
  assert.ok(callIds.has(calleeCallId), "the callee's leg (From 1001) is in the trace");
  const methods = payloads.map((p) => p.split(' ')[0]);
  for (const m of ['INVITE', 'ACK', 'BYE']) assert.ok(methods.includes(m), `${m} in ${methods.join(',')}`);
  assert.ok(payloads.some((p) => p.startsWith('SIP/2.0 407')), 'the challenge');
  assert.ok(payloads.some((p) => p.startsWith('SIP/2.0 200') && /CSeq: \d+ INVITE/.test(p)), 'the answer');
  assert.ok(ctx.collector.packets.some((p) => text(p).startsWith('SIP/2.0 200') && /^To: <sip:1003@/m.test(text(p))), "1003's registration went through the node meanwhile (HEP has it)");
  assert.not.ok(payloads.some((p) => /sip:1003@/.test(p)), "no message of user 1003's registration in 1001's trace");
  // The caller's INVITE goes from sipp's port to the node's.
  const invite = records.find((r) => r.payload.toString().startsWith('INVITE sip:1002@trace.example'))!;
  assert.equal([invite.srcIp, invite.dstIp, invite.dstPort], ['127.0.0.1', '127.0.0.1', ctx.node.udp.port]);

  if (hasTshark()) {
    const rows = tsharkSip(pcap, ['sip.Call-ID', 'sip.Method'], [ctx.node.udp.port]);
    const seen = new Set(rows.map((r) => r[0]));
    assert.ok(seen.has(callerCallId) && seen.has(calleeCallId), `tshark sees both legs: ${JSON.stringify(rows.slice(0, 5))}`);
    assert.ok(rows.some((r) => r[1] === 'INVITE'));
  }
  if (hasSngrep()) assert.is(sngrepDialogCount(pcap, join(ctx.dir, 'sngrep-out.pcap')), 2, 'sngrep finds the two legs of the call');
});

trace("an RTCP report the relay sees reaches the collector as HEP type 5, under the caller's Call-ID", async (ctx) => {
  const callee = await SipCallee.start((port) => pcmaAnswer(port, 101));
  ctx.callee = callee;
  injectBinding(ctx.node.dataDir, '1002', callee.sipPort);
  // A caller that stays in the call until the box hangs up (at the node's stop).
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uac-wait-bye.xml'), dir: ctx.dir, name: 'rtcp-uac', port: await freeUdpPorts(1), mediaPort: await freeUdpPorts(4),
    target: ctx.node.udp, injection: [`1001;[authentication username=1001 password=${passwordOf('1001')}];${DOMAIN};1002`], calls: 1, timeoutS: 120,
  });
  ctx.sipps.push(uac);
  const invite = await waitFor(() => callee.requests.find((r) => r.method === 'INVITE'), 'the INVITE at the callee');
  const relayPort = Number(/^m=audio (\d+)/m.exec(invite.body)![1]);
  const relayHost = /^c=IN IP4 (\S+)/m.exec(invite.body)![1]!;
  const rtcp = createSocket('udp4');
  await new Promise<void>((resolve) => rtcp.bind(0, '127.0.0.1', () => resolve()));
  try {
    // The callee's report on the stream it receives, to the relay's RTCP port of its leg.
    rtcp.send(senderReport(0x00c0ffee, 8000, 0x1234, 42), relayPort + 1, relayHost);
    const report = await waitFor(() => ctx.collector.packets.find((p) => p.protoType === 5), 'the RTCP report at the collector');
    const callerInvite = ctx.collector.packets.map(text).filter((t) => t.startsWith('INVITE sip:1002@trace.example') && /^From: <sip:1001@/m.test(t)).at(-1)!;
    assert.is(report.correlationId, callIdOf(callerInvite), "the caller leg's Call-ID correlates the report with the call");
    assert.equal([report.srcIp, report.srcPort, report.dstIp, report.dstPort], ['127.0.0.1', rtcp.address().port, relayHost, relayPort + 1]);
    assert.equal([report.captureId, report.authKey, report.ipProtocol], [CAPTURE_ID, HEP_KEY, 17]);
    const json = JSON.parse(report.payload.toString()) as { type: number; ssrc: number; report_blocks: Array<{ source_ssrc: number; highest_seq_no: number }> };
    assert.equal([json.type, json.ssrc, json.report_blocks[0]!.source_ssrc, json.report_blocks[0]!.highest_seq_no], [200, 0x00c0ffee, 0x1234, 42]);
  } finally {
    rtcp.close();
  }
});

trace('outpost trace says so when the node does not run (exit 3) and refuses a trace without a user or number', async (ctx) => {
  const none = await runCli(['trace', '--config', ctx.node.configFile], ctx.dir);
  assert.is(none.code, 1);
  assert.match(none.stderr, 'give either --user EXT or --number DIGITS');
  const dir = tempDir('outpost-trace-off-');
  const config = writeNodeConfig(dir);
  const res = await runCli(['trace', '--user', '1001', '--duration', '1', '--config', config], dir);
  assert.is(res.code, 3, res.stderr);
  assert.match(res.stderr, 'outpost: node a1 is not running (start it with: outpost node --config');
});

trace.run();
