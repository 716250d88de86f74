/*
 * The RTP load generator of bench/lib/rtp-load.ts, in C: the same phones, packets, pacing and
 * measurements as bench/lib/rtp-load-worker.ts, at a fraction of the CPU per packet (no event
 * loop, no Buffer per datagram), so that on a 2-core machine the relay under test is not starved
 * by the load generator. rtp-load.ts compiles it on first use (cc -O2, with rtp-load-common.h:
 * the clock, sockets, receive loop, pacing and command loop it shares with
 * bench/lib/transcode-load-worker.c) and drives it over stdin/stdout, one command per line:
 *
 *   open N                       -> "opened aPort bPort aPort bPort ..." (N more flows)
 *   targets F A B F A B ...      -> "ok"      (flow F: phone A sends to A, phone B to B; connect())
 *   prime N                      -> "ok"      (one packet from each phone of flows [0, N))
 *   run N DURATION_MS DRAIN_MS RUN_ID
 *       -> "result flows sent received reordered stale misrouted sendSpanS maxLagMs cpuS
 *           sendErrors socketErrors|bin:count bin:count ..."  (latency histogram, sparse)
 *   exit
 *
 * Packet (172 bytes): RTP header (V=2, PT 0, sequence, timestamp += 160, SSRC per flow and
 * direction), then [12..14) run id, [14..16) direction (0 = A->B), [16..20) flow index,
 * [20..24) counter, [24..32) send time (CLOCK_MONOTONIC, ms, float64 big-endian), rest 0xFF.
 */
#define _GNU_SOURCE
#define WORKER_NAME "rtp-load-worker"
#include <endian.h>
#include "rtp-load-common.h"

#define PACKET_BYTES 172

typedef struct {
  int fd[2];        /* 0: phone A, 1: phone B */
  int64_t last[2];  /* highest counter received per direction (0: A->B, 1: B->A) */
  uint16_t seq[2];
  uint32_t ts[2];
} flow_t;

static flow_t *flows;
static int nflows, capflows;
static int ep;
static int current_run = -1;
static uint64_t received, reordered, stale, misrouted, socket_errors, send_errors;
static uint32_t hist[HIST_BINS];
static unsigned char template_pkt[PACKET_BYTES];

static void init_flow(int fi, uint16_t port[2]) {
  flow_t *f = &flows[fi];
  memset(f, 0, sizeof *f);
  for (int side = 0; side < 2; side++) {
    f->fd[side] = open_phone(ep, fi, side, &port[side]);
    f->last[side] = -1;
  }
  f->seq[0] = (uint16_t)(fi * 7919);
  f->seq[1] = (uint16_t)(fi * 104729);
  f->ts[0] = (uint32_t)fi * 1000u;
  f->ts[1] = (uint32_t)fi * 2000u;
}

static void send_packet(int fi, int dir, int run_id, uint32_t counter) {
  flow_t *f = &flows[fi];
  unsigned char buf[PACKET_BYTES];
  memcpy(buf, template_pkt, PACKET_BYTES);
  uint16_t seq = ++f->seq[dir];
  f->ts[dir] += 160;
  uint16_t s16;
  uint32_t s32;
  uint64_t s64;
  s16 = htons(seq); memcpy(buf + 2, &s16, 2);
  s32 = htonl(f->ts[dir]); memcpy(buf + 4, &s32, 4);
  s32 = htonl(((uint32_t)fi << 1) | (uint32_t)dir); memcpy(buf + 8, &s32, 4);
  s16 = htons((uint16_t)run_id); memcpy(buf + 12, &s16, 2);
  s16 = htons((uint16_t)dir); memcpy(buf + 14, &s16, 2);
  s32 = htonl((uint32_t)fi); memcpy(buf + 16, &s32, 4);
  s32 = htonl(counter); memcpy(buf + 20, &s32, 4);
  double t = now_ms();
  memcpy(&s64, &t, 8);
  s64 = htobe64(s64);
  memcpy(buf + 24, &s64, 8);
  /* A pending ICMP error (an earlier datagram found no listener) fails one send: try once more. */
  for (int attempt = 0; attempt < 2; attempt++) {
    if (send(f->fd[dir], buf, PACKET_BYTES, MSG_DONTWAIT) == PACKET_BYTES) return;
    if (errno == ECONNREFUSED) {
      socket_errors++;
      continue;
    }
    break;
  }
  send_errors++;
}

