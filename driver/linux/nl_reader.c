/*
 * nl_reader.c - the proc connector source's one thread (see netlink.c). In
 * rounds: it drains the socket (recvmmsg, many datagrams per call), decodes
 * each message (nl_decode.c), checks the kernel's per-CPU sequence numbers
 * (nl_seq.c) and appends the events to its queue (nl_queue.c); it reads
 * /proc for each exec as soon as it is received (nl_enricher.c); once the
 * socket is empty it emits the round's records in the kernel's order. Then
 * it sleeps NL_READ_BATCH_NS, so that the next round takes a batch, or,
 * when nothing came, until the socket is readable.
 *
 * One thread instead of a reader handing every event to an enricher: no
 * lock, wake-up or copy per event, and the drain barrier an exec's /proc
 * values wait for (nl_enricher.c) is the thread's own next receive. The
 * socket buffer (32 MiB by default) absorbs the few microseconds of an
 * exec's /proc read.
 */
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nl_decode.h"
#include "nl_source.h"

/* Appends ev to the queue (nl_queue.h: a full queue drops and counts it,
 * and reports the count at its place; the drain stops before that). */
static void enqueue(struct nl_state *s, const struct pr_nl_ev *ev) {
  if (pr_nl_queue_push(&s->q, ev) && ev->what == PROC_EVENT_EXEC) s->exec_pending[exec_slot(ev->b)]++;
}

static void enqueue_lost(struct nl_state *s, uint32_t reason, uint32_t cpu, uint64_t count, uint16_t flags,
                         uint64_t ts) {
  struct pr_nl_ev ev;
  memset(&ev, 0, sizeof(ev));
  ev.what = PR_NL_LOST;
  ev.a = reason;
  ev.cpu = cpu;
  ev.count = count;
  ev.flags = flags;
  ev.ts = ts;
  enqueue(s, &ev);
}

/* Checks the per-CPU sequence number (nl_seq.h); enqueues a gap as lost,
 * and counts a CPU's first message towards the calibration. */
static void check_seq(struct nl_state *s, uint32_t cpu, uint32_t seq, uint64_t ts) {
  uint32_t gap;
  switch (pr_nl_seq_check(&s->seq, cpu, seq, &gap)) {
  case PR_NL_SEQ_GAP: enqueue_lost(s, PR_LOST_SEQ_GAP, cpu, gap, 0, ts); break;
  case PR_NL_SEQ_BAD_CPU: enqueue_lost(s, PR_LOST_DECODE, cpu, 1, 0, ts); break;
  case PR_NL_SEQ_FIRST: /* a CPU's first message: its counting starts */
    pthread_mutex_lock(&s->mu);
    if (cpu < CPU_SETSIZE && CPU_ISSET(cpu, &s->cal_set)) s->cal_seen++;
    pthread_cond_broadcast(&s->drain_cv);
    pthread_mutex_unlock(&s->mu);
    break;
  default: break; /* next, out of order, or no memory to track it */
  }
}

static void handle_msg(struct nl_state *s, const struct cn_msg *cn, size_t avail) {
  struct pr_nl_ev ev;
  uint32_t seq;
  enum pr_nl_msg m = pr_nl_decode(cn, avail, &ev, &seq);
  if (m == PR_NL_MSG_IGNORE) return;
  if (m == PR_NL_MSG_BAD) {
    enqueue_lost(s, PR_LOST_DECODE, UINT32_MAX, 1, 0, pr_lib_mono_now());
    return;
  }
  s->msgs_uncounted++; /* handed to pr_lib_count per round (flush_msg_count) */
  if (m == PR_NL_MSG_UNNUMBERED) return;
  check_seq(s, ev.cpu, seq, ev.ts);
  if (m != PR_NL_MSG_EVENT) return;
  if (ev.what == PROC_EVENT_COMM && ev.a == __atomic_load_n(&s->marker_tid, __ATOMIC_ACQUIRE)) {
    pthread_mutex_lock(&s->mu);
    s->markers_seen++;
    pthread_cond_broadcast(&s->drain_cv);
    pthread_mutex_unlock(&s->mu);
  }
  enqueue(s, &ev);
}

static void handle_datagram(struct nl_state *s, const void *buf, size_t n) {
  const struct nlmsghdr *nh;
  for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
    if (nh->nlmsg_type == NLMSG_NOOP || nh->nlmsg_type == NLMSG_ERROR) continue;
    if (nh->nlmsg_len < NLMSG_HDRLEN) break;
    handle_msg(s, (const struct cn_msg *)NLMSG_DATA(nh), nh->nlmsg_len - NLMSG_HDRLEN);
  }
}

/* Whether the stop or a pause was asked for. */
static int stop_or_pause(struct nl_state *s) {
  int r;
  pthread_mutex_lock(&s->mu);
  r = s->paused || s->stopping;
  pthread_mutex_unlock(&s->mu);
  return r;
}

