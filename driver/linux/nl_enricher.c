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
    else if (pr_rb_finish(&b) > 0) x->enriched = 1;
    /* After the fields: where the process is now decides how long the
     * read waits before it is trusted (nl_source.h). */
    if (x->enriched) x->sc = pr_procfs_syscall_state(fd);
    x->start_ticks = st.start_ticks;
  }
  close(fd);
}

/* A second look at a process that a read found inside execve (the slot's
 * sc is PR_SC_EXECVE): when it has left execve (or exited, or its pid is
 * another process's now), the read is checked from this look on as
 * nl_source.h says; past NL_EXECVE_HOLD_NS its values are given up. */
static void look_again(const struct pr_nl_ev *ev, struct exec_slot *x) {
  struct pr_procfs_stat st;
  uint64_t now = pr_lib_mono_now();
  enum pr_sc_state sc = PR_SC_ELSEWHERE;
  int fd;
  if (now - x->held_since > NL_EXECVE_HOLD_NS) {
    x->enriched = 0;
    return;
  }
  fd = pr_procfs_open(ev->b, &st);
  if (fd >= 0) {
    if (st.start_ticks == x->start_ticks) sc = pr_procfs_syscall_state(fd);
    close(fd);
  }
  x->read_end = pr_lib_mono_now();
  x->read_sw = pr_nl_thread_blocks();
  x->sc = sc;
  /* still inside: the next look after NL_TRUST_AFTER_NS; it was held there,
   * so a process now running gets the long margin */
  x->margin = sc == PR_SC_ELSEWHERE ? 0 : sc == PR_SC_EXECVE ? NL_TRUST_AFTER_NS : NL_TRUST_LATE_NS;
}

/* Whether the read of slot x has been checked (nl_source.h): a receive
 * that found the socket empty started late enough after it. */
static int read_checked(const struct nl_state *s, const struct exec_slot *x) {
  if (x->sc == PR_SC_EXECVE) return 0;
  if (x->sc == PR_SC_ELSEWHERE) return x->read_end <= s->empty_t0;
  return x->read_end + x->margin <= s->empty_t0 && x->read_sw < s->empty_sw;
}

/* What an exec record keeps of its read (finish_exec). */
enum keep {
  KEEP_NONE,       /* every field GONE */
  KEEP_EXEC_ONLY,  /* what the exec set (image, file, argv, comm); cwd, ids,
                    * namespaces and cgroup GONE: the program may have changed
                    * them for the later exec before the read */
  KEEP_ALL,
};

/* Clears the fields of the record in slot x that KEEP_EXEC_ONLY drops. */
static void drop_later_fields(struct exec_slot *x) {
  struct pr_rec_exec r;
  memcpy(&r, x->rec, sizeof(r));
  memset(x->rec + r.info.cwd.off, 0, r.info.cwd.len);
  memset(x->rec + r.info.cgroup.off, 0, r.info.cgroup.len);
  r.info.cwd.off = r.info.cwd.len = r.info.cgroup.off = r.info.cgroup.len = 0;
  r.info.uid = r.info.gid = r.info.euid = r.info.egid = 0;
  r.info.loginuid = r.info.sessionid = PR_ID_UNSET;
  r.info.cgroup_id = 0;
  r.info.ns_pid = r.info.ns_mnt = r.info.ns_net = r.info.ns_user = r.info.ns_cgroup = 0;
  r.info.prov_cwd = r.info.prov_cred = r.info.prov_ns = r.info.prov_cgroup = PR_PROV_GONE;
  memcpy(x->rec, &r, sizeof(r));
}

/* Emits the exec record of slot x with what keep says of its /proc values
 * (pr_nl_emit decides: never a later exec's image). */
