/*
 * C tests for liboutpostcodec (make -C native/codec test): per built codec a
 * 1 kHz sine through encode/decode against an SNR floor, resampler round trips
 * and frequency response, chunking invariance, and bad arguments -> rc < 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "outpost_codec.h"

static int failures = 0;
#define CHECK(cond, ...)                                        \
  do {                                                          \
    if (!(cond)) {                                              \
      failures++;                                               \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);               \
      printf(__VA_ARGS__);                                      \
      printf("\n");                                             \
    }                                                           \
  } while (0)

static void sine(int16_t *x, int n, int rate, double hz, double amp) {
  for (int i = 0; i < n; i++) x[i] = (int16_t)lrint(amp * sin(2 * M_PI * hz * i / rate));
}

/* SNR in dB of out against ref delayed by the lag (0..max_lag) that maximises it,
 * measured from `skip` on (codec warm-up). */
static double snr_aligned(const int16_t *ref, const int16_t *out, int n, int skip, int max_lag, int *lag_out) {
  double best = -1e9;
  for (int lag = 0; lag <= max_lag; lag++) {
    double sig = 0, err = 0;
    for (int i = skip; i + lag < n; i++) {
      double r = ref[i], d = out[i + lag] - r;
      sig += r * r;
      err += d * d;
    }
    double snr = 10 * log10(sig / (err > 1e-9 ? err : 1e-9));
    if (snr > best) {
      best = snr;
      if (lag_out) *lag_out = lag;
    }
  }
  return best;
}

static double rms(const int16_t *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
  return sqrt(s / (n > 0 ? n : 1));
}

/* Floors are for a 1 kHz sine at -10 dBFS, 20 ms frames, after codec delay alignment. */
static double floor_for(const char *name) {
  if (!strcmp(name, "PCMA") || !strcmp(name, "PCMU")) return 30; /* log PCM ~ 38 dB */
  if (!strcmp(name, "G722")) return 15;                            /* ADPCM, 64 kbit/s */
  if (!strcmp(name, "opus")) return 10;                            /* perceptual, 32 kbit/s */
  if (!strcmp(name, "G729")) return 5;                             /* CELP, 8 kbit/s: waveform match is poor */
  return 0;
}

