/**
 * A call between two real softphones through the box: two headless baresip 1.0 instances
 * register to `outpost node` (MD5 digest), 1001 dials 1002 over baresip's ctrl_tcp command
 * interface, 1002 answers by itself (answermode=auto). Each phone's microphone is a WAV tone
 * (1001: 1000 Hz, 1002: 1600 Hz, played by the aufile module) and each records what it decodes
 * (the sndfile filter). The callee's recording must hold the caller's tone and the caller's the
 * callee's, and the CDR must show the answered call with media both ways on both legs.
 * Runs alone too: node --import tsx test/integration/calls-baresip.test.ts
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readWav, toneBlocks, writeToneWav } from '../helpers/audio.ts';
import { startBaresip, type Baresip } from '../helpers/baresip.ts';
import { addUsers, callNodeSections, listCdrs, passwordOf } from '../helpers/calls.ts';
import { runCli, startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const DOMAIN = 'calls-baresip.example';
const PORT_RANGE: [number, number] = [32000, 32499];
const CALLER = '1001';
const CALLEE = '1002';
const CALLER_TONE = 1000;
const CALLEE_TONE = 1600;
/** Seconds of received audio each side must have recorded before the caller hangs up. */
const TALK_S = 2.5;

interface Ctx {
  dir: string;
  node: NodeProcess;
  caller: Baresip;
  callee: Baresip;
}

const phones = suite<Ctx>('a call between two baresip softphones');

phones.before(async (ctx) => {
  ctx.dir = tempDir('outpost-calls-baresip-');
  const config = writeNodeConfig(ctx.dir, callNodeSections({ portRange: PORT_RANGE }), DOMAIN);
  addUsers(join(ctx.dir, 'data'), DOMAIN, [CALLER, CALLEE]);
  ctx.node = await startNode(config, ctx.dir);
  const phone = (ext: string, tone: number, autoAnswer: boolean, rtpPorts: [number, number]) => {
    const wav = join(ctx.dir, `tone-${tone}.wav`);
    writeToneWav(wav, tone, 30);
    return startBaresip({
      home: join(ctx.dir, `baresip-${ext}`), ext, password: passwordOf(ext), domain: DOMAIN, proxy: ctx.node.udp, sourceWav: wav, autoAnswer, rtpPorts, lifetimeS: 90,
    });
  };
  // RTP ports below the OS's ephemeral range (32768-) and outside the relay's.
  ctx.callee = await phone(CALLEE, CALLEE_TONE, true, [32600, 32699]);
  ctx.caller = await phone(CALLER, CALLER_TONE, false, [32500, 32599]);
});

phones.after(async (ctx) => {
  ctx.caller?.kill();
  ctx.callee?.kill();
  assert.is(await ctx.node?.stop(), 0, 'node stops cleanly on SIGTERM');
});

const outputs = (ctx: Ctx) => `\n--- caller output:\n${ctx.caller.output().slice(-2000)}\n--- callee output:\n${ctx.callee.output().slice(-2000)}`;

phones('both phones register with digest auth', async (ctx) => {
  const bindings = await waitFor(async () => {
    const res = await runCli(['status', '--json', '--config', ctx.node.configFile], ctx.dir);
    const regs = (JSON.parse(res.stdout) as { registrations: Array<{ aor: string; userAgent: string }> }).registrations;
    return regs.some((r) => r.aor === CALLER) && regs.some((r) => r.aor === CALLEE) && regs;
  }, 'both baresip phones to register', 15_000, 200).catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));
  for (const b of bindings as Array<{ userAgent: string }>) assert.match(b.userAgent, /baresip/i);
});

/** Seconds of received audio in a phone's newest recording (8 kHz, 16-bit mono). */
const recordedSeconds = (phone: Baresip) => phone.recordedSeconds(8000);

phones('1001 calls 1002: each side records the other\'s tone, and the CDR shows media both ways', async (ctx) => {
  const dial = await ctx.caller.command('dial', CALLEE);
  assert.ok(dial.ok, `dial: ${dial.data}${outputs(ctx)}`);
  await waitFor(() => /Call established/.test(ctx.callee.output()) && /Call established/.test(ctx.caller.output()), 'both phones to report the call established', 10_000)
    .catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));
  await waitFor(() => recordedSeconds(ctx.callee) >= TALK_S && recordedSeconds(ctx.caller) >= TALK_S, `${TALK_S} s of audio received on both sides`, 15_000, 100)
    .catch((err: Error) => assert.unreachable(`${err.message} (callee ${recordedSeconds(ctx.callee)} s, caller ${recordedSeconds(ctx.caller)} s)${outputs(ctx)}`));
  const hangup = await ctx.caller.command('hangup');
  assert.ok(hangup.ok, `hangup: ${hangup.data}`);
  await waitFor(() => /terminated/.test(ctx.callee.output()) && /terminated/.test(ctx.caller.output()), 'both phones to end the call', 10_000)
    .catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));

  // The sndfile filter closes its files when the call ends; their headers are final by now.
  const atCallee = readWav(ctx.callee.received().at(-1)!);
  const atCaller = readWav(ctx.caller.received().at(-1)!);
  for (const pcm of [atCallee, atCaller]) assert.equal([pcm.rate, pcm.channels], [8000, 1]);
  const minBlocks = 15; // 1.5 s of the 2.5 s or more recorded
  const calleeHeard = toneBlocks(atCallee, CALLER_TONE, CALLEE_TONE);
  const callerHeard = toneBlocks(atCaller, CALLEE_TONE, CALLER_TONE);
  assert.ok(calleeHeard >= minBlocks, `the callee heard the caller's ${CALLER_TONE} Hz in ${calleeHeard} of ${Math.floor(atCallee.samples.length / 800)} blocks of 100 ms`);
  assert.ok(callerHeard >= minBlocks, `the caller heard the callee's ${CALLEE_TONE} Hz in ${callerHeard} of ${Math.floor(atCaller.samples.length / 800)} blocks of 100 ms`);

  const cdr = await waitFor(async () => (await listCdrs(ctx.node)).find((c) => c.caller === CALLER && c.callee === CALLEE), 'the CDR');
  const media = JSON.stringify(cdr.media);
  assert.is(cdr.disposition, 'answered');
  assert.is(cdr.endedBy, 'caller');
  assert.match(cdr.codecA, /^PCM[AU]\/8000$/);
  assert.ok(cdr.durationMs >= TALK_S * 1000, `talk time ${cdr.durationMs} ms`);
  const { a, b } = cdr.media;
  // 20 ms packets: at least TALK_S seconds' worth each way on each leg.
  const min = TALK_S * 50 * 0.8;
  for (const [leg, s] of [['a', a], ['b', b]] as const) {
    assert.ok(s, `leg ${leg} stats: ${media}`);
    assert.ok(s!.packetsIn >= min && s!.packetsOut >= min, `leg ${leg} relayed both ways: ${media}`);
    assert.is(s!.unexpectedSource, 0, media);
  }
});

phones.run();
