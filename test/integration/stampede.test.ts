/**
 * The re-registration stampede (issue 11 item 4): a box with 1000 users and one call in progress
 * (sipp caller playing A-law RTP, through the box's relay, to a callee in this process) absorbs
 * 1000 phones registering with digest auth within 10 s. Every phone must end with a live
 * binding, sipp must see nothing but 401 then 200 (any other status fails its scenario), and
 * the call's RTP must keep reaching the callee during the stampede (a count, no timing).
 *
 * The box runs its DEFAULT flood protection (200 messages/s per source IP, burst 400). The
 * phones of a dead box come from as many LAN addresses as there are phones, each sending a
 * couple of messages; here they come from four loopback addresses (127.0.0.10-13), 250 phones
 * each, so each source stays well inside the per-IP limit. One source sending all 1000 would be
 * rate-limited (dropped, then retransmitted) by design: see docs/config/sip-flood.md.
 * Runs alone too: node --import tsx test/integration/stampede.test.ts
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { liveRegistrations, seedUsers, stampede, stampedeExt, startCallWithRtp, type CallInProgress } from '../../bench/lib/stampede.ts';

const DOMAIN = 'stampede.example';
const PHONES = 1000;
const WINDOW_S = 10;
const SOURCES = 4;
const CALLER = '1001';
const CALLEE = '1002';

interface Ctx {
  dir: string;
  node: NodeProcess;
  call?: CallInProgress;
}

const herd = suite<Ctx>('re-registration stampede');

herd.before(async (ctx) => {
  ctx.dir = tempDir('outpost-stampede-');
  // Relay ports below the OS's ephemeral range (32768-) and outside the other tests' ranges.
  const config = writeNodeConfig(ctx.dir, 'rtp: { portRange: [32720, 32759] }\n', DOMAIN);
  await seedUsers(`${ctx.dir}/data`, DOMAIN, [...Array.from({ length: PHONES }, (_, i) => stampedeExt(i)), CALLER, CALLEE]);
  ctx.node = await startNode(config, ctx.dir);
});

herd.after(async (ctx) => {
  ctx.call?.stop();
  assert.is(await ctx.node?.stop(), 0, 'node stops cleanly on SIGTERM');
});

herd(`${PHONES} phones register within ${WINDOW_S} s while a call's RTP keeps flowing`, async (ctx) => {
  const exts = Array.from({ length: PHONES }, (_, i) => stampedeExt(i));
  // The call outlasts the stampede (plus sipp's slack) by a wide margin.
  ctx.call = await startCallWithRtp({ node: ctx.node, dir: ctx.dir, domain: DOMAIN, caller: CALLER, callee: CALLEE, seconds: WINDOW_S + 50 });
  const before = ctx.call.received();
  const out = await stampede({ target: ctx.node.udp, dir: ctx.dir, domain: DOMAIN, exts, windowS: WINDOW_S, sources: SOURCES, timeoutS: WINDOW_S + 40 });
  const rtp = ctx.call.since(before);
  const summary = JSON.stringify({ ...out, perSource: out.perSource.map((s) => s.stats) });
  assert.is(out.successful, PHONES, summary);
  assert.is(out.failed, 0, summary);
  assert.is(out.unexpected, 0, summary);
  assert.is(await liveRegistrations(ctx.node, exts), PHONES, 'every phone has a live binding');
  assert.ok(rtp.packets > 0, `RTP reached the callee during the stampede: ${JSON.stringify(rtp)}`);
  assert.ok(ctx.call.caller.proc.exitCode === null, 'the call is still up after the stampede');
});

herd.run();
