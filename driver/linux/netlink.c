/*
 * netlink.c - the proc connector source (NETLINK_CONNECTOR, CN_IDX_PROC):
 * its struct pr_source_ops (open, start, stop, close, control). Its thread
 * is in nl_reader.c (receiving) and nl_enricher.c (/proc, records), the state
 * in nl_source.h. README.md in this directory lists the records it emits,
 * field by field.
 *
 * One thread (SCHED_FIFO 1 when allowed, else nice -10), in rounds: it
 * drains the socket with recvmmsg, checks the kernel's per-CPU sequence
 * numbers, turns each proc_event into a small event in its queue and reads
 * /proc/<pid>/ for each exec as soon as it is received; once the socket is
 * empty it builds the round's records and emits them in the kernel's order
 * (an exec record always precedes the exit of the same process). It trusts
 * what /proc showed for an exec only once a receive that started late
 * enough after the read found the socket empty, so that a later exec of the
 * same process would be in the queue: at once when /proc/PID/syscall showed
 * the process blocked elsewhere after the read; 200 us, or 10 ms for a read
 * that came late, after the read and after this thread had blocked, when it
 * was running; after it has left execve when it was blocked or stopped
 * there (100 ms at most). A later exec in the queue costs the first its
 * values unless its own read shows another image and other arguments. A
 * read that saw an image without arguments (a later exec under way) is not
 * used either. An exec record never carries a later exec's image, short of
 * a process that stalls inside execve, running, for longer than the margin,
 * or of a recorder denied /proc/PID/syscall (then the margins alone); see
 * nl_source.h.
 *
 * Wake-ups are batched: after a round that received something the thread
 * sleeps NL_READ_BATCH_NS before the next; when a round received nothing it
 * sleeps until the socket is readable, then NL_READ_BATCH_NS more. lib.c
 * wakes procrec_read's caller at 256 KiB of records, else it looks every
 * 50 ms (PR_WAKE_BYTES, PR_WAKE_MS). (An earlier design handed every event from a reader thread to an
 * enricher thread: a lock and often a wake-up per event, and about twice the
 * CPU.)
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
 *  - the thread's queue full (it stops receiving before that, so only if
 *    a bug let it fill): PR_LOST_RING_FULL with the count;
 *  - the library ring full: counted by lib.c (PR_LOST_RING_FULL).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <arpa/inet.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "nl_source.h"
#include "procfs.h"

static void nl_free(struct nl_state *s) {
  if (s->fd >= 0) close(s->fd);
  if (s->exec_fd >= 0) close(s->exec_fd);
  if (s->wake[0] >= 0) close(s->wake[0]);
  if (s->wake[1] >= 0) close(s->wake[1]);
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
  pr_snap_index_free(&s->snap);
  pr_nl_queue_free(&s->q);
  pr_nl_seq_free(&s->seq);
  free(s->exec_pending);
  free(s->recv_buf);
  free(s);
}

/* A second socket in the proc connector's group that a socket filter
 * (classic BPF) lets only exec events into: it wakes the thread at once for
 * an exec, whose /proc read cannot wait, while the other events wait for
 * the next batch. Its messages only wake: the events themselves are taken
 * from the main socket, in order. It does not subscribe (the main socket
 * does). Only with enrichment (PR_OPT_NO_ENRICH: no /proc read waits).
 * Returns the fd, or -1 when it cannot be had (then the thread drains every
 * NL_READ_BATCH_NS instead). */
