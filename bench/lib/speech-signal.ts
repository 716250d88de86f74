/**
 * A speech-like test signal for codec tests and benchmarks (agent/media/codec/codec.test.ts,
 * bench/codecs.ts; native/codec/bench_codecs.c generates the same in C): a 120 Hz harmonic
 * series weighted by three formants (700, 1220, 2600 Hz), a 4 Hz syllable-rate envelope and a
 * slow pitch glide.
 */
export function speechLike(rate: number, seconds: number): Int16Array {
  const n = rate * seconds;
  const x = new Int16Array(n);
  const formants = [
    [700, 130],
    [1220, 70],
    [2600, 160],
  ] as const;
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const f0 = 120 + 15 * Math.sin(2 * Math.PI * 0.7 * t);
    phase += (2 * Math.PI * f0) / rate;
    let v = 0;
    for (let h = 1; h * 120 < 3400; h++) {
      let gain = 0;
      for (const [fc, bw] of formants) gain += 1 / (1 + ((h * f0 - fc) / bw) ** 2);
      v += (gain / h) * Math.sin(h * phase);
    }
    x[i] = Math.round(5000 * (0.55 + 0.45 * Math.sin(2 * Math.PI * 4 * t)) * v);
  }
  return x;
}
