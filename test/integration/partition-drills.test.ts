/**
 * The partition contract of DESIGN.md section 7 as drills (issue 11 item 7,
 * docs/partition-drills.md): a hub and boxes a1, a2 of site `a`, each in its own Linux network
 * namespace, sipp phones in another, all on one bridge (bench/lib/netns.ts,
 * test/helpers/partition-site.ts). Links are cut with iptables INPUT drops on both sides, the
 * way a pulled cable is silent. Each drill cuts, checks what must go on and what must queue by
 * SIP results and by the rows in the stores, heals, and waits until every table's digest is
 * the same on the hub, a1 and a2:
 *   1. cut the hub: local and cross-box calls, registrations, and a user added at a1 with the
 *      site admin key (it reaches a2 and registers there) go on;
 *   2. cut a2 off (from a1 and the hub) during a call at a2: a1 rings a2's phone directly; a1's
 *      new user and CDR wait for a2 and arrive after the heal; a1 closes a2's call as
 *      `interrupted`, a2 ends it itself later, and after the heal every replica holds a2's own
 *      CDR of it, whole;
 *   3. cut a1 off from everything: a local call at a1 goes on; its CDR arrives after the heal;
 *   4. kill -9 a1 mid-call: a2 closes the call as an `interrupted` CDR of a1 within 15 s; a
 *      call to a1's phone placed at a2 once a2 holds a1 down is answered directly within 2 s of
 *      the kill (the issue's bounds; the times are printed); a1 restarts (the heal) and nothing
 *      is written twice.
 * Needs root and `ip netns`: otherwise it prints why and skips, unless OUTPOST_REQUIRE_NETNS=1
 * (CI), where that is a failure.
 * Runs alone too: node --import tsx test/integration/partition-drills.test.ts
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { netnsUnavailable } from '../../bench/lib/netns.ts';
import { now } from '../../bench/lib/outpost-process.ts';
import { Teardown } from '../../bench/lib/teardown.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { assertRelayedBothWays, type Cdr } from '../helpers/calls.ts';
import { addUserAtBox, assertSucceeded, cdrUuids, newCdrs, peerState, Phones, startLabSite, storeOf, type LabSite } from '../helpers/partition-site.ts';
import type { Replica } from '../helpers/sync-cluster.ts';

const USERS = ['2001', '2002', '2003', '2004', '2007'];
/** The call at a2 that outlasts a1's declaring a2 dead (about 1 s) plus sync.takeoverGrace (5 s). */
const LONG_CALL_MS = 12_000;
/** Heal to equal digests on every replica: reconnects after a silent cut wait for MQTT keep-alives. */
const CONVERGE_MS = 45_000;
/** Issue 11 item 7: new calls to a killed box's phones succeed within 2 s through a peer. */
const NEW_CALL_MS = 2_000;
/** Issue 11 item 5: the interrupted CDR within 15 s of the box being declared dead. */
const TAKEOVER_MS = 15_000;

interface Ctx {
  site: LabSite;
  phones: Phones;
  teardown: Teardown;
  /** SIP ports the phones registered from, by extension. */
  ports: Record<string, number>;
  failed: boolean;
}

const drills = suite<Ctx>('partition drills (network namespaces)');

drills.before(async (ctx) => {
  ctx.failed = false;
  ctx.teardown = new Teardown((m) => console.error(`partition drills: ${m}`)).install();
  ctx.site = await startLabSite(USERS);
  ctx.teardown.push(async () => ctx.site.lab.destroy());
  ctx.teardown.push(async () => ctx.site.cluster.destroy(!ctx.failed));
  ctx.phones = new Phones(ctx.site);
  ctx.teardown.push(async () => ctx.phones.killAll());
  const { a1, a2 } = ctx.site;
  // 2001 and 2003 are a1's phones, 2002 and 2007 a2's; 2004 is a1's phone for the kill drill.
  ctx.ports = {};
  for (const [ext, box] of [['2001', a1], ['2003', a1], ['2002', a2], ['2007', a2], ['2004', a1]] as const) {
    ctx.ports[ext] = ctx.phones.port();
    await ctx.phones.register(box, ext, ctx.ports[ext]!);
  }
  await converge(ctx, 'the phones registered');
});

