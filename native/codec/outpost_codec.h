/*
 * liboutpostcodec: one uniform ABI over the voice codecs Outpost can transcode.
 *
 * Every codec lives in its own C file (codec_*.c) and is described by a const
 * op_codec_def table (op_codec_impl.h) that registry.c lists; a codec whose
 * library header was missing at build time is simply not in the list.
 *
 * Conventions: PCM is signed 16-bit mono, host byte order, at the codec's PCM
 * rate (op_codec_info). Every function returns a negative OP_E* code on error
 * (never crashes on NULL/short buffers); op_strerror() names it.
 */
#ifndef OUTPOST_CODEC_H
#define OUTPOST_CODEC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OP_EXPORT __attribute__((visibility("default")))

enum {
  OP_OK = 0,
  OP_EINVAL = -1,    /* NULL pointer, negative length, bad argument */
  OP_ENOCODEC = -2,  /* no codec of that name was built */
  OP_ENOMEM = -3,    /* allocation failed (only at create time) */
  OP_EFRAME = -4,    /* frame size not supported / wrong number of samples */
  OP_EBUFFER = -5,   /* output buffer too small */
  OP_EPAYLOAD = -6,  /* payload cannot be decoded (corrupt or wrong length) */
  OP_ELIB = -7,      /* the codec library reported an internal error */
  OP_ERATE = -8      /* resampler rate pair not supported */
};

typedef struct op_codec op_codec;

OP_EXPORT int op_codec_count(void);
/* Name of the index-th built codec ("PCMA","PCMU","G722","opus","G729"), NULL if out of range. */
OP_EXPORT const char *op_codec_name(int index);
/* frame_ms 0 selects the codec's default. NULL and *rc < 0 on error. */
OP_EXPORT op_codec *op_codec_create(const char *name, int frame_ms, int *rc);
OP_EXPORT int op_codec_info(const op_codec *c, int *clock_rate, int *pcm_rate, int *frame_samples);
/* Encodes exactly one frame (frame_samples). Returns payload bytes or rc < 0. */
OP_EXPORT int op_codec_encode(op_codec *c, const int16_t *pcm, int samples, uint8_t *out, int out_cap);
/* Decodes one RTP payload. Returns PCM samples written or rc < 0. */
OP_EXPORT int op_codec_decode(op_codec *c, const uint8_t *in, int len, int16_t *pcm, int pcm_cap);
/* One frame (frame_samples) of loss concealment: opus/G.729 PLC, fading repeat for the others. */
OP_EXPORT int op_codec_conceal(op_codec *c, int16_t *pcm, int pcm_cap);
/* One frame (frame_samples) for the packet lost just before `next`: decoded from the in-band
 * FEC that `next` carries (opus), else the same as op_codec_conceal. `next` is not decoded. */
OP_EXPORT int op_codec_recover(op_codec *c, const uint8_t *next, int len, int16_t *pcm, int pcm_cap);
OP_EXPORT void op_codec_destroy(op_codec *c);

typedef struct op_resampler op_resampler;

/* in_rate/out_rate each one of 8000, 16000, 48000. NULL and *rc < 0 on error. */
OP_EXPORT op_resampler *op_resampler_create(int in_rate, int out_rate, int *rc);
/* Returns samples written or rc < 0 (out_cap is checked before any state changes).
 * Filter state carries across calls, so a stream can be fed in any chunk sizes. */
OP_EXPORT int op_resample(op_resampler *r, const int16_t *in, int n, int16_t *out, int out_cap);
/* Upper bound of op_resample's output for n input samples. */
OP_EXPORT int op_resample_max_out(const op_resampler *r, int n);
OP_EXPORT void op_resampler_destroy(op_resampler *r);

OP_EXPORT const char *op_strerror(int rc);

#ifdef __cplusplus
}
#endif
#endif