static void test_codec(const char *name) {
  int rc = 0;
  op_codec *c = op_codec_create(name, 20, &rc);
  CHECK(c && rc == 0, "%s create rc=%d", name, rc);
  if (!c) return;
  int clock = 0, rate = 0, fs = 0;
  CHECK(op_codec_info(c, &clock, &rate, &fs) == 0, "%s info", name);
  const int frames = 50;                    /* 1 s */
  int n = fs * frames;
  int16_t *ref = calloc((size_t)n, sizeof *ref), *out = calloc((size_t)n + 8000, sizeof *out);
  uint8_t payload[1500];
  sine(ref, n, rate, 1000.0, 10362.0);      /* -10 dBFS */
  int got = 0;
  for (int f = 0; f < frames; f++) {
    int bytes = op_codec_encode(c, ref + f * fs, fs, payload, sizeof payload);
    CHECK(bytes > 0, "%s encode frame %d rc=%d", name, f, bytes);
    if (bytes <= 0) break;
    int s = op_codec_decode(c, payload, bytes, out + got, n + 8000 - got);
    CHECK(s == fs, "%s decode frame %d gave %d of %d", name, f, s, fs);
    if (s > 0) got += s;
  }
  int lag = 0;
  double snr = snr_aligned(ref, out, got, rate / 10, rate / 50, &lag);
  printf("  %-5s clock %5d pcm %5d frame %4d samples: 1 kHz SNR %.1f dB (delay %d samples, floor %.0f)\n",
         name, clock, rate, fs, snr, lag, floor_for(name));
  CHECK(snr > floor_for(name), "%s SNR %.1f below %.0f", name, snr, floor_for(name));

  int16_t plc[960 * 3];
  int pn = op_codec_conceal(c, plc, 960 * 3);
  CHECK(pn == fs, "%s conceal gave %d", name, pn);
  CHECK(op_codec_conceal(c, plc, fs - 1) == OP_EBUFFER, "%s conceal short buffer", name);
  /* Recovery of the frame lost before a packet: every codec returns one frame (opus's FEC
   * is checked with a voiced signal in test_opus_fec). */
  {
    int bytes = op_codec_encode(c, ref, fs, payload, sizeof payload);
    CHECK(op_codec_recover(c, payload, bytes, plc, 960 * 3) == fs, "%s recover frame size", name);
    CHECK(op_codec_recover(c, payload, 0, plc, 960 * 3) == OP_EINVAL, "%s recover empty", name);
    CHECK(op_codec_recover(c, payload, bytes, plc, fs - 1) == OP_EBUFFER, "%s recover short buffer", name);
  }

  /* Bad arguments: errors, not crashes. */
  CHECK(op_codec_encode(c, ref, fs - 1, payload, sizeof payload) == OP_EFRAME, "%s short frame", name);
  CHECK(op_codec_encode(c, ref, fs + 1, payload, sizeof payload) == OP_EFRAME, "%s long frame", name);
  CHECK(op_codec_encode(c, NULL, fs, payload, sizeof payload) == OP_EINVAL, "%s NULL pcm", name);
  CHECK(op_codec_encode(c, ref, fs, NULL, 10) == OP_EINVAL, "%s NULL out", name);
  CHECK(op_codec_encode(c, ref, fs, payload, 0) == OP_EINVAL, "%s zero cap", name);
  CHECK(op_codec_decode(c, payload, 0, out, n) == OP_EINVAL, "%s empty payload", name);
  CHECK(op_codec_decode(c, NULL, 10, out, n) == OP_EINVAL, "%s NULL payload", name);
  CHECK(op_codec_decode(c, payload, 160, out, 1) < 0, "%s tiny pcm buffer", name);
  if (!strcmp(name, "G729")) {
    CHECK(op_codec_decode(c, payload, 7, out, n) == OP_EPAYLOAD, "G729 7-byte payload");
    CHECK(op_codec_decode(c, payload, 12, out, n) == 160, "G729 frame + SID");
  }
  if (!strcmp(name, "opus")) {
    const uint8_t bad[] = {0xFF, 0xFF};      /* code 3 with 63 frames: > 120 ms, invalid */
    CHECK(op_codec_decode(c, bad, 2, out, n) == OP_EPAYLOAD, "opus invalid packet");
    unsigned seed = 1;
    for (int i = 0; i < 2000; i++) {         /* garbage must never crash */
      uint8_t g[200];
      int len = 1 + (int)(rand_r(&seed) % sizeof g);
      for (int j = 0; j < len; j++) g[j] = (uint8_t)rand_r(&seed);
      int r = op_codec_decode(c, g, len, out, 5760);
      CHECK(r >= 0 || r == OP_EPAYLOAD || r == OP_EBUFFER, "opus garbage rc=%d", r);
    }
  }
  op_codec_destroy(c);
  free(ref);
  free(out);
}

static void test_registry(void) {
  int count = op_codec_count();
  CHECK(count >= 2, "count %d", count);
  printf("  built:");
  for (int i = 0; i < count; i++) printf(" %s", op_codec_name(i));
  printf("\n");
  CHECK(op_codec_name(-1) == NULL && op_codec_name(count) == NULL, "name out of range");
  int rc = 0;
  CHECK(op_codec_create(NULL, 20, &rc) == NULL && rc == OP_EINVAL, "NULL name");
  CHECK(op_codec_create("nope", 20, &rc) == NULL && rc == OP_ENOCODEC, "unknown codec");
  CHECK(op_codec_create("PCMU", 7, &rc) == NULL && rc == OP_EFRAME, "7 ms");
  CHECK(op_codec_create("PCMU", 1000, &rc) == NULL && rc == OP_EFRAME, "1000 ms");
  CHECK(op_codec_create("PCMU", -20, NULL) == NULL, "negative ms, NULL rc");
  op_codec *d = op_codec_create("PCMU", 0, &rc);
  int fs = 0;
  CHECK(d && op_codec_info(d, NULL, NULL, &fs) == 0 && fs == 160, "default 20 ms");
  op_codec_destroy(d);
  op_codec_destroy(NULL);
  CHECK(op_codec_info(NULL, NULL, NULL, NULL) == OP_EINVAL, "info NULL");
  CHECK(op_codec_encode(NULL, NULL, 0, NULL, 0) == OP_EINVAL, "encode NULL");
  CHECK(op_codec_decode(NULL, NULL, 0, NULL, 0) == OP_EINVAL, "decode NULL");
  CHECK(op_codec_conceal(NULL, NULL, 0) == OP_EINVAL, "conceal NULL");
  CHECK(strcmp(op_strerror(12345), "unknown error") == 0, "strerror unknown");
}

