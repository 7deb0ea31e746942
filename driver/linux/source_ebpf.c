/*
 * source_ebpf.c - procrec's eBPF event source (struct pr_source_ops
 * pr_source_ebpf, see source.h).
 *
 * The BPF side (ebpf/procrec.bpf.c, embedded here as a libbpf skeleton)
 * writes compact records (ebpf/procrec_bpf.h) into one BPF ring buffer; a
 * reader thread drains it and turns each record into the same PR_REC_*
 * records as the proc connector source, every field with PR_PROV_KERNEL
 * (except the image of an exec whose path is deeper than the BPF program
 * walks: read from /proc/PID/exe, PR_PROV_PROC; see image_from_proc),
 * handed to pr_lib_emit().
 *
 *   open   BTF present? load the programs (the privilege check: loading
 *          needs CAP_BPF + CAP_PERFMON, or root). Nothing is attached yet.
 *   start  attach the four tracepoints, snapshot, start the reader. A
 *          process created between the attach and the snapshot's read of
 *          it is recorded once: its snapshot record, no PROCESS_CREATE
 *          (in_snapshot); or, when records of an earlier process under its
 *          pid came before its fork (a pid reused while the snapshot was
 *          taken), its PROCESS_CREATE after them, no snapshot record
 *          (snapshot_scan). (Its execs and threads from that time are
 *          recorded.)
 *   stop   detach, drain what the ring still holds, report pending losses,
 *          join the reader.
 *
 * Wake-ups: the BPF side wakes the reader only when wake_bytes of unread
 * data accumulated, or for an exec (at most every 2 ms: the hash worker then
 * finds a short-lived program still running its image); otherwise the reader
 * drains every POLL_MS. Measured on the storm (60,000 threads, 1,500 execs):
 * 0.02 s of library CPU this way, 0.36 to 0.43 s with a wake-up per record.
 *
 * Loss: every BPF record carries its CPU's cumulative reserve-failure count.
 * When it exceeds what this reader has already reported for that CPU, a
 * PR_REC_LOST (PR_LOST_BPF_RESERVE, that CPU, the difference) goes into the
 * stream just before the record; failures that no record followed yet are
 * read from the per-CPU map whenever the ring is empty, and at stop.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/types.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../common/pr_record.h"
#include "ebpf/procrec_bpf.h"
#include "procfs.h"
#include "procrec.skel.h"
#include "min_btf.h"
#include "snapshot_index.h"
#include "source.h"
#include "thread_table.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define POLL_MS 100                      /* the reader drains at least this often */
#define EXEC_POLL_MS 3                   /* ... and this soon after a drain that held an exec */
#define DEFAULT_RING (16u << 20)         /* see ring_bytes() */
#define WAKE_MAX (256u << 10)

struct ebpf_state {
  struct pr_lib *lib;
  struct procrec_bpf *skel;
  struct ring_buffer *rb;
  int epfd;                 /* waits on the ring's epoll fd and wake_fd */
  int wake_fd;              /* eventfd: stop, resume */
  int fail_fd;              /* per-CPU reserve failure counters */
  int ncpu;                 /* possible CPUs (per-CPU map value count) */
  int drained_exec;         /* the reader's last drain held an exec (reader only) */
  uint32_t *reported;       /* per CPU: failures already reported (mod 2^32) */
  uint64_t *map_vals;       /* scratch for reading the per-CPU map */
  uint8_t *rec;             /* one PR record being built */
  uint32_t rec_cap;
  uint32_t max_string;
  struct pr_snap_index snap; /* the snapshot's processes (see on_fork) */
  pthread_t thread;
  int thread_started;
  int attached;
  atomic_int stopping;
  atomic_int paused;
};

/* ---- libbpf messages: kept (not printed) so a failure can say why ---- */

static __thread char bpf_msg[256];

static int keep_libbpf_msg(enum libbpf_print_level level, const char *fmt, va_list ap) {
  char line[256];
  size_t n;
  if (getenv("PROCREC_BPF_DEBUG")) return vfprintf(stderr, fmt, ap);
  if (level == LIBBPF_DEBUG) return 0;
  vsnprintf(line, sizeof(line), fmt, ap);
  n = strlen(line);
  while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' ')) line[--n] = 0;
  if (n > 0 && !bpf_msg[0]) snprintf(bpf_msg, sizeof(bpf_msg), "%s", line); /* the first says most */
  return 0;
}

/* ---- BPF ring size ---- */

/* The storm (60,000 threads and 1,500 execs, about 124,500 events in ~2 s)
 * writes about 4.5 MiB/s of BPF records (88-byte forks, 64-byte exits,
 * ~120-byte execs with ring headers): a 1.5 s reader stall needs ~7 MiB.
 * 16 MiB gives twice that; libbpf maps the data twice, so resident memory
 * can reach about 32 MiB when the ring fills. */
