/*
 * netlink.c - the proc connector source (NETLINK_CONNECTOR, CN_IDX_PROC).
 * README.md in this directory lists the records it emits, field by field.
 *
 * Two threads (SCHED_FIFO 1 when allowed, else nice -10):
 *  - the reader only receives: it drains the socket, checks the kernel's
 *    per-CPU sequence numbers, turns each proc_event into a small raw event
 *    and appends it to an in-memory queue. It never touches /proc, so the
 *    kernel's socket buffer is drained at the speed of recv.
 *  - the enricher takes raw events in order, reads /proc/<pid>/ for exec
 *    events, builds the records and emits them. Being the only emitter, it
 *    keeps the kernel's order: an exec record always precedes the exit of
 *    the same process. Before it trusts what /proc showed for an exec it
 *    waits until the reader has found the socket empty after the read (a
 *    later exec of the same process would then be in the queue), and it
 *    rejects a read that saw an image without arguments (a later exec under
 *    way): an exec record never carries a later exec's image.
 *
 * Loss accounting, each a PR_REC_LOST at the place it happened:
 *  - recv() failing with ENOBUFS: the socket buffer overflowed (count
 *    unknown, PR_F_COUNT_UNKNOWN); the exact count shows as sequence gaps;
 *  - a per-CPU sequence gap (msg->seq is a per-CPU counter that the kernel
 *    increments for every event before any per-listener filter; the CPU is in
 *    proc_event.cpu): PR_LOST_SEQ_GAP with the exact count and the CPU. The
 *    kernel's acks of subscriptions (what == NONE) carry a per-CPU number too
 *    when they have a CPU; a gap is only seen against a later message of its
 *    CPU, so start and stop send one event from every CPU (calibration and
 *    stop markers);
 *  - the raw queue full: PR_LOST_RING_FULL with the count;
 *  - the library ring full: counted by lib.c (PR_LOST_RING_FULL).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/pr_record.h"
#include "procfs.h"
#include "source.h"
#include "thread_table.h"

#define RAW_LOST 0xFFFFFFFFu
#define QUEUE_CAP (1u << 17)
#define EXEC_SLOTS (1u << 18)
#define RECV_BUF 65536
#define BATCH 256

struct raw_ev {
  uint32_t what; /* PROC_EVENT_* or RAW_LOST */
  uint32_t cpu;
  uint64_t ts;   /* kernel monotonic ns */
  uint32_t a, b, c, d;
  uint32_t code, sig;
  uint64_t count;
  uint16_t flags;
  char comm[16];
};

/* An exec record prepared from /proc, emitted after the drain barrier. */
struct exec_slot {
  uint8_t *rec;
  uint32_t index;   /* in the batch */
  int enriched;     /* /proc was read for the right process */
  int gone;         /* some field could not be read: the process had gone */
  uint16_t flags;
};

struct nl_state {
  struct pr_lib *lib;
  int fd;
  int wake[2];
  pthread_t reader, enricher;
  int reader_started, enricher_started;

  pthread_mutex_t mu; /* guards the queue and the flags below */
  pthread_cond_t q_cv;     /* queue not empty, or reader done */
  pthread_cond_t pause_cv; /* pause state changed */
  struct raw_ev *q;
  uint32_t q_head, q_len;
  uint64_t q_drops;     /* dropped since the last lost entry */
  uint64_t q_drop_ts;
  int paused, reader_paused, stopping, reader_done;
  pthread_cond_t drain_cv; /* the reader found the socket empty */
  uint64_t empty_seen;     /* start time (mono ns) of the latest recv that found it empty */
  cpu_set_t cal_set;       /* CPUs this process may run on (calibrated at start) */
  uint32_t cal_needed, cal_seen;
  uint32_t marker_tid;     /* the stop-time calibration thread (atomic) */
  uint32_t markers_seen;   /* its comm events received (under mu) */
  int marking;             /* the calibration thread runs for the stop */

  /* Reader only. */
  uint32_t *cpu_seq;
  uint8_t *cpu_seen;
  uint32_t ncpu;

  /* exec events queued but not yet enriched, per pid slot (atomics). */
  uint32_t *exec_pending;

  /* Enricher only. */
  struct pr_thread_table threads;
  struct pr_u32map starts; /* pid -> start_ns of its live process (0: unknown) */
  struct pr_u32map snap_read; /* pid -> when the snapshot read it, until it exits */
  uint32_t rec_cap;
  struct raw_ev *batch;
  struct exec_slot *slots; /* execs of one round, read from /proc before emission */
  uint32_t exec_round;

  uint64_t *recv_buf; /* reader only */
};

static void nl_free(struct nl_state *s) {
  if (s->fd >= 0) close(s->fd);
  if (s->wake[0] >= 0) close(s->wake[0]);
  if (s->wake[1] >= 0) close(s->wake[1]);
  pthread_cond_destroy(&s->q_cv);
  pthread_cond_destroy(&s->pause_cv);
  pthread_cond_destroy(&s->drain_cv);
  if (s->slots != NULL) {
    uint32_t i;
    for (i = 0; i < s->exec_round; i++) free(s->slots[i].rec);
    free(s->slots);
  }
  pthread_mutex_destroy(&s->mu);
  pr_thread_table_free(&s->threads);
  pr_u32map_free(&s->starts);
  pr_u32map_free(&s->snap_read);
  free(s->q);
  free(s->cpu_seq);
  free(s->cpu_seen);
  free(s->exec_pending);
  free(s->batch);
  free(s->recv_buf);
  free(s);
}

