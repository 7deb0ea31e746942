/*
 * nl_enricher.c - what the proc connector source's thread (nl_reader.c)
 * does with the events it received (see netlink.c): it reads /proc/<pid>/
 * for exec events as soon as they arrive, builds the records and emits them
 * in the kernel's order.
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
  x->key.valid = 0;
  if (o->flags & PR_OPT_NO_ENRICH) return;
  fd = pr_procfs_open(pid, &st);
  if (fd < 0) return;
  /* The process must have started before this exec: otherwise the pid was
   * reused and the data belongs to another process. Ticks round down, so
   * the true process always passes. */
  if (pr_procfs_start_mono(st.start_ticks, pr_lib_boot_minus_mono(s->lib)) <= ev->ts + 1000000u) {
    pr_rb_init(&b, x->rec, s->rec_cap, PR_REC_EXEC, sizeof(struct pr_rec_exec));
    struct pr_rec_exec *r = (struct pr_rec_exec *)(void *)x->rec;
    x->flags = pr_procfs_fill_info_key(&b, offsetof(struct pr_rec_exec, info), fd, &st, o->max_string, &x->gone,
                                       &x->key);
    /* An executable but no arguments: the process was between two states
     * (in the middle of a later exec, whose new image is already visible but
     * not its arguments, or exiting): nothing read can be trusted. */
    if (r->info.prov_image == PR_PROV_PROC && r->info.prov_argv != PR_PROV_PROC) x->enriched = 0;
    /* Blocked or stopped inside a later execve after the read: its new
     * image and arguments may be what was read, and its event may be sent
     * any time later (a tracer's PTRACE_EVENT_EXEC stop comes before it; a
     * wait for the disk while the new image loads can too). No margin
     * covers that: nothing read is used. */
    else if (pr_procfs_in_execve(fd)) x->enriched = 0;
    else if (pr_rb_finish(&b) > 0) x->enriched = 1;
  }
  close(fd);
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
  /* The file key goes with the record's own device and inode, read in the
   * same stat: only when its /proc values are used. */
  pr_lib_emit_keyed(s->lib, x->rec, size, usable && x->key.valid ? &x->key : NULL);
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
  case PROC_EVENT_EXEC: break; /* see pr_nl_emit */
  case PROC_EVENT_EXIT: handle_exit(s, ev); break;
  case PROC_EVENT_COMM: handle_comm(s, ev); break;
  default: break;
  }
}

static inline struct pr_nl_ev *entry(struct nl_state *s, uint32_t off) {
  return &s->q.ev[(s->q.head + off) % s->q.cap];
}

/* The /proc reads of the execs received (at once: a short-lived process is
 * gone in a few hundred microseconds), while slots are free. */
void pr_nl_prepare(struct nl_state *s) {
  while (s->prep_off < s->q.len) {
    const struct pr_nl_ev *ev = entry(s, s->prep_off);
    if (ev->what == PROC_EVENT_EXEC) {
      struct exec_slot *x;
      if (s->slot_used == s->exec_round) return;
      x = &s->slots[(s->slot_head + s->slot_used) % s->exec_round];
      prepare_exec(s, ev, x);
      x->read_end = pr_lib_mono_now();
      x->read_sw = pr_nl_thread_blocks();
      x->margin = (int64_t)(x->read_end - ev->ts) > (int64_t)NL_PROMPT_READ_NS ? NL_TRUST_LATE_NS : NL_TRUST_AFTER_NS;
      s->slot_used++;
    }
    s->prep_off++;
  }
}

/* Whether the field at field_off holds the same bytes in records a and b. */
static int same_str(const uint8_t *a, const uint8_t *b, size_t field_off) {
  struct pr_str x, y;
  memcpy(&x, a + field_off, sizeof(x));
  memcpy(&y, b + field_off, sizeof(y));
  return x.len == y.len && memcmp(a + x.off, b + y.off, x.len) == 0;
}