static void finish_exec(struct nl_state *s, const struct pr_nl_ev *ev, struct exec_slot *x, enum keep keep) {
  const struct procrec_options *o = pr_lib_options(s->lib);
  struct pr_builder b;
  struct pr_rec_exec *r;
  uint32_t size;
  int usable = x->enriched && keep != KEEP_NONE;

  if (!usable) {
    pr_rb_init(&b, x->rec, s->rec_cap, PR_REC_EXEC, sizeof(struct pr_rec_exec));
    r = (struct pr_rec_exec *)(void *)x->rec;
    if (!(o->flags & PR_OPT_NO_ENRICH))
      r->info.prov_image = r->info.prov_argv = r->info.prov_comm = r->info.prov_cwd = r->info.prov_cred =
          r->info.prov_file = r->info.prov_ns = r->info.prov_cgroup = PR_PROV_GONE;
    x->flags = 0;
    size = pr_rb_finish(&b);
  } else {
    if (keep == KEEP_EXEC_ONLY) drop_later_fields(x);
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

static void emit_process_exit(struct nl_state *s, uint32_t pid, uint32_t tid, uint32_t status, uint16_t flags,
                              uint64_t ts) {
  struct pr_rec_process_exit r;
  uint64_t start = 0;
  memset(&r, 0, sizeof(r));
  fill_header(s, &r.h, PR_REC_PROCESS_EXIT, sizeof(r), pid, tid, ts);
  r.h.flags = flags;
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
  if (d.process_exit) emit_process_exit(s, pid, tid, d.process_status, 0, ev->ts);
}

void pr_nl_settle(struct nl_state *s) {
  struct pr_ended ended[16];
  uint32_t n, i;
  if (s->q.len > 0) return; /* something received is not emitted yet */
  do {
    n = pr_thread_table_settle(&s->threads, s->empty_t0, ended, 16);
    /* (inferred: the exit events of its last threads were lost) */
    for (i = 0; i < n; i++)
      emit_process_exit(s, ended[i].pid, ended[i].pid, ended[i].status, PR_F_EXIT_INFERRED, ended[i].at);
  } while (n == 16);
}

static void handle_fork(struct nl_state *s, const struct pr_nl_ev *ev) {
  uint32_t parent_tid = ev->a, parent_pid = ev->b, child_tid = ev->c, child_pid = ev->d;
  if (child_tid == child_pid) {
    struct pr_rec_process_create r;
    struct pr_stale_exit st;
    /* Created between the subscription and the snapshot's read of it, so
     * close to the start of the snapshot that the snapshot recorded it
     * (snapshot_index.h): the snapshot record already stands for this
     * process when the fork came by the read and in the tick of the
     * snapshot's start (an earlier process under the pid started before).
     * The first create of a pid decides: a later one is a new process under
     * a reused pid. */
    int covered = pr_snap_index_covers(&s->snap, child_pid, ev->ts);
    pr_snap_index_retire(&s->snap, child_pid);
    if (covered) return;
    /* A pid reused while we still held an unfinished process under it: it
     * ended before (inferred; the exits of its last threads were lost). */
    if (pr_thread_table_new_process(&s->threads, child_pid, &st))
      emit_process_exit(s, child_pid, child_pid, st.status, PR_F_EXIT_INFERRED, ev->ts);
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
  case PR_NL_LOST:
    pr_lib_emit_lost(s->lib, ev->a, ev->cpu, ev->count, ev->flags, ev->ts);
    pr_thread_table_lost(&s->threads);
    break;
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
      x->sc = PR_SC_UNKNOWN;
      prepare_exec(s, ev, x);
      x->read_end = pr_lib_mono_now();
      x->read_sw = pr_nl_thread_blocks();
      x->held_since = x->read_end;
      if (x->sc == PR_SC_ELSEWHERE) x->margin = 0;
      else if (x->sc == PR_SC_EXECVE) x->margin = NL_TRUST_AFTER_NS; /* the next look */
      else if ((int64_t)(x->read_end - ev->ts) > (int64_t)NL_PROMPT_READ_NS) x->margin = NL_TRUST_LATE_NS;
      else x->margin = NL_TRUST_AFTER_NS;
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

/* What the exec at queue offset at (slot x, read and checked) keeps when
 * others more execs of its pid slot are in the queue: nothing unless there
 * is exactly one, of the same pid, its read checked too, showing another
 * image and other arguments (a read that saw that later exec shows what its
 * own read shows; one torn by it, the image before and the arguments
 * after, shares its arguments); then what the exec set (KEEP_EXEC_ONLY).
 * Another pid's exec under the same slot: KEEP_ALL. -1: wait, the later
 * exec's read is not checked yet (*until: when it may be). */
static int later_exec_verdict(struct nl_state *s, uint32_t at, const struct exec_slot *x, uint32_t others,
                              uint64_t *until) {
  uint32_t pid = entry(s, at)->b, i, slot = 0;
  size_t img = offsetof(struct pr_rec_exec, info) + offsetof(struct pr_proc_info, image);
  size_t argv = offsetof(struct pr_rec_exec, info) + offsetof(struct pr_proc_info, argv);
  /* unreadable syscall state: no relaxation (the check knows less) */
  if (others > 1 || x->sc == PR_SC_UNKNOWN) return KEEP_NONE;
  for (i = at + 1; i < s->q.len; i++) {
    const struct pr_nl_ev *ev = entry(s, i);
    const struct exec_slot *y;
    struct pr_rec_exec yr;
    if (ev->what != PROC_EVENT_EXEC) continue;
    slot++;
    if (ev->b != pid) continue;
    if (i >= s->prep_off) return KEEP_NONE; /* not read (no free slot) */
    y = &s->slots[(s->slot_head + slot) % s->exec_round];
    if (!y->enriched || y->sc == PR_SC_EXECVE || y->sc == PR_SC_UNKNOWN) return KEEP_NONE;
    memcpy(&yr, y->rec, sizeof(yr));
    if (yr.info.prov_image != PR_PROV_PROC || yr.info.prov_argv != PR_PROV_PROC) return KEEP_NONE;
    if (same_str(x->rec, y->rec, img) || same_str(x->rec, y->rec, argv)) return KEEP_NONE;
    if (!read_checked(s, y)) {
      *until = y->read_end + y->margin;
      return -1;
    }
    return KEEP_EXEC_ONLY;
  }
  return KEEP_ALL;
}

/* Emits the events before prep_off in order. An exec whose /proc read is
 * to be used waits until its read is checked (read_checked: a receive that
 * found the socket empty started late enough after it, nl_source.h says how
 * late): every message the kernel sent before then is in the queue, a later
 * exec of the same pid among them, whose values (maybe what was read) are
 * not lent to this exec (later_exec_verdict). A read that found the
 * process inside execve waits until a second look finds it elsewhere
 * (look_again). The margins and the block cover a later exec's return path
 * when the process was preempted in it, by this thread among others (a CI
 * run saw one borrowed image in 500 `env /bin/true` double execs when the
 * empty receive could follow the read at once, and ~1 run in 17 of that
 * test did with a 200 us margin alone). When the queue has no room for
 * another receive and its head still waits, the head's values are not used
 * (the check cannot be made without receiving, and nothing more can be
 * received before the head is emitted). */
uint32_t pr_nl_emit(struct nl_state *s, int all) {
  uint32_t done = 0;
  while (done < s->prep_off) {
    const struct pr_nl_ev *ev = entry(s, done);
    if (ev->what == PROC_EVENT_EXEC) {
      struct exec_slot *x = &s->slots[s->slot_head];
      uint32_t *pending = &s->exec_pending[exec_slot(ev->b)];
      /* the check cannot wait for receives the queue has no room for: then
       * the values are not used */
      int room_low = done == 0 && s->q.cap - s->q.len < PR_NL_RECV_ROOM;
      int keep = KEEP_NONE;
      if (x->enriched) {
        int checked = all;
        if (!all) {
          if (x->sc == PR_SC_EXECVE) look_again(ev, x);
          checked = x->enriched && read_checked(s, x);
          if (x->enriched && !checked && !room_low) {
            s->wait_until = x->read_end + x->margin;
            break;
          }
        }
        if (x->enriched && checked && x->sc != PR_SC_EXECVE) {
          keep = *pending > 1 ? later_exec_verdict(s, done, x, *pending - 1, &s->wait_until) : KEEP_ALL;
          if (keep < 0) {
            if (!all && !room_low) break;
            keep = KEEP_NONE;
          }
        }
      }
      /* No longer pending: only a later exec of this pid would be. */
      (*pending)--;
      pr_thread_table_exec(&s->threads, ev->b);
      finish_exec(s, ev, x, (enum keep)keep);
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