static int nl_open(struct pr_lib *lib, char *why, size_t n) {
  const struct procrec_options *o = pr_lib_options(lib);
  struct sockaddr_nl sa;
  struct nl_state *s;
  int rcvbuf = o->rcvbuf_bytes > INT32_MAX ? INT32_MAX : (int)o->rcvbuf_bytes;
  int e;

  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    snprintf(why, n, "out of memory");
    return PR_E_NOMEM;
  }
  s->lib = lib;
  s->fd = s->wake[0] = s->wake[1] = -1;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->q_cv, NULL);
  pthread_cond_init(&s->pause_cv, NULL);
  {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->drain_cv, &ca);
    pthread_condattr_destroy(&ca);
  }
  s->q = malloc(sizeof(*s->q) * QUEUE_CAP);
  s->exec_pending = calloc(EXEC_SLOTS, sizeof(*s->exec_pending));
  s->rec_cap = pr_procfs_record_cap(sizeof(struct pr_rec_exec), o->max_string);
  /* Up to 64 execs per round, within 8 MiB of record buffers. */
  s->exec_round = (8u << 20) / s->rec_cap;
  if (s->exec_round < 1) s->exec_round = 1;
  if (s->exec_round > 64) s->exec_round = 64;
  s->slots = calloc(s->exec_round, sizeof(*s->slots));
  s->batch = malloc(sizeof(*s->batch) * BATCH);
  s->recv_buf = malloc(RECV_BUF);
  int slots_ok = s->slots != NULL;
  if (slots_ok) {
    uint32_t i;
    for (i = 0; i < s->exec_round; i++)
      if ((s->slots[i].rec = malloc(s->rec_cap)) == NULL) slots_ok = 0;
  }
  if (s->q == NULL || s->exec_pending == NULL || !slots_ok || s->batch == NULL || s->recv_buf == NULL ||
      pr_thread_table_init(&s->threads) != 0 || pr_u32map_init(&s->starts, 1024) != 0 ||
      pr_u32map_init(&s->snap_read, 1024) != 0) {
    snprintf(why, n, "out of memory");
    nl_free(s);
    return PR_E_NOMEM;
  }
  if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    snprintf(why, n, "pipe2: %s", strerror(errno));
    nl_free(s);
    return PR_E_IO;
  }

  s->fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (s->fd < 0) {
    e = errno;
    snprintf(why, n, "the kernel has no proc connector (socket NETLINK_CONNECTOR: %s)", strerror(e));
    nl_free(s);
    return e == EPROTONOSUPPORT || e == EAFNOSUPPORT ? PR_E_NOSUP : PR_E_IO;
  }
  memset(&sa, 0, sizeof(sa));
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = CN_IDX_PROC;
  sa.nl_pid = 0; /* the kernel picks a unique port id */
  if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    e = errno;
    if (e == EPERM || e == EACCES)
      snprintf(why, n, "binding the proc connector needs CAP_NET_ADMIN (run as root)");
    else
      snprintf(why, n, "cannot bind the proc connector: %s", strerror(e));
    nl_free(s);
    return e == EPERM || e == EACCES ? PR_E_PERM : PR_E_IO;
  }
  if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0) {
    e = errno;
    if (e == EPERM)
      snprintf(why, n, "raising the proc connector's receive buffer (SO_RCVBUFFORCE) needs CAP_NET_ADMIN (run as root)");
    else
      snprintf(why, n, "cannot set SO_RCVBUFFORCE to %d bytes: %s", rcvbuf, strerror(e));
    nl_free(s);
    return e == EPERM ? PR_E_PERM : PR_E_IO;
  }
  pr_lib_set_state(lib, s);
  return PR_OK;
}

/* Sends PROC_CN_MCAST_LISTEN or _IGNORE. No filter: every event type. */
static int send_mcast(int fd, enum proc_cn_mcast_op op) {
  struct {
    struct nlmsghdr nl;
    struct cn_msg cn;
    enum proc_cn_mcast_op op;
  } __attribute__((packed)) m;
  struct sockaddr_nl to;
  memset(&m, 0, sizeof(m));
  m.nl.nlmsg_len = sizeof(m);
  m.nl.nlmsg_type = NLMSG_DONE;
  m.nl.nlmsg_pid = 0;
  m.cn.id.idx = CN_IDX_PROC;
  m.cn.id.val = CN_VAL_PROC;
  m.cn.len = sizeof(m.op);
  m.op = op;
  memset(&to, 0, sizeof(to));
  to.nl_family = AF_NETLINK;
  if (sendto(fd, &m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)sizeof(m)) return -1;
  return 0;
}

/* ---- the raw queue ---- */