/* Receives until the socket is empty (s->empty_t0 then holds the start of
 * that last receive), reading /proc for each exec as it comes. Stops early
 * when the queue has no room for another receive, at a pause or stop request
 * (unless final), or (final) after deadline. Returns the datagrams received. */
static uint64_t drain(struct nl_state *s, int final, uint64_t deadline) {
  struct mmsghdr mm[RECV_MSGS];
  struct iovec iov[RECV_MSGS];
  struct sockaddr_nl from[RECV_MSGS];
  uint64_t got = 0;
  int i;
  for (;;) {
    uint64_t t0, blocks = 0;
    int n;
    if (s->q.cap - s->q.len < PR_NL_RECV_ROOM) break;
    if (final ? pr_lib_mono_now() >= deadline : (got > 0 && stop_or_pause(s))) break;
    for (i = 0; i < RECV_MSGS; i++) {
      iov[i].iov_base = s->recv_buf + (size_t)i * RECV_MSG_BYTES;
      iov[i].iov_len = RECV_MSG_BYTES;
      memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
      mm[i].msg_hdr.msg_name = &from[i];
      mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
      mm[i].msg_hdr.msg_iov = &iov[i];
      mm[i].msg_hdr.msg_iovlen = 1;
    }
    t0 = pr_lib_mono_now();
    /* only an exec waiting for its check needs the count (a syscall) */
    if (s->slot_used > 0) blocks = pr_nl_thread_blocks();
    n = recvmmsg(s->fd, mm, RECV_MSGS, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        /* The socket buffer overflowed: the exact counts follow as gaps. */
        enqueue_lost(s, PR_LOST_ENOBUFS, UINT32_MAX, 0, PR_F_COUNT_UNKNOWN, pr_lib_mono_now());
        continue;
      }
      /* EAGAIN: every message the kernel sent before t0 is in the queue. */
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && t0 > s->empty_t0) {
        s->empty_t0 = t0;
        s->empty_sw = blocks;
      }
      break; /* EAGAIN, or a socket error: poll reports it again */
    }
    for (i = 0; i < n; i++) {
      if (from[i].nl_pid != 0) continue; /* not from the kernel */
      if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) { /* longer than any proc connector message */
        enqueue_lost(s, PR_LOST_DECODE, UINT32_MAX, 1, 0, pr_lib_mono_now());
        continue;
      }
      handle_datagram(s, iov[i].iov_base, mm[i].msg_len);
    }
    got += (uint64_t)n;
    pr_nl_prepare(s);
  }
  return got;
}

/* Adds the kernel messages received since the last call to the stats. */
static void flush_msg_count(struct nl_state *s) {
  if (s->msgs_uncounted == 0) return;
  pr_lib_count(s->lib, PR_CNT_KERNEL_MSGS, s->msgs_uncounted);
  s->msgs_uncounted = 0;
}

/* Waits while paused (after emitting what needs no receive); returns 1 when
 * stopping. */
static int reader_pause_point(struct nl_state *s) {
  int stop;
  pthread_mutex_lock(&s->mu);
  if (s->paused && !s->stopping) {
    pthread_mutex_unlock(&s->mu);
    pr_nl_emit(s, 0);
    pthread_mutex_lock(&s->mu);
  }
  while (s->paused && !s->stopping) {
    s->reader_paused = 1;
    pthread_cond_broadcast(&s->pause_cv);
    pthread_cond_wait(&s->pause_cv, &s->mu);
  }
  s->reader_paused = 0;
  stop = s->stopping;
  pthread_mutex_unlock(&s->mu);
  return stop;
}

static void drain_wake_pipe(struct nl_state *s) {
  char sink[64];
  while (read(s->wake[0], sink, sizeof(sink)) > 0) {
  }
}

/* Empties the exec wake-up socket (its messages only wake). */
static void drain_exec_wake(struct nl_state *s) {
  struct mmsghdr mm[RECV_MSGS];
  struct iovec iov[RECV_MSGS];
  int i;
  for (i = 0; i < RECV_MSGS; i++) {
    iov[i].iov_base = s->recv_buf + (size_t)i * RECV_MSG_BYTES;
    iov[i].iov_len = RECV_MSG_BYTES;
    memset(&mm[i].msg_hdr, 0, sizeof(mm[i].msg_hdr));
    mm[i].msg_hdr.msg_iov = &iov[i];
    mm[i].msg_hdr.msg_iovlen = 1;
  }
  for (;;) {
    int n = recvmmsg(s->exec_fd, mm, RECV_MSGS, MSG_DONTWAIT, NULL);
    if (n < 0 && (errno == EINTR || errno == ENOBUFS)) continue; /* an overflow here loses no event */
    if (n < RECV_MSGS) break;
  }
}

