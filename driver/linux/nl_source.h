/*
 * nl_source.h - the state the proc connector source's units share:
 *   netlink.c      open, start (subscription, calibration), stop, close,
 *                  control: the struct pr_source_ops;
 *   nl_reader.c    the source's one thread: socket -> decode -> sequence
 *                  check -> queue of events not yet emitted;
 *   nl_enricher.c  what that thread does with them: /proc reads for execs,
 *                  records, emission in order;
 * and the pure units they use, unit-tested without root: nl_decode.c (one
 * kernel message), nl_seq.c (per-CPU sequence gaps), nl_queue.c (the raw
 * queue), snapshot_index.c (creates the snapshot already stands for).
 * netlink.c's header comment describes the design.
 */
#ifndef PR_NL_SOURCE_H
#define PR_NL_SOURCE_H

#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "nl_queue.h"
#include "nl_seq.h"
#include "procfs.h"
#include "snapshot_index.h"
#include "source.h"
#include "thread_table.h"

#define QUEUE_CAP (1u << 16) /* events received, not yet emitted */
#define EXEC_SLOTS (1u << 18)
/* One recvmmsg takes up to RECV_MSGS datagrams of up to RECV_MSG_BYTES
 * (a proc connector message is about 100 bytes). */
#define RECV_MSGS 64
#define RECV_MSG_BYTES 1024
/* Queue entries one recvmmsg may add: each datagram holds at most
 * RECV_MSG_BYTES / 16 (a netlink header) messages, each giving at most two
 * entries (a sequence gap, the event). The thread receives only while the
 * queue has this much room. */
#define PR_NL_RECV_ROOM (RECV_MSGS * (RECV_MSG_BYTES / 16u) * 2u + 2u)
/* The thread, having received something, sleeps this long before it drains
 * again, so that one wake-up takes a batch. An exec's /proc read waits at
 * most this (plus the round's own work): a short-lived process is gone in a
 * few hundred microseconds. Measured on the storm (60,000 threads, 1,500
 * execs, 2 CPUs) with the earlier two-thread design: 100 us lost about 0.2%
 * of the execs' /proc reads, 300 us 1-2%. */
#define NL_READ_BATCH_NS 100000L
/* The same with the exec wake-up socket (exec_fd): an exec wakes the thread
 * at once, so other events can wait longer (their records carry the
 * kernel's timestamps, not the time of emission). */
#define NL_EXEC_WAKE_BATCH_NS 2000000L
/* An exec's /proc values are used only once a receive found the socket
 * empty that started at least this long after the read, and after the
 * thread had blocked at least once since the read (its voluntary context
 * switches, getrusage RUSAGE_THREAD). Between the moment a later exec's
 * image and arguments show in /proc and the moment the kernel sends its
 * event lie microseconds, unless that process is preempted there, for
 * instance by this very thread (SCHED_FIFO) doing the read on its CPU: then
 * an empty receive at once proves nothing, but one after this thread has
 * given its CPU up and the margin has passed does. The thread sleeps no
 * longer than the oldest waiting exec needs, so that an exec followed by
 * another of the same process a millisecond later (`sh -c 'exec x'`) is
 * emitted with its values before the second arrives. Measured (2 CPUs):
 * 300 of 300 such first execs kept their values; with a 2 ms margin and no
 * early wake-up, 1 of 300. */
#define NL_TRUST_AFTER_NS 200000ull
/* After the fields the thread reads /proc/PID/syscall (procfs.h), which
 * tells it more than any margin:
 *  - blocked or stopped in another syscall (or in none, or gone): a later
 *    exec, if any, had returned from execve, so had sent its event: an
 *    empty receive after the read is enough (no margin, no block);
 *  - blocked or stopped inside execve: a later exec may have its image in
 *    place and send its event any time later (a tracer's PTRACE_EVENT_EXEC
 *    stop comes before the event); or the process is still at the end of
 *    the exec just read (a tracer's syscall-exit stop, as under strace -f).
 *    The thread looks again every NL_TRUST_AFTER_NS, up to NL_EXECVE_HOLD_NS
 *    (then the values are not used), and goes on as above from the first
 *    look that finds the process elsewhere;
 *  - running (on a CPU or runnable, maybe inside execve) or unreadable: the
 *    margin above, or NL_TRUST_LATE_NS when the read ended more than
 *    NL_PROMPT_READ_NS after the exec's event (the thread woke late, and the
 *    process had time to run on into its next execve; 1-5 ms late wake-ups
 *    of this thread were seen in a VM with 2 vCPUs).
 * A later exec of the same process that arrives meanwhile costs the first
 * its values unless its own read, checked the same way, shows another image
 * and other arguments (nl_enricher.c); then the first keeps what its exec
 * set (image, file, arguments, comm), not its cwd, ids, namespaces and
 * cgroup, which the program may have changed for the later exec. Reading
 * /proc/PID/syscall needs PTRACE_MODE_ATTACH (root; Yama and LSMs may deny
 * it): denied, the margins alone decide and a later exec always costs the
 * first its values. Before Linux 5.7 that read waits for cred_guard_mutex,
 * which an execve holds throughout, a tracer's stop in it included. */
