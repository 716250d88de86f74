/**
 * Two softphones with no codec in common call each other through the box, which transcodes:
 * 1001 is a baresip with only G.711 (g711 module), 1002 a baresip with only opus. Each plays a
 * tone (1001: 1000 Hz at 8 kHz, 1002: 1600 Hz at 48 kHz) and records what it decodes; each must
 * hear the other's tone at its frequency, and the CDR must show a different codec on each leg.
 * Both directions are called: G.711 phone → opus phone, then opus phone → G.711 phone.
 * 1001's codec preference is set to PCMU with `outpost user codecs` (the box default would pick
 * PCMA, which baresip offers too), so the G.711 leg must use PCMU both times.
 * Runs alone too: node --import tsx test/integration/calls-transcoding.test.ts
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { firstChannel, readWav, toneBlocks, writeToneWav } from '../helpers/audio.ts';
import { startBaresip, type Baresip } from '../helpers/baresip.ts';
import { addUsers, callNodeSections, listCdrs, passwordOf } from '../helpers/calls.ts';
import { runCli, startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const DOMAIN = 'calls-transcoding.example';
const PORT_RANGE: [number, number] = [33000, 33499];
const G711 = { ext: '1001', tone: 1000, rate: 8000, channels: 1 };
/** baresip's opus runs its audio device in stereo (opus/48000/2). */
const OPUS = { ext: '1002', tone: 1600, rate: 48000, channels: 2 };
/** Seconds of received audio each side must have recorded before the call is hung up. */
const TALK_S = 2.5;

interface Ctx {
  dir: string;
  node: NodeProcess;
  g711: Baresip;
  opus: Baresip;
}

const calls = suite<Ctx>('calls between a G.711-only and an opus-only softphone');

calls.before(async (ctx) => {
  ctx.dir = tempDir('outpost-calls-transcoding-');
  const config = writeNodeConfig(ctx.dir, callNodeSections({ portRange: PORT_RANGE }), DOMAIN);
  addUsers(join(ctx.dir, 'data'), DOMAIN, [G711.ext, OPUS.ext]);
  const pref = await runCli(['user', 'codecs', G711.ext, 'pcmu', '--config', config], ctx.dir);
  assert.is(pref.stdout.trim(), `${G711.ext}: PCMU`, pref.stderr);
  ctx.node = await startNode(config, ctx.dir);
  const phone = (p: typeof G711, codec: 'g711' | 'opus', rtpPorts: [number, number]) => {
    const wav = join(ctx.dir, `tone-${p.tone}.wav`);
    writeToneWav(wav, p.tone, 60, p.rate, 8000, p.channels);
    return startBaresip({
      home: join(ctx.dir, `baresip-${p.ext}`), ext: p.ext, password: passwordOf(p.ext), domain: DOMAIN, proxy: ctx.node.udp,
      sourceWav: wav, codecs: [codec], autoAnswer: true, rtpPorts, lifetimeS: 120,
    });
  };
  // RTP ports below the OS's ephemeral range (32768-) and outside the relay's.
  ctx.g711 = await phone(G711, 'g711', [32100, 32199]);
  ctx.opus = await phone(OPUS, 'opus', [32200, 32299]);
  await waitFor(async () => {
    const res = await runCli(['status', '--json', '--config', ctx.node.configFile], ctx.dir);
    const regs = (JSON.parse(res.stdout) as { registrations: Array<{ aor: string }> }).registrations;
    return regs.some((r) => r.aor === G711.ext) && regs.some((r) => r.aor === OPUS.ext);
  }, 'both phones to register', 15_000, 200).catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));
});

calls.after(async (ctx) => {
  ctx.g711?.kill();
  ctx.opus?.kill();
  assert.is(await ctx.node?.stop(), 0, 'node stops cleanly on SIGTERM');
});

const outputs = (ctx: Ctx) => `\n--- g711 phone:\n${ctx.g711.output().slice(-2000)}\n--- opus phone:\n${ctx.opus.output().slice(-2000)}`;

