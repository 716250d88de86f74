/*
 * G.722 at 64 kbit/s via spandsp. PCM is 16 kHz; the RTP clock is 8000
 * because RFC 3551 section 4.5.2 kept the erroneous 8 kHz rate for G722.
 * 20 ms = 320 samples = 160 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
/* spandsp.h would pull in libtiff; telephony.h + g722.h is all G.722 needs. */
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include "op_codec_impl.h"

typedef struct {
  g722_encode_state_t *enc;
  g722_decode_state_t *dec;
} g722_state;

static void g722_destroy(void *p) {
  g722_state *s = p;
  if (!s) return;
  if (s->enc) g722_encode_free(s->enc);
  if (s->dec) g722_decode_free(s->dec);
  free(s);
}

static int g722_create(void **state, int frame_ms, int frame_samples) {
  (void)frame_ms; (void)frame_samples;
  g722_state *s = calloc(1, sizeof *s);
  if (!s) return OP_ENOMEM;
  s->enc = g722_encode_init(NULL, 64000, 0);
  s->dec = g722_decode_init(NULL, 64000, 0);
  if (!s->enc || !s->dec) {
    g722_destroy(s);
    return OP_ENOMEM;
  }
  *state = s;
  return OP_OK;
}

static int g722_enc(void *p, const int16_t *pcm, int n, uint8_t *out, int cap) {
  g722_state *s = p;
  if (cap < (n + 1) / 2) return OP_EBUFFER;
  int bytes = g722_encode(s->enc, out, pcm, n);
  return bytes < 0 ? OP_ELIB : bytes;
}

static int g722_dec(void *p, const uint8_t *in, int len, int16_t *pcm, int cap) {
  g722_state *s = p;
  if (len > cap / 2) return OP_EBUFFER;
  int samples = g722_decode(s->dec, pcm, in, len);
  return samples < 0 ? OP_ELIB : samples;
}

const op_codec_def op_codec_g722 = {
  .name = "G722", .clock_rate = 8000, .pcm_rate = 16000,
  .default_frame_ms = 20, .min_frame_ms = 10, .max_frame_ms = 60, .frame_step_ms = 10,
  .create = g722_create, .encode = g722_enc, .decode = g722_dec,
  .plc = NULL, .destroy = g722_destroy,
};
