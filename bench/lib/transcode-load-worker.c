/*
 * The RTP load generator of bench/transcode-relay.ts: the phones of transcoded calls. Unlike
 * bench/lib/rtp-load-worker.c, whose packets carry their measurement fields in the payload, this
 * one sends real codec payloads (a transcoding relay decodes the payload, so nothing in it
 * survives the trip) and measures from the RTP header of what comes back. What the two share
 * (clock, sockets, receive loop, paced sends, command loop) is in bench/lib/rtp-load-common.h.
 *
 * One flow = one call: phone A (side 0) sends codec A's frames to the relay's leg a, phone B
 * (side 1) sends codec B's frames to leg b; each receives the other's media, transcoded into its
 * own codec. Frames come from files written by bench/lib/transcode-load.ts (pre-encoded with the
 * Codec binding), looped. Sequence numbers +1 and timestamps +step per packet, continuously over
 * the flow's life (also across runs: the pause between runs is not a gap on the RTP timeline).
 *
 * Latency. A transcoder re-frames, so an output packet is not a copy of an input packet; but
 * with the same ptime on both sides and this relay's resampler (exactly n*L/M samples out per
 * call, no start-up delay) each input packet completes exactly one output frame, sent at once,
 * and output timestamps advance by one frame per input packet (concealed losses and input
 * silences keep the timelines aligned). So the output's RTP timestamp says which input packet
 * caused it: input index = base_in + (ts - base_ts) / out_step. The base pair comes from a
 * calibration at idle: one packet per phone, then wait; the first output that comes back belongs
 * to the packet just sent. Latency = receive time - send time of that input packet: the time the
 * relay (socket queues + decode, resample, encode) adds, not the codecs' algorithmic delay.
 * An output that maps to a packet not yet sent ("future") would reveal a wrong calibration.
 *
 * Commands on stdin, one line each; replies on stdout:
 *   codec SIDE PT STEP FILE        -> "ok"    frames for phone SIDE (0 = A, 1 = B): payload type,
 *                                             timestamp step per packet, frame file ([u16 BE len][bytes]...)
 *                                             Phone SIDE also expects PT and STEP on what it receives.
 *   open N                         -> "opened aPort bPort ..."
 *   targets F A B F A B ...        -> "ok"    (connect() each phone to its relay port)
 *   calibrate N TIMEOUT_MS         -> "calibrated OK TOTAL"
 *   run N DURATION_MS DRAIN_MS     -> "result <fields>|<hist A->B>|<hist B->A>" (fields: see the printf in run())
 *   exit
 */
#define _GNU_SOURCE
#define WORKER_NAME "transcode-load-worker"
#include "rtp-load-common.h"

#define RING 512 /* send times kept per phone: 10 s at 50 packets/s */
#define MAX_FRAMES 1000
#define MAX_PAYLOAD 1400

typedef struct {
  uint32_t idx;
  uint8_t got;
  double sent;
} sent_t;

typedef struct {
  int fd;
  uint16_t seq0;
  uint32_t ts0;
  uint32_t next;     /* index of the next packet this phone sends */
  uint32_t run_start; /* index of its first packet in the current run */
  int calibrated;
  uint32_t base_in;  /* input index (of the other phone) that the output with base_ts belongs to */
  uint32_t base_ts;
  sent_t *ring;
} phone_t;

typedef struct {
  phone_t p[2];
} flow_t;

typedef struct {
  int pt;
  uint32_t step;
  int n;
  int len[MAX_FRAMES];
  unsigned char *data[MAX_FRAMES];
} codec_t;

static codec_t codecs[2];
static flow_t *flows;
static int nflows, capflows;
static int ep;
static int running; /* in a run: count receptions */
static int calibrating;
/* Per direction of the input: 0 = A->B (received by phone B), 1 = B->A (received by A). */
static uint64_t sent_dir[2], received[2], bytes[2], stale[2], future[2], dups[2], wrong_pt[2], misaligned[2];
static uint64_t malformed, send_errors, socket_errors;
/* First payload byte of the last counted output per direction (opus: the TOC byte: mode, stereo). */
static int first_byte[2];
static uint32_t hist[2][HIST_BINS];

static int load_codec(int side, int pt, uint32_t step, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  codec_t *c = &codecs[side];
  for (int i = 0; i < c->n; i++) free(c->data[i]);
  c->n = 0;
  c->pt = pt;
  c->step = step;
  unsigned char hdr[2];
  while (c->n < MAX_FRAMES && fread(hdr, 1, 2, f) == 2) {
    int len = (hdr[0] << 8) | hdr[1];
    if (len <= 0 || len > MAX_PAYLOAD) break;
    unsigned char *d = malloc((size_t)len);
    if (!d || fread(d, 1, (size_t)len, f) != (size_t)len) {
      free(d);
      break;
    }
    c->data[c->n] = d;
    c->len[c->n] = len;
    c->n++;
  }
  fclose(f);
  return c->n;
}

