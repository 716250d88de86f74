/**
 * Calls across the boxes of a site, end to end (docs/inter-box.md): a hub and two boxes a1 and
 * a2 of site `a` as real processes (test/helpers/sync-cluster.ts). User 2002 registers at a2
 * with sipp (from the port its sipp callee then listens on, echoing RTP), 2001 registers at a1
 * with sipp and calls 2002 through a1 from the same port, playing G.711 audio: a1 forwards the
 * INVITE to a2 signed with its node key, a2 rings its phone; the call is answered, RTP flows
 * both ways through both relays, the caller's BYE ends it, and each box writes its CDR, both
 * carrying the same link (a1's CDR uuid, signed into the INVITE to a2). Then
 * the callee hangs up a second call: its BYE goes back through a2 and a1 to the caller; the
 * caller holds and resumes a third one with re-INVITEs through both boxes, and cancels a
 * fourth while it rings. Last, a forged INVITE sent straight to a2 with a bad Outpost-Node
 * header gets 403 and a warning.
 * Runs alone too: node --import tsx test/integration/calls-inter-box.test.ts
 */
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { describeSipp, freeUdpPorts, LOCALHOST, spawnSipp, SIPP_SCENARIOS, udpPortBound, type Cdr, type SippProcess } from '../helpers/calls.ts';
import { cdrsOf, cdrSummary as summary, sippAuth as auth, sippRegister, startSiteOfTwo, waitForBinding } from '../helpers/inter-box.ts';
import { explainedOn, type SyncCluster, type Replica } from '../helpers/sync-cluster.ts';

interface Ctx {
  cluster: SyncCluster;
  sipps: SippProcess[];
  failed: boolean;
}

const CALLER = '2001';
const CALLEE = '2002';
const inter = suite<Ctx>('calls across the boxes of a site');

inter.before(async (ctx) => {
  ctx.sipps = [];
  ctx.failed = false;
  ctx.cluster = (await startSiteOfTwo('inter-box.example', [CALLER, CALLEE])).cluster;
});

inter.after(async (ctx) => {
  for (const s of ctx.sipps) s.kill();
  await ctx.cluster?.destroy(!ctx.failed);
});

/** A test body that prints every process's log tail when it fails (the folder is then kept). */
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body, 40);

/** A call from 2001 at a1 to 2002 at a2 with the given sipp scenarios; returns both boxes' new CDRs. */
async function call(ctx: Ctx, uasScenario: string, uacScenario: string): Promise<{ a1: Cdr; a2: Cdr }> {
  const [a1, a2] = ctx.cluster.nodes as [Replica, Replica];
  const [calleePort, callerPort] = [await freeUdpPorts(1), await freeUdpPorts(1)];
  await sippRegister(ctx.cluster, ctx.sipps, a2, CALLEE, calleePort);
  await sippRegister(ctx.cluster, ctx.sipps, a1, CALLER, callerPort);
  await waitForBinding(ctx.cluster, a1, CALLEE, 'a2', `:${calleePort}`);
  const before = { a1: (await cdrsOf(a1)).length, a2: (await cdrsOf(a2)).length };
  const uas = spawnSipp({
    scenario: join(SIPP_SCENARIOS, uasScenario), dir: ctx.cluster.dir, name: `uas-${calleePort}`, port: calleePort, mediaPort: await freeUdpPorts(4),
    calls: 1, rtpEcho: true, timeoutS: 30,
  });
  ctx.sipps.push(uas);
  await waitFor(() => udpPortBound(calleePort), 'the sipp callee to listen', 5_000);
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, uacScenario), dir: ctx.cluster.dir, name: `uac-${callerPort}`, port: callerPort, mediaPort: await freeUdpPorts(4),
    target: a1.sip, injection: [`${CALLER};${auth(CALLER)};${ctx.cluster.domain};${CALLEE}`], calls: 1, timeoutS: 30,
  });
  ctx.sipps.push(uac);
  const [uacRes, uasRes] = [await uac.done, await uas.done];
  assert.equal(sippCounts(uacRes.stdout), { successful: 1, failed: 0 }, describeSipp('caller', uac, uacRes));
  assert.equal(sippCounts(uasRes.stdout), { successful: 1, failed: 0 }, describeSipp('callee', uas, uasRes));
  const newCdr = async (box: Replica, n: number) => waitFor(async () => (await cdrsOf(box))[n], `${box.name}'s CDR`, 10_000, 200);
  return { a1: await newCdr(a1, before.a1), a2: await newCdr(a2, before.a2) };
}

function assertRelayedBothWays(c: Cdr): void {
  const { a, b } = c.media;
  assert.ok(a && b, summary(c));
  assert.ok(a!.packetsIn > 0 && a!.packetsOut > 0, `caller side both ways: ${summary(c)}`);
  assert.ok(b!.packetsIn > 0 && b!.packetsOut > 0, `callee side both ways: ${summary(c)}`);
  assert.is(a!.unexpectedSource, 0, summary(c));
  assert.is(b!.unexpectedSource, 0, summary(c));
}