static uint32_t ring_bytes(uint32_t asked) {
  /* asked: a power of two of a page to PR_BPF_RING_MAX (lib.c refuses others) */
  return asked ? asked : DEFAULT_RING;
}

/* ---- records ---- */

static void emit_pending_lost(struct ebpf_state *s, uint32_t cpu, uint32_t cum, uint64_t mono_ns) {
  uint32_t diff;
  if (cpu >= (uint32_t)s->ncpu) return;
  diff = cum - s->reported[cpu]; /* modulo 2^32 */
  if (diff == 0 || diff > 0x7fffffffu) return; /* nothing new (or an older record) */
  s->reported[cpu] = cum;
  pr_lib_emit_lost(s->lib, PR_LOST_BPF_RESERVE, cpu, diff, 0, mono_ns);
}

/* Reports failures that no record has reported yet (the ring is empty). */
static void flush_lost_map(struct ebpf_state *s) {
  uint32_t key = 0;
  int c;
  if (bpf_map_lookup_elem(s->fail_fd, &key, s->map_vals) != 0) return;
  for (c = 0; c < s->ncpu; c++) emit_pending_lost(s, (uint32_t)c, (uint32_t)s->map_vals[c], pr_lib_mono_now());
}

static void start_rec(struct ebpf_state *s, struct pr_builder *b, uint16_t kind, uint32_t fixed,
                      const struct pb_hdr *h, uint32_t tid) {
  struct pr_rec_header *rh;
  pr_rb_init(b, s->rec, s->rec_cap, kind, fixed);
  rh = pr_rb_header(b);
  rh->mono_ns = h->ts;
  rh->utc_ns = pr_lib_utc_ns(s->lib, h->ts);
  rh->pid = h->pid;
  rh->tid = tid;
}

static void emit_built(struct ebpf_state *s, struct pr_builder *b) {
  uint32_t size = pr_rb_finish(b);
  if (size) pr_lib_emit(s->lib, b->buf, size);
}

/* An exec record with the image's file key when the kernel gave one (the
 * hash worker's cache is then looked up at once: hasher.h). */
static void emit_built_keyed(struct ebpf_state *s, struct pr_builder *b, const struct pr_file_key *key) {
  uint32_t size = pr_rb_finish(b);
  if (size) pr_lib_emit_keyed(s->lib, b->buf, size, key);
}

static uint32_t comm_len(const char comm[16]) {
  uint32_t n = 0;
  while (n < 16 && comm[n]) n++;
  return n;
}

/* The snapshot's processes (after pr_lib_snapshot, before the reader
 * starts). Without memory the check is skipped: a process created during
 * the snapshot may then show twice. */
static void keep_snapshot(struct ebpf_state *s) {
  size_t n;
  const struct pr_snapshot_entry *e = pr_lib_snapshot_entries(s->lib, &n);
  pr_snap_index_free(&s->snap);
  pr_snap_index_init(&s->snap, e, n);
}

/* ---- the ring while the snapshot is taken ----
 *
 * The reader starts after the snapshot, so while /proc is walked the ring
 * holds every record since the attach. A process the snapshot reads whose
 * fork is among them, after records of an earlier process under its pid
 * (with churn, a pid is reused many times while /proc is walked), is left
 * out of the snapshot: its PROCESS_CREATE stands for it, after those
 * records, which after a snapshot record of the pid would be taken for the
 * snapshot's process (its exit, the creates of real processes). The ring is
 * read through a read-only view of its own (the ring's layout and record
 * headers are the kernel's ABI, linux/bpf.h), up to the producer's
 * position, as far as records are committed; nothing is consumed. */
struct snapshot_scan {
  const uint8_t *view; /* consumer page, producer page, data mapped twice */
  size_t view_len;
  size_t page;
  uint64_t mask; /* data bytes - 1 */
  uint64_t pos;  /* scanned up to here */
  struct pr_u32map forks; /* pid -> start_ns of its latest process fork seen */
  struct pr_u32map pids;  /* pid -> SEEN, | AFTER_OTHERS: that fork came after records of the pid */
};

#define SEEN 1u
#define AFTER_OTHERS 2u

static int scan_open(struct snapshot_scan *c, int map_fd, uint32_t ring) {
  void *v;
  memset(c, 0, sizeof(*c));
  c->page = (size_t)sysconf(_SC_PAGESIZE);
  c->view_len = 2 * c->page + 2 * (size_t)ring;
  v = mmap(NULL, c->view_len, PROT_READ, MAP_SHARED, map_fd, 0);
  if (v == MAP_FAILED) return -1;
  if (pr_u32map_init(&c->forks, 1024) != 0 || pr_u32map_init(&c->pids, 1024) != 0) {
    pr_u32map_free(&c->forks);
    munmap(v, c->view_len);
    return -1;
  }
  c->view = v;
  c->mask = (uint64_t)ring - 1;
  c->pos = __atomic_load_n((const unsigned long *)(const void *)c->view, __ATOMIC_ACQUIRE);
  return 0;
}

