/**
 * Call flows through the box, one sipp caller and (where the call reaches one) one sipp callee
 * per test, against `outpost node` as a child process on 127.0.0.1 with rtp.timeout 3 s:
 * CANCEL before the answer, BYE from the callee, a busy callee, an unregistered callee and an
 * unknown number, hold and resume by re-INVITE, the media timeout, a node killed mid-call and
 * restarted (its CDR closed as 'interrupted'), and a clean, prompt stop on SIGTERM with a call up.
 * What each side must see is in the scenarios (test/integration/sipp/call-u*-*.xml); the tests
 * check sipp's counts, the message traces and the CDRs.
 * Runs alone too: node --import tsx test/integration/calls-flows.test.ts
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addUsers, callNodeSections, checkpoints, describeSipp, finalInviteStatus, freeUdpPorts, headerOf, injectBinding, listCdrs, passwordOf, receivedMessages,
  spawnSipp, SIPP_SCENARIOS, udpPortBound, type Cdr, type SippProcess,
} from '../helpers/calls.ts';
import { startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import type { SippResult } from '../../bench/lib/sipp.ts';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const DOMAIN = 'calls-flows.example';
const PORT_RANGE: [number, number] = [30000, 30999];
const RTP_TIMEOUT_S = 3;
const CALLER = '1001';
const CALLEE = '1002';
/** A user with no binding. */
const UNREGISTERED = '1003';

interface Ctx {
  dir: string;
  node: NodeProcess;
  configFile: string;
  /** The current sipp callee's SIP port (the callee's binding points here). */
  uasPort: number;
  sipps: SippProcess[];
  seq: number;
}

interface CallRun {
  uac: SippProcess;
  uas: SippProcess | undefined;
  uacRes: SippResult;
  uasRes: SippResult | undefined;
  callId: string;
}

const flows = suite<Ctx>('call flows with sipp');

flows.before(async (ctx) => {
  ctx.dir = tempDir('outpost-calls-flows-');
  ctx.sipps = [];
  ctx.seq = 0;
  ctx.configFile = writeNodeConfig(ctx.dir, callNodeSections({ portRange: PORT_RANGE, rtpTimeout: RTP_TIMEOUT_S }), DOMAIN);
  addUsers(join(ctx.dir, 'data'), DOMAIN, [CALLER, CALLEE, UNREGISTERED]);
  ctx.node = await startNode(ctx.configFile, ctx.dir);
});

flows.after(async (ctx) => {
  for (const s of ctx.sipps ?? []) s.kill();
  assert.is(await ctx.node?.stop(), 0, 'node stops cleanly on SIGTERM');
});

const callerRow = (callee: string) => `${CALLER};[authentication username=${CALLER} password=${passwordOf(CALLER)}];${DOMAIN};${callee}`;

/** Starts the sipp callee (on the port its binding names) and the sipp caller, without waiting. */
async function spawnPair(ctx: Ctx, uacScenario: string, uasScenario: string | undefined, callee: string): Promise<{ uac: SippProcess; uas: SippProcess | undefined }> {
  const n = ++ctx.seq;
  if (uasScenario !== undefined) {
    // A fresh port per call: a late retransmission meant for the previous test's callee cannot
    // reach this one.
    ctx.uasPort = await freeUdpPorts(1);
    injectBinding(ctx.node.dataDir, CALLEE, ctx.uasPort);
  }
  const uas = uasScenario === undefined ? undefined : spawnSipp({
    scenario: join(SIPP_SCENARIOS, uasScenario), dir: ctx.dir, name: `t${n}-uas`, port: ctx.uasPort, mediaPort: await freeUdpPorts(4), calls: 1, timeoutS: 20,
  });
  if (uas) {
    ctx.sipps.push(uas);
    await waitFor(() => udpPortBound(ctx.uasPort), 'the sipp callee to listen', 5_000);
  }
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, uacScenario), dir: ctx.dir, name: `t${n}-uac`, port: await freeUdpPorts(1), mediaPort: await freeUdpPorts(4),
    target: ctx.node.udp, injection: [callerRow(callee)], calls: 1, rate: 1, timeoutS: 20,
  });
  ctx.sipps.push(uac);
  return { uac, uas };
}

