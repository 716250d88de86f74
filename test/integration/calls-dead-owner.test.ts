/**
 * A dead box's phones keep receiving calls (docs/failover.md): a hub and boxes a1, a2 of site
 * `a` as real processes. A sipp callee registers 2002 at a2; a2 is killed with SIGKILL; once
 * a1's liveness holds a2 down (`outpost status --json`), 2001 at a1 calls 2002: a1 sends the
 * INVITE straight to the sipp callee at the address a2 had recorded, the call is answered, RTP
 * flows both ways through a1's relay, and a1 writes the CDR.
 * Runs alone too: node --import tsx test/integration/calls-dead-owner.test.ts
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { assertRelayedBothWays, cdrSummary, describeSipp, freeUdpPorts, LOCALHOST, spawnSipp, SIPP_SCENARIOS, udpPortBound, type SippProcess } from '../helpers/calls.ts';
import { cdrsOf, sippRegister, siteCluster, sippAuth, waitForPeerState } from '../helpers/inter-box.ts';
import { explainedOn, type SyncCluster } from '../helpers/sync-cluster.ts';

interface Ctx {
  cluster: SyncCluster;
  sipps: SippProcess[];
  failed: boolean;
}

const CALLER = '2001';
const CALLEE = '2002';
const test = suite<Ctx>('a dead box\'s phones keep receiving calls');

test.before(async (ctx) => {
  ctx.sipps = [];
  ctx.failed = false;
  ctx.cluster = await siteCluster({ nodes: ['a1', 'a2'], users: [CALLER, CALLEE], domain: 'dead-owner.example' });
});

test.after(async (ctx) => {
  for (const s of ctx.sipps) s.kill();
  await ctx.cluster?.destroy(!ctx.failed);
});

test('2002 registered at a2, a2 killed: 2001 at a1 reaches 2002\'s phone directly, answered, RTP both ways', explainedOn<Ctx>(async (ctx) => {
  const { cluster } = ctx;
  const [a1, a2] = [cluster.node('a1'), cluster.node('a2')];
  const [calleePort, callerPort] = [await freeUdpPorts(1), await freeUdpPorts(1)];
  await sippRegister(cluster, ctx.sipps, a2, CALLEE, calleePort);
  await sippRegister(cluster, ctx.sipps, a1, CALLER, callerPort);
  const held = (b: string) => b.startsWith(`${CALLEE} `) && b.includes(`:${calleePort}`) && b.endsWith(' a2');
  await waitFor(() => [...cluster.snapshot(a1).bindings].some(held), 'a1 to hold 2002\'s binding at a2', 20_000, 100);
  await waitForPeerState(cluster, a1, 'a2', 'up');

  const uas = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uas.xml'), dir: cluster.dir, name: `uas-${calleePort}`, port: calleePort, mediaPort: await freeUdpPorts(4),
    calls: 1, rtpEcho: true, timeoutS: 40,
  });
  ctx.sipps.push(uas);
  await waitFor(() => udpPortBound(calleePort), 'the sipp callee to listen', 5_000);
  await a2.kill();
  await waitForPeerState(cluster, a1, 'a2', 'down');

  const from = a1.logs.length;
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uac.xml'), dir: cluster.dir, name: `uac-${callerPort}`, port: callerPort, mediaPort: await freeUdpPorts(4),
    target: a1.sip, injection: [`${CALLER};${sippAuth(CALLER)};${cluster.domain};${CALLEE}`], calls: 1, timeoutS: 30,
  });
  ctx.sipps.push(uac);
  const [uacRes, uasRes] = [await uac.done, await uas.done];
  assert.equal(sippCounts(uacRes.stdout), { successful: 1, failed: 0 }, describeSipp('caller', uac, uacRes));
  assert.equal(sippCounts(uasRes.stdout), { successful: 1, failed: 0 }, describeSipp('callee', uas, uasRes));

  const direct = a1.findLog('owner down: ringing its phone directly', from);
  assert.ok(direct, 'a1 logged that it rang the phone directly');
  assert.equal([direct!.line['owner'], direct!.line['target']], ['a2', `sip:${CALLEE}@${LOCALHOST}:${calleePort};transport=UDP`]);
  const cdr = await waitFor(async () => (await cdrsOf(a1)).find((c) => c.callee === CALLEE), 'a1\'s CDR', 10_000, 200);
  assert.equal([cdr.caller, cdr.disposition, cdr.endedBy], [CALLER, 'answered', 'caller'], cdrSummary(cdr));
  assertRelayedBothWays(cdr);
}, 40));

test.run();
