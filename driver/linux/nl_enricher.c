/*
 * nl_enricher.c - the proc connector source's enricher thread (see
 * netlink.c): it takes raw events from the queue in order, reads
 * /proc/<pid>/ for exec events, builds the records and emits them. Being the
 * only emitter, it keeps the kernel's order.
 */
#include <errno.h>
#include <linux/cn_proc.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/pr_record.h"
#include "nl_source.h"
#include "procfs.h"

/* ---- the enricher thread ---- */


/* Reads /proc for an exec event into slot x (not emitted yet). */
static void prepare_exec(struct nl_state *s, const struct pr_nl_ev *ev, struct exec_slot *x) {
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
      pr_nl_wake_reader(s);
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
static void finish_exec(struct nl_state *s, const struct pr_nl_ev *ev, struct exec_slot *x, int superseded) {
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
          r->info.prov_file = r->info.prov_ns = r->info.prov_cgroup = PR_PROV_GONE;
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
  pr_snap_index_retire(&s->snap, pid);
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
static void handle_exit(struct nl_state *s, const struct pr_nl_ev *ev) {
  uint32_t tid = ev->a, pid = ev->b;
  struct pr_exit_decision d = pr_thread_table_exit(&s->threads, pid, tid, ev->code);
  if (d.thread_exit) emit_thread_exit(s, pid, tid, ev->code, d.thread_flags, ev->ts);
  if (d.process_exit) emit_process_exit(s, pid, tid, d.process_status, ev->ts);
}

static void handle_fork(struct nl_state *s, const struct pr_nl_ev *ev) {
  uint32_t parent_tid = ev->a, parent_pid = ev->b, child_tid = ev->c, child_pid = ev->d;
  if (child_tid == child_pid) {
    struct pr_rec_process_create r;
    struct pr_stale_exit st;
    /* Created between the subscription and the snapshot's read of it: the
     * snapshot record already stands for this process. The first create of
     * a pid decides: a later one is a new process under a reused pid. */
    int covered = pr_snap_index_covers(&s->snap, child_pid, ev->ts);
    pr_snap_index_retire(&s->snap, child_pid);
    if (covered) return;
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

static void handle_comm(struct nl_state *s, const struct pr_nl_ev *ev) {
  uint64_t mem[(sizeof(struct pr_rec_comm) + 24) / 8];
  struct pr_builder b;
  struct pr_rec_header *h;
  pr_rb_init(&b, mem, sizeof(mem), PR_REC_COMM, sizeof(struct pr_rec_comm));
  h = pr_rb_header(&b);
  fill_header(s, h, PR_REC_COMM, 0, ev->b, ev->a, ev->ts);
  pr_rb_add_str(&b, offsetof(struct pr_rec_comm, comm), ev->comm, (uint32_t)strnlen(ev->comm, sizeof(ev->comm)), 0);
  pr_lib_emit(s->lib, mem, pr_rb_finish(&b));
}

static void process_event(struct nl_state *s, const struct pr_nl_ev *ev) {
  switch (ev->what) {
  case PR_NL_LOST: pr_lib_emit_lost(s->lib, ev->a, ev->cpu, ev->count, ev->flags, ev->ts); break;
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
static void process_batch(struct nl_state *s, const struct pr_nl_ev *batch, uint32_t n) {
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

void *pr_nl_enricher_main(void *arg) {
  struct nl_state *s = arg;
  pr_nl_boost_priority();
  struct pr_nl_ev *batch = s->batch;
  for (;;) {
    uint32_t n = 0;
    pthread_mutex_lock(&s->mu);
    /* Woken for an exec or a full batch (see enqueue in nl_reader.c), else
     * it looks every NL_ENRICH_POLL_MS. */
    while (s->q.len == 0 && !s->reader_done) {
      struct timespec dl;
      uint64_t until = pr_lib_mono_now() + NL_ENRICH_POLL_MS * 1000000ull;
      dl.tv_sec = (time_t)(until / 1000000000ull);
      dl.tv_nsec = (long)(until % 1000000000ull);
      pthread_cond_timedwait(&s->q_cv, &s->mu, &dl);
      if (s->q.len > 0) break;
    }
    if (s->q.len == 0 && s->reader_done) {
      /* Drops after the last stored entry are still reported. */
      if (pr_nl_queue_take_drops(&s->q, &batch[0])) {
        pthread_mutex_unlock(&s->mu);
        process_event(s, &batch[0]);
        continue;
      }
      pthread_mutex_unlock(&s->mu);
      break;
    }
    n = pr_nl_queue_pop(&s->q, batch, BATCH);
    pthread_mutex_unlock(&s->mu);
    process_batch(s, batch, n);
  }
  return NULL;
}
