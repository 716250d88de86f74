/**
 * Softphones on two boxes of one site (docs/inter-box.md): a hub and boxes a1 and a2
 * (test/helpers/inter-box.ts), three headless baresip phones (test/helpers/baresip.ts):
 * 2001 (G.711 only) registered at a1, 2002 (G.711 only) and 2003 (opus only) registered at a2.
 * Each plays its own tone and records what it decodes. 2001 calls 2002 and each hears the
 * other's tone; 2001 calls 2003 and the audio is transcoded (the CDRs say on which box); DTMF
 * (RFC 4733, baresip's sndcode) crosses both boxes both ways; the callee holds and resumes, and
 * its re-INVITEs cross back through a2 and a1 to the caller.
 * Runs alone too: node --import tsx test/integration/calls-inter-box-phones.test.ts
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { firstChannel, readWav, toneBlocks, writeToneWav } from '../helpers/audio.ts';
import { startBaresip, type Baresip } from '../helpers/baresip.ts';
import type { Cdr } from '../helpers/calls.ts';
import { cdrsOf, cdrSummary, startSiteOfTwo, waitForBinding } from '../helpers/inter-box.ts';
import { explainedOn, passwordOf, type Replica, type SyncCluster } from '../helpers/sync-cluster.ts';

interface Phone {
  ext: string;
  tone: number;
  rate: number;
  channels: number;
  codec: 'g711' | 'opus';
  rtpPorts: [number, number];
}

/** RTP ports below the OS's ephemeral range (32768-) and outside the boxes' relay range (20000-29999). */
const G711_A1: Phone = { ext: '2001', tone: 1000, rate: 8000, channels: 1, codec: 'g711', rtpPorts: [32300, 32399] };
const G711_A2: Phone = { ext: '2002', tone: 1600, rate: 8000, channels: 1, codec: 'g711', rtpPorts: [32400, 32499] };
/** baresip's opus runs its audio device in stereo (opus/48000/2). */
const OPUS_A2: Phone = { ext: '2003', tone: 1300, rate: 48000, channels: 2, codec: 'opus', rtpPorts: [32700, 32767] };
/** Seconds of received audio each side must have recorded before the call is hung up. */
const TALK_S = 2.5;
const MIN_TONE_BLOCKS = 15; // 1.5 s of the 2.5 s or more recorded

interface Ctx {
  cluster: SyncCluster;
  a1: Replica;
  a2: Replica;
  phones: Map<string, Baresip>;
  failed: boolean;
}

const phones = suite<Ctx>('softphones on two boxes of a site');

phones.before(async (ctx) => {
  ctx.failed = false;
  ctx.phones = new Map();
  Object.assign(ctx, await startSiteOfTwo('inter-box-phones.example', [G711_A1.ext, G711_A2.ext, OPUS_A2.ext]));
  for (const [p, box] of [[G711_A1, ctx.a1], [G711_A2, ctx.a2], [OPUS_A2, ctx.a2]] as const) {
    const wav = join(ctx.cluster.dir, `tone-${p.tone}.wav`);
    writeToneWav(wav, p.tone, 90, p.rate, 8000, p.channels);
    ctx.phones.set(p.ext, await startBaresip({
      home: join(ctx.cluster.dir, `baresip-${p.ext}`), ext: p.ext, password: passwordOf(p.ext), domain: ctx.cluster.domain, proxy: box.sip,
      sourceWav: wav, codecs: [p.codec], autoAnswer: true, rtpPorts: p.rtpPorts, lifetimeS: 240,
    }));
  }
  // a1 routes to 2002 and 2003 through a2 once it holds their bindings owned by a2.
  for (const p of [G711_A2, OPUS_A2]) await waitForBinding(ctx.cluster, ctx.a1, p.ext, 'a2');
  await waitForBinding(ctx.cluster, ctx.a2, G711_A1.ext, 'a1');
});

phones.after(async (ctx) => {
  for (const p of ctx.phones?.values() ?? []) p.kill();
  await ctx.cluster?.destroy(!ctx.failed);
});

const phone = (ctx: Ctx, p: Phone) => ctx.phones.get(p.ext)!;
const count = (b: Baresip, re: RegExp) => (b.output().match(re) ?? []).length;
const outputs = (ctx: Ctx) => [...ctx.phones].map(([ext, b]) => `\n--- ${ext}:\n${b.output().slice(-1500)}`).join('');