const callIdOf = (uac: SippProcess) => /^Call-ID:\s*(\S+)/m.exec(uac.messages())?.[1];

/** One call to its end: waits for the caller, then the callee (each bounded by sipp's -timeout). */
async function placeCall(ctx: Ctx, uacScenario: string, uasScenario: string | undefined, callee = CALLEE): Promise<CallRun> {
  const { uac, uas } = await spawnPair(ctx, uacScenario, uasScenario, callee);
  const uacRes = await uac.done;
  const uasRes = uas ? await uas.done : undefined;
  return { uac, uas, uacRes, uasRes, callId: callIdOf(uac) ?? '' };
}

function assertBothSucceeded(run: CallRun): void {
  assert.equal(sippCounts(run.uacRes.stdout), { successful: 1, failed: 0 }, describeSipp('caller', run.uac, run.uacRes));
  if (run.uas && run.uasRes) assert.equal(sippCounts(run.uasRes.stdout), { successful: 1, failed: 0 }, describeSipp('callee', run.uas, run.uasRes));
}

function cdrOf(ctx: Ctx, callId: string): Promise<Cdr> {
  assert.ok(callId, 'the caller sent an INVITE with a Call-ID');
  return waitFor(async () => (await listCdrs(ctx.node)).find((c) => c.aCallId === callId), `the CDR of ${callId}`, 5_000, 100);
}

/** The SDP lines of a message that matter here: connection address, audio port, direction. */
function mediaOf(msg: string): { address: string | undefined; port: number; direction: string } {
  return {
    address: /^c=IN IP4 (\S+)/m.exec(msg)?.[1],
    port: Number(/^m=audio (\d+)/m.exec(msg)?.[1] ?? -1),
    direction: /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(msg)?.[1] ?? 'sendrecv',
  };
}

flows('CANCEL before the answer: caller gets 487, callee gets CANCEL, CDR cancelled', async (ctx) => {
  const run = await placeCall(ctx, 'call-uac-cancel.xml', 'call-uas-cancel.xml');
  assertBothSucceeded(run);
  assert.ok(receivedMessages(run.uas!.messages()).some((m) => m.startsWith('CANCEL ')), 'the callee received CANCEL');
  const cdr = await cdrOf(ctx, run.callId);
  assert.is(cdr.disposition, 'cancelled');
  assert.is(cdr.sipStatus, 487);
  assert.is(cdr.endedBy, 'caller');
  assert.is(cdr.answeredAt, null);
  assert.is(cdr.durationMs, 0);
});

flows('BYE from the callee: the caller receives BYE, CDR endedBy callee', async (ctx) => {
  const run = await placeCall(ctx, 'call-uac-wait-bye.xml', 'call-uas-bye.xml');
  assertBothSucceeded(run);
  const cdr = await cdrOf(ctx, run.callId);
  assert.is(cdr.disposition, 'answered');
  assert.is(cdr.endedBy, 'callee');
  assert.is(cdr.sipReason, 'callee hung up');
  assert.ok(cdr.answeredAt !== null && cdr.durationMs >= 400, `talked about 500 ms: ${cdr.durationMs}`);
});

flows('busy callee: 486 to the callee becomes 486 to the caller, CDR busy', async (ctx) => {
  const run = await placeCall(ctx, 'call-uac-rejected.xml', 'call-uas-busy.xml');
  assertBothSucceeded(run);
  assert.is(finalInviteStatus(run.uac.messages()), 486);
  const cdr = await cdrOf(ctx, run.callId);
  assert.is(cdr.disposition, 'busy');
  assert.is(cdr.sipStatus, 486);
  assert.is(cdr.answeredAt, null);
});

