/*
 * The RTP load generator of bench/lib/rtp-load.ts, in C: the same phones, packets, pacing and
 * measurements as bench/lib/rtp-load-worker.ts, at a fraction of the CPU per packet (no event
 * loop, no Buffer per datagram), so that on a 2-core machine the relay under test is not starved
 * by the load generator. rtp-load.ts compiles it on first use (cc -O2) and drives it over
 * stdin/stdout, one command per line:
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
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PACKET_BYTES 172
#define PTIME_MS 20.0
#define HIST_FINE 5000
#define HIST_BINS (HIST_FINE + 2001)
#define MAX_BATCH 4000

typedef struct {
  int fd[2];        /* 0: phone A, 1: phone B */
  uint16_t port[2];
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

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int latency_bin(double ms) {
  if (ms < 0) return 0;
  if (ms < 50) return (int)(ms * 100);
  int b = (int)(ms - 50);
  return HIST_FINE + (b > 2000 ? 2000 : b);
}

static void die(const char *what) {
  fprintf(stderr, "rtp-load-worker: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int bind_socket(uint16_t *port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  socklen_t len = sizeof a;
  if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) die("getsockname");
  *port = ntohs(a.sin_port);
  return fd;
}

static void open_flows(int n) {
  if (nflows + n > capflows) {
    capflows = (nflows + n) * 2;
    flows = realloc(flows, sizeof(flow_t) * (size_t)capflows);
    if (!flows) die("realloc");
  }
  printf("opened");
  for (int i = 0; i < n; i++) {
    int fi = nflows++;
    flow_t *f = &flows[fi];
    memset(f, 0, sizeof *f);
    for (int side = 0; side < 2; side++) {
      f->fd[side] = bind_socket(&f->port[side]);
      struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)fi << 1) | (uint64_t)side};
      if (epoll_ctl(ep, EPOLL_CTL_ADD, f->fd[side], &ev) < 0) die("epoll_ctl");
      f->last[side] = -1;
    }
    f->seq[0] = (uint16_t)(fi * 7919);
    f->seq[1] = (uint16_t)(fi * 104729);
    f->ts[0] = (uint32_t)fi * 1000u;
    f->ts[1] = (uint32_t)fi * 2000u;
    printf(" %u %u", f->port[0], f->port[1]);
  }
  printf("\n");
  fflush(stdout);
}