static inline uint32_t exec_slot(uint32_t pid) { return pid & (EXEC_SLOTS - 1); }

/* Appends ev; when the queue is full, drops it and counts. The lost entry
 * goes in first when there is room for both. */
static void enqueue(struct nl_state *s, const struct raw_ev *ev) {
  pthread_mutex_lock(&s->mu);
  if (s->q_len + (s->q_drops > 0 ? 2u : 1u) > QUEUE_CAP) {
    if (s->q_drops == 0) s->q_drop_ts = ev->ts;
    s->q_drops++;
    pthread_mutex_unlock(&s->mu);
    return;
  }
  if (s->q_drops > 0) {
    struct raw_ev *l = &s->q[(s->q_head + s->q_len++) % QUEUE_CAP];
    memset(l, 0, sizeof(*l));
    l->what = RAW_LOST;
    l->a = PR_LOST_RING_FULL;
    l->cpu = UINT32_MAX;
    l->count = s->q_drops;
    l->ts = s->q_drop_ts;
    s->q_drops = 0;
  }
  s->q[(s->q_head + s->q_len++) % QUEUE_CAP] = *ev;
  if (ev->what == PROC_EVENT_EXEC) __atomic_fetch_add(&s->exec_pending[exec_slot(ev->b)], 1, __ATOMIC_RELAXED);
  pthread_cond_signal(&s->q_cv);
  pthread_mutex_unlock(&s->mu);
}

static void enqueue_lost(struct nl_state *s, uint32_t reason, uint32_t cpu, uint64_t count, uint16_t flags,
                         uint64_t ts) {
  struct raw_ev ev;
  memset(&ev, 0, sizeof(ev));
  ev.what = RAW_LOST;
  ev.a = reason;
  ev.cpu = cpu;
  ev.count = count;
  ev.flags = flags;
  ev.ts = ts;
  enqueue(s, &ev);
}

/* ---- the reader thread ---- */

/* Checks the per-CPU sequence number; enqueues a gap as lost. */
static void check_seq(struct nl_state *s, uint32_t cpu, uint32_t seq, uint64_t ts) {
  if (cpu >= s->ncpu) {
    uint32_t n = s->ncpu ? s->ncpu : 64;
    uint32_t *ns;
    uint8_t *nb;
    if (cpu >= (1u << 20)) {
      enqueue_lost(s, PR_LOST_DECODE, cpu, 1, 0, ts);
      return;
    }
    while (n <= cpu) n *= 2;
    ns = realloc(s->cpu_seq, n * sizeof(*ns));
    if (ns == NULL) return;
    s->cpu_seq = ns;
    nb = realloc(s->cpu_seen, n);
    if (nb == NULL) return;
    s->cpu_seen = nb;
    memset(s->cpu_seen + s->ncpu, 0, n - s->ncpu);
    s->ncpu = n;
  }
  if (s->cpu_seen[cpu]) {
    uint32_t gap = seq - s->cpu_seq[cpu] - 1u; /* modulo 2^32 */
    if (gap != 0 && gap < 0x80000000u) enqueue_lost(s, PR_LOST_SEQ_GAP, cpu, gap, 0, ts);
    else if (gap != 0) return; /* older than the last seen: out of order, keep the newest */
  }
  if (!s->cpu_seen[cpu]) { /* a CPU's first message: its counting starts */
    pthread_mutex_lock(&s->mu);
    if (cpu < CPU_SETSIZE && CPU_ISSET(cpu, &s->cal_set)) s->cal_seen++;
    pthread_cond_broadcast(&s->drain_cv);
    pthread_mutex_unlock(&s->mu);
  }
  s->cpu_seen[cpu] = 1;
  s->cpu_seq[cpu] = seq;
}

