/*
 * thread_table.c - see thread_table.h.
 */
#include "thread_table.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../include/procrec_abi.h"

/* ---- an open-addressing map from a non-zero uint32 to a uint64 ---- */

static inline uint32_t slot_of(uint32_t key, uint32_t cap) { return (key * 2654435761u) & (cap - 1); }

int pr_u32map_init(struct pr_u32map *m, uint32_t cap) {
  uint32_t c = 16;
  while (c < cap) c *= 2;
  m->keys = calloc(c, sizeof(*m->keys));
  m->vals = calloc(c, sizeof(*m->vals));
  m->cap = c;
  m->len = 0;
  if (m->keys == NULL || m->vals == NULL) {
    pr_u32map_free(m);
    return -1;
  }
  return 0;
}

void pr_u32map_free(struct pr_u32map *m) {
  free(m->keys);
  free(m->vals);
  m->keys = NULL;
  m->vals = NULL;
  m->cap = m->len = 0;
}

int pr_u32map_get(const struct pr_u32map *m, uint32_t key, uint64_t *val) {
  uint32_t i;
  if (key == 0 || m->cap == 0) return 0;
  for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == 0) return 0;
    if (m->keys[i] == key) {
      if (val) *val = m->vals[i];
      return 1;
    }
  }
}

static int grow(struct pr_u32map *m) {
  struct pr_u32map n;
  uint32_t i;
  if (m->cap >= (1u << 30) || pr_u32map_init(&n, m->cap * 2) != 0) return -1;
  for (i = 0; i < m->cap; i++)
    if (m->keys[i] != 0) pr_u32map_put(&n, m->keys[i], m->vals[i]);
  pr_u32map_free(m);
  *m = n;
  return 0;
}

int pr_u32map_put(struct pr_u32map *m, uint32_t key, uint64_t val) {
  uint32_t i;
  if (key == 0) return -1;
  if ((m->len + 1) * 2 > m->cap && grow(m) != 0) return -1;
  for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) {
      m->vals[i] = val;
      return 0;
    }
    if (m->keys[i] == 0) {
      m->keys[i] = key;
      m->vals[i] = val;
      m->len++;
      return 0;
    }
  }
}

int pr_u32map_del(struct pr_u32map *m, uint32_t key) {
  uint32_t i, j, mask = m->cap - 1;
  if (key == 0 || m->cap == 0) return 0;
  for (i = slot_of(key, m->cap);; i = (i + 1) & mask) {
    if (m->keys[i] == 0) return 0;
    if (m->keys[i] == key) break;
  }
  /* Backward-shift deletion keeps every probe chain unbroken. */
  m->keys[i] = 0;
  m->len--;
  for (j = (i + 1) & mask; m->keys[j] != 0; j = (j + 1) & mask) {
    uint32_t home = slot_of(m->keys[j], m->cap);
    /* Move j into the hole at i when its home is not in (i, j]. */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->keys[i] = m->keys[j];
      m->vals[i] = m->vals[j];
      m->keys[j] = 0;
      i = j;
    }
  }
  return 1;
}

/* ---- process entries: count (bits 0-30), leader exited (bit 31), status (32-63) ---- */

#define P_COUNT(v) ((uint32_t)((v) & 0x7FFFFFFFu))
#define P_LEADER_EXITED(v) (((v) >> 31) & 1u)
#define P_STATUS(v) ((uint32_t)((v) >> 32))
#define P_MAKE(count, exited, status) \
  (((uint64_t)(status) << 32) | ((uint64_t)((exited) ? 1u : 0u) << 31) | ((uint64_t)(count) & 0x7FFFFFFFu))

int pr_thread_table_init(struct pr_thread_table *t) {
  memset(t, 0, sizeof(*t));
  if (pr_u32map_init(&t->threads, 4096) != 0) return -1;
  if (pr_u32map_init(&t->procs, 1024) != 0) {
    pr_u32map_free(&t->threads);
    return -1;
  }
  return 0;
}

void pr_thread_table_free(struct pr_thread_table *t) {
  pr_u32map_free(&t->threads);
  pr_u32map_free(&t->procs);
  free(t->watch);
  t->watch = NULL;
  t->n_watch = t->cap_watch = 0;
}