static int open_exec_wake(void) {
  /* nlmsghdr (16 bytes), cn_msg (20), then proc_event.what (host order;
   * an absolute load reads big-endian). */
  const uint32_t what_off = NLMSG_HDRLEN + sizeof(struct cn_msg);
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, what_off),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_EXEC), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 0xffff),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
  struct sockaddr_nl sa;
  int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
  if (fd < 0) return -1;
  /* The filter first: nothing unfiltered is queued once bound. */
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0) {
    close(fd);
    return -1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = CN_IDX_PROC;
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int nl_open(struct pr_lib *lib, char *why, size_t n) {
  const struct procrec_options *o = pr_lib_options(lib);
  struct sockaddr_nl sa;
  struct nl_state *s;
  int rcvbuf = (int)o->rcvbuf_bytes; /* within PR_RCVBUF_MIN..MAX (lib.c) */
  int e;

  s = calloc(1, sizeof(*s));
  if (s == NULL) {
    snprintf(why, n, "out of memory");
    return PR_E_NOMEM;
  }
  s->lib = lib;
  s->fd = s->exec_fd = s->wake[0] = s->wake[1] = -1;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->pause_cv, NULL);
  {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->drain_cv, &ca);
    pthread_condattr_destroy(&ca);
  }
  int queue_ok = pr_nl_queue_init(&s->q, QUEUE_CAP) == 0;
  s->exec_pending = calloc(EXEC_SLOTS, sizeof(*s->exec_pending));
  s->rec_cap = pr_procfs_record_cap(sizeof(struct pr_rec_exec), o->max_string);
  /* Up to 64 execs per round, within 8 MiB of record buffers. */
  s->exec_round = (8u << 20) / s->rec_cap;
  if (s->exec_round < 1) s->exec_round = 1;
  if (s->exec_round > 256) s->exec_round = 256; /* reads waiting NL_TRUST_LATE_NS hold theirs */
  s->slots = calloc(s->exec_round, sizeof(*s->slots));
  s->recv_buf = malloc((size_t)RECV_MSGS * RECV_MSG_BYTES);
  int slots_ok = s->slots != NULL;
  if (slots_ok) {
    uint32_t i;
    for (i = 0; i < s->exec_round; i++)
      if ((s->slots[i].rec = malloc(s->rec_cap)) == NULL) slots_ok = 0;
  }
  if (!queue_ok || s->exec_pending == NULL || !slots_ok || s->recv_buf == NULL ||
      pr_thread_table_init(&s->threads) != 0 || pr_u32map_init(&s->starts, 1024) != 0) {
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
  /* Without enrichment nothing needs an exec at once. */
  if (!(o->flags & PR_OPT_NO_ENRICH)) s->exec_fd = open_exec_wake();
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

/* The source's thread runs at the lowest real-time priority
 * (SCHED_FIFO 1) when allowed (root), else at nice -10, else as they are.
 * It only ever blocks or does bounded work per event (the kernel's RT
 * throttling leaves others their share in any case). Measured on 2 CPUs
 * under tests/record_storm_helper.c (2000 processes, 3000 threads): execs
 * enriched from /proc ~65% at nice -10, ~100% at SCHED_FIFO 1: /proc is
 * read before a short-lived process can exit. */
uint64_t pr_nl_thread_blocks(void) {
  /* Should the count be unavailable, a number that grows at every call
   * leaves the time margin alone to the check (an exec never held forever). */
  static __thread uint64_t calls;
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return ++calls;
  return (uint64_t)ru.ru_nvcsw;
}

void pr_nl_boost_priority(void) {
  struct sched_param sp;
  memset(&sp, 0, sizeof(sp));
  sp.sched_priority = 1;
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0) return;
  if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), -10) != 0) {
    /* not allowed: the default priority */
  }
}

static int nl_stop(struct pr_lib *lib);

/* The snapshot's processes: their exec and exit records carry the snapshot's
 * start_ns, and a live create that the snapshot already showed is not
 * emitted again. */
static void seed_from_snapshot(struct nl_state *s) {
  size_t n, i;
  const struct pr_snapshot_entry *e = pr_lib_snapshot_entries(s->lib, &n);
  for (i = 0; i < n; i++) pr_u32map_put(&s->starts, e[i].pid, e[i].start_ns);
  pr_snap_index_init(&s->snap, e, n); /* without memory: empty (see snapshot_index.h) */
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
  if (pr_start_thread(&t, calibrate_main, s) == 0) pthread_join(t, NULL);
}

/* Waits (up to 2 s) until the reader has a first message from every CPU
 * calibrated. */
static void wait_calibrated(struct nl_state *s) {
  struct timespec dl;
  /* drain_cv waits on this process's CLOCK_MONOTONIC, not on
   * pr_lib_mono_now (the host's: they differ in a time namespace) */
  clock_gettime(CLOCK_MONOTONIC, &dl);
  dl.tv_sec += 2;
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
  if ((rc = pr_start_thread(&s->reader, pr_nl_reader_main, s)) != 0) {
    pr_lib_set_error(lib, "cannot start the reader thread: %s", strerror(rc));
    nl_stop(lib);
    return PR_E_IO;
  }
  s->reader_started = 1;
  wait_calibrated(s);
  return PR_OK;
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
  pr_nl_wake_reader(s);
  /* Stop markers: one comm event from each CPU, received before the reader
   * stops, so that a loss on any CPU before the stop shows as a gap against
   * them (a marker lost in an overflow is sent again, up to 4 times). */
  s->marking = 1;
  if (s->reader_started && s->cal_needed > 0) {
    int attempt;
    for (attempt = 0; attempt < 4; attempt++) {
      struct timespec dl;
      int done = 0;
      if (pr_start_thread(&t, calibrate_main, s) != 0) break;
      pthread_join(t, NULL);
      clock_gettime(CLOCK_MONOTONIC, &dl); /* drain_cv's clock (see wait_calibrated) */
      dl.tv_nsec += 500000000L;
      if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
      }
      pr_nl_wake_reader(s);
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
  pr_nl_wake_reader(s);
  if (s->reader_started) {
    pthread_join(s->reader, NULL);
    s->reader_started = 0;
  }
  send_mcast(s->fd, PROC_CN_MCAST_IGNORE);
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
    pr_nl_wake_reader(s);
    pthread_mutex_lock(&s->mu);
    /* Wait until the reader has stopped receiving (when it runs). */
    while (s->reader_started && !s->reader_paused && !s->reader_done) pthread_cond_wait(&s->pause_cv, &s->mu);
  } else {
    s->paused = 0;
    pthread_cond_broadcast(&s->pause_cv);
    pthread_cond_broadcast(&s->drain_cv);
  }
  pthread_mutex_unlock(&s->mu);
  pr_nl_wake_reader(s);
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