static void handle_msg(struct nl_state *s, const struct cn_msg *cn, size_t avail) {
  struct proc_event pev; /* the event sits at offset 36: copy it to align its u64 */
  const struct proc_event *pe = &pev;
  struct raw_ev ev;
  if (avail < sizeof(*cn) || cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) return;
  if (cn->len > avail - sizeof(*cn) || cn->len < offsetof(struct proc_event, event_data)) {
    enqueue_lost(s, PR_LOST_DECODE, UINT32_MAX, 1, 0, pr_lib_mono_now());
    return;
  }
  memset(&pev, 0, sizeof(pev));
  memcpy(&pev, cn->data, cn->len < sizeof(pev) ? cn->len : sizeof(pev));
  pr_lib_count(s->lib, PR_CNT_KERNEL_MSGS, 1);
  /* An ack of some listener's (un)subscription has what == NONE. Kernels
   * that send it through the per-CPU path (send_msg) number it like any
   * event and stamp the CPU: it must count, or every other listener's start
   * and stop would look like a lost event. Older kernels send it with cpu -1
   * and the subscriber's own seq: not counted. */
  if (pe->what == PROC_EVENT_NONE && pe->cpu == UINT32_MAX) return;
  check_seq(s, pe->cpu, cn->seq, pe->timestamp_ns);
  if (pe->what == PROC_EVENT_NONE) return;

  memset(&ev, 0, sizeof(ev));
  ev.what = pe->what;
  ev.cpu = pe->cpu;
  ev.ts = pe->timestamp_ns;
  switch (pe->what) {
  case PROC_EVENT_FORK:
    ev.a = (uint32_t)pe->event_data.fork.parent_pid;
    ev.b = (uint32_t)pe->event_data.fork.parent_tgid;
    ev.c = (uint32_t)pe->event_data.fork.child_pid;
    ev.d = (uint32_t)pe->event_data.fork.child_tgid;
    break;
  case PROC_EVENT_EXEC:
    ev.a = (uint32_t)pe->event_data.exec.process_pid;
    ev.b = (uint32_t)pe->event_data.exec.process_tgid;
    break;
  case PROC_EVENT_EXIT:
    ev.a = (uint32_t)pe->event_data.exit.process_pid;
    ev.b = (uint32_t)pe->event_data.exit.process_tgid;
    ev.code = pe->event_data.exit.exit_code;
    ev.sig = pe->event_data.exit.exit_signal;
    break;
  case PROC_EVENT_COMM:
    if ((uint32_t)pe->event_data.comm.process_pid == __atomic_load_n(&s->marker_tid, __ATOMIC_ACQUIRE)) {
      pthread_mutex_lock(&s->mu);
      s->markers_seen++;
      pthread_cond_broadcast(&s->drain_cv);
      pthread_mutex_unlock(&s->mu);
    }
    ev.a = (uint32_t)pe->event_data.comm.process_pid;
    ev.b = (uint32_t)pe->event_data.comm.process_tgid;
    memcpy(ev.comm, pe->event_data.comm.comm, sizeof(ev.comm));
    break;
  default:
    return; /* uid, gid, sid, ptrace, coredump: sequence checked, nothing recorded */
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

/* The reader and the enricher run at the lowest real-time priority
 * (SCHED_FIFO 1) when allowed (root), else at nice -10, else as they are.
 * Both only ever block or do bounded work per event (the kernel's RT
 * throttling leaves others their share in any case). Measured on 2 CPUs
 * under tests/record_storm_helper.c (2000 processes, 3000 threads): execs
 * enriched from /proc ~65% at nice -10, ~100% at SCHED_FIFO 1: the enricher
 * reads /proc before a short-lived process can exit. */
static void boost_priority(void) {
  struct sched_param sp;
  memset(&sp, 0, sizeof(sp));
  sp.sched_priority = 1;
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0) return;
  if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), -10) != 0) {
    /* not allowed: the default priority */
  }
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

static void *reader_main(void *arg) {
  struct nl_state *s = arg;
  boost_priority();
  void *buf = s->recv_buf;
  for (;;) {
    struct pollfd p[2];
    if (reader_pause_point(s)) break;
    p[0].fd = s->fd;
    p[0].events = POLLIN;
    p[1].fd = s->wake[0];
    p[1].events = POLLIN;
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
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
  }
  /* Stopping: what the kernel queued before the stop is still recorded
   * (bounded, in case other listeners keep the events coming). */
  {
    uint64_t until = pr_lib_mono_now() + 250000000ull;
    while (pr_lib_mono_now() < until && drain_once(s, buf, RECV_BUF) > 0) {
    }
  }
  pthread_mutex_lock(&s->mu);
  s->reader_done = 1;
  pthread_cond_broadcast(&s->q_cv);
  pthread_cond_broadcast(&s->drain_cv);
  pthread_mutex_unlock(&s->mu);
  return NULL;
}

/* ---- the enricher thread ---- */

static void wake_reader(struct nl_state *s);

/* Reads /proc for an exec event into slot x (not emitted yet). */
static void prepare_exec(struct nl_state *s, const struct raw_ev *ev, struct exec_slot *x) {
  const struct procrec_options *o = pr_lib_options(s->lib);
  struct pr_builder b;
  struct pr_procfs_stat st;
  uint32_t pid = ev->b;
  int fd;

  x->enriched = 0;
  x->gone = 1;
  x->flags = 0;
  if (o->flags & PR_OPT_NO_ENRICH) return;
  fd = pr_procfs_open(pid, &st);
  if (fd < 0) return;
  /* The process must have started before this exec: otherwise the pid was
   * reused and the data belongs to another process. Ticks round down, so
   * the true process always passes. */
  if (pr_procfs_start_mono(st.start_ticks, pr_lib_boot_minus_mono(s->lib)) <= ev->ts + 1000000u) {
    pr_rb_init(&b, x->rec, s->rec_cap, PR_REC_EXEC, sizeof(struct pr_rec_exec));
    struct pr_rec_exec *r = (struct pr_rec_exec *)(void *)x->rec;
    x->flags = pr_procfs_fill_info(&b, offsetof(struct pr_rec_exec, info), fd, &st, o->max_string, &x->gone);
    /* An executable but no arguments: the process was between two states
     * (in the middle of a later exec, whose new image is already visible but
     * not its arguments, or exiting): nothing read can be trusted. */
    if (r->info.prov_image == PR_PROV_PROC && r->info.prov_argv != PR_PROV_PROC) x->enriched = 0;
    else if (pr_rb_finish(&b) > 0) x->enriched = 1;
  }
  close(fd);
}

