/*
 * snapshot_index.h - which live process creations the start-up snapshot
 * already stands for, shared by both Linux sources.
 *
 * A source subscribes to the kernel, then takes the snapshot
 * (pr_lib_snapshot), then drains: a process created between the two is both
 * in the kernel's stream and in the snapshot. Its create, timestamped no
 * later than the snapshot's read of its /proc directory, is the same process
 * and is not emitted again; a later process under a reused pid is created
 * after that read. Pure C over the snapshot's entries (source.h); built
 * before the source's threads start, then read by them only (no locking).
 */
#ifndef PR_SNAPSHOT_INDEX_H
#define PR_SNAPSHOT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "source.h"

struct pr_snap_pid {
  uint32_t pid;
  uint32_t retired; /* a create or exit of this pid was seen: it no longer covers */
  uint64_t read_ns; /* when the snapshot read /proc/<pid> */
};

struct pr_snap_index {
  struct pr_snap_pid *e; /* sorted by pid */
  size_t n;
};

/* Builds the index from the snapshot's entries (any order). Returns 0, or
 * -1 without memory (the index is then empty: a process created during the
 * snapshot may show twice, as snapshot and create). */
int pr_snap_index_init(struct pr_snap_index *x, const struct pr_snapshot_entry *e, size_t n);
void pr_snap_index_free(struct pr_snap_index *x);

/* 1 when a live create of pid at time ts (monotonic ns) is the process the
 * snapshot already recorded: pid is in it, not retired, and ts <= its read. */
int pr_snap_index_covers(const struct pr_snap_index *x, uint32_t pid, uint64_t ts);

/* Retires pid's entry (a source that sees each pid's first create or its
 * exit: from then on a create under that pid is a new process). */
void pr_snap_index_retire(struct pr_snap_index *x, uint32_t pid);

#endif /* PR_SNAPSHOT_INDEX_H */