drills.after(async (ctx) => {
  if (ctx.failed && ctx.site) console.error(`\n${ctx.site.lab.describe()}\n${ctx.site.cluster.logTails(40)}\n`);
  await ctx.teardown?.runAll();
});

/** A drill: on failure marks the suite failed (logs are printed, the folder kept); always heals. */
const drill = (body: (ctx: Ctx) => Promise<void>) => async (ctx: Ctx) => {
  try {
    await body(ctx);
  } catch (err) {
    ctx.failed = true;
    throw err;
  } finally {
    ctx.site.lab.healAll();
  }
};

/** Waits until every table's digest is the same on the hub, a1 and a2 (`what` names the moment, for the printed time). */
async function converge(ctx: Ctx, what = 'the heal'): Promise<void> {
  const { hub, a1, a2, cluster } = ctx.site;
  const started = Date.now();
  await cluster.waitForConvergence([hub, a1, a2], CONVERGE_MS);
  console.log(`    digests equal on hub, a1, a2 ${Date.now() - started} ms after ${what}`);
}

/** Waits until `r` holds every CDR uuid in `uuids`. */
const holdsCdrs = (r: Replica, uuids: string[], timeoutMs = 10_000) =>
  waitFor(() => uuids.every((u) => cdrUuids(r).has(u)), `${r.name} to hold CDRs ${uuids.join(', ')}`, timeoutMs, 100);

drills('cut the hub: local and cross-box calls, registrations and a site admin change go on; heal converges', drill(async (ctx) => {
  const { lab, hub, a1, a2 } = ctx.site;
  const { phones, ports } = ctx;
  const before = { a1: cdrUuids(a1), a2: cdrUuids(a2) };
  lab.cut('hub', 'a1');
  lab.cut('hub', 'a2');

  await phones.call(a1, '2001', '2003', ports['2003']!);
  await phones.call(a1, '2001', '2002', ports['2002']!);
  const a1Cdrs = await waitFor(() => { const c = newCdrs(a1, 'a1', before.a1); return c.length === 2 && c; }, 'a1\'s two CDRs', 10_000, 100);
  assert.equal(a1Cdrs.map((c) => [c.callee, c.disposition]).sort(), [['2002', 'answered'], ['2003', 'answered']]);
  const a2Cdr = await waitFor(() => newCdrs(a2, 'a2', before.a2)[0], 'a2\'s CDR of the cross-box call', 10_000, 100);
  assert.equal([a2Cdr.caller, a2Cdr.callee, a2Cdr.disposition], ['2001', '2002', 'answered']);

  // A burst of registrations at a1 (more pushes than sync.maxInFlight, which the silent hub
  // never acknowledges), then an admin change with the site admin key: it reaches a2 over the
  // boxes' own brokers, and the new user registers at a2. All while the hub is cut off.
  await phones.registerBurst(a1, '2001', 24, 8);
  await addUserAtBox(a1, '2005');
  const added = Date.now();
  await waitFor(() => storeOf(a2).users.has('2005'), 'a2 to receive user 2005 from a1', 20_000, 20);
  console.log(`    hub cut: a user added at a1 after a burst of 24 REGISTERs reached a2 in ${Date.now() - added} ms`);
  await phones.register(a2, '2005', phones.port());
  assert.not.ok(storeOf(hub).users.has('2005'), 'the cut hub cannot have 2005 yet');

  lab.heal('hub', 'a1');
  lab.heal('hub', 'a2');
  await converge(ctx);
  assert.ok(storeOf(hub).users.has('2005'), 'the hub has the user added while it was cut off');
  await holdsCdrs(hub, [...a1Cdrs, a2Cdr].map((c) => c.uuid), 1);
}));