/* Waits until the reader has found the socket empty in a recv that started
 * after t: then every message the kernel sent before t (a later exec of the
 * same process among them) is in the queue. A later exec still inside
 * execve at t shows its new image in /proc before it sends its message;
 * prepare_exec rejects what it read when the image was visible but not yet
 * the arguments, which covers that window up to its last microseconds (the
 * return path of execve after the arguments are in place): measured, no
 * borrowed value in ~10,000 `env /bin/true` double execs. Returns 0 when that cannot be
 * known (timeout). */
static int wait_drained_after(struct nl_state *s, uint64_t t) {
  struct timespec dl;
  int woke = 0, ok = 0;
  uint64_t until = pr_lib_mono_now() + 2000000000ull;
  dl.tv_sec = (time_t)(until / 1000000000ull);
  dl.tv_nsec = (long)(until % 1000000000ull);
  pthread_mutex_lock(&s->mu);
  for (;;) {
    if (s->empty_seen >= t || s->reader_done) {
      ok = 1;
      break;
    }
    if (!woke) {
      pthread_mutex_unlock(&s->mu);
      wake_reader(s);
      pthread_mutex_lock(&s->mu);
      woke = 1;
      continue;
    }
    if (s->paused) { /* a test holds the reader: wait for it, without limit */
      pthread_cond_wait(&s->drain_cv, &s->mu);
      woke = 0;
      continue;
    }
    if (pthread_cond_timedwait(&s->drain_cv, &s->mu, &dl) == ETIMEDOUT) break;
  }
  pthread_mutex_unlock(&s->mu);
  return ok;
}

/* Emits the exec record of slot x: its /proc values only when no later
 * exec of the same pid had happened by the time they were read (else they
 * may be that later image: never lent to this one). */
static void finish_exec(struct nl_state *s, const struct raw_ev *ev, struct exec_slot *x, int superseded) {
  const struct procrec_options *o = pr_lib_options(s->lib);
  struct pr_builder b;
  struct pr_rec_exec *r;
  uint32_t size;
  int usable = x->enriched && !superseded;

  if (!usable) {
    pr_rb_init(&b, x->rec, s->rec_cap, PR_REC_EXEC, sizeof(struct pr_rec_exec));
    r = (struct pr_rec_exec *)(void *)x->rec;
    if (!(o->flags & PR_OPT_NO_ENRICH))
      r->info.prov_image = r->info.prov_argv = r->info.prov_comm = r->info.prov_cwd = r->info.prov_cred =
          PR_PROV_GONE;
    x->flags = 0;
    size = pr_rb_finish(&b);
  } else {
    r = (struct pr_rec_exec *)(void *)x->rec;
    size = r->h.size;
  }
  if (!(o->flags & PR_OPT_NO_ENRICH))
    pr_lib_count(s->lib, usable && !x->gone ? PR_CNT_ENRICH_OK : PR_CNT_ENRICH_GONE, 1);
  r->h.flags = x->flags;
  r->h.pid = ev->b;
  r->h.tid = ev->a;
  r->h.mono_ns = ev->ts;
  r->h.utc_ns = pr_lib_utc_ns(s->lib, ev->ts);
  {
    uint64_t start = 0;
    pr_u32map_get(&s->starts, ev->b, &start);
    r->start_ns = start;
  }
  pr_lib_emit(s->lib, x->rec, size);
}

static void fill_header(struct nl_state *s, struct pr_rec_header *h, uint16_t kind, uint32_t size, uint32_t pid,
                        uint32_t tid, uint64_t ts) {
  memset(h, 0, sizeof(*h));
  h->kind = kind;
  h->size = size;
  h->pid = pid;
  h->tid = tid;
  h->mono_ns = ts;
  h->utc_ns = pr_lib_utc_ns(s->lib, ts);
}

static void emit_process_exit(struct nl_state *s, uint32_t pid, uint32_t tid, uint32_t status, uint64_t ts) {
  struct pr_rec_process_exit r;
  uint64_t start = 0;
  memset(&r, 0, sizeof(r));
  fill_header(s, &r.h, PR_REC_PROCESS_EXIT, sizeof(r), pid, tid, ts);
  r.status = status;
  if (pr_u32map_get(&s->starts, pid, &start)) pr_u32map_del(&s->starts, pid);
  pr_u32map_del(&s->snap_read, pid);
  r.start_ns = start;
  pr_lib_emit(s->lib, &r, sizeof(r));
}

static void emit_thread_exit(struct nl_state *s, uint32_t pid, uint32_t tid, uint32_t status, uint16_t flags,
                             uint64_t ts) {
  struct pr_rec_thread_exit r;
  memset(&r, 0, sizeof(r));
  fill_header(s, &r.h, PR_REC_THREAD_EXIT, sizeof(r), pid, tid, ts);
  r.h.flags = flags;
  r.status = status;
  pr_lib_emit(s->lib, &r, sizeof(r));
}