/** A test body that prints the phones' output and every box's log tail when it fails. */
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(async (ctx) => {
  try {
    await body(ctx);
  } catch (err) {
    console.error(outputs(ctx));
    throw err;
  }
}, 40);

/** `caller` dials `callee` and both report the call established; returns the counts to wait beyond. */
async function dial(ctx: Ctx, caller: Phone, callee: Phone): Promise<{ files: { caller: number; callee: number } }> {
  const [a, b] = [phone(ctx, caller), phone(ctx, callee)];
  const was = { caller: count(a, /Call established/g), callee: count(b, /Call established/g) };
  const files = { caller: a.received().length, callee: b.received().length };
  const res = await a.command('dial', callee.ext);
  assert.ok(res.ok, `dial: ${res.data}`);
  await waitFor(() => count(a, /Call established/g) > was.caller && count(b, /Call established/g) > was.callee, 'both phones to report the call established', 15_000);
  return { files };
}

/** Waits until each phone recorded TALK_S seconds in a recording newer than `files`. */
async function talk(ctx: Ctx, caller: Phone, callee: Phone, files: { caller: number; callee: number }): Promise<void> {
  const fresh = (p: Phone, n: number) => (phone(ctx, p).received().length > n ? phone(ctx, p).recordedSeconds(p.rate, p.channels) : 0);
  await waitFor(() => fresh(caller, files.caller) >= TALK_S && fresh(callee, files.callee) >= TALK_S, `${TALK_S} s of audio received on both sides`, 15_000, 100);
}

/** The caller hangs up; resolves once both phones ended the call and each box wrote its CDR for it. */
async function hangUp(ctx: Ctx, caller: Phone, callee: Phone): Promise<{ a1: Cdr; a2: Cdr }> {
  const [a, b] = [phone(ctx, caller), phone(ctx, callee)];
  const ended = { caller: count(a, /terminated/g), callee: count(b, /terminated/g) };
  assert.ok((await a.command('hangup')).ok);
  await waitFor(() => count(a, /terminated/g) > ended.caller && count(b, /terminated/g) > ended.callee, 'both phones to end the call', 10_000);
  const cdr = (box: Replica) => waitFor(async () => (await cdrsOf(box)).filter((c) => c.caller === caller.ext && c.callee === callee.ext).at(-1), `${box.name}'s CDR`, 10_000, 200);
  return { a1: await cdr(ctx.a1), a2: await cdr(ctx.a2) };
}

/** Each phone's newest recording holds the other's tone. */
function assertHeard(ctx: Ctx, caller: Phone, callee: Phone): void {
  const atCaller = firstChannel(readWav(phone(ctx, caller).received().at(-1)!));
  const atCallee = firstChannel(readWav(phone(ctx, callee).received().at(-1)!));
  assert.equal([atCaller.rate, atCallee.rate], [caller.rate, callee.rate], 'each phone decodes its own codec');
  const calleeHeard = toneBlocks(atCallee, caller.tone, callee.tone);
  const callerHeard = toneBlocks(atCaller, callee.tone, caller.tone);
  assert.ok(calleeHeard >= MIN_TONE_BLOCKS, `${callee.ext} heard ${caller.ext}'s ${caller.tone} Hz in ${calleeHeard} blocks of 100 ms`);
  assert.ok(callerHeard >= MIN_TONE_BLOCKS, `${caller.ext} heard ${callee.ext}'s ${callee.tone} Hz in ${callerHeard} blocks of 100 ms`);
}

function assertAnswered(cdrs: { a1: Cdr; a2: Cdr }): void {
  for (const [box, c] of Object.entries(cdrs)) {
    assert.is(c.disposition, 'answered', `${box}: ${cdrSummary(c)}`);
    for (const leg of [c.media.a, c.media.b]) assert.ok(leg && leg.packetsIn > 0 && leg.packetsOut > 0 && leg.unexpectedSource === 0, `${box}: ${cdrSummary(c)}`);
  }
}

/** A call in which both talk TALK_S seconds: each hears the other's tone, both CDRs say answered with media. */
async function toneCall(ctx: Ctx, caller: Phone, callee: Phone): Promise<{ a1: Cdr; a2: Cdr }> {
  const { files } = await dial(ctx, caller, callee);
  await talk(ctx, caller, callee, files);
  const cdrs = await hangUp(ctx, caller, callee);
  assertHeard(ctx, caller, callee);
  assertAnswered(cdrs);
  return cdrs;
}