/* G.711 round trip of every code byte is exact (decode -> encode -> same byte). */
static void test_g711_exact(const char *name) {
  op_codec *c = op_codec_create(name, 10, NULL);
  uint8_t codes[80], again[80];
  int16_t pcm[80];
  int mismatches = 0;
  for (int base = 0; base < 256; base += 80) {
    int n = 0;
    for (int i = 0; i < 80; i++) codes[i] = (uint8_t)((base + i) & 0xFF);
    n = op_codec_decode(c, codes, 80, pcm, 80);
    op_codec_encode(c, pcm, n, again, 80);
    for (int i = 0; i < 80 && base + i < 256; i++) {
      /* mu-law has two zeros (0x7F, 0xFF); both decode to 0, which encodes as 0xFF. */
      if (codes[i] != again[i] && !(!strcmp(name, "PCMU") && codes[i] == 0x7F)) mismatches++;
    }
  }
  CHECK(mismatches == 0, "%s: %d code bytes do not round trip", name, mismatches);
  op_codec_destroy(c);
}

static void test_resampler_pair(int a, int b, double floor_db) {
  int rc = 0;
  op_resampler *up = op_resampler_create(a, b, &rc), *down = op_resampler_create(b, a, &rc);
  CHECK(up && down, "resampler %d<->%d", a, b);
  if (!up || !down) return;
  int n = a;                                 /* 1 s */
  int16_t *x = malloc(sizeof *x * (size_t)n), *y = malloc(sizeof *y * (size_t)(2 * b)),
          *z = malloc(sizeof *z * (size_t)(2 * a));
  /* Two tones that are not harmonics of 1 kHz, so the delay search cannot alias. */
  for (int i = 0; i < n; i++)
    x[i] = (int16_t)lrint(6000 * sin(2 * M_PI * 437.0 * i / a) + 4000 * sin(2 * M_PI * 1733.0 * i / a));
  int ny = 0, nz = 0;
  for (int off = 0; off < n; off += 160) {   /* 160-sample chunks, as packets would come */
    int k = n - off < 160 ? n - off : 160;
    int r = op_resample(up, x + off, k, y + ny, 2 * b - ny);
    CHECK(r >= 0, "up rc=%d", r);
    if (r > 0) ny += r;
  }
  int r = op_resample(down, y, ny, z, 2 * a);
  CHECK(r > 0, "down rc=%d", r);
  nz = r;
  CHECK(abs(ny - n * b / a) <= 1 && abs(nz - n) <= 1, "lengths %d %d", ny, nz);
  int lag = 0;
  double snr = snr_aligned(x, z, nz, a / 10, a / 50, &lag);
  printf("  resample %5d -> %5d -> %5d: 437+1733 Hz SNR %.1f dB (delay %d samples, floor %.0f)\n", a, b, a, snr, lag, floor_db);
  CHECK(snr > floor_db, "round trip %d<->%d SNR %.1f", a, b, snr);
  op_resampler_destroy(up);
  op_resampler_destroy(down);
  free(x); free(y); free(z);
}

/* Gain in dB of a tone through in->out (steady state). */
static double tone_gain(int in, int out, double hz) {
  op_resampler *r = op_resampler_create(in, out, NULL);
  int n = in / 2;
  int16_t *x = malloc(sizeof *x * (size_t)n), *y = malloc(sizeof *y * (size_t)(n * 6 + 8));
  sine(x, n, in, hz, 10000.0);
  int m = op_resample(r, x, n, y, n * 6 + 8);
  double g = 20 * log10((rms(y + m / 4, m / 2) + 1e-9) / rms(x + n / 4, n / 2));
  op_resampler_destroy(r);
  free(x); free(y);
  return g;
}