/* Sleeps until the next round is due: with nothing received last round
 * (idle), until the socket is readable, then as below; else for the batch
 * time or until an exec arrives (exec wake-up socket), whichever is first;
 * never longer than a waiting exec's check needs (its margin).
 * The wake pipe (pause, stop, the stop markers) ends any wait. */
static void wait_round(struct nl_state *s, int idle) {
  /* An exec's /proc read cannot wait for a long batch, unless an exec
   * wakes the thread (or nothing is read from /proc). */
  int no_enrich = (pr_lib_options(s->lib)->flags & PR_OPT_NO_ENRICH) != 0;
  int64_t batch = s->exec_fd >= 0 || no_enrich ? NL_EXEC_WAKE_BATCH_NS : NL_READ_BATCH_NS;
  struct timespec ts;
  int timed = !idle;
  if (s->slot_used > 0) {
    /* An exec waits for its check (pr_nl_emit): sleep no longer than that
     * needs (wait_until), and at least a little, so that the thread blocks. */
    int64_t left = (int64_t)s->wait_until - (int64_t)pr_lib_mono_now();
    if (left < NL_TRUST_MIN_SLEEP_NS) left = NL_TRUST_MIN_SLEEP_NS;
    if (left < batch) batch = left;
    timed = 1;
  }
  ts.tv_sec = batch / 1000000000L;
  ts.tv_nsec = batch % 1000000000L;
  struct pollfd p[3];
  int np = 0, main_i = -1, exec_i = -1;
  p[np].fd = s->wake[0];
  p[np++].events = POLLIN;
  if (s->exec_fd >= 0) {
    exec_i = np;
    p[np].fd = s->exec_fd;
    p[np++].events = POLLIN;
  }
  if (idle) {
    main_i = np;
    p[np].fd = s->fd;
    p[np++].events = POLLIN;
  }
  if (ppoll(p, (nfds_t)np, timed ? &ts : NULL, NULL) <= 0) return; /* the time is up (or EINTR) */
  if (p[0].revents & POLLIN) {
    drain_wake_pipe(s);
    return;
  }
  if (exec_i >= 0 && (p[exec_i].revents & (POLLIN | POLLERR))) { /* POLLERR: it overflowed (harmless) */
    drain_exec_wake(s);
    return;
  }
  if (main_i >= 0 && (p[main_i].revents & (POLLIN | POLLERR))) wait_round(s, 0); /* the first after idle: a batch */
}

void *pr_nl_reader_main(void *arg) {
  struct nl_state *s = arg;
  int idle = 1; /* the last round received nothing */
  pr_nl_boost_priority();
  for (;;) {
    if (reader_pause_point(s)) break;
    wait_round(s, idle);
    if (reader_pause_point(s)) break;
    idle = drain(s, 0, 0) == 0;
    flush_msg_count(s);
    pr_nl_emit(s, 0);
    pr_nl_settle(s);
    /* a process exit found by a look waits for the next empty receive */
    if (pr_thread_table_watching(&s->threads)) idle = 0;
  }
  /* Stopping: what the kernel queued before the stop is still recorded
   * (bounded, in case other listeners keep the events coming). */
  {
    uint64_t until = pr_lib_mono_now() + 250000000ull;
    do {
      drain(s, 1, until);
      pr_nl_emit(s, 0);
    } while (s->q.cap - s->q.len < PR_NL_RECV_ROOM && pr_lib_mono_now() < until);
    flush_msg_count(s);
    /* Nothing more is received: every exec is as drained as it can be. */
    while (s->q.len > 0) {
      pr_nl_prepare(s);
      pr_nl_emit(s, 1);
    }
    /* Process exits after a loss: a look, then one more empty receive. */
    if (pr_thread_table_watching(&s->threads)) {
      pr_nl_settle(s);
      drain(s, 1, pr_lib_mono_now() + 50000000ull);
      flush_msg_count(s);
      while (s->q.len > 0) {
        pr_nl_prepare(s);
        pr_nl_emit(s, 1);
      }
      pr_nl_settle(s);
    }
    {
      struct pr_nl_ev lost; /* drops after the last stored entry */
      if (pr_nl_queue_take_drops(&s->q, &lost)) {
        pr_nl_queue_push(&s->q, &lost);
        s->prep_off = 0;
        pr_nl_prepare(s);
        pr_nl_emit(s, 1);
      }
    }
  }
  pthread_mutex_lock(&s->mu);
  s->reader_done = 1;
  pthread_cond_broadcast(&s->drain_cv);
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

void pr_nl_wake_reader(struct nl_state *s) {
  ssize_t w = write(s->wake[1], "x", 1);
  (void)w;
}