static void on_packet(const unsigned char *buf, ssize_t len, int fi, int side) {
  if (len < 32) {
    stale++;
    return;
  }
  uint16_t s16;
  uint32_t s32;
  uint64_t s64;
  memcpy(&s16, buf + 12, 2);
  if ((int)ntohs(s16) != current_run) {
    stale++;
    return;
  }
  double now = now_ms();
  int dir = buf[15];
  memcpy(&s32, buf + 16, 4);
  uint32_t flow = ntohl(s32);
  /* Phone A (side 0) receives direction 1, phone B direction 0. */
  if ((int)flow != fi || dir != 1 - side) {
    misrouted++;
    return;
  }
  memcpy(&s32, buf + 20, 4);
  int64_t counter = ntohl(s32);
  flow_t *f = &flows[fi];
  if (counter <= f->last[dir]) reordered++;
  else f->last[dir] = counter;
  received++;
  memcpy(&s64, buf + 24, 8);
  s64 = be64toh(s64);
  double sent;
  memcpy(&sent, &s64, 8);
  hist[latency_bin(now - sent)]++;
}

/* The paced sends of a run: packet `round` of phone `side` of flow `fi`. */
static void send_slot(int fi, int side, uint32_t round) {
  send_packet(fi, side, current_run, round);
}

static int phone_fd(int fi, int side) {
  return flows[fi].fd[side];
}

/* What rtp-load-common.h's loops need to know of the flows. */
static const flows_t fl = {.ep = &ep, .nflows = &nflows, .init_flow = init_flow, .fd_of = phone_fd, .on_packet = on_packet, .send_packet = send_slot,
                           .socket_errors = &socket_errors};

static void run(int count, int duration_ms, int drain_ms, int run_id) {
  if (count > nflows) count = nflows;
  poll_receive(&fl, 0); /* leftovers of earlier runs count as stale, before the counters reset */
  current_run = run_id;
  received = reordered = stale = misrouted = socket_errors = send_errors = 0;
  memset(hist, 0, sizeof hist);
  for (int fi = 0; fi < count; fi++) flows[fi].last[0] = flows[fi].last[1] = -1;
  double cpu0 = cpu_seconds();
  paced_t p = send_paced(&fl, count, duration_ms);
  drain_for(&fl, drain_ms);
  current_run = -1;
  double cpu = cpu_seconds() - cpu0;
  printf("result %d %ld %llu %llu %llu %llu %.6f %.3f %.6f %llu %llu|", count, p.sent, (unsigned long long)received, (unsigned long long)reordered,
         (unsigned long long)stale, (unsigned long long)misrouted, p.span_ms / 1000.0, p.max_lag_ms, cpu, (unsigned long long)send_errors,
         (unsigned long long)socket_errors);
  print_hist(hist);
  printf("\n");
  fflush(stdout);
}

static int handle(const char *cmd, char **save) {
  if (!strcmp(cmd, "open")) {
    char *n = next_arg(save);
    int count = n ? atoi(n) : 0;
    flows = reserve(flows, &capflows, nflows + count, sizeof(flow_t));
    open_flows(&fl, count);
  } else if (!strcmp(cmd, "prime")) {
    char *n = next_arg(save);
    int count = n ? atoi(n) : 0;
    if (count > nflows) count = nflows;
    for (int fi = 0; fi < count; fi++) {
      send_packet(fi, 0, 0, 0);
      send_packet(fi, 1, 0, 0);
    }
    reply("ok");
  } else if (!strcmp(cmd, "run")) {
    char *n = next_arg(save);
    char *d = next_arg(save);
    char *dr = next_arg(save);
    char *id = next_arg(save);
    if (!n || !d || !dr || !id) reply("error run needs 4 arguments");
    else run(atoi(n), atoi(d), atoi(dr), atoi(id));
  } else {
    return 0;
  }
  return 1;
}

int main(void) {
  memset(template_pkt, 0xff, sizeof template_pkt);
  template_pkt[0] = 0x80;
  template_pkt[1] = 0; /* PCMU */
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  serve(&fl, handle);
  return 0;
}