static void scan_close(struct snapshot_scan *c) {
  if (c->view) munmap((void *)(uintptr_t)c->view, c->view_len);
  pr_u32map_free(&c->forks);
  pr_u32map_free(&c->pids);
  c->view = NULL;
}

/* Notes the records committed since the last call. */
static void scan_more(struct snapshot_scan *c) {
  const uint8_t *data = c->view + 2 * c->page;
  uint64_t end = __atomic_load_n((const unsigned long *)(const void *)(c->view + c->page), __ATOMIC_ACQUIRE);
  while (c->pos < end) {
    const uint32_t *hdr = (const void *)(data + (c->pos & c->mask));
    uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
    uint32_t n = len & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
    if (len & BPF_RINGBUF_BUSY_BIT) break; /* being written: the next call */
    if (!(len & BPF_RINGBUF_DISCARD_BIT) && n >= sizeof(struct pb_hdr)) {
      const struct pb_fork *f = (const void *)(hdr + 2);
      uint64_t seen = 0;
      pr_u32map_get(&c->pids, f->h.pid, &seen);
      if (f->h.kind == PB_FORK && !(f->h.flags & PB_F_THREAD) && n >= sizeof(struct pb_fork)) {
        pr_u32map_put(&c->forks, f->h.pid, f->start_ns);
        seen = seen ? SEEN | AFTER_OTHERS : SEEN;
      }
      pr_u32map_put(&c->pids, f->h.pid, seen | SEEN);
    }
    c->pos += (n + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
  }
}

/* pr_snap_live_fn: whether the ring holds the fork of the process just read
 * after records of an earlier process under its pid. Its fork is the pid's
 * latest so far when that started no later than the read and in the tick
 * /proc gave (a later fork is of a process after the one read, which ended
 * since). Without memory for the maps, nothing is known: the snapshot
 * records it. */
static int reused_in_ring(void *ctx, uint32_t pid, uint64_t start_ns, uint64_t read_ns) {
  struct snapshot_scan *c = ctx;
  uint64_t fork_start, seen;
  scan_more(c);
  if (!pr_u32map_get(&c->forks, pid, &fork_start) || !pr_u32map_get(&c->pids, pid, &seen)) return 0;
  return (seen & AFTER_OTHERS) && fork_start <= read_ns &&
         pr_snap_same_start(start_ns, fork_start, pr_procfs_tick_ns());
}

/* The snapshot (after the attach, before the reader starts). Without the
 * view, the snapshot leaves out only what started after it began (as the
 * proc connector source's). */
static int take_snapshot(struct ebpf_state *s) {
  struct snapshot_scan c;
  int err;
  if (scan_open(&c, bpf_map__fd(s->skel->maps.events), bpf_map__max_entries(s->skel->maps.events)) != 0)
    return pr_snapshot_take(s->lib, NULL, NULL);
  err = pr_snapshot_take(s->lib, reused_in_ring, &c);
  scan_close(&c);
  return err;
}

/* A process created between the attach and the snapshot's read of it (and
 * not left out of the snapshot: snapshot_scan) is in the ring and in the
 * snapshot: the snapshot record stands for it. Its start time (task
 * start_time, set before the pid is visible in /proc) is no later than that
 * read and in the tick /proc gave; an earlier process under the pid started
 * before it, a later one after the read. */
static int in_snapshot(const struct ebpf_state *s, uint32_t pid, uint64_t start_ns) {
  return pr_snap_index_covers(&s->snap, pid, start_ns);
}

/* The stat(2) encoding of a kernel dev_t (MAJOR << 20 | MINOR), as
 * glibc's makedev. */
static uint64_t user_dev(uint64_t kdev) {
  uint64_t major = (kdev >> 20) & 0xfffu, minor = kdev & 0xfffffu;
  return ((major & 0xfffff000u) << 32) | ((major & 0xfffu) << 8) | ((minor & 0xffffff00u) << 12) | (minor & 0xffu);
}

/* Copies a task's identity into an info (all PR_PROV_KERNEL). */
static void put_ids(struct pr_proc_info *info, const struct pb_ids *ids, uint16_t pb_flags) {
  info->uid = ids->uid;
  info->gid = ids->gid;
  info->euid = ids->euid;
  info->egid = ids->egid;
  info->loginuid = (pb_flags & PB_F_NO_AUDIT) ? PR_ID_UNSET : ids->loginuid;
  info->sessionid = (pb_flags & PB_F_NO_AUDIT) ? PR_ID_UNSET : ids->sessionid;
  info->prov_cred = PR_PROV_KERNEL;
  info->cgroup_id = ids->cgroup_id;
  info->prov_cgroup = PR_PROV_KERNEL;
  info->ns_pid = ids->ns_pid;
  info->ns_mnt = ids->ns_mnt;
  info->ns_net = ids->ns_net;
  info->ns_user = ids->ns_user;
  info->ns_cgroup = ids->ns_cgroup;
  info->prov_ns = PR_PROV_KERNEL;
}

static void on_fork(struct ebpf_state *s, const struct pb_fork *f) {
  struct pr_builder b;
  if (!(f->h.flags & PB_F_THREAD)) {
    /* the first create of a pid decides: a later one is a new process */
    int covered = in_snapshot(s, f->h.pid, f->start_ns);
    pr_snap_index_retire(&s->snap, f->h.pid);
    if (covered) return;
  }
  if (f->h.flags & PB_F_THREAD) {
    struct pr_rec_thread_create *r;
    start_rec(s, &b, PR_REC_THREAD_CREATE, sizeof(*r), &f->h, f->h.tid);
    r = (struct pr_rec_thread_create *)(void *)b.buf;
    r->creator_pid = f->cpid;
    r->creator_tid = f->ctid;
    r->start_ns = f->start_ns;
  } else {
    struct pr_rec_process_create *r;
    start_rec(s, &b, PR_REC_PROCESS_CREATE, sizeof(*r), &f->h, f->h.tid);
    r = (struct pr_rec_process_create *)(void *)b.buf;
    r->parent_pid = f->ppid;
    r->parent_tid = f->ptid;
    r->creator_pid = f->cpid;
    r->creator_tid = f->ctid;
    r->start_ns = f->start_ns;
    put_ids(&r->info, &f->ids, f->h.flags);
    r->info.prov_comm = PR_PROV_KERNEL;
    pr_rb_add_str(&b, offsetof(struct pr_rec_process_create, info.comm), f->comm, comm_len(f->comm),
                  s->max_string);
  }
  emit_built(s, &b);
}

/* The image of an exec whose path the BPF program could not walk (deeper
 * than PATH_DEPTH directories), from /proc/PID/exe, when the process is
 * still the one that exec'd (started before the exec: not a reused pid) and
 * its exe link still names the exec'd file (dev: user_dev's encoding).
 * Returns PR_PROV_PROC with the path in buf[0..*len) and the link's
 * PR_I_DELETED / PR_I_FILELESS in *iflags, else the provenance of no image
 * (pr_procfs_exe_image): a process that exited or exec'd again in between
 * is PR_PROV_GONE. Not with PR_OPT_NO_ENRICH (no /proc reads). */
/* Whether the paths a[0..an) and b[0..bn) end in the same file name (a
 * " (deleted)" of b's left out). */
static int same_file_name(const char *a, uint32_t an, const char *b, uint32_t bn) {
  uint32_t i = an, j = bn;
  if (bn >= 10 && memcmp(b + bn - 10, " (deleted)", 10) == 0) j = bn - 10;
  while (i > 0 && j > 0 && a[i - 1] != '/' && b[j - 1] != '/') {
    if (a[i - 1] != b[j - 1]) return 0;
    i--, j--;
  }
  return (i == 0 || a[i - 1] == '/') && (j == 0 || b[j - 1] == '/');
}

static uint8_t image_from_proc(struct ebpf_state *s, const struct pb_exec *e, uint64_t dev, char *buf, size_t cap,
                               uint32_t *len, uint32_t *iflags) {
  struct pr_procfs_stat st;
  size_t n = 0;
  uint8_t prov;
  int fd;
  *len = 0;
  *iflags = 0;
  if (pr_lib_options(s->lib)->flags & PR_OPT_NO_ENRICH) return PR_PROV_NONE;
  fd = pr_procfs_open(e->h.pid, &st);
  if (fd < 0) {
    if (errno == EACCES || errno == EPERM) return PR_PROV_DENIED;
    return errno == ENOENT || errno == ESRCH ? PR_PROV_GONE : PR_PROV_NONE;
  }
  /* As nl_enricher.c: a process that started after the exec has a reused
   * pid (ticks round down, so the true process always passes). */
  if (pr_procfs_start_mono(st.start_ticks, pr_lib_boot_minus_mono(s->lib)) > e->h.ts + 1000000u) {
    prov = PR_PROV_GONE;
  } else {
    prov = pr_procfs_exe_image(fd, dev, e->ino, buf, cap, &n, iflags);
    *len = (uint32_t)n;
  }
  close(fd);
  return prov;
}

static void on_exec(struct ebpf_state *s, const struct pb_exec *e, size_t avail) {
  struct pr_builder b;
  struct pr_rec_exec *r;
  const char *image = (const char *)(e + 1);
  const char *argv = image + e->image_len;
  uint32_t alen = e->argv_len;
  const char *cwd = argv + alen;
  const char *cgroup = cwd + e->cwd_len;
  char image_buf[PB_IMAGE_CAP + 16], cwd_buf[PB_CWD_CAP + 16];
  uint32_t ilen = e->image_len, clen = e->cwd_len;
  uint16_t flags = 0;
  uint8_t prov_image = PR_PROV_KERNEL;
  struct pr_file_key key;
  int t;
  key.valid = 0;
  if (sizeof(*e) + (size_t)e->image_len + alen + e->cwd_len + e->cgroup_len > avail)
    return; /* malformed: cannot happen */
  start_rec(s, &b, PR_REC_EXEC, sizeof(*r), &e->h, e->h.tid);
  r = (struct pr_rec_exec *)(void *)b.buf;
  r->start_ns = e->start_ns;
  put_ids(&r->info, &e->ids, e->h.flags);
  if (e->h.flags & PB_F_CGROUP_TRUNCATED) r->info.image_flags |= PR_I_CGROUP_TRUNCATED;
  /* the file's device and inode come from the exec'd file itself, whether
   * or not its path could be walked */
  r->info.dev = user_dev(e->dev);
  r->info.ino = e->ino;
  r->info.prov_file = PR_PROV_KERNEL;
  if (e->h.flags & PB_F_FILE_KEY) {
    key.dev = r->info.dev;
    key.ino = e->ino;
    key.size = e->file_size;
    key.mtime_ns = e->mtime_ns;
    key.ctime_ns = e->ctime_ns;
    key.valid = 1;
  }
  if (e->h.flags & PB_F_IMAGE_PSEUDO) r->info.image_flags |= PR_I_FILELESS;
  if (e->h.flags & PB_F_IMAGE_DELETED) r->info.image_flags |= PR_I_DELETED;
  if (e->h.flags & PB_F_IMAGE_FILENAME) {
    /* a path too deep or long to walk: what the caller asked to run (a
     * symlink, "./x") is not the file's path, so it is not recorded; the
     * exe link gives the path while it names this file (with d_path's
     * " (deleted)" already: the BPF program set neither flag here) */
    uint32_t iflags, asked = ilen;
    prov_image = image_from_proc(s, e, r->info.dev, image_buf, sizeof(image_buf), &ilen, &iflags);
    /* the link names the file as it is now: one renamed since the exec (by
     * the program itself, say) or run through a symlink of another name
     * would be recorded under a name it was not run by */
    if (prov_image == PR_PROV_PROC && !same_file_name(image, asked, image_buf, ilen)) prov_image = PR_PROV_NONE;
    if (prov_image == PR_PROV_PROC) {
      image = image_buf;
      r->info.image_flags |= iflags;
      if (ilen == sizeof(image_buf)) flags |= PR_F_IMAGE_TRUNCATED;
    } else {
      ilen = 0;
    }
  }
  /* d_path appends " (deleted)" to an unlinked file and a pseudo file alike */
  if ((e->h.flags & (PB_F_IMAGE_PSEUDO | PB_F_IMAGE_DELETED)) && ilen + 10 <= sizeof(image_buf)) {
    memcpy(image_buf, image, ilen);
    memcpy(image_buf + ilen, " (deleted)", 10);
    ilen += 10;
    image = image_buf;
  }
  /* ... and to a removed working directory: the same text as the proc
   * connector source reads from /proc/PID/cwd */
  if ((e->flags2 & PB_F2_CWD_DELETED) && clen + 10 <= sizeof(cwd_buf)) {
    memcpy(cwd_buf, cwd, clen);
    memcpy(cwd_buf + clen, " (deleted)", 10);
    clen += 10;
    cwd = cwd_buf;
  }
  r->info.prov_comm = PR_PROV_KERNEL;
  r->info.prov_image = prov_image;
  r->info.prov_argv = (e->h.flags & PB_F_ARGV_FAULT) ? PR_PROV_NONE : PR_PROV_KERNEL;
  r->info.prov_cwd = e->cwd_len ? PR_PROV_KERNEL : PR_PROV_NONE;
  r->info.argv_full_len = e->argv_full_len;
  if (e->h.flags & PB_F_ARGV_TRUNCATED) flags |= PR_F_ARGV_TRUNCATED;
  if ((e->h.flags & PB_F_IMAGE_TRUNCATED) && !(e->h.flags & PB_F_IMAGE_FILENAME)) flags |= PR_F_IMAGE_TRUNCATED;
  t = pr_rb_add_str(&b, offsetof(struct pr_rec_exec, info.image), image, ilen, s->max_string);
  if (t == 1) flags |= PR_F_IMAGE_TRUNCATED;
  t = pr_rb_add_str(&b, offsetof(struct pr_rec_exec, info.argv), argv, alen, s->max_string);
  if (t == 1) {
    flags |= PR_F_ARGV_TRUNCATED;
    alen = r->info.argv.len;
  }
  r->info.argc = pr_argv_count((const uint8_t *)argv, alen);
  pr_rb_add_str(&b, offsetof(struct pr_rec_exec, info.comm), e->comm, comm_len(e->comm), s->max_string);
  pr_rb_add_str(&b, offsetof(struct pr_rec_exec, info.cwd), cwd, clen, s->max_string);
  pr_rb_add_str(&b, offsetof(struct pr_rec_exec, info.cgroup), cgroup, e->cgroup_len, s->max_string);
  r->h.flags = flags;
  emit_built_keyed(s, &b, key.valid ? &key : NULL);
}

/* As the proc connector source (thread_table.h): a thread that is not the
 * last gets PR_REC_THREAD_EXIT; the last one, when it is not the leader,
 * PR_REC_THREAD_EXIT with PR_F_GROUP_DEAD then PR_REC_PROCESS_EXIT; a leader
 * that is the last, PR_REC_PROCESS_EXIT only. Here the kernel says which task
 * is the last (group_dead), and the process status is what wait() reports. */
static void on_exit_task(struct ebpf_state *s, const struct pb_exit *x) {
  struct pr_builder b;
  int last = (x->h.flags & PB_F_GROUP_DEAD) != 0;
  if (!last || x->h.tid != x->h.pid) {
    struct pr_rec_thread_exit *r;
    start_rec(s, &b, PR_REC_THREAD_EXIT, sizeof(*r), &x->h, x->h.tid);
    r = (struct pr_rec_thread_exit *)(void *)b.buf;
    r->status = x->code;
    if (last) r->h.flags |= PR_F_GROUP_DEAD;
    if (x->h.flags & (PB_F_GROUP_EXIT | PB_F_GROUP_EXEC)) r->h.flags |= PR_F_PROCESS_EXITING;
    if ((x->h.flags & PB_F_LEADER_EXITING) && x->h.tid != x->h.pid) r->h.flags |= PR_F_PROCESS_EXITING;
    emit_built(s, &b);
  }
  if (last) {
    struct pr_rec_process_exit *r;
    /* the pid's process ended: a later create under it is a new one */
    pr_snap_index_retire(&s->snap, x->h.pid);
    start_rec(s, &b, PR_REC_PROCESS_EXIT, sizeof(*r), &x->h, x->h.tid);
    r = (struct pr_rec_process_exit *)(void *)b.buf;
    r->status = x->group_status;
    r->start_ns = x->start_ns;
    emit_built(s, &b);
  }
}

static void on_comm(struct ebpf_state *s, const struct pb_comm *c) {
  struct pr_builder b;
  start_rec(s, &b, PR_REC_COMM, sizeof(struct pr_rec_comm), &c->h, c->h.tid);
  pr_rb_add_str(&b, offsetof(struct pr_rec_comm, comm), c->comm, comm_len(c->comm), s->max_string);
  emit_built(s, &b);
}

#define STOP_CONSUMING (-EINTR)

static int on_sample(void *ctx, void *data, size_t size) {
  struct ebpf_state *s = ctx;
  const struct pb_hdr *h = data;
  if (size < sizeof(*h)) return 0;
  pr_lib_count(s->lib, PR_CNT_KERNEL_MSGS, 1);
  emit_pending_lost(s, h->cpu, h->lost_cum, h->ts);
  switch (h->kind) {
  case PB_FORK:
    if (size >= sizeof(struct pb_fork)) on_fork(s, data);
    break;
  case PB_EXEC:
    if (size >= sizeof(struct pb_exec)) on_exec(s, data, size);
    s->drained_exec = 1;
    break;
  case PB_EXIT:
    if (size >= sizeof(struct pb_exit)) on_exit_task(s, data);
    break;
  case PB_COMM:
    if (size >= sizeof(struct pb_comm)) on_comm(s, data);
    break;
  default:
    break;
  }
  /* The record is consumed either way; a pause takes effect at once. */
  return atomic_load(&s->paused) && !atomic_load(&s->stopping) ? STOP_CONSUMING : 0;
}

/* ---- the reader thread ---- */

static void drain(struct ebpf_state *s) {
  int n = ring_buffer__consume(s->rb);
  if (n == 0) flush_lost_map(s); /* ring empty: report failures no record followed */
}

static void *reader(void *arg) {
  struct ebpf_state *s = arg;
  struct epoll_event ev[2];
  uint64_t v;
  int timeout = POLL_MS;
  while (!atomic_load(&s->stopping)) {
    int n = epoll_wait(s->epfd, ev, 2, timeout);
    if (n < 0 && errno != EINTR) break;
    if (atomic_load(&s->stopping)) break;
    for (int i = 0; i < n; i++)
      if (ev[i].data.fd == s->wake_fd) (void)!read(s->wake_fd, &v, sizeof(v));
    if (atomic_load(&s->paused)) continue;
    s->drained_exec = 0;
    drain(s);
    /* An exec wakes this thread at most every 2 ms (exec_wake_flag of the
     * BPF program): one that came sooner after the last waits for a drain
     * that soon, not the POLL_MS one, so that the hash worker still finds
     * it running (two tools dropped and started together). */
    timeout = s->drained_exec ? EXEC_POLL_MS : POLL_MS;
  }
  return NULL;
}

static void poke(struct ebpf_state *s) {
  uint64_t one = 1;
  (void)!write(s->wake_fd, &one, sizeof(one));
}

/* ---- pr_source_ops ---- */

static void free_state(struct ebpf_state *s) {
  if (!s) return;
  if (s->rb) ring_buffer__free(s->rb);
  if (s->skel) procrec_bpf__destroy(s->skel);
  if (s->epfd >= 0) close(s->epfd);
  if (s->wake_fd >= 0) close(s->wake_fd);
  free(s->reported);
  free(s->map_vals);
  free(s->rec);
  pr_snap_index_free(&s->snap);
  free(s);
}

/* The verifier gives up with EAGAIN when a signal is pending for the loading
 * thread (a profiler's SIGPROF, a runtime's signals): load with this
 * thread's signals blocked (they are delivered right after), and retry. */
#define LOAD_ATTEMPTS 3

static int load_quietly(struct procrec_bpf *skel) {
  sigset_t all, old;
  int err;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  err = procrec_bpf__load(skel);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return err;
}

static int ebpf_open(struct pr_lib *lib, char *why, size_t n) {
  const struct procrec_options *o = pr_lib_options(lib);
  struct ebpf_state *s;
  uint32_t ring, wake;
  char btf_path[40];
  int err, btf_fd;

  if (access(BTF_PATH, R_OK) != 0) {
    snprintf(why, n, "the kernel has no BTF (%s: %s)", BTF_PATH, strerror(errno));
    return PR_E_NOSUP;
  }
  s = calloc(1, sizeof(*s));
  if (!s) {
    snprintf(why, n, "out of memory");
    return PR_E_NOMEM;
  }
  s->lib = lib;
  s->epfd = s->wake_fd = s->fail_fd = -1;
  s->max_string = o->max_string;
  s->ncpu = libbpf_num_possible_cpus();
  if (s->ncpu <= 0) {
    snprintf(why, n, "cannot count CPUs: %s", strerror(-s->ncpu));
    free_state(s);
    return PR_E_IO;
  }
  s->reported = calloc((size_t)s->ncpu, sizeof(*s->reported));
  s->map_vals = calloc((size_t)s->ncpu, sizeof(*s->map_vals));
  s->rec_cap = (uint32_t)sizeof(struct pr_rec_exec) + PB_IMAGE_CAP + PB_ARGV_CAP + PB_CWD_CAP + PB_CGROUP_CAP + 80;
  s->rec = aligned_alloc(8, s->rec_cap);
  if (!s->reported || !s->map_vals || !s->rec) {
    snprintf(why, n, "out of memory");
    free_state(s);
    return PR_E_NOMEM;
  }

  libbpf_set_print(keep_libbpf_msg);
  ring = ring_bytes(o->bpf_ring_bytes);
  wake = ring / 4 < WAKE_MAX ? ring / 4 : WAKE_MAX;
  btf_fd = pr_min_btf_fd(); /* see min_btf.c */
  if (btf_fd >= 0) snprintf(btf_path, sizeof(btf_path), "/proc/self/fd/%d", btf_fd);
  for (int attempt = 1;; attempt++) {
    LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_fd >= 0 ? btf_path : NULL);
    bpf_msg[0] = 0;
    s->skel = procrec_bpf__open_opts(&oo);
    if (!s->skel) {
      err = errno;
      snprintf(why, n, "cannot open the BPF object: %s%s%s", strerror(err), bpf_msg[0] ? ": " : "", bpf_msg);
      free_state(s);
      return PR_E_NOSUP;
    }
    s->skel->rodata->argv_max = o->max_string < PB_ARGV_CAP ? o->max_string : PB_ARGV_CAP;
    s->skel->rodata->wake_bytes = wake;
    bpf_map__set_max_entries(s->skel->maps.events, ring);
    err = load_quietly(s->skel);
    if (err && err != -EAGAIN && err != -EPERM && err != -EACCES && btf_fd >= 0) {
      /* the build's BTF did not serve: relocate against the kernel's own */
      close(btf_fd);
      btf_fd = -1;
    } else if (err != -EAGAIN || attempt == LOAD_ATTEMPTS)
      break;
    procrec_bpf__destroy(s->skel); /* a skeleton loads once: open it again */
    s->skel = NULL;
  }
  if (btf_fd >= 0) close(btf_fd); /* libbpf read it while loading */
  if (err) {
    int perm = err == -EPERM || err == -EACCES;
    if (perm)
      snprintf(why, n, "not allowed to load BPF programs (%s; needs root, or CAP_BPF and CAP_PERFMON)",
               strerror(-err));
    else
      snprintf(why, n, "cannot load the BPF programs: %s%s%s", strerror(-err), bpf_msg[0] ? ": " : "",
               bpf_msg);
    free_state(s);
    return perm ? PR_E_PERM : PR_E_NOSUP;
  }
  s->fail_fd = bpf_map__fd(s->skel->maps.reserve_fail);
  pr_lib_set_state(lib, s);
  /* what was found (lib.c says it when the source was chosen automatically) */
  snprintf(why, n, "kernel BTF present at %s, BPF programs loaded", BTF_PATH);
  return PR_OK;
}