static void init_flow(int fi, uint16_t port[2]) {
  flow_t *f = &flows[fi];
  memset(f, 0, sizeof *f);
  for (int side = 0; side < 2; side++) {
    phone_t *p = &f->p[side];
    p->fd = open_phone(ep, fi, side, &port[side]);
    p->ring = calloc(RING, sizeof *p->ring);
    if (!p->ring) die("calloc");
    for (int k = 0; k < RING; k++) p->ring[k].idx = UINT32_MAX;
    p->seq0 = (uint16_t)(fi * 7919 + side * 30011);
    p->ts0 = (uint32_t)fi * 100003u + (uint32_t)side * 7000000u;
  }
}

/* The next packet of phone `side` of flow `fi`. */
static void send_packet(int fi, int side) {
  phone_t *p = &flows[fi].p[side];
  codec_t *c = &codecs[side];
  uint32_t i = p->next++;
  int k = (int)(i % (uint32_t)c->n);
  unsigned char buf[12 + MAX_PAYLOAD];
  buf[0] = 0x80;
  buf[1] = (unsigned char)((i == 0 ? 0x80 : 0) | c->pt);
  uint16_t s16 = htons((uint16_t)(p->seq0 + i));
  memcpy(buf + 2, &s16, 2);
  uint32_t s32 = htonl(p->ts0 + i * c->step);
  memcpy(buf + 4, &s32, 4);
  s32 = htonl(((uint32_t)fi << 1) | (uint32_t)side);
  memcpy(buf + 8, &s32, 4);
  memcpy(buf + 12, c->data[k], (size_t)c->len[k]);
  size_t len = 12 + (size_t)c->len[k];
  sent_t *e = &p->ring[i % RING];
  e->idx = i;
  e->got = 0;
  e->sent = now_ms();
  if (running) sent_dir[side]++;
  for (int attempt = 0; attempt < 2; attempt++) {
    if (send(p->fd, buf, len, MSG_DONTWAIT) == (ssize_t)len) return;
    if (errno == ECONNREFUSED) {
      socket_errors++;
      continue;
    }
    break;
  }
  send_errors++;
}

/* The paced sends of a run (the round is in the phone's own count). */
static void send_slot(int fi, int side, uint32_t round) {
  (void)round;
  send_packet(fi, side);
}

/* A datagram received by phone `side` of flow `fi`: the other phone's media, transcoded. */
static void on_packet(const unsigned char *buf, ssize_t len, int fi, int side) {
  if (len < 12 || (buf[0] & 0xc0) != 0x80) {
    malformed++;
    return;
  }
  int dir = 1 - side; /* the direction of the input that caused it */
  phone_t *src = &flows[fi].p[dir];  /* the phone whose packets went in */
  phone_t *dst = &flows[fi].p[side]; /* holds the calibration of this output stream */
  codec_t *c = &codecs[side];
  int pt = buf[1] & 0x7f;
  uint32_t ts;
  memcpy(&ts, buf + 4, 4);
  ts = ntohl(ts);
  size_t hdr = 12 + (size_t)(buf[0] & 0x0f) * 4;
  if (!dst->calibrated) {
    if (!calibrating || pt != c->pt || src->next == 0) return;
    dst->calibrated = 1;
    dst->base_ts = ts;
    dst->base_in = src->next - 1;
    return;
  }
  if (!running) return;
  if (pt != c->pt) {
    wrong_pt[dir]++;
    return;
  }
  int32_t d = (int32_t)(ts - dst->base_ts);
  int32_t k = d / (int32_t)c->step;
  if (d % (int32_t)c->step != 0) {
    misaligned[dir]++;
    k = (int32_t)lround((double)d / c->step);
  }
  uint32_t j = dst->base_in + (uint32_t)k;
  if ((int32_t)(j - src->next) >= 0) {
    future[dir]++;
    return;
  }
  if ((int32_t)(j - src->run_start) < 0) {
    stale[dir]++;
    return;
  }
  sent_t *e = &src->ring[j % RING];
  if (e->idx != j) {
    stale[dir]++;
    return;
  }
  if (e->got) {
    dups[dir]++;
    return;
  }
  e->got = 1;
  received[dir]++;
  bytes[dir] += (uint64_t)(len - (ssize_t)hdr);
  if ((size_t)len > hdr) first_byte[dir] = buf[hdr];
  hist[dir][latency_bin(now_ms() - e->sent)]++;
}

static int phone_fd(int fi, int side) {
  return flows[fi].p[side].fd;
}

/* What rtp-load-common.h's loops need to know of the flows. */
static const flows_t fl = {.ep = &ep, .nflows = &nflows, .init_flow = init_flow, .fd_of = phone_fd, .on_packet = on_packet, .send_packet = send_slot,
                           .socket_errors = &socket_errors};

/* Sends one packet from every uncalibrated phone of flows [0, n), waits, repeats until every
 * output stream is calibrated or the time is up. */
