/*
 * Opus via libopus: mono, 48 kHz PCM and RTP clock (RFC 7587), VOIP
 * application, in-band FEC on (tuned for 10 % expected loss), 32 kbit/s.
 * Frame sizes 10, 20, 40, 60 ms. Concealment is libopus' own PLC.
 */
#include <stdlib.h>
#include <opus.h>
#include "op_codec_impl.h"

#define OPUS_BITRATE 32000
#define OPUS_LOSS_PERC 10

typedef struct {
  OpusEncoder *enc;
  OpusDecoder *dec;
} opus_state;

static void opus_destroy(void *p) {
  opus_state *s = p;
  if (!s) return;
  if (s->enc) opus_encoder_destroy(s->enc);
  if (s->dec) opus_decoder_destroy(s->dec);
  free(s);
}

static int opus_create(void **state, int frame_ms, int frame_samples) {
  (void)frame_samples;
  if (frame_ms != 10 && frame_ms != 20 && frame_ms != 40 && frame_ms != 60) return OP_EFRAME;
  opus_state *s = calloc(1, sizeof *s);
  if (!s) return OP_ENOMEM;
  int err = OPUS_OK;
  s->enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
  if (err != OPUS_OK || !s->enc) goto fail;
  s->dec = opus_decoder_create(48000, 1, &err);
  if (err != OPUS_OK || !s->dec) goto fail;
  if (opus_encoder_ctl(s->enc, OPUS_SET_INBAND_FEC(1)) != OPUS_OK ||
      opus_encoder_ctl(s->enc, OPUS_SET_PACKET_LOSS_PERC(OPUS_LOSS_PERC)) != OPUS_OK ||
      opus_encoder_ctl(s->enc, OPUS_SET_BITRATE(OPUS_BITRATE)) != OPUS_OK ||
      /* Telephony: voice keeps the SILK layer, which carries the in-band FEC. */
      opus_encoder_ctl(s->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)) != OPUS_OK)
    goto fail;
  *state = s;
  return OP_OK;
fail:
  opus_destroy(s);
  return err == OPUS_ALLOC_FAIL ? OP_ENOMEM : OP_ELIB;
}

static int map_opus_error(int rc) {
  switch (rc) {
    case OPUS_BUFFER_TOO_SMALL: return OP_EBUFFER;
    case OPUS_INVALID_PACKET: return OP_EPAYLOAD;
    case OPUS_BAD_ARG: return OP_EINVAL;
    default: return OP_ELIB;
  }
}

static int opus_enc(void *p, const int16_t *pcm, int n, uint8_t *out, int cap) {
  opus_state *s = p;
  int rc = opus_encode(s->enc, pcm, n, out, cap);
  return rc < 0 ? map_opus_error(rc) : rc;
}

static int opus_dec(void *p, const uint8_t *in, int len, int16_t *pcm, int cap) {
  opus_state *s = p;
  /* Check the packet's duration first: libopus would otherwise decode a truncated frame. */
  int frames = opus_decoder_get_nb_samples(s->dec, in, len);
  if (frames < 0) return map_opus_error(frames);
  if (frames > cap) return OP_EBUFFER;
  int rc = opus_decode(s->dec, in, len, pcm, cap, 0);
  return rc < 0 ? map_opus_error(rc) : rc;
}

static int opus_conceal(void *p, int16_t *pcm, int samples) {
  opus_state *s = p;
  int rc = opus_decode(s->dec, NULL, 0, pcm, samples, 0);
  return rc < 0 ? map_opus_error(rc) : rc;
}

static int opus_fec(void *p, const uint8_t *next, int len, int16_t *pcm, int samples) {
  opus_state *s = p;
  int rc = opus_decode(s->dec, next, len, pcm, samples, 1);
  return rc < 0 ? map_opus_error(rc) : rc;
}

const op_codec_def op_codec_opus = {
  .name = "opus", .clock_rate = 48000, .pcm_rate = 48000,
  .default_frame_ms = 20, .min_frame_ms = 10, .max_frame_ms = 60, .frame_step_ms = 10,
  .create = opus_create, .encode = opus_enc, .decode = opus_dec,
  .plc = opus_conceal, .fec = opus_fec, .destroy = opus_destroy,
};