flows('unregistered callee gets 480, an unknown number 404, and neither starts a call', async (ctx) => {
  const before = (await listCdrs(ctx.node)).length;
  const unregistered = await placeCall(ctx, 'call-uac-rejected.xml', undefined, UNREGISTERED);
  assertBothSucceeded(unregistered);
  assert.is(finalInviteStatus(unregistered.uac.messages()), 480, describeSipp('caller', unregistered.uac, unregistered.uacRes));
  const unknown = await placeCall(ctx, 'call-uac-rejected.xml', undefined, '7777');
  assertBothSucceeded(unknown);
  assert.is(finalInviteStatus(unknown.uac.messages()), 404, describeSipp('caller', unknown.uac, unknown.uacRes));
  assert.is((await listCdrs(ctx.node)).length, before, 'refused before a call exists: no CDR');
  assert.equal(checkpoints(ctx.node.dataDir), [], 'no call left in progress');
});

flows('hold and resume: the callee sees both re-INVITEs with the relay address, both answered 200', async (ctx) => {
  const run = await placeCall(ctx, 'call-uac-hold.xml', 'call-uas-hold.xml');
  assertBothSucceeded(run);
  // At the callee: the initial INVITE and two re-INVITEs, all pointing at the relay's b side.
  const invites = receivedMessages(run.uas!.messages()).filter((m) => m.startsWith('INVITE '));
  assert.is(invites.length, 3, `INVITEs at the callee: ${invites.length}`);
  const atCallee = invites.map(mediaOf);
  for (const m of atCallee) {
    assert.is(m.address, '127.0.0.1', 'c= is the relay address');
    assert.ok(m.port >= PORT_RANGE[0] && m.port <= PORT_RANGE[1], `m= port ${m.port} is a relay port`);
    assert.is(m.port, atCallee[0]!.port, 'the relay port stays the same across re-INVITEs');
  }
  assert.equal(atCallee.map((m) => m.direction), ['sendrecv', 'sendonly', 'sendrecv']);
  // At the caller: three 200s to its INVITEs (CSeq 2, 3, 4), with the callee's answers rewritten.
  const oks = receivedMessages(run.uac.messages()).filter((m) => m.startsWith('SIP/2.0 200') && /^CSeq:\s*\d+ INVITE/m.test(m));
  const byCseq = new Map(oks.map((m) => [Number(/^CSeq:\s*(\d+)/m.exec(m)![1]), mediaOf(m)]));
  assert.equal([...byCseq.keys()].sort(), [2, 3, 4]);
  const relayA = byCseq.get(2)!.port;
  assert.ok(relayA >= PORT_RANGE[0] && relayA <= PORT_RANGE[1] && relayA !== atCallee[0]!.port, `the caller's relay port ${relayA}`);
  assert.equal([byCseq.get(3), byCseq.get(4)], [{ address: '127.0.0.1', port: relayA, direction: 'recvonly' }, { address: '127.0.0.1', port: relayA, direction: 'sendrecv' }]);
  const cdr = await cdrOf(ctx, run.callId);
  assert.is(cdr.disposition, 'answered');
  assert.is(cdr.endedBy, 'caller');
});

flows(`media timeout: no RTP for ${RTP_TIMEOUT_S} s ends the call with BYE to both sides`, async (ctx) => {
  const t0 = Date.now();
  const run = await placeCall(ctx, 'call-uac-wait-bye.xml', 'call-uas.xml');
  assertBothSucceeded(run);
  for (const [who, sipp] of [['caller', run.uac], ['callee', run.uas!]] as const) {
    const bye = receivedMessages(sipp.messages()).find((m) => m.startsWith('BYE '));
    assert.ok(bye, `the ${who} received BYE`);
    assert.match(headerOf(bye!, 'Reason') ?? '', /media timeout/, `the ${who}'s BYE says why`);
  }
  const cdr = await cdrOf(ctx, run.callId);
  assert.is(cdr.disposition, 'answered');
  assert.is(cdr.sipReason, 'media timeout');
  assert.is(cdr.endedBy, 'system');
  // Timed from the answer, checked once a second: between the timeout and the timeout + 2 s.
  assert.ok(cdr.durationMs >= RTP_TIMEOUT_S * 1000 - 100 && cdr.durationMs <= RTP_TIMEOUT_S * 1000 + 2000, `talk time ${cdr.durationMs} ms`);
  assert.ok(Date.now() - t0 < 15_000);
});

