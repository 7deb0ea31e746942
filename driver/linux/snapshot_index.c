/*
 * snapshot_index.c - see snapshot_index.h.
 */
#include "snapshot_index.h"

#include <stdlib.h>
#include <string.h>

static int cmp_pid(const void *a, const void *b) {
  uint32_t x = ((const struct pr_snap_pid *)a)->pid, y = ((const struct pr_snap_pid *)b)->pid;
  return x < y ? -1 : x > y;
}

int pr_snap_index_init(struct pr_snap_index *x, const struct pr_snapshot_entry *e, size_t n) {
  size_t i;
  memset(x, 0, sizeof(*x));
  if (n == 0) return 0;
  x->e = malloc(n * sizeof(*x->e));
  if (x->e == NULL) return -1;
  for (i = 0; i < n; i++) {
    x->e[i].pid = e[i].pid;
    x->e[i].retired = 0;
    x->e[i].read_ns = e[i].read_ns;
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

int pr_snap_index_covers(const struct pr_snap_index *x, uint32_t pid, uint64_t ts) {
  const struct pr_snap_pid *e = find(x, pid);
  return e != NULL && !e->retired && ts <= e->read_ns;
}

void pr_snap_index_retire(struct pr_snap_index *x, uint32_t pid) {
  struct pr_snap_pid *e = find(x, pid);
  if (e != NULL) e->retired = 1;
}