/* Exit of a thread: see thread_table.h for how a process exit is decided. */
static void handle_exit(struct nl_state *s, const struct raw_ev *ev) {
  uint32_t tid = ev->a, pid = ev->b;
  struct pr_exit_decision d = pr_thread_table_exit(&s->threads, pid, tid, ev->code);
  if (d.thread_exit) emit_thread_exit(s, pid, tid, ev->code, d.thread_flags, ev->ts);
  if (d.process_exit) emit_process_exit(s, pid, tid, d.process_status, ev->ts);
}

static void handle_fork(struct nl_state *s, const struct raw_ev *ev) {
  uint32_t parent_tid = ev->a, parent_pid = ev->b, child_tid = ev->c, child_pid = ev->d;
  if (child_tid == child_pid) {
    struct pr_rec_process_create r;
    struct pr_stale_exit st;
    uint64_t read_ns;
    if (pr_u32map_get(&s->snap_read, child_pid, &read_ns)) {
      pr_u32map_del(&s->snap_read, child_pid);
      /* Created between the subscription and the snapshot's read of it:
       * the snapshot record already stands for this process. */
      if (ev->ts <= read_ns) return;
    }
    /* A pid reused while we still held an unfinished process under it. */
    if (pr_thread_table_new_process(&s->threads, child_pid, &st))
      emit_process_exit(s, child_pid, child_pid, st.status, ev->ts);
    memset(&r, 0, sizeof(r));
    fill_header(s, &r.h, PR_REC_PROCESS_CREATE, sizeof(r), child_pid, child_tid, ev->ts);
    r.parent_pid = parent_pid;
    r.parent_tid = parent_tid;
    r.creator_pid = parent_pid;
    r.creator_tid = parent_tid;
    r.start_ns = ev->ts;
    pr_u32map_put(&s->starts, child_pid, ev->ts);
    pr_lib_emit(s->lib, &r, sizeof(r));
  } else {
    struct pr_rec_thread_create r;
    pr_thread_table_new_thread(&s->threads, child_pid, child_tid);
    memset(&r, 0, sizeof(r));
    fill_header(s, &r.h, PR_REC_THREAD_CREATE, sizeof(r), child_pid, child_tid, ev->ts);
    /* For CLONE_THREAD the kernel reports the process's parent as "parent":
     * the creating thread is not in the message. */
    r.creator_pid = child_pid;
    r.creator_tid = 0;
    r.start_ns = ev->ts;
    pr_lib_emit(s->lib, &r, sizeof(r));
  }
}

static void handle_comm(struct nl_state *s, const struct raw_ev *ev) {
  uint64_t mem[(sizeof(struct pr_rec_comm) + 24) / 8];
  struct pr_builder b;
  struct pr_rec_header *h;
  pr_rb_init(&b, mem, sizeof(mem), PR_REC_COMM, sizeof(struct pr_rec_comm));
  h = pr_rb_header(&b);
  fill_header(s, h, PR_REC_COMM, 0, ev->b, ev->a, ev->ts);
  pr_rb_add_str(&b, offsetof(struct pr_rec_comm, comm), ev->comm, (uint32_t)strnlen(ev->comm, sizeof(ev->comm)), 0);
  pr_lib_emit(s->lib, mem, pr_rb_finish(&b));
}

static void process_event(struct nl_state *s, const struct raw_ev *ev) {
  switch (ev->what) {
  case RAW_LOST: pr_lib_emit_lost(s->lib, ev->a, ev->cpu, ev->count, ev->flags, ev->ts); break;
  case PROC_EVENT_FORK: handle_fork(s, ev); break;
  case PROC_EVENT_EXEC: break; /* see process_batch */
  case PROC_EVENT_EXIT: handle_exit(s, ev); break;
  case PROC_EVENT_COMM: handle_comm(s, ev); break;
  default: break;
  }
}

/* Handles batch[0..n) in order, in rounds: first the /proc reads of up to
 * exec_round execs (at once, as they come), then one drain barrier, then
 * every event of the round emitted in kernel order. */
static void process_batch(struct nl_state *s, const struct raw_ev *batch, uint32_t n) {
  uint32_t i = 0;
  while (i < n) {
    uint32_t j = i, k = 0, m, e;
    uint64_t read_end = 0;
    int trusted = 0; /* execs of the round whose /proc read may be used */
    while (j < n) {
      if (batch[j].what == PROC_EVENT_EXEC) {
        if (k == s->exec_round) break;
        /* No longer pending: only a later exec of this pid would be. */
        __atomic_fetch_sub(&s->exec_pending[exec_slot(batch[j].b)], 1, __ATOMIC_RELAXED);
        s->slots[k].index = j;
        prepare_exec(s, &batch[j], &s->slots[k]);
        trusted |= s->slots[k].enriched;
        k++;
        read_end = pr_lib_mono_now();
      }
      j++;
    }
    {
      int drained = 1;
      /* The barrier only guards /proc values about to be used: a round whose
       * reads all failed or were rejected emits them as gone anyway. */
      if (trusted) drained = wait_drained_after(s, read_end);
      for (m = i, e = 0; m < j; m++) {
        if (batch[m].what == PROC_EVENT_EXEC) {
          struct exec_slot *x = &s->slots[e++];
          uint32_t pid = batch[m].b, later;
          int superseded = !drained;
          for (later = m + 1; later < j && !superseded; later++)
            if (batch[later].what == PROC_EVENT_EXEC && batch[later].b == pid) superseded = 1;
          if (!superseded && __atomic_load_n(&s->exec_pending[exec_slot(pid)], __ATOMIC_RELAXED) > 0) superseded = 1;
          pr_thread_table_exec(&s->threads, pid);
          finish_exec(s, &batch[m], x, superseded);
        } else {
          process_event(s, &batch[m]);
        }
      }
    }
    i = j;
  }
}

