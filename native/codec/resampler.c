/*
 * Rational polyphase FIR resampler for 8000/16000/48000 Hz (any pair).
 *
 * Rate change L/M (one of them is 1 for these rates). The prototype low-pass
 * runs at in_rate*L with ZERO_CROSSINGS per side of the lower rate's period,
 * windowed-sinc with a Kaiser window (beta 7, about 70 dB stopband), cutoff
 * (-6 dB) at 0.9 x the Nyquist of the lower rate. Passband (< 0.1 dB ripple)
 * to about 0.8 x that Nyquist: 3.2 kHz when 8 kHz is involved, 6.4 kHz for
 * 16<->48 kHz. Group delay is (taps-1)/2 at the high rate: 32 samples at 8 kHz
 * for 8<->48 kHz (4 ms); in general 32 periods of the lower rate, so a round trip
 * through any pair delays by 64 samples of the lower rate (8 ms at 8 kHz).
 *
 * Input is copied in chunks after the last taps-1 samples of history, so the
 * filter state survives across calls and no call allocates.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "outpost_codec.h"

#define ZERO_CROSSINGS 32   /* per side, in periods of the lower rate */
#define CUTOFF 0.9          /* fraction of the lower Nyquist at -6 dB */
#define KAISER_BETA 7.0
#define CHUNK 1024

struct op_resampler {
  int in_rate, out_rate;
  int L, M;            /* upsample by L, downsample by M */
  int taps;            /* taps per phase */
  float *poly;         /* [L][taps]: poly[p*taps+k] = h[p + k*L] * L */
  float *buf;          /* history (taps-1) then up to CHUNK new samples */
  long next_t;         /* upsampled index of the next output, relative to the chunk start */
};

static int gcd(int a, int b) {
  while (b) { int t = a % b; a = b; b = t; }
  return a;
}

static double bessel_i0(double x) {
  double sum = 1.0, term = 1.0, q = x * x / 4.0;
  for (int k = 1; k < 64; k++) {
    term *= q / ((double)k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

static int rate_ok(int r) { return r == 8000 || r == 16000 || r == 48000; }

op_resampler *op_resampler_create(int in_rate, int out_rate, int *rc) {
  if (!rate_ok(in_rate) || !rate_ok(out_rate)) {
    if (rc) *rc = OP_ERATE;
    return NULL;
  }
  op_resampler *r = calloc(1, sizeof *r);
  if (!r) goto nomem;
  int g = gcd(in_rate, out_rate);
  r->in_rate = in_rate;
  r->out_rate = out_rate;
  r->L = out_rate / g;
  r->M = in_rate / g;
  int maxlm = r->L > r->M ? r->L : r->M;
  /* Odd prototype length, so the delay is a whole number of high-rate samples (and a round
   * trip is an integer delay at the low rate); zero-padded up to a multiple of L. */
  int proto = 2 * ZERO_CROSSINGS * maxlm + 1;
  if (r->L == 1 && r->M == 1) proto = 1;       /* same rate: identity */
  r->taps = (proto + r->L - 1) / r->L;
  int n = r->taps * r->L;
  r->poly = calloc((size_t)n, sizeof *r->poly);
  r->buf = calloc((size_t)(r->taps - 1 + CHUNK), sizeof *r->buf);
  if (!r->poly || !r->buf) goto nomem;

  if (proto == 1) {
    r->poly[0] = 1.0f;
  } else {
    double fc = CUTOFF * 0.5 / maxlm;         /* cycles per upsampled sample */
    double *h = malloc((size_t)n * sizeof *h);
    if (!h) goto nomem;
    double sum = 0, centre = (proto - 1) / 2.0, i0b = bessel_i0(KAISER_BETA);
    for (int i = 0; i < n; i++) {
      if (i >= proto) {
        h[i] = 0;
        continue;
      }
      double m = i - centre;
      double x = 2.0 * fc * m;
      double sinc = fabs(x) < 1e-12 ? 1.0 : sin(M_PI * x) / (M_PI * x);
      double w = 2.0 * i / (proto - 1) - 1.0;
      double win = bessel_i0(KAISER_BETA * sqrt(1.0 - w * w)) / i0b;
      h[i] = 2.0 * fc * sinc * win;
      sum += h[i];
    }
    for (int p = 0; p < r->L; p++)
      for (int k = 0; k < r->taps; k++)
        r->poly[p * r->taps + k] = (float)(h[p + k * r->L] / sum * r->L);
    free(h);
  }
  if (rc) *rc = OP_OK;
  return r;
nomem:
  op_resampler_destroy(r);
  if (rc) *rc = OP_ENOMEM;
  return NULL;
}

/* Outputs for the next n inputs, given the current phase. */
static int outputs_for(const op_resampler *r, long next_t, int n) {
  long end = (long)n * r->L;
  return next_t < end ? (int)((end - next_t + r->M - 1) / r->M) : 0;
}

int op_resample_max_out(const op_resampler *r, int n) {
  if (!r || n < 0) return OP_EINVAL;
  return (int)(((long)n * r->L + r->M - 1) / r->M) + 1;
}

int op_resample(op_resampler *r, const int16_t *in, int n, int16_t *out, int out_cap) {
  if (!r || (!in && n > 0) || n < 0 || (!out && out_cap > 0) || out_cap < 0) return OP_EINVAL;
  if (outputs_for(r, r->next_t, n) > out_cap) return OP_EBUFFER;
  const int hist = r->taps - 1;
  int produced = 0;
  while (n > 0) {
    int chunk = n < CHUNK ? n : CHUNK;
    float *x = r->buf + hist;                  /* x[j] = this chunk's j-th input; x[-hist..-1] history */
    for (int j = 0; j < chunk; j++) x[j] = in[j];
    long end = (long)chunk * r->L;
    for (long t = r->next_t; t < end; t += r->M) {
      long base = t / r->L;
      const float *h = r->poly + (t % r->L) * r->taps;
      const float *xp = x + base;
      float acc = 0.0f;
      for (int k = 0; k < r->taps; k++) acc += h[k] * xp[-k];
      long v = lrintf(acc);
      out[produced++] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
      r->next_t = t + r->M;
    }
    r->next_t -= end;                          /* >= 0: the loop ran past end */
    memmove(r->buf, r->buf + chunk, (size_t)hist * sizeof *r->buf);
    in += chunk;
    n -= chunk;
  }
  return produced;
}

void op_resampler_destroy(op_resampler *r) {
  if (!r) return;
  free(r->poly);
  free(r->buf);
  free(r);
}