/** `caller` dials `callee`, both talk TALK_S seconds, the caller hangs up; returns the recordings. */
async function talk(ctx: Ctx, caller: Baresip, callee: Baresip, calleeExt: string, formats: { caller: typeof G711; callee: typeof G711 }) {
  const before = { caller: caller.received().length, callee: callee.received().length };
  const established = (p: Baresip) => (p.output().match(/Call established/g) ?? []).length;
  const was = { caller: established(caller), callee: established(callee) };
  const dial = await caller.command('dial', calleeExt);
  assert.ok(dial.ok, `dial: ${dial.data}${outputs(ctx)}`);
  await waitFor(() => established(caller) > was.caller && established(callee) > was.callee, 'both phones to report the call established', 10_000)
    .catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));
  const fresh = (p: Baresip, n: number, f: typeof G711) => (p.received().length > n ? p.recordedSeconds(f.rate, f.channels) : 0);
  await waitFor(() => fresh(callee, before.callee, formats.callee) >= TALK_S && fresh(caller, before.caller, formats.caller) >= TALK_S, `${TALK_S} s of audio received on both sides`, 15_000, 100)
    .catch((err: Error) => assert.unreachable(`${err.message} (callee ${fresh(callee, before.callee, formats.callee)} s, caller ${fresh(caller, before.caller, formats.caller)} s)${outputs(ctx)}`));
  const terminated = (p: Baresip) => (p.output().match(/terminated/g) ?? []).length;
  const ended = { caller: terminated(caller), callee: terminated(callee) };
  const hangup = await caller.command('hangup');
  assert.ok(hangup.ok, `hangup: ${hangup.data}`);
  await waitFor(() => terminated(caller) > ended.caller && terminated(callee) > ended.callee, 'both phones to end the call', 10_000)
    .catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));
  return { atCaller: firstChannel(readWav(caller.received().at(-1)!)), atCallee: firstChannel(readWav(callee.received().at(-1)!)) };
}

async function checkCall(ctx: Ctx, caller: typeof G711, callee: typeof G711, codecs: { a: RegExp; b: RegExp }, heard: Awaited<ReturnType<typeof talk>>) {
  assert.equal([heard.atCaller.rate, heard.atCallee.rate], [caller.rate, callee.rate], 'each phone decodes its own codec');
  const minBlocks = 15; // 1.5 s of the 2.5 s or more recorded
  const calleeHeard = toneBlocks(heard.atCallee, caller.tone, callee.tone);
  const callerHeard = toneBlocks(heard.atCaller, callee.tone, caller.tone);
  assert.ok(calleeHeard >= minBlocks, `${callee.ext} heard ${caller.ext}'s ${caller.tone} Hz in ${calleeHeard} blocks of 100 ms`);
  assert.ok(callerHeard >= minBlocks, `${caller.ext} heard ${callee.ext}'s ${callee.tone} Hz in ${callerHeard} blocks of 100 ms`);

  const cdr = await waitFor(async () => (await listCdrs(ctx.node)).find((c) => c.caller === caller.ext && c.callee === callee.ext), 'the CDR');
  const media = JSON.stringify(cdr.media);
  assert.is(cdr.disposition, 'answered');
  assert.match(cdr.codecA, codecs.a);
  assert.match(cdr.codecB, codecs.b);
  const min = TALK_S * 50 * 0.8;
  for (const [leg, s] of [['a', cdr.media.a], ['b', cdr.media.b]] as const) {
    assert.ok(s && s.packetsIn >= min && s.packetsOut >= min, `leg ${leg} carried media both ways: ${media}`);
    assert.ok(s.transcoded && s.transcoded.decoded >= min && s.transcoded.sent >= min, `leg ${leg}'s audio was transcoded: ${media}`);
  }
}

calls('the G.711 phone calls the opus phone: each hears the other\'s tone, the legs use different codecs', async (ctx) => {
  const heard = await talk(ctx, ctx.g711, ctx.opus, OPUS.ext, { caller: G711, callee: OPUS });
  await checkCall(ctx, G711, OPUS, { a: /^PCMU\/8000$/, b: /^opus\/48000/i }, heard);
});