void pr_thread_table_new_thread(struct pr_thread_table *t, uint32_t pid, uint32_t tid) {
  uint64_t old_pid, v = 0;
  if (tid == pid || tid == 0) return;
  if (pr_u32map_get(&t->threads, tid, &old_pid)) {
    if ((uint32_t)old_pid == pid) return; /* already known (seeded) */
    /* A stale entry (its exit was lost): take it from its old process. */
    if (pr_u32map_get(&t->procs, (uint32_t)old_pid, &v)) {
      if (P_COUNT(v) <= 1) pr_u32map_del(&t->procs, (uint32_t)old_pid);
      else pr_u32map_put(&t->procs, (uint32_t)old_pid, P_MAKE(P_COUNT(v) - 1, P_LEADER_EXITED(v), P_STATUS(v)));
    }
  }
  pr_u32map_put(&t->threads, tid, pid);
  v = 0;
  pr_u32map_get(&t->procs, pid, &v);
  pr_u32map_put(&t->procs, pid, P_MAKE(P_COUNT(v) + 1, P_LEADER_EXITED(v), P_STATUS(v)));
}

/* Removes every thread of pid (a scan: only for rare cases). */
static void forget_process(struct pr_thread_table *t, uint32_t pid) {
  uint32_t i;
  if (!pr_u32map_del(&t->procs, pid)) return;
  for (i = 0; i < t->threads.cap;) {
    if (t->threads.keys[i] != 0 && (uint32_t)t->threads.vals[i] == pid) {
      pr_u32map_del(&t->threads, t->threads.keys[i]);
      continue; /* the shift may have moved another key into slot i */
    }
    i++;
  }
}

int pr_thread_table_new_process(struct pr_thread_table *t, uint32_t pid, struct pr_stale_exit *st) {
  uint64_t v;
  int pending = 0;
  /* The new process's pid may be a stale non-leader thread entry. */
  if (pr_u32map_get(&t->threads, pid, &v)) {
    uint32_t owner = (uint32_t)v;
    uint64_t pv;
    pr_u32map_del(&t->threads, pid);
    if (pr_u32map_get(&t->procs, owner, &pv)) {
      if (P_COUNT(pv) <= 1) pr_u32map_del(&t->procs, owner);
      else pr_u32map_put(&t->procs, owner, P_MAKE(P_COUNT(pv) - 1, P_LEADER_EXITED(pv), P_STATUS(pv)));
    }
  }
  if (pr_u32map_get(&t->procs, pid, &v)) {
    if (P_LEADER_EXITED(v)) {
      pending = 1;
      st->status = P_STATUS(v);
    }
    forget_process(t, pid);
  }
  return pending;
}

void pr_thread_table_exec(struct pr_thread_table *t, uint32_t pid) {
  uint64_t v;
  /* After a non-leader exec the other threads are gone and the exec'ing
   * thread is the leader: nothing of the old thread set remains. */
  if (pr_u32map_get(&t->procs, pid, &v) && P_LEADER_EXITED(v)) forget_process(t, pid);
}

/* ---- after a loss: leaders that exited with others counted ---- */

static struct pr_watch *find_watch(struct pr_thread_table *t, uint32_t pid) {
  uint32_t i;
  for (i = 0; i < t->n_watch; i++)
    if (t->watch[i].pid == pid) return &t->watch[i];
  return NULL;
}

/* Watches pid, with a look due. Without memory the process is not watched
 * (it ends as before: with its last counted thread). */
static void watch(struct pr_thread_table *t, uint32_t pid) {
  struct pr_watch *w = find_watch(t, pid);
  if (w == NULL) {
    if (t->n_watch == t->cap_watch) {
      uint32_t c = t->cap_watch ? t->cap_watch * 2 : 16;
      struct pr_watch *n = realloc(t->watch, c * sizeof(*n));
      if (n == NULL) return;
      t->watch = n;
      t->cap_watch = c;
    }
    w = &t->watch[t->n_watch++];
    w->pid = pid;
  }
  w->look = 1;
  w->gone_at = 0;
}

/* Another thread of a watched process went: look again (the threads a
 * look found alive may all be gone now, some of their exits lost). */
static void look_again(struct pr_thread_table *t, uint32_t pid) {
  struct pr_watch *w;
  if (t->n_watch == 0 || (w = find_watch(t, pid)) == NULL) return;
  w->look = 1;
  w->gone_at = 0;
}

void pr_thread_table_lost(struct pr_thread_table *t) {
  uint32_t i;
  t->lossy = 1;
  /* a thread a look found alive may have exited in this loss */
  for (i = 0; i < t->n_watch; i++) t->watch[i].look = 1;
}

int pr_thread_table_watching(const struct pr_thread_table *t) {
  uint32_t i;
  for (i = 0; i < t->n_watch; i++)
    if (t->watch[i].look || t->watch[i].gone_at) return 1;
  return 0;
}

/* Whether /proc/PID/task lists no thread but the leader (a zombie), or the
 * process is gone. A thread leaves that list in exit_notify (release_task),
 * just before do_exit sends its exit event (proc_exit_connector): the caller
 * waits PR_SETTLE_MARGIN_NS more before it counts on that event. */