inter('2001 at a1 calls 2002 at a2: answered, RTP both ways through both relays, the caller\'s BYE ends it, a CDR on each box', explained(async (ctx) => {
  const cdrs = await call(ctx, 'call-uas.xml', 'call-uac.xml');
  for (const [box, c] of Object.entries(cdrs)) {
    assert.equal([c.caller, c.callee, c.disposition, c.endedBy], [CALLER, CALLEE, 'answered', 'caller'], `${box}: ${summary(c)}`);
    assertRelayedBothWays(c);
  }
  // a1's leg b and a2's leg a are the hop between the relays: what one sent, the other received.
  assert.ok(cdrs.a2.media.a!.packetsIn > 0 && cdrs.a1.media.b!.packetsIn > 0, 'RTP crossed between the boxes both ways');
  assertLinked(cdrs);
}));

/** The two CDRs of one call across boxes carry the same link: the uuid of a1's (where the call entered). */
function assertLinked(cdrs: { a1: Cdr; a2: Cdr }): void {
  assert.is.not(cdrs.a1.uuid, cdrs.a2.uuid, 'two CDRs, one per box');
  assert.is(cdrs.a1.link, cdrs.a1.uuid, `a1's CDR links to itself: ${JSON.stringify(cdrs.a1)}`);
  assert.is(cdrs.a2.link, cdrs.a1.uuid, `a2's CDR links to a1's: ${JSON.stringify(cdrs.a2)}`);
}

inter('the callee hangs up: its BYE goes back through a2 and a1 to the caller', explained(async (ctx) => {
  const cdrs = await call(ctx, 'call-uas-bye.xml', 'call-uac-wait-bye.xml');
  assert.equal([cdrs.a1.disposition, cdrs.a1.endedBy], ['answered', 'callee'], summary(cdrs.a1));
  assert.equal([cdrs.a2.disposition, cdrs.a2.endedBy], ['answered', 'callee'], summary(cdrs.a2));
}));

inter('hold and resume: the caller\'s two re-INVITEs cross both boxes, each answered and ACKed', explained(async (ctx) => {
  const cdrs = await call(ctx, 'call-uas-hold.xml', 'call-uac-hold.xml');
  assert.equal([cdrs.a1.disposition, cdrs.a2.disposition], ['answered', 'answered']);
}));

inter('the caller cancels while it rings: the CANCEL crosses both boxes, each CDR says cancelled', explained(async (ctx) => {
  const cdrs = await call(ctx, 'call-uas-cancel.xml', 'call-uac-cancel.xml');
  assert.equal([cdrs.a1.disposition, cdrs.a1.sipStatus], ['cancelled', 487], summary(cdrs.a1));
  assert.equal([cdrs.a2.disposition, cdrs.a2.sipStatus], ['cancelled', 487], summary(cdrs.a2));
  assertLinked(cdrs);
}));

inter('a forged INVITE to a2 claiming to come from a1: 403, logged with the claimed node and source', explained(async (ctx) => {
  const a2 = ctx.cluster.node('a2');
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, LOCALHOST, () => r()));
  const port = socket.address().port;
  const ts = Math.floor(Date.now() / 1000);
  const invite = [
    `INVITE sip:${CALLEE}@${a2.sip.host}:${a2.sip.port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${LOCALHOST}:${port};branch=z9hG4bK-forged-1;rport`,
    'Max-Forwards: 70',
    `From: <sip:${CALLER}@${ctx.cluster.domain}>;tag=forged`,
    `To: <sip:${CALLEE}@${ctx.cluster.domain}>`,
    'Call-ID: forged-1@attacker',
    'CSeq: 1 INVITE',
    `Contact: <sip:${CALLER}@${LOCALHOST}:${port}>`,
    `Outpost-Node: a1;ts=${ts};sig=${Buffer.alloc(64, 7).toString('base64')}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const final = new Promise<string>((resolve) => socket.on('message', (m) => {
    const text = m.toString();
    if (!/^SIP\/2\.0 1\d\d/.test(text)) resolve(text);
  }));
  try {
    socket.send(invite, a2.sip.port, a2.sip.host);
    const res = await Promise.race([final, new Promise<string>((r) => setTimeout(() => r('no answer within 5 s'), 5_000))]);
    assert.match(res, /^SIP\/2\.0 403 /, res);
  } finally {
    socket.close();
  }
  const line = await a2.waitForLog('inter-box request refused', 5_000);
  assert.equal([line.line['node'], line.line['reason'], line.line['ip'], line.line['port']], ['a1', 'bad-signature', LOCALHOST, port]);
}));

inter.run();
