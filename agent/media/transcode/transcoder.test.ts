import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toneLevel } from '../../../test/helpers/audio.ts';
import { speechLike } from '../../../bench/lib/speech-signal.ts';
import { Codec } from '../codec/codec.ts';
import type { LegCodec } from '../relay-types.ts';
import { Transcoder } from './transcoder.ts';

const PCMA: LegCodec = { payloadType: 8, codec: 'PCMA', ptime: 20, telephoneEvent: { payloadType: 101, clockRate: 8000 } };
const OPUS: LegCodec = { payloadType: 111, codec: 'opus', ptime: 20, telephoneEvent: { payloadType: 112, clockRate: 48000 } };

interface Rtp { pt: number; marker: boolean; seq: number; ts: number; ssrc: number; payload: Buffer }
const parse = (b: Buffer): Rtp => ({ pt: b[1]! & 0x7f, marker: (b[1]! & 0x80) !== 0, seq: b.readUInt16BE(2), ts: b.readUInt32BE(4), ssrc: b.readUInt32BE(8), payload: b.subarray(12) });

function rtp(pt: number, seq: number, ts: number, payload: Uint8Array, marker = false, ssrc = 0x1234): Buffer {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b.set(payload, 12);
  return b;
}

/** `count` packets of `signal` encoded in `codec` at `ptime`, as RTP. */
function stream(codec: string, pt: number, signal: (rate: number, n: number) => Int16Array, ptime: number, count: number): Buffer[] {
  const enc = Codec.create(codec, ptime);
  const pcm = signal(enc.pcmRate, enc.frameSamples * count);
  const step = (enc.frameSamples * enc.clockRate) / enc.pcmRate;
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) out.push(rtp(pt, 1000 + i, 5000 + i * step, Buffer.from(enc.encode(pcm.subarray(i * enc.frameSamples, (i + 1) * enc.frameSamples)))));
  enc.close();
  return out;
}
const tone = (hz: number) => (rate: number, n: number) => Int16Array.from({ length: n }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / rate)));
const speech = (rate: number, n: number) => speechLike(rate, n / rate);

/** Decodes a transcoder's audio output with a fresh decoder. */
function decodeAll(codec: string, packets: Rtp[]): { pcm: Int16Array; rate: number } {
  const dec = Codec.create(codec, 20);
  const parts = packets.map((p) => Int16Array.from(dec.decode(p.payload)));
  const rate = dec.pcmRate;
  dec.close();
  const pcm = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    pcm.set(p, at);
    at += p.length;
  }
  return { pcm, rate };
}

function run(from: LegCodec, to: LegCodec, input: Buffer[]): { out: Rtp[]; t: Transcoder } {
  const out: Rtp[] = [];
  const t = new Transcoder(from, to, (b) => out.push(parse(Buffer.from(b))));
  for (const p of input) t.push(p);
  return { out, t };
}

test('G.711 A-law to opus: one output stream at 48 kHz timestamps, and the tone arrives at its frequency', () => {
  const { out, t } = run(PCMA, OPUS, stream('PCMA', 8, tone(1000), 20, 50));
  assert.is(out.length, 50);
  assert.ok(out.every((p) => p.pt === 111 && p.ssrc === out[0]!.ssrc));
  assert.ok(out[0]!.marker && !out[1]!.marker, 'marker on the first packet only');
  for (let i = 1; i < out.length; i++) {
    assert.is((out[i]!.seq - out[i - 1]!.seq) & 0xffff, 1);
    assert.is((out[i]!.ts - out[i - 1]!.ts) >>> 0, 960);
  }
  const { pcm, rate } = decodeAll('opus', out);
  const body = pcm.subarray(rate / 5);
  assert.ok(toneLevel(body, rate, 1000) > 2000, `1 kHz level ${toneLevel(body, rate, 1000)}`);
  assert.ok(toneLevel(body, rate, 1000) > 20 * toneLevel(body, rate, 1600), 'the tone, not another frequency');
  assert.equal(t.stats(), { decoded: 50, concealed: 0, recovered: 0, sent: 50, events: 0, dropped: 0, late: 0 });
  t.close();
});