#define NL_PROMPT_READ_NS 100000ull
#define NL_TRUST_LATE_NS 10000000ull
#define NL_EXECVE_HOLD_NS 100000000ull
/* The shortest sleep while an exec waits for that check. */
#define NL_TRUST_MIN_SLEEP_NS 20000L

/* An exec's record prepared from /proc, emitted in its place once the
 * socket has been found empty after the read (see nl_enricher.c). */
struct exec_slot {
  uint8_t *rec;
  uint64_t read_end; /* mono ns when /proc had been read */
  uint64_t read_sw;  /* the thread's voluntary context switches then */
  uint64_t margin;   /* 0, NL_TRUST_AFTER_NS or NL_TRUST_LATE_NS (see above) */
  uint64_t held_since; /* when a read first found the process inside execve */
  uint64_t start_ticks; /* the process's starttime (the same process at a second look) */
  enum pr_sc_state sc; /* where /proc/PID/syscall showed it at the last look */
  int enriched;      /* /proc was read for the right process */
  int gone;          /* some field could not be read: the process had gone */
  uint16_t flags;
  struct pr_file_key key; /* the exe file as /proc showed it (the hash cache's key) */
};

struct nl_state {
  struct pr_lib *lib;
  int fd;
  int exec_fd; /* the same group, filtered to exec events: a wake-up per exec (-1: none) */
  int wake[2];
  pthread_t reader;
  int reader_started;

  pthread_mutex_t mu; /* guards the flags below (not the events) */
  pthread_cond_t pause_cv; /* pause state changed */
  int paused, reader_paused, stopping, reader_done;
  pthread_cond_t drain_cv; /* calibration or stop markers seen, or the thread ended */
  cpu_set_t cal_set;       /* CPUs this process may run on (calibrated at start) */
  uint32_t cal_needed, cal_seen;
  uint32_t marker_tid;     /* the stop-time calibration thread (atomic) */
  uint32_t markers_seen;   /* its comm events received (under mu) */
  int marking;             /* the calibration thread runs for the stop */

  /* The thread's own (no locking): it receives, reads /proc and emits. */
  struct pr_nl_seq seq;
  uint64_t msgs_uncounted; /* kernel messages not yet in the library's stats */
  /* Events received and not yet emitted, in the kernel's order: q's entry
   * at offset i from its head is q.ev[(q.head + i) % q.cap]. Entries before
   * prep_off have had their /proc read when they are execs. */
  struct pr_nl_queue q;
  uint32_t prep_off;
  uint64_t empty_t0;       /* start (mono ns) of the latest recv that found the socket empty */
  uint64_t empty_sw;       /* the thread's voluntary context switches before that recv */
  uint32_t *exec_pending;  /* per pid slot: execs in q not yet emitted */
  uint64_t wait_until;     /* when the exec that pr_nl_emit stopped at may be decided */
  struct pr_thread_table threads;
  struct pr_u32map starts; /* pid -> start_ns of its live process (0: unknown) */
  struct pr_snap_index snap; /* the snapshot's processes, until their first create or exit */
  uint32_t rec_cap;
  struct exec_slot *slots; /* a ring of exec_round slots: the prepared execs of q, in order */
  uint32_t exec_round, slot_head, slot_used;
  uint8_t *recv_buf;       /* RECV_MSGS * RECV_MSG_BYTES */
};

static inline uint32_t exec_slot(uint32_t pid) { return pid & (EXEC_SLOTS - 1); }

/* The calling thread's voluntary context switches (times it blocked). */
uint64_t pr_nl_thread_blocks(void);

/* nl_reader.c: the source's one thread. */
void *pr_nl_reader_main(void *arg);
void pr_nl_wake_reader(struct nl_state *s);

/* nl_enricher.c, called by that thread. pr_nl_prepare reads /proc for the
 * execs of q not prepared yet (while slots are free); pr_nl_emit emits q's
 * entries from its head up to the first exec that is not prepared, or whose
 * read the socket has not been found empty after (all: every prepared exec
 * counts as drained, at the end, after the last receive). Returns how many
 * entries it emitted. */
void pr_nl_prepare(struct nl_state *s);
uint32_t pr_nl_emit(struct nl_state *s, int all);
/* Once every event received is emitted: the process exits that the thread
 * table infers after a loss (thread_table.h: a look at /proc/PID/task, then
 * an empty receive that started after it). */
void pr_nl_settle(struct nl_state *s);

/* netlink.c: SCHED_FIFO 1 for the calling thread when allowed, else nice -10. */
void pr_nl_boost_priority(void);

#endif /* PR_NL_SOURCE_H */