static int ebpf_start(struct pr_lib *lib) {
  struct ebpf_state *s = pr_lib_state(lib);
  struct epoll_event ev = {.events = EPOLLIN};
  int err;
  if (!s) return PR_E_STATE;

  s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_sample, s, NULL);
  if (!s->rb) {
    pr_lib_set_error(lib, "Cannot start the eBPF source: ring buffer: %s", strerror(errno));
    return PR_E_IO;
  }
  s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (s->wake_fd < 0 || s->epfd < 0) {
    pr_lib_set_error(lib, "Cannot start the eBPF source: %s", strerror(errno));
    return PR_E_IO;
  }
  ev.data.fd = ring_buffer__epoll_fd(s->rb);
  if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0) goto io;
  ev.data.fd = s->wake_fd;
  if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0) goto io;

  /* Subscribe first: from here on the kernel queues events in the ring. */
  bpf_msg[0] = 0;
  err = procrec_bpf__attach(s->skel);
  if (err) {
    pr_lib_set_error(lib, "Cannot attach the eBPF programs to the scheduler tracepoints: %s%s%s", strerror(-err),
                     bpf_msg[0] ? ": " : "", bpf_msg);
    return err == -EPERM || err == -EACCES ? PR_E_PERM : PR_E_NOSUP;
  }
  s->attached = 1;
  err = take_snapshot(s);
  if (err != PR_OK) {
    procrec_bpf__detach(s->skel);
    s->attached = 0;
    return err;
  }
  keep_snapshot(s);
  err = pr_start_thread(&s->thread, reader, s);
  if (err) {
    procrec_bpf__detach(s->skel);
    s->attached = 0;
    pr_lib_set_error(lib, "Cannot start the eBPF reader thread: %s", strerror(err));
    return PR_E_IO;
  }
  s->thread_started = 1;
  return PR_OK;