/* Whether the /proc values read for the exec at queue offset at (slot x)
 * are surely not those of the later exec of the same process that is in the
 * queue too: there is one such exec, its /proc was read, and it showed
 * another image and other arguments. A read that saw the later exec would
 * show what that exec's own read showed; one torn by it (the image before,
 * the arguments after) shares its arguments. Two later execs, or one not
 * read, or equal values: not surely, and the values are not used. */
static int differs_from_later_execs(struct nl_state *s, uint32_t at, const struct exec_slot *x) {
  uint32_t pid = entry(s, at)->b, i, slot = 0, later = 0;
  size_t img = offsetof(struct pr_rec_exec, info) + offsetof(struct pr_proc_info, image);
  size_t argv = offsetof(struct pr_rec_exec, info) + offsetof(struct pr_proc_info, argv);
  for (i = at + 1; i < s->q.len; i++) {
    const struct pr_nl_ev *ev = entry(s, i);
    const struct exec_slot *y;
    struct pr_rec_exec yr;
    if (ev->what != PROC_EVENT_EXEC) continue;
    slot++;
    if (ev->b != pid) continue;
    if (i >= s->prep_off || ++later > 1) return 0;
    y = &s->slots[(s->slot_head + slot) % s->exec_round];
    if (!y->enriched) return 0;
    memcpy(&yr, y->rec, sizeof(yr));
    if (yr.info.prov_image != PR_PROV_PROC || yr.info.prov_argv != PR_PROV_PROC) return 0;
    if (same_str(x->rec, y->rec, img) || same_str(x->rec, y->rec, argv)) return 0;
  }
  return later == 1;
}

/* Emits the events before prep_off in order. An exec whose /proc read is
 * to be used waits until a receive found the socket empty that started the
 * slot's margin after the read (NL_TRUST_AFTER_NS, or NL_TRUST_LATE_NS for
 * a late read) and after the thread had blocked since it: every message the
 * kernel sent before the read is then in the queue, a later exec of the
 * same pid among them, and its values (maybe that later image) are not lent
 * to this exec unless the later exec's own read shows another image and
 * other arguments (differs_from_later_execs). prepare_exec rejects what it
 * read when the image was visible but not yet the arguments, or when the
 * process was blocked or stopped inside execve; the margin and the block
 * cover a later exec's return path when the process was preempted in it,
 * by this thread among others (a CI run saw one borrowed image in 500 `env
 * /bin/true` double execs when the empty receive could follow the read at
 * once, and ~1 run in 17 of that test did with the 200 us margin alone).
 * When the queue has no room for another receive and its head still
 * waits, the head's values are not used (the check cannot be made without
 * receiving, and nothing more can be received before the head is
 * emitted). */
uint32_t pr_nl_emit(struct nl_state *s, int all) {
  uint32_t done = 0;
  while (done < s->prep_off) {
    const struct pr_nl_ev *ev = entry(s, done);
    if (ev->what == PROC_EVENT_EXEC) {
      struct exec_slot *x = &s->slots[s->slot_head];
      uint32_t *pending = &s->exec_pending[exec_slot(ev->b)];
      int drained = all || !x->enriched ||
                    (x->read_end + x->margin <= s->empty_t0 && x->read_sw < s->empty_sw);
      int stuck = !drained && done == 0 && s->q.cap - s->q.len < PR_NL_RECV_ROOM;
      if (!drained && !stuck) break;
      /* No longer pending: only a later exec of this pid would be. */
      (*pending)--;
      pr_thread_table_exec(&s->threads, ev->b);
      finish_exec(s, ev, x, stuck || (*pending > 0 && !differs_from_later_execs(s, done, x)));
      s->slot_head = (s->slot_head + 1) % s->exec_round;
      s->slot_used--;
    } else {
      process_event(s, ev);
    }
    done++;
  }
  s->q.head = (s->q.head + done) % s->q.cap;
  s->q.len -= done;
  s->prep_off -= done;
  return done;
}
