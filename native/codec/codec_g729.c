/*
 * G.729 (Annex A compatible) via bcg729: 8 kHz PCM and RTP clock, one 10-byte
 * frame per 10 ms (80 samples); an RTP payload carries N frames, optionally
 * followed by one 2-byte Annex B SID frame (RFC 3551 section 4.5.6). VAD off.
 * Concealment uses bcg729's frame-erasure path.
 */
#include <stdlib.h>
#include <bcg729/encoder.h>
#include <bcg729/decoder.h>
#include "op_codec_impl.h"

#define G729_FRAME_SAMPLES 80
#define G729_FRAME_BYTES 10
#define G729_SID_BYTES 2

typedef struct {
  bcg729EncoderChannelContextStruct *enc;
  bcg729DecoderChannelContextStruct *dec;
} g729_state;

static void g729_destroy(void *p) {
  g729_state *s = p;
  if (!s) return;
  if (s->enc) closeBcg729EncoderChannel(s->enc);
  if (s->dec) closeBcg729DecoderChannel(s->dec);
  free(s);
}

static int g729_create(void **state, int frame_ms, int frame_samples) {
  (void)frame_ms; (void)frame_samples;
  g729_state *s = calloc(1, sizeof *s);
  if (!s) return OP_ENOMEM;
  s->enc = initBcg729EncoderChannel(0);
  s->dec = initBcg729DecoderChannel();
  if (!s->enc || !s->dec) {
    g729_destroy(s);
    return OP_ENOMEM;
  }
  *state = s;
  return OP_OK;
}

static int g729_enc(void *p, const int16_t *pcm, int n, uint8_t *out, int cap) {
  g729_state *s = p;
  int frames = n / G729_FRAME_SAMPLES;
  if (cap < frames * G729_FRAME_BYTES) return OP_EBUFFER;
  int bytes = 0;
  for (int f = 0; f < frames; f++) {
    uint8_t len = 0;
    bcg729Encoder(s->enc, pcm + f * G729_FRAME_SAMPLES, out + bytes, &len);
    bytes += len;
  }
  return bytes;
}

static int g729_dec(void *p, const uint8_t *in, int len, int16_t *pcm, int cap) {
  g729_state *s = p;
  int frames = len / G729_FRAME_BYTES;
  int rest = len % G729_FRAME_BYTES;
  if (rest != 0 && rest != G729_SID_BYTES) return OP_EPAYLOAD;
  int total = (frames + (rest ? 1 : 0)) * G729_FRAME_SAMPLES;
  if (total > cap) return OP_EBUFFER;
  for (int f = 0; f < frames; f++)
    bcg729Decoder(s->dec, in + f * G729_FRAME_BYTES, G729_FRAME_BYTES, 0, 0, 0,
                  pcm + f * G729_FRAME_SAMPLES);
  if (rest)
    bcg729Decoder(s->dec, in + frames * G729_FRAME_BYTES, G729_SID_BYTES, 0, 1, 0,
                  pcm + frames * G729_FRAME_SAMPLES);
  return total;
}

static int g729_conceal(void *p, int16_t *pcm, int samples) {
  g729_state *s = p;
  for (int off = 0; off + G729_FRAME_SAMPLES <= samples; off += G729_FRAME_SAMPLES)
    bcg729Decoder(s->dec, NULL, 0, 1, 0, 0, pcm + off);
  return samples;
}

const op_codec_def op_codec_g729 = {
  .name = "G729", .clock_rate = 8000, .pcm_rate = 8000,
  .default_frame_ms = 20, .min_frame_ms = 10, .max_frame_ms = 60, .frame_step_ms = 10,
  .create = g729_create, .encode = g729_enc, .decode = g729_dec,
  .plc = g729_conceal, .destroy = g729_destroy,
};