static void connect_to(int fd, int port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
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

/* Waits up to timeout_ms for datagrams and reads every one that is ready. */
static void poll_receive(int timeout_ms) {
  struct epoll_event evs[1024];
  int n = epoll_wait(ep, evs, 1024, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return;
    die("epoll_wait");
  }
  unsigned char buf[2048];
  for (int i = 0; i < n; i++) {
    int fi = (int)(evs[i].data.u64 >> 1);
    int side = (int)(evs[i].data.u64 & 1);
    int fd = flows[fi].fd[side];
    for (;;) {
      ssize_t len = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (len < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        socket_errors++; /* ECONNREFUSED and the like: the error is consumed, go on */
        continue;
      }
      on_packet(buf, len, fi, side);
    }
  }
}

static double cpu_seconds(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 + (double)r.ru_stime.tv_sec + (double)r.ru_stime.tv_usec / 1e6;
}

static void run(int count, int duration_ms, int drain_ms, int run_id) {
  if (count > nflows) count = nflows;
  poll_receive(0); /* leftovers of earlier runs count as stale, before the counters reset */
  current_run = run_id;
  received = reordered = stale = misrouted = socket_errors = send_errors = 0;
  memset(hist, 0, sizeof hist);
  for (int fi = 0; fi < count; fi++) flows[fi].last[0] = flows[fi].last[1] = -1;
  long slots = (long)count * 2;
  long per_slot = lround(duration_ms / PTIME_MS);
  if (per_slot < 1) per_slot = 1;
  long total = slots * per_slot;
  double slots_per_ms = (double)slots / PTIME_MS;
  double cpu0 = cpu_seconds();
  long sent = 0;
  double max_lag = 0;
  double t0 = now_ms();
  double t_last = t0;
  while (sent < total && slots > 0) {
    double now = now_ms();
    long due = (long)floor((now - t0) * slots_per_ms) + 1;
    if (due > total) due = total;
    if (due - sent > 1) {
      double lag = (double)(due - sent - 1) / slots_per_ms;
      if (lag > max_lag) max_lag = lag;
    }
    long until = due < sent + MAX_BATCH ? due : sent + MAX_BATCH;
    while (sent < until) {
      long slot = sent % slots;
      send_packet((int)(slot >> 1), (int)(slot & 1), run_id, (uint32_t)(sent / slots));
      sent++;
    }
    t_last = now_ms();
    if (sent >= total) break;
    /* Behind schedule: only pick up what has arrived. Else sleep until the next 1 ms tick. */
    poll_receive(until < due ? 0 : 1);
  }
  double end = now_ms() + drain_ms;
  for (;;) {
    double left = end - now_ms();
    if (left <= 0) break;
    poll_receive(left < 10 ? (int)ceil(left) : 10);
  }
  current_run = -1;
  double cpu = cpu_seconds() - cpu0;
  printf("result %d %ld %llu %llu %llu %llu %.6f %.3f %.6f %llu %llu|", count, sent, (unsigned long long)received, (unsigned long long)reordered,
         (unsigned long long)stale, (unsigned long long)misrouted, (t_last - t0) / 1000.0, max_lag, cpu, (unsigned long long)send_errors,
         (unsigned long long)socket_errors);
  int first = 1;
  for (int b = 0; b < HIST_BINS; b++) {
    if (!hist[b]) continue;
    printf(first ? "%d:%u" : " %d:%u", b, hist[b]);
    first = 0;
  }
  printf("\n");
  fflush(stdout);
}

int main(void) {
  memset(template_pkt, 0xff, sizeof template_pkt);
  template_pkt[0] = 0x80;
  template_pkt[1] = 0; /* PCMU */
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  printf("ready\n");
  fflush(stdout);
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    char *save = NULL;
    char *cmd = strtok_r(line, " \n", &save);
    if (!cmd) continue;
    if (!strcmp(cmd, "open")) {
      char *n = strtok_r(NULL, " \n", &save);
      open_flows(n ? atoi(n) : 0);
    } else if (!strcmp(cmd, "targets")) {
      for (;;) {
        char *f = strtok_r(NULL, " \n", &save);
        char *a = strtok_r(NULL, " \n", &save);
        char *b = strtok_r(NULL, " \n", &save);
        if (!f || !a || !b) break;
        int fi = atoi(f);
        if (fi < 0 || fi >= nflows) {
          printf("error no flow %d\n", fi);
          fflush(stdout);
          goto next;
        }
        connect_to(flows[fi].fd[0], atoi(a));
        connect_to(flows[fi].fd[1], atoi(b));
      }
      printf("ok\n");
      fflush(stdout);
    } else if (!strcmp(cmd, "prime")) {
      char *n = strtok_r(NULL, " \n", &save);
      int count = n ? atoi(n) : 0;
      if (count > nflows) count = nflows;
      for (int fi = 0; fi < count; fi++) {
        send_packet(fi, 0, 0, 0);
        send_packet(fi, 1, 0, 0);
      }
      printf("ok\n");
      fflush(stdout);
    } else if (!strcmp(cmd, "run")) {
      char *n = strtok_r(NULL, " \n", &save);
      char *d = strtok_r(NULL, " \n", &save);
      char *dr = strtok_r(NULL, " \n", &save);
      char *id = strtok_r(NULL, " \n", &save);
      if (!n || !d || !dr || !id) {
        printf("error run needs 4 arguments\n");
        fflush(stdout);
        continue;
      }
      run(atoi(n), atoi(d), atoi(dr), atoi(id));
    } else if (!strcmp(cmd, "exit")) {
      break;
    } else {
      printf("error unknown command %s\n", cmd);
      fflush(stdout);
    }
  next:;
  }
  free(line);
  return 0;
}