static void *enricher_main(void *arg) {
  struct nl_state *s = arg;
  boost_priority();
  struct raw_ev *batch = s->batch;
  for (;;) {
    uint32_t n = 0;
    pthread_mutex_lock(&s->mu);
    while (s->q_len == 0 && !s->reader_done) pthread_cond_wait(&s->q_cv, &s->mu);
    if (s->q_len == 0 && s->reader_done) {
      /* Drops after the last stored entry are still reported. */
      if (s->q_drops > 0) {
        batch[0].what = RAW_LOST;
        batch[0].a = PR_LOST_RING_FULL;
        batch[0].cpu = UINT32_MAX;
        batch[0].count = s->q_drops;
        batch[0].flags = 0;
        batch[0].ts = s->q_drop_ts;
        s->q_drops = 0;
        pthread_mutex_unlock(&s->mu);
        process_event(s, &batch[0]);
        continue;
      }
      pthread_mutex_unlock(&s->mu);
      break;
    }
    while (n < BATCH && s->q_len > 0) {
      batch[n++] = s->q[s->q_head];
      s->q_head = (s->q_head + 1) % QUEUE_CAP;
      s->q_len--;
    }
    pthread_mutex_unlock(&s->mu);
    process_batch(s, batch, n);
  }
  return NULL;
}

/* Threads started from the library ignore every signal: the host process's
 * handlers (Deno's) run on its own threads. */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  int rc;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  rc = pthread_create(t, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}

static int nl_stop(struct pr_lib *lib);

/* The snapshot's processes: their exec and exit records carry the snapshot's
 * start_ns, and a live create that the snapshot already showed is not
 * emitted again. */
static void seed_from_snapshot(struct nl_state *s) {
  size_t n, i;
  const struct pr_snapshot_entry *e = pr_lib_snapshot_entries(s->lib, &n);
  for (i = 0; i < n; i++) {
    pr_u32map_put(&s->starts, e[i].pid, e[i].start_ns);
    pr_u32map_put(&s->snap_read, e[i].pid, e[i].read_ns);
  }
}

/* A per-CPU gap is only seen against an earlier message of the same CPU.
 * So that counting starts at once on every CPU, a short-lived thread moves
 * to each CPU this process may use and renames itself there: the kernel
 * sends a comm event from that CPU (it shows as PR_REC_COMM records of this
 * process, name "procrec-sync"). */
static void *calibrate_main(void *arg) {
  struct nl_state *s = arg;
  int cpu;
  if (s->marking) { /* at stop: the reader counts this thread's events */
    pthread_mutex_lock(&s->mu);
    s->markers_seen = 0;
    __atomic_store_n(&s->marker_tid, (uint32_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->mu);
  }
  for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    cpu_set_t one;
    if (!CPU_ISSET(cpu, &s->cal_set)) continue;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) != 0) continue;
    prctl(PR_SET_NAME, "procrec-sync", 0, 0, 0);
  }
  return NULL;
}

static void calibrate(struct nl_state *s) {
  pthread_t t;
  CPU_ZERO(&s->cal_set);
  if (sched_getaffinity(0, sizeof(s->cal_set), &s->cal_set) != 0) return;
  s->cal_needed = (uint32_t)CPU_COUNT(&s->cal_set);
  if (start_thread(&t, calibrate_main, s) == 0) pthread_join(t, NULL);
}

/* Waits (up to 2 s) until the reader has a first message from every CPU
 * calibrated. */
static void wait_calibrated(struct nl_state *s) {
  struct timespec dl;
  uint64_t until = pr_lib_mono_now() + 2000000000ull;
  dl.tv_sec = (time_t)(until / 1000000000ull);
  dl.tv_nsec = (long)(until % 1000000000ull);
  pthread_mutex_lock(&s->mu);
  while (s->cal_seen < s->cal_needed && !s->reader_done && !s->paused)
    if (pthread_cond_timedwait(&s->drain_cv, &s->mu, &dl) == ETIMEDOUT) break;
  pthread_mutex_unlock(&s->mu);
}