flows('restart mid-call: a node killed while a call is up closes its CDR as interrupted on restart', async (ctx) => {
  const { uac } = await spawnPair(ctx, 'call-uac-wait-bye.xml', 'call-uas.xml', CALLEE);
  // Answered and checkpointed (well inside the 3 s media timeout: the call sends no RTP).
  const callId = await waitFor(() => callIdOf(uac), 'the caller to send its INVITE', 5_000);
  const up = await waitFor(() => checkpoints(ctx.node.dataDir).find((c) => c.aCallId === callId && c.state === 'answered'), 'the call to be checkpointed as answered', 5_000);
  assert.is(await ctx.node.stop('SIGKILL'), null, 'killed, no exit code');
  for (const s of ctx.sipps) s.kill(); // both still wait for a BYE that will not come
  assert.is((await listCdrs(ctx.node)).find((c) => c.aCallId === callId), undefined, 'no CDR while the node is down');
  ctx.node = await startNode(ctx.configFile, ctx.dir);
  const cdr = await cdrOf(ctx, callId);
  assert.is(cdr.uuid, up.callUuid);
  assert.is(cdr.disposition, 'interrupted');
  assert.is(cdr.endedBy, 'system');
  assert.is(cdr.sipReason, 'node stopped during the call');
  assert.ok(cdr.answeredAt !== null, 'it had been answered');
  assert.equal(checkpoints(ctx.node.dataDir), [], 'no call left in progress');
  assert.ok(ctx.node.logs.some((l) => l['msg'] === 'closed CDRs of calls interrupted by a restart' && l['count'] === 1));
});

flows('SIGTERM with a call up: BYE to both sides, the CDR is written, and the process exits within 5 s', async (ctx) => {
  const { uac, uas } = await spawnPair(ctx, 'call-uac-wait-bye.xml', 'call-uas.xml', CALLEE);
  const callId = await waitFor(() => callIdOf(uac), 'the caller to send its INVITE', 5_000);
  await waitFor(() => checkpoints(ctx.node.dataDir).find((c) => c.aCallId === callId && c.state === 'answered'), 'the call to be answered', 5_000);
  const t0 = Date.now();
  ctx.node.proc.kill('SIGTERM');
  await waitFor(() => ctx.node.logs.some((l) => l['msg'] === 'node stopped'), '"node stopped" in the log', 5_000);
  const run: CallRun = { uac, uas, uacRes: await uac.done, uasRes: await uas!.done, callId };
  assertBothSucceeded(run); // each received a BYE and answered it
  for (const [who, sipp] of [['caller', uac], ['callee', uas!]] as const) {
    const bye = receivedMessages(sipp.messages()).find((m) => m.startsWith('BYE '));
    assert.match(headerOf(bye ?? '', 'Reason') ?? '', /node shutting down/, `the ${who}'s BYE says why`);
  }
  const cdr = await cdrOf(ctx, callId);
  assert.is(cdr.sipReason, 'node shutting down');
  assert.is(cdr.endedBy, 'system');
  const exited = await waitFor(() => ctx.node.proc.exitCode !== null || ctx.node.proc.signalCode !== null, 'the node process to exit', 5_000).catch(() => false);
  assert.ok(exited, `the node logged "node stopped" but its process was still running ${Date.now() - t0} ms after SIGTERM (a timer keeps the event loop alive)`);
  assert.is(ctx.node.proc.exitCode, 0);
});

flows.run();
