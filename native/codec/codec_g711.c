/*
 * G.711 A-law (PCMA) and mu-law (PCMU), 8 kHz, RTP clock 8000 (RFC 3551).
 *
 * Written from the segment/quantisation rules of ITU-T G.711: the encoder
 * tables are indexed by the top 13 (A-law) / 14 (mu-law) bits of the linear
 * sample, the decoder tables by the code byte. All four tables are filled
 * once from the formulas below (pthread_once), then every call is a lookup.
 */
#include <pthread.h>
#include <stdlib.h>
#include "op_codec_impl.h"

static uint8_t alaw_enc_tab[8192];   /* index: (pcm >> 3) + 4096 */
static uint8_t ulaw_enc_tab[16384];  /* index: (pcm >> 2) + 8192 */
static int16_t alaw_dec_tab[256];
static int16_t ulaw_dec_tab[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Segment = position of the highest set bit above the 4 mantissa bits. */
static int segment_of(int magnitude, int first_end) {
  int seg = 0;
  int end = first_end;
  while (seg < 8 && magnitude > end) {
    end = (end << 1) | 1;
    seg++;
  }
  return seg;
}

/* A-law: 13-bit signed input x (-4096..4095); even bits inverted (xor 0x55). */
static uint8_t alaw_from_13bit(int x) {
  int sign = x >= 0 ? 0x80 : 0x00;
  int mag = x >= 0 ? x : -x - 1;            /* 0..4095 */
  int seg = segment_of(mag, 0x1F);          /* segment ends 31, 63, ..., 4095 */
  uint8_t code;
  if (seg >= 8) {
    code = 0x7F;
  } else {
    int mant = seg < 2 ? (mag >> 1) & 0x0F : (mag >> seg) & 0x0F;
    code = (uint8_t)((seg << 4) | mant);
  }
  return (uint8_t)((code | sign) ^ 0x55);
}

/* Decoders return the 16-bit value at the middle of the code's quantisation step. */
static int16_t alaw_to_linear(uint8_t a) {
  a ^= 0x55;
  int mant = a & 0x0F;
  int seg = (a >> 4) & 0x07;
  int mag = (mant << 4) + 8;                /* middle of the quantisation step */
  if (seg >= 1) mag += 0x100;
  if (seg >= 2) mag <<= seg - 1;
  return (int16_t)((a & 0x80) ? mag : -mag);
}

/* mu-law: 14-bit signed input x (-8192..8191), bias 33, clip 8159; all bits inverted. */
#define ULAW_BIAS 0x21
#define ULAW_CLIP 8159
static uint8_t ulaw_from_14bit(int x) {
  int mask = x < 0 ? 0x7F : 0xFF;
  int mag = x < 0 ? -x : x;
  if (mag > ULAW_CLIP) mag = ULAW_CLIP;
  mag += ULAW_BIAS;
  int seg = segment_of(mag, 0x3F);          /* segment ends 63, 127, ..., 8191 */
  uint8_t code;
  if (seg >= 8) {
    code = 0x7F;
  } else {
    code = (uint8_t)((seg << 4) | ((mag >> (seg + 1)) & 0x0F));
  }
  return (uint8_t)(code ^ mask);
}

static int16_t ulaw_to_linear(uint8_t u) {
  u = (uint8_t)~u;
  int mag = (((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 0x07);
  mag -= 0x84;
  return (int16_t)((u & 0x80) ? -mag : mag);
}

static void build_tables(void) {
  for (int i = 0; i < 8192; i++) alaw_enc_tab[i] = alaw_from_13bit(i - 4096);
  for (int i = 0; i < 16384; i++) ulaw_enc_tab[i] = ulaw_from_14bit(i - 8192);
  for (int i = 0; i < 256; i++) {
    alaw_dec_tab[i] = alaw_to_linear((uint8_t)i);
    ulaw_dec_tab[i] = ulaw_to_linear((uint8_t)i);
  }
}

/* State is just which law; no per-channel memory. */
static int g711_create(void **state, int frame_ms, int frame_samples) {
  (void)frame_ms; (void)frame_samples;
  pthread_once(&tables_once, build_tables);
  *state = NULL;
  return OP_OK;
}

static int pcma_encode(void *st, const int16_t *pcm, int n, uint8_t *out, int cap) {
  (void)st;
  if (cap < n) return OP_EBUFFER;
  for (int i = 0; i < n; i++) out[i] = alaw_enc_tab[(pcm[i] >> 3) + 4096];
  return n;
}
static int pcma_decode(void *st, const uint8_t *in, int len, int16_t *pcm, int cap) {
  (void)st;
  if (cap < len) return OP_EBUFFER;
  for (int i = 0; i < len; i++) pcm[i] = alaw_dec_tab[in[i]];
  return len;
}
static int pcmu_encode(void *st, const int16_t *pcm, int n, uint8_t *out, int cap) {
  (void)st;
  if (cap < n) return OP_EBUFFER;
  for (int i = 0; i < n; i++) out[i] = ulaw_enc_tab[(pcm[i] >> 2) + 8192];
  return n;
}
static int pcmu_decode(void *st, const uint8_t *in, int len, int16_t *pcm, int cap) {
  (void)st;
  if (cap < len) return OP_EBUFFER;
  for (int i = 0; i < len; i++) pcm[i] = ulaw_dec_tab[in[i]];
  return len;
}
static void g711_destroy(void *st) { (void)st; }

const op_codec_def op_codec_pcma = {
  .name = "PCMA", .clock_rate = 8000, .pcm_rate = 8000,
  .default_frame_ms = 20, .min_frame_ms = 10, .max_frame_ms = 60, .frame_step_ms = 10,
  .create = g711_create, .encode = pcma_encode, .decode = pcma_decode,
  .plc = NULL, .destroy = g711_destroy,
};

const op_codec_def op_codec_pcmu = {
  .name = "PCMU", .clock_rate = 8000, .pcm_rate = 8000,
  .default_frame_ms = 20, .min_frame_ms = 10, .max_frame_ms = 60, .frame_step_ms = 10,
  .create = g711_create, .encode = pcmu_encode, .decode = pcmu_decode,
  .plc = NULL, .destroy = g711_destroy,
};
