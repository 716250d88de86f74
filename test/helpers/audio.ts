/**
 * Just enough audio for the softphone call test: write a 16-bit PCM WAV with a sine tone, read
 * a 16-bit PCM WAV back, and measure how much of one frequency a stretch of samples holds
 * (the Goertzel algorithm) and how loud it is (RMS).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { HarnessError } from '../../bench/lib/harness-error.ts';

export interface Pcm {
  rate: number;
  channels: number;
  /** Interleaved 16-bit samples. */
  samples: Int16Array;
}

/** A 16-bit PCM WAV holding a sine tone of `freq` Hz with peak `amplitude` (the same in every channel). */
export function writeToneWav(path: string, freq: number, seconds: number, rate = 8000, amplitude = 8000, channels = 1): void {
  const n = Math.round(rate * seconds);
  const data = Buffer.alloc(n * 2 * channels);
  for (let i = 0; i < n; i++) {
    const v = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
    for (let c = 0; c < channels; c++) data.writeInt16LE(v, (i * channels + c) * 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2 * channels, 28);
  h.writeUInt16LE(2 * channels, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([h, data]));
}

/**
 * Reads a 16-bit PCM WAV. A data chunk whose size is 0 or runs past the end of the file (a
 * recorder that has not closed it yet) is taken to extend to the end of the file.
 */
export function readWav(path: string): Pcm {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new HarnessError(`${path}: not a WAV file`);
  let rate = 0;
  let channels = 0;
  let bits = 0;
  for (let i = 12; i + 8 <= b.length;) {
    const id = b.toString('latin1', i, i + 4);
    const size = b.readUInt32LE(i + 4);
    if (id === 'fmt ') {
      if (b.readUInt16LE(i + 8) !== 1) throw new HarnessError(`${path}: not PCM`);
      channels = b.readUInt16LE(i + 10);
      rate = b.readUInt32LE(i + 12);
      bits = b.readUInt16LE(i + 22);
    } else if (id === 'data') {
      if (bits !== 16) throw new HarnessError(`${path}: ${bits}-bit samples, expected 16`);
      const end = size === 0 || i + 8 + size > b.length ? b.length : i + 8 + size;
      const bytes = b.subarray(i + 8, end - ((end - i - 8) % 2));
      const samples = new Int16Array(bytes.length / 2);
      for (let k = 0; k < samples.length; k++) samples[k] = bytes.readInt16LE(k * 2);
      return { rate, channels, samples };
    }
    i += 8 + size + (size % 2);
  }
  throw new HarnessError(`${path}: no data chunk`);
}

/** The amplitude of the `freq` component of `samples` (a pure tone of peak A reads about A/2). */
export function toneLevel(samples: ArrayLike<number>, rate: number, freq: number): number {
  const k = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return Math.sqrt(Math.max(power, 0)) / samples.length;
}

export function rms(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

/** How many of the consecutive `blockMs` blocks of a mono recording are louder than `minRms`. */
export function loudBlocks(pcm: Pcm, minRms: number, blockMs = 100): number {
  const block = Math.round((pcm.rate * blockMs) / 1000);
  let loud = 0;
  for (let i = 0; i + block <= pcm.samples.length; i += block) if (rms(pcm.samples.subarray(i, i + block)) >= minRms) loud++;
  return loud;
}

/** 100 ms blocks in which the tone `want` clearly dominates: loud, and well above `other`. */
export function toneBlocks(pcm: Pcm, want: number, other: number): number {
  const block = pcm.rate / 10;
  let n = 0;
  for (let i = 0; i + block <= pcm.samples.length; i += block) {
    const s = pcm.samples.subarray(i, i + block);
    const w = toneLevel(s, pcm.rate, want);
    if (w > 1000 && w > 8 * toneLevel(s, pcm.rate, other)) n++;
  }
  return n;
}

/** The first channel of an interleaved recording. */
export function firstChannel(pcm: Pcm): Pcm {
  if (pcm.channels === 1) return pcm;
  const samples = new Int16Array(Math.floor(pcm.samples.length / pcm.channels));
  for (let i = 0; i < samples.length; i++) samples[i] = pcm.samples[i * pcm.channels]!;
  return { rate: pcm.rate, channels: 1, samples };
}