drills('cut a peer: calls to its phones go direct, replication to it queues, its own CDR of a call it kept wins after the heal', drill(async (ctx) => {
  const { lab, hub, a1, a2 } = ctx.site;
  const { phones, ports } = ctx;
  const before = cdrUuids(a1);
  // A call at a2 that outlasts a1's takeover grace: a1 will hold a2 dead and close it.
  const open = new Set(storeOf(a2).checkpoints('a2').map((c) => c.uuid));
  const longCallee = await phones.callee(ports['2007']!, LONG_CALL_MS);
  const longCaller = phones.caller(a2, '2001', '2007', 'call-uac-wait-bye.xml');
  const answered = () => storeOf(a2).checkpoints('a2').find((c) => !open.has(c.uuid) && c.state === 'answered')?.uuid;
  const uuid = await waitFor(answered, 'a2 to checkpoint the answered long call', 10_000, 50);
  const held = (r: Replica) => storeOf(r).checkpoints('a2').some((c) => c.uuid === uuid);
  await waitFor(() => held(a1) && held(hub), 'the checkpoint on a1 and the hub', 10_000, 50);
  const from = a1.logs.length;
  lab.cut('a2', 'a1');
  lab.cut('a2', 'hub');
  await peerState(a1, 'a2', 'down', from);

  const logFrom = a1.logs.length;
  await phones.call(a1, '2001', '2002', ports['2002']!);
  const direct = a1.findLog('owner down: ringing its phone directly', logFrom);
  assert.ok(direct, 'a1 rang 2002\'s phone directly');
  assert.equal([direct!.line['owner'], direct!.line['target']], ['a2', `sip:2002@${lab.addr('phones')}:${ports['2002']};transport=UDP`]);
  const cdr = await waitFor(() => newCdrs(a1, 'a1', before)[0], 'a1\'s CDR', 10_000, 100);
  assert.equal([cdr.caller, cdr.callee, cdr.disposition], ['2001', '2002', 'answered']);

  // a1's new rows reach the hub but wait for a2.
  await addUserAtBox(a1, '2006');
  await waitFor(() => storeOf(hub).users.has('2006') && cdrUuids(hub).has(cdr.uuid), 'the hub to receive a1\'s user and CDR', 10_000, 100);
  const cut = storeOf(a2);
  assert.not.ok(cut.users.has('2006') || cut.cdrs.some((c) => c.uuid === cdr.uuid), 'a2, cut off, has neither yet');

  // a1 closes a2's long call as interrupted; a2, alive, ends it later with its own CDR.
  const took = await a1.waitForLog('took over the calls of a dead peer', 15_000, (l) => l['peer'] === 'a2');
  assert.is(storeOf(a1).cdrs.find((c) => c.uuid === uuid)?.disposition, 'interrupted', 'a1 closed the long call');
  const [callerRes, calleeRes] = [await longCaller.done, await longCallee.done];
  assertSucceeded('long caller', longCaller, callerRes);
  assertSucceeded('long callee', longCallee, calleeRes);
  const own = await waitFor(() => storeOf(a2).cdrs.find((c) => c.uuid === uuid), 'a2\'s own CDR of the long call', 10_000, 50);
  assert.equal([own.disposition, own.endedBy], ['answered', 'callee']);
  assert.ok(own.endedAt > took.at, 'the call ended after a1 had taken it over');

  const healFrom = a1.logs.length;
  lab.heal('a2', 'a1');
  lab.heal('a2', 'hub');
  await peerState(a1, 'a2', 'up', healFrom);
  await converge(ctx);
  const healed = storeOf(a2);
  assert.ok(healed.users.has('2006') && healed.cdrs.some((c) => c.uuid === cdr.uuid), 'a2 got the queued user and CDR');
  for (const r of [hub, a1, a2]) assert.equal(storeOf(r).cdrs.find((c) => c.uuid === uuid), own, `${r.name} holds a2's own CDR of the long call, whole`);
}));

drills('cut everything: local calls at a1 go on; its CDR reaches the others after the heal', drill(async (ctx) => {
  const { lab, hub, a1, a2 } = ctx.site;
  const { phones, ports } = ctx;
  const before = cdrUuids(a1);
  lab.cut('a1', 'hub');
  lab.cut('a1', 'a2');

  await phones.register(a1, '2001', ports['2001']!);
  await phones.call(a1, '2001', '2003', ports['2003']!);
  const cdr = await waitFor(() => newCdrs(a1, 'a1', before)[0], 'a1\'s CDR', 10_000, 100);
  assert.equal([cdr.caller, cdr.callee, cdr.disposition], ['2001', '2003', 'answered']);
  assertRelayedBothWays({ ...cdr, media: JSON.parse(cdr.media) as Cdr['media'] });
  for (const r of [hub, a2]) assert.not.ok(cdrUuids(r).has(cdr.uuid), `${r.name} is cut off from a1's CDR`);

  lab.heal('a1', 'hub');
  lab.heal('a1', 'a2');
  await converge(ctx);
  for (const r of [hub, a2]) assert.ok(cdrUuids(r).has(cdr.uuid), `${r.name} got a1's CDR`);
}));

