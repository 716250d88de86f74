/*
 * The C reference of bench/codecs.ts (make -C native/codec bench -> native/build/bench_codecs):
 * transcoding channels per core through liboutpostcodec in a plain C loop, i.e. the most these
 * libraries can do on this machine, to compare the koffi path with.
 *
 *   bench_codecs [--seconds S] [--pairs opus,G722,G729] [--micro]
 *
 * One channel = both directions of a call for one 20 ms tick:
 *   PCMA payload -> decode -> resample 8000 -> B's PCM rate -> encode B
 *   B payload    -> decode -> resample B's rate -> 8000     -> encode PCMA
 * (no resampler when B's PCM rate is 8000, as for G.729). Inputs are pre-encoded frames of the
 * same speech-like signal as bench/lib/codecs-ts.ts (5 s, looped), made before timing.
 * CPU time is CLOCK_PROCESS_CPUTIME_ID over at least S seconds per pair (default 4).
 * --micro adds ns per call of a few single library calls (no FFI), for bench/codecs.ts to
 * subtract from the same calls made through koffi.
 * Output: one JSON line on stdout; errors on stderr with exit status 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "outpost_codec.h"

#define FRAME_MS 20
#define SIGNAL_S 5
#define NFRAMES (SIGNAL_S * 1000 / FRAME_MS)
#define MAX_PAYLOAD 4000
#define MAX_PCM (48 * 120)
#define CHECK_EVERY 50

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_codecs: %s: %s (rc %d)\n", what, op_strerror(rc), rc);
  exit(1);
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Speech-like: 120 Hz harmonic series through three formants, 4 Hz syllable envelope, pitch glide
 * (the signal of agent/media/codec/codec.test.ts, also in bench/lib/codecs-ts.ts). */
static int16_t *speech_like(int rate) {
  int n = rate * SIGNAL_S;
  int16_t *x = malloc((size_t)n * sizeof *x);
  if (!x) die("malloc", OP_ENOMEM);
  static const double formants[3][2] = {{700, 130}, {1220, 70}, {2600, 160}};
  double phase = 0;
  for (int i = 0; i < n; i++) {
    double t = (double)i / rate;
    double f0 = 120 + 15 * sin(2 * M_PI * 0.7 * t);
    phase += 2 * M_PI * f0 / rate;
    double v = 0;
    for (int h = 1; h * 120 < 3400; h++) {
      double gain = 0;
      for (int k = 0; k < 3; k++) {
        double d = (h * f0 - formants[k][0]) / formants[k][1];
        gain += 1 / (1 + d * d);
      }
      v += gain / h * sin(h * phase);
    }
    double envelope = 0.55 + 0.45 * sin(2 * M_PI * 4 * t);
    x[i] = (int16_t)lrint(5000 * envelope * v);
  }
  return x;
}

typedef struct {
  uint8_t data[NFRAMES][512];
  int len[NFRAMES];
} frames;

static op_codec *make_codec(const char *name) {
  int rc = 0;
  op_codec *c = op_codec_create(name, FRAME_MS, &rc);
  if (!c) die(name, rc);
  return c;
}

static int pcm_rate_of(op_codec *c) {
  int clock, rate, samples;
  op_codec_info(c, &clock, &rate, &samples);
  return rate;
}

/* Pre-encodes the signal with a codec of its own (not the one being timed). */
static void pre_encode(const char *name, frames *f) {
  op_codec *c = make_codec(name);
  int rate = pcm_rate_of(c), fs = rate / 1000 * FRAME_MS;
  int16_t *x = speech_like(rate);
  for (int i = 0; i < NFRAMES; i++) {
    int n = op_codec_encode(c, x + i * fs, fs, f->data[i], (int)sizeof f->data[i]);
    if (n < 0) die("pre-encode", n);
    f->len[i] = n;
  }
  free(x);
  op_codec_destroy(c);
}

typedef struct {
  op_codec *a, *b;
  op_resampler *ab, *ba; /* NULL when both PCM rates are equal */
  int16_t pcm[MAX_PCM], res[MAX_PCM + 8];
  uint8_t out[MAX_PAYLOAD];
} channel;

static op_resampler *make_resampler(int in, int out) {
  if (in == out) return NULL;
  int rc = 0;
  op_resampler *r = op_resampler_create(in, out, &rc);
  if (!r) die("op_resampler_create", rc);
  return r;
}

/* One direction: decode on `from`, resample, encode on `to`. */
static void leg(channel *ch, op_codec *from, op_resampler *r, op_codec *to, const uint8_t *in, int len) {
  int n = op_codec_decode(from, in, len, ch->pcm, MAX_PCM);
  if (n < 0) die("decode", n);
  const int16_t *p = ch->pcm;
  if (r) {
    n = op_resample(r, ch->pcm, n, ch->res, MAX_PCM + 8);
    if (n < 0) die("resample", n);
    p = ch->res;
  }
  int bytes = op_codec_encode(to, p, n, ch->out, MAX_PAYLOAD);
  if (bytes < 0) die("encode", bytes);
}