static void test_resampler(void) {
  test_resampler_pair(8000, 48000, 60);
  test_resampler_pair(16000, 48000, 60);
  test_resampler_pair(8000, 16000, 60);
  double pass = tone_gain(48000, 8000, 3200), stop = tone_gain(48000, 8000, 4400);
  double pass16 = tone_gain(48000, 16000, 6400), img = tone_gain(8000, 48000, 3200);
  printf("  48k->8k: 3.2 kHz %.2f dB, 4.4 kHz %.1f dB; 48k->16k 6.4 kHz %.2f dB; 8k->48k 3.2 kHz %.2f dB\n",
         pass, stop, pass16, img);
  CHECK(fabs(pass) < 0.2 && fabs(pass16) < 0.2 && fabs(img) < 0.2, "passband");
  CHECK(stop < -50, "stopband %.1f", stop);

  /* Chunking does not change the output. */
  op_resampler *a = op_resampler_create(16000, 48000, NULL), *b = op_resampler_create(16000, 48000, NULL);
  int16_t x[3000], y1[9100], y2[9100];
  sine(x, 3000, 16000, 700, 8000);
  int n1 = op_resample(a, x, 3000, y1, 9100), n2 = 0;
  for (int off = 0, k = 1; off < 3000; off += k, k = k % 97 + 13) {
    int kk = 3000 - off < k ? 3000 - off : k;
    n2 += op_resample(b, x + off, kk, y2 + n2, 9100 - n2);
  }
  CHECK(n1 == n2 && memcmp(y1, y2, sizeof *y1 * (size_t)n1) == 0, "chunked output differs (%d vs %d)", n1, n2);

  int rc = 0;
  CHECK(op_resampler_create(44100, 8000, &rc) == NULL && rc == OP_ERATE, "44.1k refused");
  CHECK(op_resampler_create(8000, 0, &rc) == NULL && rc == OP_ERATE, "0 refused");
  CHECK(op_resample(NULL, x, 10, y1, 10) == OP_EINVAL, "NULL resampler");
  CHECK(op_resample(a, NULL, 10, y1, 10) == OP_EINVAL, "NULL input");
  CHECK(op_resample(a, x, -1, y1, 10) == OP_EINVAL, "negative n");
  CHECK(op_resample(a, x, 100, y1, 10) == OP_EBUFFER, "short output");
  CHECK(op_resample(a, x, 0, y1, 0) == 0, "empty input");
  op_resampler *same = op_resampler_create(8000, 8000, NULL);
  CHECK(same && op_resample(same, x, 100, y1, 100) == 100 && memcmp(x, y1, 200) == 0, "identity");
  op_resampler_destroy(same);
  op_resampler_destroy(a);
  op_resampler_destroy(b);
  op_resampler_destroy(NULL);
}

/* Opus in-band FEC: with a voiced signal (SILK codes LBRR only for speech-like frames), the
 * frame lost before packet k+1 is recovered from that packet with about the original level,
 * where plain concealment of a long run fades out. */
static void test_opus_fec(void) {
  int rc = 0;
  op_codec *c = op_codec_create("opus", 20, &rc);
  if (!c) return; /* opus not built: test_registry already listed the codecs */
  enum { FS = 960, FRAMES = 30, LOST = 20 };
  static int16_t sig[FS * FRAMES], out[FS * 3];
  static uint8_t packets[FRAMES][1500];
  int sizes[FRAMES];
  for (int i = 0; i < FS * FRAMES; i++) {
    double t = i / 48000.0, f0 = 140 + 20 * sin(2 * M_PI * 2 * t), v = 0;
    for (int h = 1; h < 12; h++) v += sin(2 * M_PI * f0 * h * t) / h;
    sig[i] = (int16_t)(4000 * v * (0.6 + 0.4 * sin(2 * M_PI * 3 * t)));
  }
  for (int f = 0; f < FRAMES; f++) sizes[f] = op_codec_encode(c, sig + f * FS, FS, packets[f], 1500);
  for (int f = 0; f < LOST; f++) CHECK(op_codec_decode(c, packets[f], sizes[f], out, FS * 3) == FS, "opus decode %d", f);
  int n = op_codec_recover(c, packets[LOST + 1], sizes[LOST + 1], out, FS * 3);
  CHECK(n == FS, "opus recover gave %d", n);
  double got = rms(out, FS), want = rms(sig + LOST * FS, FS);
  printf("  opus  FEC recovery of a lost voiced frame: rms %.0f, original %.0f\n", got, want);
  CHECK(got > want / 2 && got < want * 2, "opus FEC frame rms %.0f, original %.0f", got, want);
  op_codec_destroy(c);
}

int main(void) {
  printf("liboutpostcodec tests\n");
  test_registry();
  for (int i = 0; i < op_codec_count(); i++) test_codec(op_codec_name(i));
  test_opus_fec();
  test_g711_exact("PCMA");
  test_g711_exact("PCMU");
  test_resampler();
  if (failures) {
    printf("%d check(s) failed\n", failures);
    return 1;
  }
  printf("all passed\n");
  return 0;
}