phones('2001 at a1 calls 2002 at a2: each phone hears the other\'s tone', explained(async (ctx) => {
  const cdrs = await toneCall(ctx, G711_A1, G711_A2);
  for (const c of [cdrs.a1, cdrs.a2]) assert.ok(/^PCM[AU]\/8000$/.test(c.codecA) && c.codecA === c.codecB, `no transcoding: ${cdrSummary(c)}`);
  assert.is(cdrs.a1.codecB, cdrs.a2.codecA, 'one codec end to end');
}));

phones('G.711 phone at a1 calls opus phone at a2: audio both ways, transcoded on one box only', explained(async (ctx) => {
  const cdrs = await toneCall(ctx, G711_A1, OPUS_A2);
  // The caller's box a1 transcodes: it offers a2 its codecs after the caller's, a2 relays opus
  // untouched between a1 and the opus phone, so a1's legs differ and a2's do not.
  assert.ok(/^PCM[AU]\/8000$/.test(cdrs.a1.codecA) && /^opus\/48000/i.test(cdrs.a1.codecB), `a1 transcodes: ${cdrSummary(cdrs.a1)}`);
  assert.ok(cdrs.a1.media.a!.transcoded && cdrs.a1.media.b!.transcoded, `a1's legs were transcoded: ${cdrSummary(cdrs.a1)}`);
  assert.ok(/^opus\/48000/i.test(cdrs.a2.codecA) && cdrs.a2.codecA === cdrs.a2.codecB, `a2 relays opus: ${cdrSummary(cdrs.a2)}`);
  assert.not.ok(cdrs.a2.media.a!.transcoded ?? cdrs.a2.media.b!.transcoded, `a2 does not transcode: ${cdrSummary(cdrs.a2)}`);
}));

phones('DTMF (RFC 4733) crosses both boxes both ways', explained(async (ctx) => {
  const [a, b] = [phone(ctx, G711_A1), phone(ctx, G711_A2)];
  await dial(ctx, G711_A1, G711_A2);
  const was = { a: count(a, /received event: '#' \(end=1\)/g), b: count(b, /received event: '5' \(end=1\)/g) };
  assert.ok((await a.command('sndcode', '5')).ok);
  await waitFor(() => count(b, /received event: '5' \(end=1\)/g) > was.b, '2002 at a2 to receive 2001\'s digit 5', 5_000, 50);
  assert.ok((await b.command('sndcode', '#')).ok);
  await waitFor(() => count(a, /received event: '#' \(end=1\)/g) > was.a, '2001 at a1 to receive 2002\'s digit #', 5_000, 50);
  // baresip 1.0 may never report a call ended by a BYE that arrives while it still sends a
  // digit's end packets: talk on for a second first.
  const sentAt = Date.now();
  await waitFor(() => Date.now() - sentAt >= 1000, 'a second of talk after the digits', 2000, 100);
  assertAnswered(await hangUp(ctx, G711_A1, G711_A2));
}));

phones('the callee holds and resumes: its re-INVITEs cross back through a2 and a1 to the caller', explained(async (ctx) => {
  const [a, b] = [phone(ctx, G711_A1), phone(ctx, G711_A2)];
  await dial(ctx, G711_A1, G711_A2);
  const reinvites = () => count(a, /got re-INVITE/g);
  const was = reinvites();
  assert.ok((await b.command('hold')).ok);
  await waitFor(() => reinvites() >= was + 1, 'the hold re-INVITE to reach the caller', 5_000, 50);
  assert.ok((await b.command('resume')).ok);
  await waitFor(() => reinvites() >= was + 2, 'the resume re-INVITE to reach the caller', 5_000, 50);
  // baresip's recorder stops at a hold, so the audio after the resume is counted by the relays:
  // what the caller sent after the resume reached the callee through both boxes.
  const resumedAt = Date.now();
  await waitFor(() => Date.now() - resumedAt >= 2000, 'talk time after the resume', 3000, 100);
  const minPackets = Math.floor(50 * ((Date.now() - resumedAt) / 1000) * 0.7);
  const cdrs = await hangUp(ctx, G711_A1, G711_A2);
  assertAnswered(cdrs);
  for (const [box, leg] of [['a1', cdrs.a1.media.b], ['a2', cdrs.a2.media.b]] as const) {
    assert.ok(leg!.packetsOut >= minPackets, `${box} relayed the caller's audio after the resume (at least ${minPackets} packets): ${JSON.stringify(leg)}`);
  }
}));

phones.run();
