/*
 * nl_source.h - the state the proc connector source's units share:
 *   netlink.c      open, start (subscription, calibration), stop, close,
 *                  control: the struct pr_source_ops;
 *   nl_reader.c    the reader thread (socket -> decode -> sequence check ->
 *                  queue);
 *   nl_enricher.c  the enricher thread (queue -> /proc -> records);
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
#include "snapshot_index.h"
#include "source.h"
#include "thread_table.h"

#define QUEUE_CAP (1u << 17)
#define EXEC_SLOTS (1u << 18)
#define RECV_BUF 65536
#define BATCH 256
#define NL_ENRICH_POLL_MS 10 /* the enricher looks at the queue at least this often */
/* The reader, woken by a message, waits this long before draining, so that
 * one wake-up takes a batch. Measured on the storm (60,000 threads, 1,500
 * execs, 2 CPUs): recorder CPU 1.6-1.8 s without the wait, 1.1-1.3 s with
 * 100 us, 1.1-1.2 s with 300 us but 1-2% of the execs then exit before
 * their /proc read (about 0.2% with 100 us). */
#define NL_READ_BATCH_NS 100000L

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
  struct pr_nl_queue q;
  int paused, reader_paused, stopping, reader_done;
  pthread_cond_t drain_cv; /* the reader found the socket empty */
  uint64_t empty_seen;     /* start time (mono ns) of the latest recv that found it empty */
  cpu_set_t cal_set;       /* CPUs this process may run on (calibrated at start) */
  uint32_t cal_needed, cal_seen;
  uint32_t marker_tid;     /* the stop-time calibration thread (atomic) */
  uint32_t markers_seen;   /* its comm events received (under mu) */
  int marking;             /* the calibration thread runs for the stop */

  /* Reader only. */
  struct pr_nl_seq seq;
  uint64_t msgs_uncounted; /* kernel messages not yet in the library's stats */

  /* exec events queued but not yet enriched, per pid slot (atomics). */
  uint32_t *exec_pending;

  /* Enricher only. */
  struct pr_thread_table threads;
  struct pr_u32map starts; /* pid -> start_ns of its live process (0: unknown) */
  struct pr_snap_index snap; /* the snapshot's processes, until their first create or exit */
  uint32_t rec_cap;
  struct pr_nl_ev *batch;
  struct exec_slot *slots; /* execs of one round, read from /proc before emission */
  uint32_t exec_round;

  uint64_t *recv_buf; /* reader only */
};

static inline uint32_t exec_slot(uint32_t pid) { return pid & (EXEC_SLOTS - 1); }

/* nl_reader.c */
void *pr_nl_reader_main(void *arg);
void pr_nl_wake_reader(struct nl_state *s);

/* nl_enricher.c */
void *pr_nl_enricher_main(void *arg);

/* netlink.c: SCHED_FIFO 1 for the calling thread when allowed, else nice -10. */
void pr_nl_boost_priority(void);

#endif /* PR_NL_SOURCE_H */