calls('the opus phone calls the G.711 phone: the same the other way round', async (ctx) => {
  const heard = await talk(ctx, ctx.opus, ctx.g711, G711.ext, { caller: OPUS, callee: G711 });
  await checkCall(ctx, OPUS, G711, { a: /^opus\/48000/i, b: /^PCMU\/8000$/ }, heard);
});

calls('hold, resume and DTMF while transcoding: re-offers keep the codecs apart, events cross both ways', async (ctx) => {
  const count = (p: Baresip, re: RegExp) => (p.output().match(re) ?? []).length;
  const reinvites = () => count(ctx.opus, /got re-INVITE/g);
  const was = { established: count(ctx.opus, /Call established/g), reinvites: reinvites(), files: ctx.opus.received().length };
  const dial = await ctx.g711.command('dial', OPUS.ext);
  assert.ok(dial.ok, `dial: ${dial.data}${outputs(ctx)}`);
  await waitFor(() => count(ctx.opus, /Call established/g) > was.established && ctx.opus.received().length > was.files, 'the call', 10_000)
    .catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));
  const seconds = () => ({ g711: ctx.g711.recordedSeconds(G711.rate, G711.channels), opus: ctx.opus.recordedSeconds(OPUS.rate, OPUS.channels) });
  await waitFor(() => seconds().g711 >= 1 && seconds().opus >= 1, '1 s of audio each way', 10_000, 100);

  assert.ok((await ctx.g711.command('hold')).ok);
  await waitFor(() => reinvites() >= was.reinvites + 1, 'the hold re-INVITE to reach the opus phone', 5_000, 50)
    .catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));
  assert.ok((await ctx.g711.command('resume')).ok);
  await waitFor(() => reinvites() >= was.reinvites + 2, 'the resume re-INVITE to reach the opus phone', 5_000, 50)
    .catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));
  // baresip's recorder stops at a hold, so the audio after the resume is counted by the relay:
  // the CDR's transcoder counters must cover the talk time after the resume.
  const resumedAt = Date.now();
  const TALK_AFTER_RESUME_MS = 2000;
  await waitFor(() => Date.now() - resumedAt >= TALK_AFTER_RESUME_MS, 'talk time after the resume', TALK_AFTER_RESUME_MS + 1000, 100);

  assert.ok((await ctx.g711.command('sndcode', '5')).ok);
  assert.ok((await ctx.opus.command('sndcode', '#')).ok);
  await waitFor(() => /received event: '5' \(end=1\)/.test(ctx.opus.output()) && /received event: '#' \(end=1\)/.test(ctx.g711.output()), 'each phone to receive the other\'s DTMF digit', 5_000, 50)
    .catch((err: Error) => assert.unreachable(`${err.message}${outputs(ctx)}`));
  const ended = count(ctx.g711, /terminated/g);
  const talkedAfterResume = (Date.now() - resumedAt) / 1000;
  assert.ok((await ctx.g711.command('hangup')).ok);
  await waitFor(() => count(ctx.g711, /terminated/g) > ended, 'the call to end', 10_000);

  const cdrs = await waitFor(async () => {
    const all = (await listCdrs(ctx.node)).filter((c) => c.caller === G711.ext && c.callee === OPUS.ext);
    return all.length >= 2 && all;
  }, 'the CDR');
  const cdr = cdrs.at(-1)!;
  assert.is(cdr.disposition, 'answered');
  // 20 ms packets: the first second before the hold plus the talk after the resume, with slack.
  const minDecoded = Math.floor(50 * (1 + talkedAfterResume) * 0.7);
  for (const leg of ['a', 'b'] as const) {
    const t = cdr.media[leg]?.transcoded;
    assert.ok(t && t.decoded >= minDecoded && t.sent >= minDecoded, `leg ${leg} was transcoded after the resume (at least ${minDecoded} packets): ${JSON.stringify(cdr.media)}`);
    assert.ok(t.events >= 1, `leg ${leg}'s telephone-events were re-timed: ${JSON.stringify(cdr.media)}`);
    assert.ok(t.concealed <= cdr.media[leg]!.lost, `leg ${leg}: concealment only for packets really lost: ${JSON.stringify(cdr.media)}`);
  }
});

calls.run();