test('opus to G.711 and G.722: each codec decodes the tone back', () => {
  for (const [codec, pt, step] of [['PCMU', 0, 160], ['G722', 9, 160], ['G729', 18, 160]] as const) {
    const to: LegCodec = { payloadType: pt, codec, ptime: 20, telephoneEvent: null };
    const { out, t } = run(OPUS, to, stream('opus', 111, tone(700), 20, 40));
    assert.is(out.length, 40, codec);
    assert.is((out[5]!.ts - out[4]!.ts) >>> 0, step, `${codec} timestamp step`);
    const { pcm, rate } = decodeAll(codec, out);
    const body = pcm.subarray(rate / 5);
    assert.ok(toneLevel(body, rate, 700) > 10 * toneLevel(body, rate, 1100), `${codec}: 700 Hz dominates`);
    t.close();
  }
});

test('ptime 30 ms in, 20 ms out (and 10 ms in): the queue re-frames', () => {
  const to: LegCodec = { payloadType: 9, codec: 'G722', ptime: 20, telephoneEvent: null };
  const a = run(PCMA, to, stream('PCMA', 8, tone(500), 30, 20));
  assert.is(a.out.length, 30, '600 ms in 20 ms frames');
  const b = run({ ...PCMA, ptime: 10 }, { ...OPUS, ptime: 60 }, stream('PCMA', 8, tone(500), 10, 60));
  assert.is(b.out.length, 10, '600 ms in 60 ms frames');
  assert.is((b.out[1]!.ts - b.out[0]!.ts) >>> 0, 2880);
  a.t.close();
  b.t.close();
});

test('a lost opus packet is recovered from the next packet\'s FEC; the output stays continuous', () => {
  const input = stream('opus', 111, speech, 20, 40);
  const lost = input.splice(20, 1);
  assert.is(lost.length, 1);
  const { out, t } = run(OPUS, PCMA, input);
  assert.is(out.length, 40, 'one frame per input frame, the lost one included');
  const s = t.stats();
  assert.is(s.concealed, 1);
  assert.is(s.recovered, 1);
  assert.is(s.decoded, 39);
  t.close();
});

test('G.711 loss is concealed, reordering is undone, late and duplicate packets are dropped', () => {
  const input = stream('PCMA', 8, tone(1000), 20, 30);
  [input[10], input[11]] = [input[11]!, input[10]!];
  input.splice(20, 1);
  input.push(input[5]!);
  const { out, t } = run(PCMA, OPUS, input);
  assert.is(out.length, 30);
  const s = t.stats();
  assert.equal([s.decoded, s.concealed, s.recovered, s.late], [29, 1, 0, 1]);
  for (let i = 1; i < out.length; i++) assert.is((out[i]!.ts - out[i - 1]!.ts) >>> 0, 960);
  t.close();
});

test('a silence (DTX) on the input is the same silence on the output, with the marker', () => {
  const input = stream('PCMA', 8, tone(1000), 20, 10);
  // Packets 5-9 come one second later (8000 ticks), numbered on.
  for (const p of input.slice(5)) p.writeUInt32BE(p.readUInt32BE(4) + 8000, 4);
  const { out, t } = run(PCMA, OPUS, input);
  assert.is(out.length, 10);
  assert.is((out[5]!.ts - out[4]!.ts) >>> 0, 960 + 48000);
  assert.ok(out[5]!.marker);
  t.close();
});