static int leader_alone(uint32_t pid) {
  char path[32];
  DIR *d;
  struct dirent *de;
  int alone = 1;
  snprintf(path, sizeof(path), "/proc/%u/task", pid);
  d = opendir(path);
  if (d == NULL) return 1;
  while ((de = readdir(d)) != NULL) {
    char *end;
    unsigned long tid = strtoul(de->d_name, &end, 10);
    if (*end == 0 && end != de->d_name && tid != pid) {
      alone = 0;
      break;
    }
  }
  closedir(d);
  return alone;
}

/* The host's CLOCK_MONOTONIC (lib.c): gone_at is compared with the
 * reader's times and becomes an inferred exit's time, both on that clock. */
uint64_t pr_lib_mono_now(void);

uint32_t pr_thread_table_settle(struct pr_thread_table *t, uint64_t drained_after, struct pr_ended *ended,
                                uint32_t cap) {
  uint32_t i = 0, n = 0;
  while (i < t->n_watch && n < cap) {
    struct pr_watch *w = &t->watch[i];
    uint64_t v;
    /* ended with its last counted thread, or the pid is another process's */
    int done = !pr_u32map_get(&t->procs, w->pid, &v) || !P_LEADER_EXITED(v);
    if (!done && w->look) {
      w->look = 0;
      w->gone_at = leader_alone(w->pid) ? pr_lib_mono_now() : 0;
    }
    if (!done && w->gone_at != 0 && w->gone_at + PR_SETTLE_MARGIN_NS < drained_after) {
      ended[n].pid = w->pid;
      ended[n].status = P_STATUS(v);
      ended[n].at = w->gone_at;
      n++;
      forget_process(t, w->pid);
      done = 1;
    }
    if (done) *w = t->watch[--t->n_watch];
    else i++;
  }
  return n;
}

struct pr_exit_decision pr_thread_table_exit(struct pr_thread_table *t, uint32_t pid, uint32_t tid, uint32_t code) {
  struct pr_exit_decision d = {0, 0, 0, 0};
  uint64_t v, owner;
  if (tid != pid) {
    d.thread_exit = 1;
    if (pr_u32map_get(&t->threads, tid, &owner) && (uint32_t)owner == pid) {
      pr_u32map_del(&t->threads, tid);
      if (pr_u32map_get(&t->procs, pid, &v)) {
        uint32_t n = P_COUNT(v) > 0 ? P_COUNT(v) - 1 : 0;
        if (P_LEADER_EXITED(v)) d.thread_flags |= PR_F_PROCESS_EXITING;
        if (n == 0) {
          pr_u32map_del(&t->procs, pid);
          if (P_LEADER_EXITED(v)) {
            d.thread_flags |= PR_F_GROUP_DEAD;
            d.process_exit = 1;
            d.process_status = code;
          }
        } else {
          pr_u32map_put(&t->procs, pid, P_MAKE(n, P_LEADER_EXITED(v), P_STATUS(v)));
          if (P_LEADER_EXITED(v)) look_again(t, pid);
        }
      }
    } else if (pr_u32map_get(&t->procs, pid, &v) && P_LEADER_EXITED(v)) {
      d.thread_flags |= PR_F_PROCESS_EXITING;
      look_again(t, pid);
    }
    return d;
  }
  /* The leader. */
  if (pr_u32map_get(&t->procs, pid, &v) && P_COUNT(v) > 0) {
    pr_u32map_put(&t->procs, pid, P_MAKE(P_COUNT(v), 1, code));
    d.thread_exit = 1;
    if (t->lossy) watch(t, pid); /* the count may hold threads whose exits were lost */
    return d;
  }
  pr_u32map_del(&t->procs, pid);
  d.process_exit = 1;
  d.process_status = code;
  return d;
}

void pr_thread_table_seed(struct pr_thread_table *t) {
  DIR *d = opendir("/proc");
  struct dirent *de;
  if (d == NULL) return;
  while ((de = readdir(d)) != NULL) {
    char path[64], *end;
    unsigned long pid = strtoul(de->d_name, &end, 10);
    DIR *td;
    struct dirent *te;
    if (*end != 0 || end == de->d_name || pid == 0 || pid > UINT32_MAX) continue;
    snprintf(path, sizeof(path), "/proc/%lu/task", pid);
    td = opendir(path);
    if (td == NULL) continue;
    while ((te = readdir(td)) != NULL) {
      unsigned long tid = strtoul(te->d_name, &end, 10);
      if (*end != 0 || end == te->d_name || tid == 0 || tid == pid || tid > UINT32_MAX) continue;
      pr_thread_table_new_thread(t, (uint32_t)pid, (uint32_t)tid);
    }
    closedir(td);
  }
  closedir(d);
}
