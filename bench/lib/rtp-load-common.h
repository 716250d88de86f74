/*
 * What the two C load generators of the benches share: bench/lib/rtp-load-worker.c (bench:media,
 * bench:calls) and bench/lib/transcode-load-worker.c (bench:transcode). Each is one translation
 * unit that includes this header (#include "rtp-load-common.h", found next to the .c file), so
 * everything here is static inline. bench/lib/native-worker.ts compiles them and hashes this
 * header with the .c file, so that a change here rebuilds both.
 *
 * The shared parts: the clock, the latency histogram (the bins of bench/lib/rtp-load.ts's
 * latencyBin()), the phones' loopback UDP sockets in one epoll set (commands "open" and
 * "targets"), the receive loop, the paced send loop with its lag tracking, and the command loop
 * on stdin. The includer describes its flows in a flows_t (a static const, so that the compiler
 * calls its functions directly) and defines WORKER_NAME (the prefix of fatal errors on stderr)
 * before including this.
 */
#ifndef RTP_LOAD_COMMON_H
#define RTP_LOAD_COMMON_H

#ifndef WORKER_NAME
#error "define WORKER_NAME before including rtp-load-common.h"
#endif

#include <arpa/inet.h>
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
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define PTIME_MS 20.0
/* Latency histogram: 10 µs bins below 50 ms, 1 ms bins from 50 ms to 2050 ms, then overflow. */
#define HIST_FINE 5000
#define HIST_BINS (HIST_FINE + 2001)
/* Sends in one go at most, before the receive queues get a look. */
#define MAX_BATCH 4000

static inline double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static inline int latency_bin(double ms) {
  if (ms < 0) return 0;
  if (ms < 50) return (int)(ms * 100);
  int b = (int)(ms - 50);
  return HIST_FINE + (b > 2000 ? 2000 : b);
}

/* The histogram as "bin:count bin:count ..." (non-empty bins only), no newline. */
static inline void print_hist(const uint32_t *h) {
  int first = 1;
  for (int b = 0; b < HIST_BINS; b++) {
    if (!h[b]) continue;
    printf(first ? "%d:%u" : " %d:%u", b, h[b]);
    first = 0;
  }
}

static inline void die(const char *what) {
  fprintf(stderr, WORKER_NAME ": %s: %s\n", what, strerror(errno));
  exit(1);
}

/* CPU seconds (user + system) this process has used so far. */
static inline double cpu_seconds(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 + (double)r.ru_stime.tv_sec + (double)r.ru_stime.tv_usec / 1e6;
}

/* A non-blocking UDP socket bound to 127.0.0.1 on a port the OS picks (returned in *port). */
static inline int bind_socket(uint16_t *port) {
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

static inline void connect_to(int fd, int port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons((uint16_t)port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
}

/* `items` (*cap elements of `size` bytes) with room for `want`: reallocated at twice that when short. */
static inline void *reserve(void *items, int *cap, int want, size_t size) {
  if (want <= *cap) return items;
  *cap = want * 2;
  items = realloc(items, size * (size_t)*cap);
  if (!items) die("realloc");
  return items;
}

/* A socket for phone `side` (0 = A, 1 = B) of flow `fi` (bind_socket(); its port in *port), in
 * the epoll set `ep`, where its events carry (fi << 1) | side. */
static inline int open_phone(int ep, int fi, int side, uint16_t *port) {
  int fd = bind_socket(port);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)fi << 1) | (uint64_t)side};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  return fd;
}

/* The includer's flows, as these loops see them. */
typedef struct {
  /* The epoll set of every phone's socket (open_phone()). */
  const int *ep;
  /* How many flows are open: flows [0, *nflows). */
  int *nflows;
  /* Sets new flow `fi` up, its phones' sockets from open_phone() with their ports in port[0] (A)
   * and port[1] (B). */
  void (*init_flow)(int fi, uint16_t port[2]);
  /* The socket of phone `side` of flow `fi`. */
  int (*fd_of)(int fi, int side);
  /* One datagram received by phone `side` of flow `fi`. */
  void (*on_packet)(const unsigned char *buf, ssize_t len, int fi, int side);
  /* Sends the packet of phone `side` of flow `fi` in send round `round` (0, 1, ...). */
  void (*send_packet)(int fi, int side, uint32_t round);
  /* Counts failed receives (ECONNREFUSED and the like). */
  uint64_t *socket_errors;
} flows_t;

/* "open N": flows *nflows .. *nflows + N - 1, for which the includer has made room (reserve()).
 * Replies "opened aPort bPort aPort bPort ...". */