test('RFC 4733 events: new payload type, 48 kHz duration, timestamp on the output timeline', () => {
  const input = stream('PCMA', 8, tone(1000), 20, 10);
  const eventTs = 5000 + 10 * 160;
  const events = [160, 320, 480].map((d, i) => rtp(101, 1010 + i, eventTs, new Uint8Array([5, i === 2 ? 0x8a : 0x0a, d >> 8, d & 0xff]), i === 0));
  const { out, t } = run(PCMA, OPUS, [...input, ...events]);
  const ev = out.filter((p) => p.pt === 112);
  assert.is(ev.length, 3);
  assert.equal(ev.map((p) => p.payload.readUInt16BE(2)), [960, 1920, 2880]);
  assert.equal(ev.map((p) => p.payload[0]), [5, 5, 5]);
  assert.ok(ev[0]!.marker && (ev[2]!.payload[1]! & 0x80) !== 0, 'marker and end bit kept');
  assert.ok(ev.every((p) => p.ts === ev[0]!.ts), 'one start timestamp per event');
  const audio = out.filter((p) => p.pt === 111);
  assert.is((ev[0]!.ts - audio[0]!.ts) >>> 0, 10 * 960, 'the event starts where its input time maps to');
  assert.ok(ev.every((p, i) => i === 0 || ((p.seq - ev[i - 1]!.seq) & 0xffff) === 1), 'one sequence space with the audio');
  const noEvents = run(PCMA, { ...OPUS, telephoneEvent: null }, [...input, ...events]);
  assert.is(noEvents.out.filter((p) => p.pt !== 111).length, 0);
  assert.is(noEvents.t.stats().dropped, 3);
  t.close();
  noEvents.t.close();
});

test('events and comfort noise share the sequence space with the audio: no loss is seen between them', () => {
  const audio = stream('PCMA', 8, tone(1000), 20, 10);
  // One stream as a phone sends it: 5 audio, an event and a CN packet, 5 audio, numbered in one sequence.
  const mixed = [
    ...audio.slice(0, 5),
    rtp(101, 1005, 5000 + 5 * 160, new Uint8Array([1, 0x0a, 0, 160]), true),
    rtp(13, 1006, 5000 + 5 * 160, new Uint8Array([40])),
    ...audio.slice(5).map((p) => rtp(8, p.readUInt16BE(2) + 2, p.readUInt32BE(4), p.subarray(12))),
  ];
  const { out, t } = run(PCMA, OPUS, mixed);
  const s = t.stats();
  assert.equal([s.decoded, s.concealed, s.events, s.dropped], [10, 0, 1, 1]);
  assert.is(out.filter((p) => p.pt === 111).length, 10);
  t.close();
});

test('bad input is dropped and counted, never thrown: garbage opus, comfort noise, truncated header extension', () => {
  const good = stream('opus', 111, tone(1000), 20, 3);
  const garbage = rtp(111, 1003, 5000 + 3 * 960, new Uint8Array([0xff, 0xff]));
  const cn = rtp(13, 1004, 5000 + 4 * 960, new Uint8Array([40]));
  const ext = rtp(111, 1005, 0, new Uint8Array([0xbe, 0xde]));
  ext[0] = 0x90; // X bit with an extension header that does not fit
  const { out, t } = run(OPUS, PCMA, [...good, garbage, cn, ext]);
  assert.is(out.length, 3);
  assert.is(t.stats().dropped, 3);
  t.close();
});

test('a restarted input stream (new SSRC) carries on in the same output stream', () => {
  const first = stream('PCMA', 8, tone(1000), 20, 5);
  const second = stream('PCMA', 8, tone(1000), 20, 5).map((p) => rtp(8, p.readUInt16BE(2) + 7000, p.readUInt32BE(4) + 99999, p.subarray(12), false, 0x9999));
  const { out, t } = run(PCMA, OPUS, [...first, ...second]);
  assert.is(out.length, 10);
  assert.ok(out.every((p) => p.ssrc === out[0]!.ssrc));
  for (let i = 1; i < out.length; i++) assert.is((out[i]!.seq - out[i - 1]!.seq) & 0xffff, 1);
  t.close();
});

test.run();