static void tick(channel *ch, const frames *fa, const frames *fb, int i) {
  int k = i % NFRAMES;
  leg(ch, ch->a, ch->ab, ch->b, fa->data[k], fa->len[k]);
  leg(ch, ch->b, ch->ba, ch->a, fb->data[k], fb->len[k]);
}

static void bench_pair(const char *b, double seconds, const frames *fa, int first) {
  static frames fb;
  pre_encode(b, &fb);
  static channel ch;
  ch.a = make_codec("PCMA");
  ch.b = make_codec(b);
  int ra = pcm_rate_of(ch.a), rb = pcm_rate_of(ch.b);
  ch.ab = make_resampler(ra, rb);
  ch.ba = make_resampler(rb, ra);
  long i = 0;
  for (; i < 100; i++) tick(&ch, fa, &fb, (int)i); /* warm-up: caches, codec state */
  double t0 = cpu_now(), t = t0;
  long ticks = 0;
  while (t - t0 < seconds) {
    for (int k = 0; k < CHECK_EVERY; k++, i++) tick(&ch, fa, &fb, (int)i);
    ticks += CHECK_EVERY;
    t = cpu_now();
  }
  double us = (t - t0) / (double)ticks * 1e6;
  printf("%s{\"pair\":\"PCMA<->%s\",\"pcmRates\":[%d,%d],\"resampled\":%s,\"ticks\":%ld,\"cpuS\":%.4f,"
         "\"usPerTick\":%.3f,\"channelsPerCore\":%.2f}",
         first ? "" : ",", b, ra, rb, ch.ab ? "true" : "false", ticks, t - t0, us, 1e6 / (us * (1000.0 / FRAME_MS)));
  op_codec_destroy(ch.a);
  op_codec_destroy(ch.b);
  op_resampler_destroy(ch.ab);
  op_resampler_destroy(ch.ba);
}

/* ns per call of `expr`, best of 5 runs of `iters`. */
#define TIME_NS(out, iters, expr)                                      \
  do {                                                                 \
    double best_ = 1e30;                                               \
    for (int r_ = 0; r_ < 5; r_++) {                                   \
      double s_ = cpu_now();                                           \
      for (long j_ = 0; j_ < (iters); j_++) {                          \
        if ((expr) < 0) die(#expr, -1);                                \
      }                                                                \
      double e_ = (cpu_now() - s_) / (double)(iters) * 1e9;            \
      if (e_ < best_) best_ = e_;                                      \
    }                                                                  \
    (out) = best_;                                                     \
  } while (0)

static void micro(const frames *fa) {
  op_codec *c = make_codec("PCMA");
  op_resampler *up = make_resampler(8000, 48000);
  static int16_t pcm[MAX_PCM], res[MAX_PCM + 8];
  static uint8_t out[MAX_PAYLOAD];
  int16_t *x = speech_like(8000);
  double count_ns, maxout_ns, enc_ns, dec_ns, res_ns;
  volatile int sink = 0;
  TIME_NS(count_ns, 2000000L, (sink = op_codec_count()));
  TIME_NS(maxout_ns, 2000000L, (sink = op_resample_max_out(up, 160)));
  TIME_NS(enc_ns, 200000L, op_codec_encode(c, x + (j_ % NFRAMES) * 160, 160, out, MAX_PAYLOAD));
  TIME_NS(dec_ns, 200000L, op_codec_decode(c, fa->data[j_ % NFRAMES], 160, pcm, MAX_PCM));
  TIME_NS(res_ns, 5000L, op_resample(up, pcm, 160, res, MAX_PCM + 8));
  (void)sink;
  printf(",\"micro\":{\"countNs\":%.2f,\"resampleMaxOutNs\":%.2f,\"pcmaEncodeNs\":%.1f,\"pcmaDecodeNs\":%.1f,"
         "\"resample8to48Ns\":%.0f}",
         count_ns, maxout_ns, enc_ns, dec_ns, res_ns);
  free(x);
  op_codec_destroy(c);
  op_resampler_destroy(up);
}

int main(int argc, char **argv) {
  double seconds = 4;
  char pairs[256] = "opus,G722,G729";
  int want_micro = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--pairs") && i + 1 < argc) snprintf(pairs, sizeof pairs, "%s", argv[++i]);
    else if (!strcmp(argv[i], "--micro")) want_micro = 1;
    else {
      fprintf(stderr, "usage: %s [--seconds S] [--pairs opus,G722,G729] [--micro]\n", argv[0]);
      return 1;
    }
  }
  if (!(seconds > 0)) {
    fprintf(stderr, "bench_codecs: --seconds must be > 0\n");
    return 1;
  }
  static frames fa;
  pre_encode("PCMA", &fa);
  printf("{\"bench\":\"codecs-c\",\"frameMs\":%d,\"seconds\":%g,\"pairs\":[", FRAME_MS, seconds);
  int first = 1;
  for (char *save = NULL, *b = strtok_r(pairs, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
    bench_pair(b, seconds, &fa, first);
    first = 0;
  }
  printf("]");
  if (want_micro) micro(&fa);
  printf("}\n");
  return 0;
}
