/*
 * The uniform ABI: a registry of the const codec tables that were built, and
 * argument checking done once here so each codec file only does its codec.
 */
#include <stdlib.h>
#include <string.h>
#include "op_codec_impl.h"

static const op_codec_def *const registry[] = {
  &op_codec_pcma,
  &op_codec_pcmu,
#ifdef OP_HAVE_G722
  &op_codec_g722,
#endif
#ifdef OP_HAVE_OPUS
  &op_codec_opus,
#endif
#ifdef OP_HAVE_G729
  &op_codec_g729,
#endif
};
#define REGISTRY_SIZE ((int)(sizeof registry / sizeof registry[0]))

struct op_codec {
  const op_codec_def *def;
  void *state;
  int frame_ms;
  int frame_samples;
  /* For the generic concealment: the last decoded frame, and how often it was repeated. */
  int16_t *last;
  int last_samples;
  int conceal_run;
};

int op_codec_count(void) { return REGISTRY_SIZE; }

const char *op_codec_name(int index) {
  return index >= 0 && index < REGISTRY_SIZE ? registry[index]->name : NULL;
}

static void set_rc(int *rc, int value) {
  if (rc) *rc = value;
}

op_codec *op_codec_create(const char *name, int frame_ms, int *rc) {
  if (!name) {
    set_rc(rc, OP_EINVAL);
    return NULL;
  }
  const op_codec_def *def = NULL;
  for (int i = 0; i < REGISTRY_SIZE; i++)
    if (strcmp(registry[i]->name, name) == 0) def = registry[i];
  if (!def) {
    set_rc(rc, OP_ENOCODEC);
    return NULL;
  }
  if (frame_ms == 0) frame_ms = def->default_frame_ms;
  if (frame_ms < def->min_frame_ms || frame_ms > def->max_frame_ms ||
      frame_ms % def->frame_step_ms != 0) {
    set_rc(rc, OP_EFRAME);
    return NULL;
  }
  op_codec *c = calloc(1, sizeof *c);
  if (!c) {
    set_rc(rc, OP_ENOMEM);
    return NULL;
  }
  c->def = def;
  c->frame_ms = frame_ms;
  c->frame_samples = def->pcm_rate / 1000 * frame_ms;
  if (!def->plc) {
    c->last = calloc((size_t)c->frame_samples, sizeof *c->last);
    if (!c->last) {
      free(c);
      set_rc(rc, OP_ENOMEM);
      return NULL;
    }
  }
  int r = def->create(&c->state, frame_ms, c->frame_samples);
  if (r < 0) {
    free(c->last);
    free(c);
    set_rc(rc, r);
    return NULL;
  }
  set_rc(rc, OP_OK);
  return c;
}

int op_codec_info(const op_codec *c, int *clock_rate, int *pcm_rate, int *frame_samples) {
  if (!c) return OP_EINVAL;
  if (clock_rate) *clock_rate = c->def->clock_rate;
  if (pcm_rate) *pcm_rate = c->def->pcm_rate;
  if (frame_samples) *frame_samples = c->frame_samples;
  return OP_OK;
}

int op_codec_encode(op_codec *c, const int16_t *pcm, int samples, uint8_t *out, int out_cap) {
  if (!c || !pcm || !out || out_cap <= 0) return OP_EINVAL;
  if (samples != c->frame_samples) return OP_EFRAME;
  return c->def->encode(c->state, pcm, samples, out, out_cap);
}

int op_codec_decode(op_codec *c, const uint8_t *in, int len, int16_t *pcm, int pcm_cap) {
  if (!c || !in || !pcm || len <= 0 || pcm_cap <= 0) return OP_EINVAL;
  int n = c->def->decode(c->state, in, len, pcm, pcm_cap);
  if (n > 0 && c->last) {
    /* Keep the tail of what was decoded as the frame to repeat on loss. */
    int keep = n < c->frame_samples ? n : c->frame_samples;
    memcpy(c->last, pcm + (n - keep), (size_t)keep * sizeof *pcm);
    c->last_samples = keep;
    c->conceal_run = 0;
  }
  return n;
}

int op_codec_conceal(op_codec *c, int16_t *pcm, int pcm_cap) {
  if (!c || !pcm) return OP_EINVAL;
  if (pcm_cap < c->frame_samples) return OP_EBUFFER;
  if (c->def->plc) return c->def->plc(c->state, pcm, c->frame_samples);
  /* Generic: repeat the last frame at half the level each lost frame; silence after 4 or with none. */
  c->conceal_run++;
  int shift = c->conceal_run;
  for (int i = 0; i < c->frame_samples; i++) {
    int16_t v = 0;
    if (c->last_samples > 0 && shift <= 4) v = (int16_t)(c->last[i % c->last_samples] >> shift);
    pcm[i] = v;
  }
  return c->frame_samples;
}

int op_codec_recover(op_codec *c, const uint8_t *next, int len, int16_t *pcm, int pcm_cap) {
  if (!c || !next || !pcm || len <= 0) return OP_EINVAL;
  if (pcm_cap < c->frame_samples) return OP_EBUFFER;
  if (!c->def->fec) return op_codec_conceal(c, pcm, pcm_cap);
  int n = c->def->fec(c->state, next, len, pcm, c->frame_samples);
  /* A packet without usable FEC data: fall back to concealment. */
  return n == c->frame_samples ? n : op_codec_conceal(c, pcm, pcm_cap);
}

void op_codec_destroy(op_codec *c) {
  if (!c) return;
  c->def->destroy(c->state);
  free(c->last);
  free(c);
}

const char *op_strerror(int rc) {
  switch (rc) {
    case OP_OK: return "ok";
    case OP_EINVAL: return "invalid argument";
    case OP_ENOCODEC: return "codec not built into liboutpostcodec";
    case OP_ENOMEM: return "out of memory";
    case OP_EFRAME: return "unsupported frame size";
    case OP_EBUFFER: return "output buffer too small";
    case OP_EPAYLOAD: return "payload cannot be decoded";
    case OP_ELIB: return "codec library error";
    case OP_ERATE: return "unsupported resampler rate pair";
    default: return "unknown error";
  }
}
