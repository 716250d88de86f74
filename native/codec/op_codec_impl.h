/* Internal: the const description every codec file exports, and the registry. */
#ifndef OP_CODEC_IMPL_H
#define OP_CODEC_IMPL_H

#include "outpost_codec.h"

typedef struct op_codec_def {
  const char *name;          /* RTP encoding name as in SDP */
  int clock_rate;            /* RTP timestamp clock */
  int pcm_rate;              /* PCM sample rate of encode input / decode output */
  int default_frame_ms;      /* ptime used when create() gets 0 */
  int min_frame_ms, max_frame_ms, frame_step_ms; /* accepted ptimes; create() may refuse more */
  /* Sets *state; returns OP_OK or rc < 0. frame_samples = pcm_rate * frame_ms / 1000. */
  int (*create)(void **state, int frame_ms, int frame_samples);
  /* samples is already checked to equal frame_samples. Returns bytes or rc < 0. */
  int (*encode)(void *state, const int16_t *pcm, int samples, uint8_t *out, int out_cap);
  /* len > 0 already checked. Returns samples or rc < 0. */
  int (*decode)(void *state, const uint8_t *in, int len, int16_t *pcm, int pcm_cap);
  /* Writes exactly `samples` of concealment; NULL means the generic fading repeat. */
  int (*plc)(void *state, int16_t *pcm, int samples);
  /* Writes exactly `samples` for the frame lost just before the packet `next`, from the
   * redundancy `next` carries (opus in-band FEC); NULL means the codec has none (plc is used). */
  int (*fec)(void *state, const uint8_t *next, int len, int16_t *pcm, int samples);
  void (*destroy)(void *state);
} op_codec_def;

extern const op_codec_def op_codec_pcma;
extern const op_codec_def op_codec_pcmu;
#ifdef OP_HAVE_G722
extern const op_codec_def op_codec_g722;
#endif
#ifdef OP_HAVE_OPUS
extern const op_codec_def op_codec_opus;
#endif
#ifdef OP_HAVE_G729
extern const op_codec_def op_codec_g729;
#endif

#endif