io:
  pr_lib_set_error(lib, "Cannot start the eBPF source: epoll: %s", strerror(errno));
  return PR_E_IO;
}

static int ebpf_stop(struct pr_lib *lib) {
  struct ebpf_state *s = pr_lib_state(lib);
  if (!s) return PR_OK;
  if (s->attached) {
    procrec_bpf__detach(s->skel); /* no new events; programs running now finish */
    s->attached = 0;
  }
  if (s->thread_started) {
    atomic_store(&s->stopping, 1);
    poke(s);
    pthread_join(s->thread, NULL);
    s->thread_started = 0;
    /* Everything the programs wrote is in the ring now: drain it whole. */
    while (ring_buffer__consume(s->rb) > 0) {
    }
    flush_lost_map(s);
  }
  return PR_OK;
}

static void ebpf_close(struct pr_lib *lib) {
  struct ebpf_state *s = pr_lib_state(lib);
  pr_lib_set_state(lib, NULL);
  free_state(s);
}

static int ebpf_control(struct pr_lib *lib, uint32_t op) {
  struct ebpf_state *s = pr_lib_state(lib);
  if (!s) return PR_E_STATE;
  switch (op) {
  case PR_CTL_PAUSE_READER:
    atomic_store(&s->paused, 1);
    return PR_OK;
  case PR_CTL_RESUME_READER:
    atomic_store(&s->paused, 0);
    if (s->wake_fd >= 0) poke(s);
    return PR_OK;
  default:
    return PR_E_NOSUP;
  }
}

const struct pr_source_ops pr_source_ebpf = {
    .name = "ebpf",
    .id = PR_SOURCE_EBPF,
    .open = ebpf_open,
    .start = ebpf_start,
    .stop = ebpf_stop,
    .close = ebpf_close,
    .control = ebpf_control,
};