static void calibrate(int n, int timeout_ms) {
  if (n > nflows) n = nflows;
  calibrating = 1;
  double end = now_ms() + timeout_ms;
  int ok = 0;
  for (;;) {
    ok = 0;
    for (int fi = 0; fi < n; fi++)
      for (int side = 0; side < 2; side++) ok += flows[fi].p[side].calibrated;
    if (ok == 2 * n || now_ms() >= end) break;
    /* Phone `side` is calibrated from the packets of the other phone. */
    for (int fi = 0; fi < n; fi++)
      for (int side = 0; side < 2; side++)
        if (!flows[fi].p[1 - side].calibrated) send_packet(fi, side);
    drain_for(&fl, 200);
  }
  calibrating = 0;
  printf("calibrated %d %d\n", ok, 2 * n);
  fflush(stdout);
}

static void run(int count, int duration_ms, int drain_ms) {
  if (count > nflows) count = nflows;
  poll_receive(&fl, 0);
  memset(sent_dir, 0, sizeof sent_dir);
  memset(received, 0, sizeof received);
  memset(bytes, 0, sizeof bytes);
  memset(stale, 0, sizeof stale);
  memset(future, 0, sizeof future);
  memset(dups, 0, sizeof dups);
  memset(wrong_pt, 0, sizeof wrong_pt);
  memset(misaligned, 0, sizeof misaligned);
  malformed = send_errors = socket_errors = 0;
  first_byte[0] = first_byte[1] = -1;
  memset(hist, 0, sizeof hist);
  for (int fi = 0; fi < nflows; fi++)
    for (int side = 0; side < 2; side++) flows[fi].p[side].run_start = flows[fi].p[side].next;
  running = 1;
  double cpu0 = cpu_seconds();
  paced_t p = send_paced(&fl, count, duration_ms);
  drain_for(&fl, drain_ms);
  running = 0;
  double cpu = cpu_seconds() - cpu0;
  /* result: flows sentAB sentBA recvAB recvBA bytesAB bytesBA staleAB staleBA futureAB
   * futureBA dupAB dupBA wrongPtAB wrongPtBA misalignedAB misalignedBA malformed sendSpanS
   * maxLagMs cpuS sendErrors socketErrors firstByteAB firstByteBA */
  printf("result %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %.6f %.3f %.6f %llu %llu %d %d|", count,
         (unsigned long long)sent_dir[0], (unsigned long long)sent_dir[1], (unsigned long long)received[0], (unsigned long long)received[1],
         (unsigned long long)bytes[0], (unsigned long long)bytes[1], (unsigned long long)stale[0], (unsigned long long)stale[1],
         (unsigned long long)future[0], (unsigned long long)future[1], (unsigned long long)dups[0], (unsigned long long)dups[1],
         (unsigned long long)wrong_pt[0], (unsigned long long)wrong_pt[1], (unsigned long long)misaligned[0], (unsigned long long)misaligned[1],
         (unsigned long long)malformed, p.span_ms / 1000.0, p.max_lag_ms, cpu, (unsigned long long)send_errors, (unsigned long long)socket_errors, first_byte[0], first_byte[1]);
  print_hist(hist[0]);
  printf("|");
  print_hist(hist[1]);
  printf("\n");
  fflush(stdout);
}

static int handle(const char *cmd, char **save) {
  if (!strcmp(cmd, "codec")) {
    char *s = next_arg(save);
    char *pt = next_arg(save);
    char *step = next_arg(save);
    char *path = strtok_r(NULL, "\n", save);
    int side = s ? atoi(s) : -1;
    if (side < 0 || side > 1 || !pt || !step || !path) {
      printf("error codec needs SIDE PT STEP FILE\n");
    } else {
      int n = load_codec(side, atoi(pt), (uint32_t)strtoul(step, NULL, 10), path);
      if (n <= 0) printf("error no frames in %s\n", path);
      else printf("ok\n");
    }
    fflush(stdout);
  } else if (!strcmp(cmd, "open")) {
    char *n = next_arg(save);
    int count = n ? atoi(n) : 0;
    if (codecs[0].n == 0 || codecs[1].n == 0) {
      reply("error load both codecs first");
    } else {
      flows = reserve(flows, &capflows, nflows + count, sizeof(flow_t));
      open_flows(&fl, count);
    }
  } else if (!strcmp(cmd, "calibrate")) {
    char *n = next_arg(save);
    char *t = next_arg(save);
    calibrate(n ? atoi(n) : 0, t ? atoi(t) : 2000);
  } else if (!strcmp(cmd, "run")) {
    char *n = next_arg(save);
    char *d = next_arg(save);
    char *dr = next_arg(save);
    if (!n || !d || !dr) reply("error run needs 3 arguments");
    else run(atoi(n), atoi(d), atoi(dr));
  } else {
    return 0;
  }
  return 1;
}

int main(void) {
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  serve(&fl, handle);
  return 0;
}
