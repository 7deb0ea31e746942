/*
 * snapshot_index.c - see snapshot_index.h.
 */
#include "snapshot_index.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_pid(const void *a, const void *b) {
  uint32_t x = ((const struct pr_snap_pid *)a)->pid, y = ((const struct pr_snap_pid *)b)->pid;
  return x < y ? -1 : x > y;
}

int pr_snap_index_init(struct pr_snap_index *x, const struct pr_snapshot_entry *e, size_t n) {
  size_t i;
  long hz = sysconf(_SC_CLK_TCK);
  memset(x, 0, sizeof(*x));
  x->tick_ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
  if (n == 0) return 0;
  x->e = malloc(n * sizeof(*x->e));
  if (x->e == NULL) return -1;
  for (i = 0; i < n; i++) {
    x->e[i].pid = e[i].pid;
    x->e[i].retired = 0;
    x->e[i].read_ns = e[i].read_ns;
    x->e[i].start_ns = e[i].start_ns;
  }
  qsort(x->e, n, sizeof(*x->e), cmp_pid);
  x->n = n;
  return 0;
}

void pr_snap_index_free(struct pr_snap_index *x) {
  free(x->e);
  memset(x, 0, sizeof(*x));
}

static struct pr_snap_pid *find(const struct pr_snap_index *x, uint32_t pid) {
  struct pr_snap_pid key;
  key.pid = pid;
  return x->n ? bsearch(&key, x->e, x->n, sizeof(*x->e), cmp_pid) : NULL;
}

/* A create no later than the read is not enough: an earlier process under
 * the pid, created after the subscription and gone before the read, is too
 * (its create and exit would then go to the snapshot's process). It started
 * before the snapshot's process: in an earlier tick, unless both started
 * within one, which the sources make rare by leaving such processes out of
 * the snapshot (see the header). */
int pr_snap_index_covers(const struct pr_snap_index *x, uint32_t pid, uint64_t start_ns) {
  const struct pr_snap_pid *e = find(x, pid);
  return e != NULL && !e->retired && start_ns <= e->read_ns && pr_snap_same_start(e->start_ns, start_ns, x->tick_ns);
}

void pr_snap_index_retire(struct pr_snap_index *x, uint32_t pid) {
  struct pr_snap_pid *e = find(x, pid);
  if (e != NULL) e->retired = 1;
}
