/*
 * nl_reader.c - the proc connector source's reader thread (see netlink.c):
 * it only receives. It drains the socket, decodes each message
 * (nl_decode.c), checks the kernel's per-CPU sequence numbers (nl_seq.c) and
 * appends a small raw event to the queue (nl_queue.c) under the source's
 * mutex. It never touches /proc, so the kernel's socket buffer is drained at
 * the speed of recv.
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

/* ---- the raw queue ---- */

/* Appends ev to the queue (nl_queue.h: a full queue drops and counts it,
 * and reports the count at its place). Wake-ups are batched: the enricher
 * is woken at once for an exec (its /proc read cannot wait: a short-lived
 * process is gone in a few hundred microseconds) and when a batch is
 * ready; other events wait for its next look, NL_ENRICH_POLL_MS at most
 * (their records carry the kernel's timestamps, not the time of emission).
 * A wake-up per event cost a context switch per event. */
static void enqueue(struct nl_state *s, const struct pr_nl_ev *ev) {
  pthread_mutex_lock(&s->mu);
  if (pr_nl_queue_push(&s->q, ev)) {
    if (ev->what == PROC_EVENT_EXEC) {
      __atomic_fetch_add(&s->exec_pending[exec_slot(ev->b)], 1, __ATOMIC_RELAXED);
      pthread_cond_signal(&s->q_cv);
    } else if (s->q.len >= BATCH) {
      pthread_cond_signal(&s->q_cv);
    }
  }
  pthread_mutex_unlock(&s->mu);
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

/* ---- the reader thread ---- */

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
  s->msgs_uncounted++; /* handed to pr_lib_count per drain (flush_msg_count) */
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

/* Receives one datagram and handles it. Returns 1 when something was
 * received (or ENOBUFS reported), 0 when the socket is empty. */
static int drain_once(struct nl_state *s, void *buf, size_t cap) {
  for (;;) {
    struct sockaddr_nl from;
    socklen_t fl = sizeof(from);
    const struct nlmsghdr *nh;
    uint64_t t0 = pr_lib_mono_now();
    ssize_t n = recvfrom(s->fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        enqueue_lost(s, PR_LOST_ENOBUFS, UINT32_MAX, 0, PR_F_COUNT_UNKNOWN, pr_lib_mono_now());
        return 1;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        /* Every message the kernel sent before t0 is now in the queue. */
        pthread_mutex_lock(&s->mu);
        if (t0 > s->empty_seen) s->empty_seen = t0;
        pthread_cond_broadcast(&s->drain_cv);
        pthread_mutex_unlock(&s->mu);
      }
      return 0; /* EAGAIN, or a socket error: poll reports it again */
    }
    if (from.nl_pid != 0) return 1; /* not from the kernel */
    for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
      if (nh->nlmsg_type == NLMSG_NOOP || nh->nlmsg_type == NLMSG_ERROR) continue;
      if (nh->nlmsg_len < NLMSG_HDRLEN) break;
      handle_msg(s, (const struct cn_msg *)NLMSG_DATA(nh), nh->nlmsg_len - NLMSG_HDRLEN);
    }
    return 1;
  }
}

/* Adds the kernel messages received since the last call to the stats. */
static void flush_msg_count(struct nl_state *s) {
  if (s->msgs_uncounted == 0) return;
  pr_lib_count(s->lib, PR_CNT_KERNEL_MSGS, s->msgs_uncounted);
  s->msgs_uncounted = 0;
}

/* Waits while paused; returns 1 when stopping. */
static int reader_pause_point(struct nl_state *s) {
  int stop;
  pthread_mutex_lock(&s->mu);
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

void *pr_nl_reader_main(void *arg) {
  struct nl_state *s = arg;
  pr_nl_boost_priority();
  void *buf = s->recv_buf;
  for (;;) {
    struct pollfd p[2];
    if (reader_pause_point(s)) break;
    p[0].fd = s->fd;
    p[0].events = POLLIN;
    p[1].fd = s->wake[0];
    p[1].events = POLLIN;
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    if ((p[0].revents & POLLIN) && !(p[1].revents & POLLIN)) {
      /* Let more messages arrive, so that one wake-up drains a batch (see
       * NL_READ_BATCH_NS); a poke of the wake pipe (the enricher's drain
       * barrier, stop, pause) ends the wait at once. */
      struct timespec ts = {0, NL_READ_BATCH_NS};
      struct pollfd w = {.fd = s->wake[0], .events = POLLIN};
      if (ppoll(&w, 1, &ts, NULL) > 0) p[1].revents |= POLLIN;
    }
    if (p[1].revents & POLLIN) {
      char sink[64];
      while (read(s->wake[0], sink, sizeof(sink)) > 0) {
      }
    }
    for (;;) { /* drain until EAGAIN, stopping at a pause or stop request */
      int pause_req;
      pthread_mutex_lock(&s->mu);
      pause_req = s->paused || s->stopping;
      pthread_mutex_unlock(&s->mu);
      if (pause_req) break;
      if (drain_once(s, buf, RECV_BUF) == 0) break;
    }
    flush_msg_count(s);
  }
  /* Stopping: what the kernel queued before the stop is still recorded
   * (bounded, in case other listeners keep the events coming). */
  {
    uint64_t until = pr_lib_mono_now() + 250000000ull;
    while (pr_lib_mono_now() < until && drain_once(s, buf, RECV_BUF) > 0) {
    }
    flush_msg_count(s);
  }
  pthread_mutex_lock(&s->mu);
  s->reader_done = 1;
  pthread_cond_broadcast(&s->q_cv);
  pthread_cond_broadcast(&s->drain_cv);
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

void pr_nl_wake_reader(struct nl_state *s) {
  ssize_t w = write(s->wake[1], "x", 1);
  (void)w;
}