drills('kill -9 a1 mid-call: an interrupted CDR by a2, a1\'s phone answers a new call through a2, a1 back converges', drill(async (ctx) => {
  const { hub, a1, a2 } = ctx.site;
  const { phones, ports } = ctx;
  const cps = (r: Replica) => storeOf(r).checkpoints('a1').map((c) => c.uuid);
  const open = new Set(cps(a1));
  const uas = await phones.callee(ports['2003']!);
  const uac = phones.caller(a1, '2001', '2003', 'call-uac-wait-bye.xml');
  const answered = () => storeOf(a1).checkpoints('a1').find((c) => !open.has(c.uuid) && c.state === 'answered')?.uuid;
  const uuid = await waitFor(answered, 'a1 to checkpoint the answered call', 10_000, 50);
  await waitFor(() => cps(a2).includes(uuid) && cps(hub).includes(uuid), 'the checkpoint on a2 and the hub', 10_000, 50);
  const callee = await phones.callee(ports['2004']!);

  const from = a2.logs.length;
  const killedAt = now();
  await a1.kill();
  const downAt = await peerState(a2, 'a1', 'down', from, 5_000);
  const callFrom = a2.logs.length;
  const caller = phones.caller(a2, '2002', '2004');
  const [callerRes, calleeRes] = [await caller.done, await callee.done];
  assertSucceeded('caller at a2', caller, callerRes);
  assertSucceeded('a1\'s phone', callee, calleeRes);
  const direct = a2.findLog('owner down: ringing its phone directly', callFrom);
  assert.equal(direct?.line['owner'], 'a1', 'a2 rang a1\'s phone directly');
  const newCall = await waitFor(() => storeOf(a2).cdrs.find((c) => c.nodeId === 'a2' && c.callee === '2004' && c.answeredAt !== null), 'a2\'s CDR of the new call', 10_000, 100);
  const answeredMs = Math.round(newCall.answeredAt! - killedAt);

  const closed = await waitFor(() => storeOf(a2).cdrs.find((c) => c.uuid === uuid), 'the interrupted CDR on a2', TAKEOVER_MS + 5_000, 100);
  const takeoverMs = Math.round(now() - killedAt);
  console.log(`    kill -9 a1: a2 held it down after ${Math.round(downAt - killedAt)} ms, a new call to its phone answered after ${answeredMs} ms, its call closed after ${takeoverMs} ms`);
  // Issue 11's bound for new calls to a dead box's phones (measured: about 0.5 s, loaded cores too).
  assert.ok(answeredMs < NEW_CALL_MS, `the new call to a1's phone was answered ${answeredMs} ms after the kill`);
  assert.equal([closed.nodeId, closed.disposition, closed.endedBy], ['a1', 'interrupted', 'system']);
  assert.ok(takeoverMs < TAKEOVER_MS, `the interrupted CDR took ${takeoverMs} ms`);
  uas.kill();
  uac.kill();

  await a1.start();
  await converge(ctx, 'a1 restarted');
  for (const r of [hub, a1, a2]) {
    const s = storeOf(r);
    assert.equal([s.cdrs.filter((c) => c.uuid === uuid).length, s.checkpoints('a1').some((c) => c.uuid === uuid)], [1, false], `${r.name}: one CDR of the call, no checkpoint`);
    assert.equal(s.cdrs.find((c) => c.uuid === uuid), closed, `${r.name} holds the same row`);
  }
}));

const why = netnsUnavailable();
if (why === undefined) drills.run();
else if (process.env['OUTPOST_REQUIRE_NETNS'] === '1') {
  const required = suite('partition drills');
  required('network namespaces are available (OUTPOST_REQUIRE_NETNS=1)', () => assert.unreachable(`partition drills cannot run: ${why}`));
  required.run();
} else console.log(`partition drills skipped: ${why} (set OUTPOST_REQUIRE_NETNS=1 to make this a failure)`);