static int nl_start(struct pr_lib *lib) {
  struct nl_state *s = pr_lib_state(lib);
  int rc;
  if (send_mcast(s->fd, PROC_CN_MCAST_LISTEN) != 0) {
    int e = errno;
    pr_lib_set_error(lib, e == EPERM ? "subscribing to the proc connector needs CAP_NET_ADMIN (run as root)"
                                     : "cannot subscribe to the proc connector: %s",
                     strerror(e));
    return e == EPERM ? PR_E_PERM : PR_E_IO;
  }
  calibrate(s);
  /* Subscribed: from here the kernel queues every event in the socket, so
   * the snapshot cannot miss a process that starts while it is taken. */
  rc = pr_lib_snapshot(lib); /* nothing when PR_OPT_NO_SNAPSHOT */
  if (rc != PR_OK) {
    send_mcast(s->fd, PROC_CN_MCAST_IGNORE);
    return rc;
  }
  /* The threads already running, so that a process exit waits for them. */
  pr_thread_table_seed(&s->threads);
  seed_from_snapshot(s);
  if ((rc = start_thread(&s->enricher, enricher_main, s)) != 0) {
    pr_lib_set_error(lib, "cannot start the enrichment thread: %s", strerror(rc));
    send_mcast(s->fd, PROC_CN_MCAST_IGNORE);
    return PR_E_IO;
  }
  s->enricher_started = 1;
  if ((rc = start_thread(&s->reader, reader_main, s)) != 0) {
    pr_lib_set_error(lib, "cannot start the reader thread: %s", strerror(rc));
    nl_stop(lib);
    return PR_E_IO;
  }
  s->reader_started = 1;
  wait_calibrated(s);
  return PR_OK;
}

static void wake_reader(struct nl_state *s) {
  ssize_t w = write(s->wake[1], "x", 1);
  (void)w;
}

static int nl_stop(struct pr_lib *lib) {
  struct nl_state *s = pr_lib_state(lib);
  pthread_t t;
  /* Stop implies resume: the reader drains what is queued. */
  pthread_mutex_lock(&s->mu);
  s->paused = 0;
  pthread_cond_broadcast(&s->pause_cv);
  pthread_cond_broadcast(&s->drain_cv);
  pthread_mutex_unlock(&s->mu);
  wake_reader(s);
  /* Stop markers: one comm event from each CPU, received before the reader
   * stops, so that a loss on any CPU before the stop shows as a gap against
   * them (a marker lost in an overflow is sent again, up to 4 times). */
  s->marking = 1;
  if (s->reader_started && s->cal_needed > 0) {
    int attempt;
    for (attempt = 0; attempt < 4; attempt++) {
      struct timespec dl;
      uint64_t until;
      int done = 0;
      if (start_thread(&t, calibrate_main, s) != 0) break;
      pthread_join(t, NULL);
      until = pr_lib_mono_now() + 500000000ull;
      dl.tv_sec = (time_t)(until / 1000000000ull);
      dl.tv_nsec = (long)(until % 1000000000ull);
      wake_reader(s);
      pthread_mutex_lock(&s->mu);
      while (s->markers_seen < s->cal_needed && !s->reader_done)
        if (pthread_cond_timedwait(&s->drain_cv, &s->mu, &dl) == ETIMEDOUT) break;
      done = s->markers_seen >= s->cal_needed || s->reader_done;
      pthread_mutex_unlock(&s->mu);
      if (done) break;
    }
  }
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_broadcast(&s->pause_cv);
  pthread_mutex_unlock(&s->mu);
  wake_reader(s);
  if (s->reader_started) {
    pthread_join(s->reader, NULL);
    s->reader_started = 0;
  } else {
    pthread_mutex_lock(&s->mu);
    s->reader_done = 1;
    pthread_cond_broadcast(&s->q_cv);
    pthread_mutex_unlock(&s->mu);
  }
  send_mcast(s->fd, PROC_CN_MCAST_IGNORE);
  if (s->enricher_started) { /* it drains the queue, then ends */
    pthread_join(s->enricher, NULL);
    s->enricher_started = 0;
  }
  return PR_OK;
}

static void nl_close(struct pr_lib *lib) {
  struct nl_state *s = pr_lib_state(lib);
  if (s == NULL) return;
  nl_free(s);
  pr_lib_set_state(lib, NULL);
}

static int nl_control(struct pr_lib *lib, uint32_t op) {
  struct nl_state *s = pr_lib_state(lib);
  pthread_mutex_lock(&s->mu);
  if (op == PR_CTL_PAUSE_READER) {
    s->paused = 1;
    pthread_mutex_unlock(&s->mu);
    wake_reader(s);
    pthread_mutex_lock(&s->mu);
    /* Wait until the reader has stopped receiving (when it runs). */
    while (s->reader_started && !s->reader_paused && !s->reader_done) pthread_cond_wait(&s->pause_cv, &s->mu);
  } else {
    s->paused = 0;
    pthread_cond_broadcast(&s->pause_cv);
    pthread_cond_broadcast(&s->drain_cv);
  }
  pthread_mutex_unlock(&s->mu);
  wake_reader(s);
  return PR_OK;
}

const struct pr_source_ops pr_source_netlink = {
    .name = "netlink",
    .id = PR_SOURCE_NETLINK,
    .open = nl_open,
    .start = nl_start,
    .stop = nl_stop,
    .close = nl_close,
    .control = nl_control,
};
