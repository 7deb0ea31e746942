/*
 * snapshot_index.h - the start-up snapshot against the live stream, shared
 * by both Linux sources.
 *
 * A source subscribes to the kernel, then takes the snapshot, then drains: a
 * process created between the two is both in the kernel's stream and in
 * /proc. It must be recorded once. And a pid can be reused many times while
 * the snapshot walks /proc (a shell loop, a build): the stream then holds
 * the creations, execs and exits of earlier processes under the pid of a
 * process the snapshot reads later. A reader gives each event of a pid to
 * the latest process it knows under that pid, and every snapshot record
 * comes before the live ones, so none of those may follow a snapshot record
 * of that pid: they would be taken for the snapshot's process (a real child
 * shown as a process without creation or parent, the snapshot's process
 * given an exit from before it began). Hence:
 *  - such a process is left out of the snapshot (pr_snapshot_take's
 *    created_live): its create stands for it, after the events of the pid's
 *    earlier processes. The eBPF source sees in its ring its fork (the
 *    exact start time) after records of that pid; the proc connector source
 *    cannot look into its socket, and leaves out every process that started
 *    after the snapshot began (pr_snap_started_after): its creation is in
 *    the stream.
 *  - for the others, a live create is the snapshot's process only when its
 *    start is the snapshot's start of that pid (within the clock tick /proc
 *    rounds it to) and no later than the snapshot's read (a fork whose event
 *    had not reached the stream when the snapshot looked); the pid's first
 *    create or exit retires it.
 * Pure C over the snapshot's entries (source.h); built before the source's
 * threads start, then read by them only (no locking).
 */
#ifndef PR_SNAPSHOT_INDEX_H
#define PR_SNAPSHOT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

/* How far a start time read two ways may differ beyond the tick: /proc's
 * start is the boot clock's, turned monotonic with an offset sampled once;
 * the proc connector stamps a fork a few microseconds after its start. */
#define PR_SNAP_SLACK_NS 1000000ull

struct pr_snap_pid {
  uint32_t pid;
  uint32_t retired;  /* a create or exit of this pid was seen: it no longer covers */
  uint64_t read_ns;  /* when the snapshot read /proc/<pid> */
  uint64_t start_ns; /* the snapshot's start of it: /proc's, rounded down to a tick */
};

struct pr_snap_index {
  struct pr_snap_pid *e; /* sorted by pid */
  size_t n;
  uint64_t tick_ns; /* /proc's start time unit (sysconf(_SC_CLK_TCK)) */
};

/* Builds the index from the snapshot's entries (any order). Returns 0, or
 * -1 without memory (the index is then empty: a process created during the
 * snapshot may show twice, as snapshot and create). */
int pr_snap_index_init(struct pr_snap_index *x, const struct pr_snapshot_entry *e, size_t n);
void pr_snap_index_free(struct pr_snap_index *x);

/* 1 when a live create of pid, the process started at start_ns (monotonic
 * ns; the proc connector's fork time stands for it), is the process the
 * snapshot recorded: pid is in it, not retired, start_ns no later than the
 * read and within the snapshot's start tick. */
int pr_snap_index_covers(const struct pr_snap_index *x, uint32_t pid, uint64_t start_ns);

/* Retires pid's entry at its first create or exit: from then on a create
 * under that pid is a new process. */
void pr_snap_index_retire(struct pr_snap_index *x, uint32_t pid);

/* 1 when start_ns (exact) can be the start /proc rounded down to snap_start
 * (a tick of tick_ns). */
static inline int pr_snap_same_start(uint64_t snap_start, uint64_t start_ns, uint64_t tick_ns) {
  return start_ns + PR_SNAP_SLACK_NS >= snap_start && start_ns < snap_start + tick_ns + PR_SNAP_SLACK_NS;
}

/* 1 when a process whose /proc start (rounded down) is snap_start surely
 * started after t0 (its creation is then in a stream subscribed before t0). */
static inline int pr_snap_started_after(uint64_t snap_start, uint64_t t0) {
  return snap_start > t0 + PR_SNAP_SLACK_NS;
}

/* Whether the process the snapshot just read is to be left out, its
 * creation being in the live stream: pid, its /proc start (rounded down),
 * when it was read. */
typedef int (*pr_snap_live_fn)(void *ctx, uint32_t pid, uint64_t start_ns, uint64_t read_ns);

/* pr_lib_snapshot (source.h) with the source's own created_live: the
 * processes it leaves out are not recorded (nor noted in
 * pr_lib_snapshot_entries). NULL: those pr_snap_started_after the
 * snapshot's beginning, for a source subscribed before this call
 * (pr_lib_snapshot). In snapshot.c. */
int pr_snapshot_take(struct pr_lib *lib, pr_snap_live_fn created_live, void *ctx);

#endif /* PR_SNAPSHOT_INDEX_H */