static inline void open_flows(const flows_t *fl, int n) {
  printf("opened");
  for (int i = 0; i < n; i++) {
    int fi = (*fl->nflows)++;
    uint16_t port[2];
    fl->init_flow(fi, port);
    printf(" %u %u", port[0], port[1]);
  }
  printf("\n");
  fflush(stdout);
}

/* Waits up to timeout_ms for datagrams and reads every one that is ready. */
static inline void poll_receive(const flows_t *fl, int timeout_ms) {
  struct epoll_event evs[1024];
  int n = epoll_wait(*fl->ep, evs, 1024, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return;
    die("epoll_wait");
  }
  unsigned char buf[2048];
  for (int i = 0; i < n; i++) {
    int fi = (int)(evs[i].data.u64 >> 1);
    int side = (int)(evs[i].data.u64 & 1);
    int fd = fl->fd_of(fi, side);
    for (;;) {
      ssize_t len = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (len < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        (*fl->socket_errors)++; /* ECONNREFUSED and the like: the error is consumed, go on */
        continue;
      }
      fl->on_packet(buf, len, fi, side);
    }
  }
}

/* Receives for `ms` milliseconds. */
static inline void drain_for(const flows_t *fl, double ms) {
  double end = now_ms() + ms;
  for (;;) {
    double left = end - now_ms();
    if (left <= 0) break;
    poll_receive(fl, left < 10 ? (int)ceil(left) : 10);
  }
}

typedef struct {
  long sent;
  /* From the first to the last send, ms. */
  double span_ms;
  /* How far behind its schedule the sender was at worst, ms. */
  double max_lag_ms;
} paced_t;

/*
 * Sends one packet per phone of flows [0, count) every PTIME_MS for duration_ms, spread evenly:
 * slot s = (flow << 1) | side, packet k goes to slot k % (2 * count) at t0 + k * PTIME_MS / (2 * count).
 * Receives in between.
 */
static inline paced_t send_paced(const flows_t *fl, int count, int duration_ms) {
  long slots = (long)count * 2;
  long per_slot = lround(duration_ms / PTIME_MS);
  if (per_slot < 1) per_slot = 1;
  long total = slots * per_slot;
  double slots_per_ms = (double)slots / PTIME_MS;
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
      fl->send_packet((int)(slot >> 1), (int)(slot & 1), (uint32_t)(sent / slots));
      sent++;
    }
    t_last = now_ms();
    if (sent >= total) break;
    /* Behind schedule: only pick up what has arrived. Else sleep until the next 1 ms tick. */
    poll_receive(fl, until < due ? 0 : 1);
  }
  return (paced_t){.sent = sent, .span_ms = t_last - t0, .max_lag_ms = max_lag};
}

/* The next argument of the command being parsed (NULL when there is none). */
static inline char *next_arg(char **save) {
  return strtok_r(NULL, " \n", save);
}

static inline void reply(const char *line) {
  printf("%s\n", line);
  fflush(stdout);
}

/* "targets F A B F A B ...": connect()s phone A of flow F to port A, phone B to port B. Replies
 * "ok", or "error no flow F" at the first unknown flow (the ones before it are connected). */
static inline void connect_targets(const flows_t *fl, char **save) {
  for (;;) {
    char *f = next_arg(save);
    char *a = next_arg(save);
    char *b = next_arg(save);
    if (!f || !a || !b) break;
    int fi = atoi(f);
    if (fi < 0 || fi >= *fl->nflows) {
      printf("error no flow %d\n", fi);
      fflush(stdout);
      return;
    }
    connect_to(fl->fd_of(fi, 0), atoi(a));
    connect_to(fl->fd_of(fi, 1), atoi(b));
  }
  reply("ok");
}

/*
 * Says "ready", then reads commands from stdin, one a line, until "exit" or the end of input.
 * "targets" is connect_targets(); handle(cmd, save) runs the others (their arguments:
 * next_arg(save)) and returns 0 for a command it does not know ("error unknown command" is the
 * reply).
 */
static inline void serve(const flows_t *fl, int (*handle)(const char *cmd, char **save)) {
  reply("ready");
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    char *save = NULL;
    char *cmd = strtok_r(line, " \n", &save);
    if (!cmd) continue;
    if (!strcmp(cmd, "exit")) break;
    if (!strcmp(cmd, "targets")) {
      connect_targets(fl, &save);
    } else if (!handle(cmd, &save)) {
      printf("error unknown command %s\n", cmd);
      fflush(stdout);
    }
  }
  free(line);
}

#endif
