// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * procrec.bpf.c - the in-kernel half of procrec's eBPF source.
 *
 * Three BTF-typed tracepoint programs (tp_btf: no tracefs needed) write
 * compact records (procrec_bpf.h) into one BPF ring buffer:
 *   sched_process_fork  process or thread created, kernel parent and creator
 *   sched_process_exec  the executable's absolute path (the dentry walk of
 *                       bprm->file, as d_path names it: "/memfd:NAME" for a
 *                       file with no name in any tree, flagged so the library
 *                       appends " (deleted)" as d_path does, and an unlinked
 *                       file flagged deleted; bprm->filename if the walk
 *                       fails), the file's device and inode, argv read from
 *                       the new image's argument area with truncation and
 *                       full length, the cwd, the credentials (real and
 *                       effective, audit login uid and session), the cgroup
 *                       v2 id and path and the namespace inode numbers
 *   sched_process_exit  one task ended: its exit code, and for the last task
 *                       of the group the status wait() reports
 *   task_rename         a task's comm changed (as the proc connector's COMM)
 *
 * Built once with clang against the committed vmlinux.h; CO-RE relocations
 * adapt field offsets to the running kernel. `group_dead` is an argument of
 * sched_process_exit only on newer kernels (6.x): probed with CO-RE, else
 * approximated from signal->live.
 *
 * Loss: a failed reserve increments this CPU's slot of `reserve_fail`; the
 * next record from this CPU carries the count (pb_hdr.lost_cum).
 *
 * Wake-ups: records are committed with BPF_RB_NO_WAKEUP until the unread
 * data reaches wake_bytes; the reader also drains on a short poll timeout.
 * Waking the reader per record costs more than everything else together.
 * An exec wakes it at once, at most every 2 ms (exec_wake_flag).
 *
 * Licence: "Dual MIT/GPL" is GPL-compatible (needed by the helpers used
 * here) and keeps the project MIT.
 */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "procrec_bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Set by the loader before load (read-only afterwards). */
const volatile __u32 argv_max = 4096;        /* argv bytes kept, <= PB_ARGV_CAP */
const volatile __u64 wake_bytes = 256 << 10; /* wake the reader at this much unread data */

/* include/linux/sched/signal.h, include/linux/sched.h (macros are not in BTF) */
#define PR_SIGNAL_GROUP_EXIT 0x00000004
#define PR_PF_EXITING 0x00000004

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 16 << 20); /* resized by the loader (bpf_ring_bytes) */
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} reserve_fail SEC(".maps");

/* When an exec last woke the reader (ns, bpf_ktime_get_ns; one for all
 * CPUs: a race costs one more wake-up, nothing else). */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} exec_woke SEC(".maps");

/* An exec wakes the reader at most this often (ns): see exec_wake_flag. */
#define EXEC_WAKE_NS 2000000ull


/* An exec record is assembled here, then copied into the ring at its size. */
struct exec_scratch {
  struct pb_exec r;
  char data[PB_IMAGE_CAP + PB_ARGV_CAP + PB_CWD_CAP + PB_CGROUP_CAP];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct exec_scratch);
} scratch SEC(".maps");

/* A path is built backwards, ending at PATH_END, then copied into the record. */
#define PATH_END 4096u
#define PATH_DEPTH 40
/* Steps of the walk through bpf_loop: every component takes two bytes of
 * PATH_END at least, so a path that fits has fewer, plus its mount
 * crossings (the unrolled walk of an older kernel stops at PATH_DEPTH). */
#define PATH_LOOP_STEPS 4096
struct path_scratch {
  char b[2 * PATH_END];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct path_scratch);
} pathbuf SEC(".maps");

/* Writes the absolute path of (vfsmnt, dentry), as seen from the initial
 * mount namespace's root, into b[start .. PATH_END) and returns start (the
 * path is at least "/"), or -1 when it is deeper than PATH_DEPTH components
 * (through bpf_loop, walk_path_any: PATH_LOOP_STEPS) or longer than PATH_END
 * bytes. */
static __always_inline long walk_path(struct vfsmount *vfsmnt, struct dentry *dentry, char *b) {
  __u64 moff = bpf_core_field_offset(struct mount, mnt);
  struct mount *mnt = (struct mount *)((char *)vfsmnt - moff);
  __u32 off = PATH_END;
  for (int i = 0; i < PATH_DEPTH; i++) {
    struct dentry *root = BPF_CORE_READ(vfsmnt, mnt_root);
    if (dentry == root) {
      struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
      if (up == mnt || !up) goto done; /* the root mount */
      dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
      mnt = up;
      vfsmnt = (struct vfsmount *)((char *)up + moff);
      continue;
    }
    struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
    if (dentry == parent || !parent) goto done; /* a root outside any mount tree */
    __u32 len = BPF_CORE_READ(dentry, d_name.len);
    const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
    len &= 255;
    if (len + 1 > off) return -1;
    off -= len + 1;
    off &= PATH_END - 1;
    b[off] = '/';
    bpf_probe_read_kernel(b + off + 1, len, name);
    dentry = parent;
  }
  return -1;
done:
  if (off == PATH_END) {
    off = PATH_END - 1;
    b[off] = '/';
  }
  return off;
}

/* bpf_loop (kernel 5.17 and later) is known when the programs load (a CO-RE
 * check); the branch not taken is dead code the verifier does not visit.
 * PR_UNROLLED_LOOPS=1 builds the unrolled loops alone: ebpf-test loads that
 * object too, so that what an older kernel loads stays verified. */
#ifndef PR_UNROLLED_LOOPS
#define PR_UNROLLED_LOOPS 0
#endif
#define HAVE_BPF_LOOP (!PR_UNROLLED_LOOPS && bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop))

/* The dentry walk of walk_path as a bpf_loop callback (kernel 5.17 and
 * later): the verifier checks one step instead of PATH_DEPTH unrolled ones,
 * which was most of the cost of loading the programs (with this walk and
 * copy_cgroup_path's, pr_exec took 63,672 instructions to verify, now
 * 4,635). Same steps, same result: state 1 when the walk reached the root,
 * -1 when it failed. A kernel without bpf_loop verifies the unrolled loops
 * (walk_path, copy_cgroup_path's else branch) as before. */
struct walk_state {
  __u64 vfsmnt, dentry, mnt, moff;
  __u32 off;
  int state;
};

static int walk_step(__u32 i, void *arg) {
  struct walk_state *w = arg;
  __u32 k = 0;
  struct path_scratch *ps = bpf_map_lookup_elem(&pathbuf, &k);
  if (!ps) {
    w->state = -1;
    return 1;
  }
  struct vfsmount *vfsmnt = (struct vfsmount *)w->vfsmnt;
  struct dentry *dentry = (struct dentry *)w->dentry;
  struct mount *mnt = (struct mount *)w->mnt;
  struct dentry *root = BPF_CORE_READ(vfsmnt, mnt_root);
  if (dentry == root) {
    struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
    if (up == mnt || !up) { /* the root mount */
      w->state = 1;
      return 1;
    }
    w->dentry = (__u64)BPF_CORE_READ(mnt, mnt_mountpoint);
    w->mnt = (__u64)up;
    w->vfsmnt = (__u64)((char *)up + w->moff);
    return 0;
  }
  struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
  if (dentry == parent || !parent) { /* a root outside any mount tree */
    w->state = 1;
    return 1;
  }
  __u32 len = BPF_CORE_READ(dentry, d_name.len);
  const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
  __u32 off = w->off;
  len &= 255;
  if (len + 1 > off) {
    w->state = -1;
    return 1;
  }
  off -= len + 1;
  off &= PATH_END - 1;
  ps->b[off] = '/';
  bpf_probe_read_kernel(ps->b + off + 1, len, name);
  w->off = off;
  w->dentry = (__u64)parent;
  return 0;
}

/* walk_path through bpf_loop where the kernel has it, else the loop. */
static __always_inline long walk_path_any(struct vfsmount *vfsmnt, struct dentry *dentry, char *b) {
  if (!HAVE_BPF_LOOP) return walk_path(vfsmnt, dentry, b);
  __u64 moff = bpf_core_field_offset(struct mount, mnt);
  struct walk_state w = {
      .vfsmnt = (__u64)vfsmnt,
      .dentry = (__u64)dentry,
      .mnt = (__u64)((char *)vfsmnt - moff),
      .moff = moff,
      .off = PATH_END,
      .state = 0,
  };
  bpf_loop(PATH_LOOP_STEPS, walk_step, &w, 0);
  if (w.state != 1) return -1;
  __u32 off = w.off;
  if (off == PATH_END) {
    off = PATH_END - 1;
    b[off] = '/';
  }
  return off;
}

/* Copies the path of (vfsmnt, dentry) into this CPU's exec scratch at
 * data[dst_off], at most cap bytes; returns its length, or -1. A global
 * function: the verifier checks its loop once, not once per caller. */
__noinline int copy_path(__u64 vfsmnt, __u64 dentry, __u32 dst_off, __u32 cap) {
  __u32 k = 0;
  struct path_scratch *ps = bpf_map_lookup_elem(&pathbuf, &k);
  struct exec_scratch *s = bpf_map_lookup_elem(&scratch, &k);
  if (!ps || !s) return -1;
  /* checked here, as a pointer the verifier keeps bounded across the walk */
  if (dst_off > PB_IMAGE_CAP + PB_ARGV_CAP) return -1;
  char *dst = s->data + dst_off;
  long start = walk_path_any((struct vfsmount *)vfsmnt, (struct dentry *)dentry, ps->b);
  if (start < 0 || start >= PATH_END) return -1;
  __u32 len = PATH_END - (__u32)start;
  if (len > cap || len > PATH_END - 1) return -1;
  bpf_probe_read_kernel(dst, len & (PATH_END - 1), ps->b + (start & (PATH_END - 1)));
  return (int)len;
}

/* kernfs_node's parent before 6.15 (renamed __parent since). */
struct kernfs_node___old {
  struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn) {
  if (bpf_core_field_exists(kn->__parent)) return BPF_CORE_READ(kn, __parent);
  return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* One step of copy_cgroup_path's walk as a bpf_loop callback (see
 * walk_step): state 1 at the hierarchy's root, -1 on failure. */
struct cgroup_walk {
  __u64 kn;
  __u32 off;
  int state;
};

static int cgroup_step(__u32 i, void *arg) {
  struct cgroup_walk *w = arg;
  __u32 k = 0;
  struct path_scratch *ps = bpf_map_lookup_elem(&pathbuf, &k);
  struct kernfs_node *kn = (struct kernfs_node *)w->kn;
  if (!ps || !kn) {
    w->state = -1;
    return 1;
  }
  struct kernfs_node *up = kn_parent(kn);
  if (!up) { /* the root: its name is not part of paths */
    w->state = 1;
    return 1;
  }
  const char *name = BPF_CORE_READ(kn, name);
  char part[64];
  __u32 off = w->off;
  long n = bpf_probe_read_kernel_str(part, sizeof(part), name);
  if (n <= 1) goto fail;
  __u32 len = (__u32)(n - 1);
  if (len >= sizeof(part) - 1) {
    /* a long name: read it at its place instead */
    n = bpf_probe_read_kernel_str(ps->b + PATH_END, 256, name);
    if (n <= 1) goto fail;
    len = (__u32)(n - 1) & 255;
    if (len + 1 > off) goto fail;
    off -= len + 1;
    off &= PATH_END - 1;
    bpf_probe_read_kernel(ps->b + off + 1, len, name);
  } else {
    len &= 63;
    if (len + 1 > off) goto fail;
    off -= len + 1;
    off &= PATH_END - 1;
    bpf_probe_read_kernel(ps->b + off + 1, len, part);
  }
  ps->b[off] = '/';
  w->off = off;
  w->kn = (__u64)up;
  if (i == PATH_DEPTH - 1 && kn_parent(up)) goto fail;
  return 0;
fail:
  w->state = -1;
  return 1;
}

/* Writes the cgroup v2 path of kn (its names up to the hierarchy's root,
 * "/" for the root itself) into this CPU's exec scratch at data[dst_off];
 * returns its length, or -1 when deeper than PATH_DEPTH or longer than cap.
 * A global function, as copy_path. */
__noinline int copy_cgroup_path(__u64 kn_addr, __u32 dst_off, __u32 cap) {
  __u32 k = 0;
  struct path_scratch *ps = bpf_map_lookup_elem(&pathbuf, &k);
  struct exec_scratch *s = bpf_map_lookup_elem(&scratch, &k);
  struct kernfs_node *kn = (struct kernfs_node *)kn_addr;
  if (!ps || !s || !kn) return -1;
  /* checked here, as a pointer the verifier keeps bounded across the walk */
  if (dst_off > PB_IMAGE_CAP + PB_ARGV_CAP + PB_CWD_CAP) return -1;
  char *dst = s->data + dst_off;
  __u32 off = PATH_END;
  if (HAVE_BPF_LOOP) {
    struct cgroup_walk w = {.kn = kn_addr, .off = PATH_END, .state = 0};
    bpf_loop(PATH_DEPTH, cgroup_step, &w, 0);
    if (w.state < 0) return -1;
    off = w.off;
  } else {
    for (int i = 0; i < PATH_DEPTH; i++) {
      struct kernfs_node *up = kn_parent(kn);
      if (!up) break; /* the root: its name is not part of paths */
      const char *name = BPF_CORE_READ(kn, name);
      char part[64];
      long n = bpf_probe_read_kernel_str(part, sizeof(part), name);
      if (n <= 1) return -1;
      __u32 len = (__u32)(n - 1);
      if (len >= sizeof(part) - 1) {
        /* a long name: read it at its place instead */
        n = bpf_probe_read_kernel_str(ps->b + PATH_END, 256, name);
        if (n <= 1) return -1;
        len = (__u32)(n - 1) & 255;
        if (len + 1 > off) return -1;
        off -= len + 1;
        off &= PATH_END - 1;
        bpf_probe_read_kernel(ps->b + off + 1, len, name);
      } else {
        len &= 63;
        if (len + 1 > off) return -1;
        off -= len + 1;
        off &= PATH_END - 1;
        bpf_probe_read_kernel(ps->b + off + 1, len, part);
      }
      ps->b[off] = '/';
      kn = up;
      if (i == PATH_DEPTH - 1 && kn_parent(kn)) return -1;
    }
  }
  if (off == PATH_END) {
    off = PATH_END - 1;
    ps->b[off] = '/';
  }
  __u32 len = PATH_END - off;
  if (len > cap || len > PB_CGROUP_CAP) return -1;
  bpf_probe_read_kernel(dst, len & (PB_CGROUP_CAP - 1), ps->b + (off & (PATH_END - 1)));
  return (int)len;
}

/* The identity of task t: real_cred's ids, the audit ids, the cgroup v2 id
 * and the namespaces, as /proc/PID/status, loginuid, sessionid and ns/ show
 * them. Returns PB_F_NO_AUDIT when the kernel has no audit ids. */
static __always_inline __u16 fill_ids(struct pb_ids *ids, struct task_struct *t) {
  __u16 flags = 0;
  const struct cred *c = BPF_CORE_READ(t, real_cred);
  ids->uid = BPF_CORE_READ(c, uid.val);
  ids->gid = BPF_CORE_READ(c, gid.val);
  ids->euid = BPF_CORE_READ(c, euid.val);
  ids->egid = BPF_CORE_READ(c, egid.val);
  ids->ns_user = BPF_CORE_READ(c, user_ns, ns.inum);
  if (bpf_core_field_exists(t->loginuid)) {
    ids->loginuid = BPF_CORE_READ(t, loginuid.val);
    ids->sessionid = BPF_CORE_READ(t, sessionid);
  } else {
    ids->loginuid = ids->sessionid = 0xffffffffu;
    flags |= PB_F_NO_AUDIT;
  }
  struct nsproxy *nsp = BPF_CORE_READ(t, nsproxy);
  if (nsp) {
    ids->ns_mnt = BPF_CORE_READ(nsp, mnt_ns, ns.inum);
    ids->ns_net = BPF_CORE_READ(nsp, net_ns, ns.inum);
    ids->ns_cgroup = BPF_CORE_READ(nsp, cgroup_ns, ns.inum);
  }
  /* the pid namespace the task lives in (task_active_pid_ns) */
  struct pid *tp = BPF_CORE_READ(t, thread_pid);
  if (tp) {
    __u32 level = BPF_CORE_READ(tp, level);
    struct upid up = {};
    bpf_core_read(&up, sizeof(up), &tp->numbers[level & 31]);
    ids->ns_pid = BPF_CORE_READ(up.ns, ns.inum);
  }
  ids->cgroup_id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
  return flags;
}

static __always_inline __u64 *fail_slot(void) {
  __u32 k = 0;
  return bpf_map_lookup_elem(&reserve_fail, &k);
}

static __always_inline void count_fail(void) {
  __u64 *f = fail_slot();
  if (f) __sync_fetch_and_add(f, 1);
}

static __always_inline void fill_hdr(struct pb_hdr *h, __u16 kind, __u16 flags, __u32 size,
                                     __u32 pid, __u32 tid) {
  __u64 *f = fail_slot();
  h->kind = kind;
  h->flags = flags;
  h->size = size;
  h->ts = bpf_ktime_get_ns();
  h->pid = pid;
  h->tid = tid;
  h->cpu = bpf_get_smp_processor_id();
  h->lost_cum = f ? (__u32)*f : 0;
}

static __always_inline __u64 wake_flag(void) {
  return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes ? BPF_RB_FORCE_WAKEUP
                                                                      : BPF_RB_NO_WAKEUP;
}

/* An exec wakes the reader at once (at most every EXEC_WAKE_NS), so that the
 * library hands it to the hash worker while a short-lived program still runs
 * its image: through /proc/PID/exe the file is the one exec'd, while after the
 * program's exit only its path is left, and a file written just before the
 * exec cannot be told from one written just after it (a dropped tool run at
 * once went unhashed as "changed"). Execs are few beside thread events: on
 * the storm, 1,500 against 120,000. */
static __always_inline __u64 exec_wake_flag(void) {
  __u32 k = 0;
  __u64 *last = bpf_map_lookup_elem(&exec_woke, &k);
  __u64 now = bpf_ktime_get_ns();
  if (last && now - *last >= EXEC_WAKE_NS) {
    *last = now;
    return BPF_RB_FORCE_WAKEUP;
  }
  return wake_flag();
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(pr_fork, struct task_struct *parent, struct task_struct *child) {
  struct pb_fork *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    count_fail();
    return 0;
  }
  __u32 tgid = BPF_CORE_READ(child, tgid), pid = BPF_CORE_READ(child, pid);
  fill_hdr(&r->h, PB_FORK, tgid != pid ? PB_F_THREAD : 0, sizeof(*r), tgid, pid);
  struct task_struct *rp = BPF_CORE_READ(child, real_parent);
  r->ppid = BPF_CORE_READ(rp, tgid);
  r->ptid = BPF_CORE_READ(rp, pid);
  r->cpid = BPF_CORE_READ(parent, tgid);
  r->ctid = BPF_CORE_READ(parent, pid);
  r->start_ns = BPF_CORE_READ(child, start_time);
  if (tgid == pid) r->h.flags |= fill_ids(&r->ids, child);
  else __builtin_memset(&r->ids, 0, sizeof(r->ids));
  bpf_probe_read_kernel(r->comm, sizeof(r->comm), &child->comm);
  bpf_ringbuf_submit(r, wake_flag());
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pr_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
  __u32 k = 0;
  struct exec_scratch *s = bpf_map_lookup_elem(&scratch, &k);
  if (!s) return 0;
  __u16 flags = 0;

  /* The executable's path, as /proc/PID/exe shows it; else the filename
   * the kernel was asked to run. */
  struct file *file = BPF_CORE_READ(bprm, file);
  struct vfsmount *fmnt = BPF_CORE_READ(file, f_path.mnt);
  struct dentry *fd = BPF_CORE_READ(file, f_path.dentry);
  long n;
  if (BPF_CORE_READ(fd, d_parent) == fd && BPF_CORE_READ(fmnt, mnt_root) != fd) {
    /* A dentry of its own, in no tree (memfd_create, a pseudo file): d_path
     * gives "/" NAME " (deleted)" (simple_dname); the library adds the
     * suffix. */
    s->data[0] = '/';
    n = bpf_probe_read_kernel_str(s->data + 1, 256, BPF_CORE_READ(fd, d_name.name));
    flags |= PB_F_IMAGE_PSEUDO;
  } else {
    n = copy_path((__u64)fmnt, (__u64)fd, 0, PB_IMAGE_CAP - 1);
    /* d_unlinked(): unhashed and not a root */
    if (n > 0 && !BPF_CORE_READ(fd, d_hash.pprev)) flags |= PB_F_IMAGE_DELETED;
  }
  struct inode *ino = BPF_CORE_READ(file, f_inode);
  s->r.dev = BPF_CORE_READ(ino, i_sb, s_dev);
  s->r.ino = BPF_CORE_READ(ino, i_ino);
  /* Size and times as stat(2) gives them (kernels with the split time
   * fields, 6.11+; the top bits of the ctime nanoseconds are flags). A
   * write to the file cannot race this: exec denies writes first. */
  if (bpf_core_field_exists(ino->i_mtime_sec) && bpf_core_field_exists(ino->i_ctime_nsec)) {
    s->r.file_size = (__u64)BPF_CORE_READ(ino, i_size);
    s->r.mtime_ns = BPF_CORE_READ(ino, i_mtime_sec) * 1000000000ll + (BPF_CORE_READ(ino, i_mtime_nsec) & 0x3fffffffu);
    s->r.ctime_ns = BPF_CORE_READ(ino, i_ctime_sec) * 1000000000ll + (BPF_CORE_READ(ino, i_ctime_nsec) & 0x3fffffffu);
    flags |= PB_F_FILE_KEY;
  }
  __u32 ilen;
  if (n > 0) {
    ilen = (__u32)n;
  } else {
    const char *fname = BPF_CORE_READ(bprm, filename);
    flags &= ~(PB_F_IMAGE_PSEUDO | PB_F_IMAGE_DELETED);
    flags |= PB_F_IMAGE_FILENAME;
    n = bpf_probe_read_kernel_str(s->data, PB_IMAGE_CAP, fname);
    ilen = n > 0 ? (__u32)n - 1 : 0;
    if (n >= PB_IMAGE_CAP) flags |= PB_F_IMAGE_TRUNCATED;
  }
  ilen &= PB_IMAGE_CAP - 1;

  /* argv from the new image's argument area: current is p, so a user read
   * sees the pages exec has just filled. */
  struct mm_struct *mm = BPF_CORE_READ(p, mm);
  __u64 as = BPF_CORE_READ(mm, arg_start), ae = BPF_CORE_READ(mm, arg_end);
  __u64 full = ae > as ? ae - as : 0;
  __u32 alen = full > argv_max ? argv_max : (__u32)full;
  if (full > alen) flags |= PB_F_ARGV_TRUNCATED;
  if (alen > PB_ARGV_CAP) alen = PB_ARGV_CAP;
  asm volatile("%[a] &= 0x7fff" : [a] "+r"(alen)); /* keep the bound visible to the verifier */
  if (alen > PB_ARGV_CAP) alen = PB_ARGV_CAP;
  if (alen && bpf_probe_read_user(s->data + ilen, alen, (const void *)as) < 0) {
    flags |= PB_F_ARGV_FAULT;
    alen = 0;
  }

  /* The working directory after the exec (the same as before it). */
  __u32 off = (ilen + alen) & 0x7fff;
  if (off > PB_IMAGE_CAP + PB_ARGV_CAP) off = PB_IMAGE_CAP + PB_ARGV_CAP;
  struct fs_struct *fs = BPF_CORE_READ(p, fs);
  struct dentry *cwd = BPF_CORE_READ(fs, pwd.dentry);
  long c = copy_path((__u64)BPF_CORE_READ(fs, pwd.mnt), (__u64)cwd, off, PB_CWD_CAP - 1);
  __u32 clen = c > 0 ? (__u32)c : 0;
  if (c < 0) flags |= PB_F_CWD_TRUNCATED;
  /* A removed directory (d_unlinked(): unhashed, and not a root, which is
   * never hashed: "/" or a mount's root): d_path, as /proc/PID/cwd shows
   * it, adds " (deleted)"; the library does (source_ebpf.c). */
  s->r.flags2 = c > 0 && !BPF_CORE_READ(cwd, d_hash.pprev) && BPF_CORE_READ(cwd, d_parent) != cwd ? PB_F2_CWD_DELETED : 0;

  /* The cgroup v2 path after the cwd. */
  __u32 goff = (off + clen) & 0x7fff;
  if (goff > PB_IMAGE_CAP + PB_ARGV_CAP + PB_CWD_CAP) goff = PB_IMAGE_CAP + PB_ARGV_CAP + PB_CWD_CAP;
  long g = copy_cgroup_path((__u64)BPF_CORE_READ(p, cgroups, dfl_cgrp, kn), goff, PB_CGROUP_CAP - 1);
  __u32 glen = g > 0 ? (__u32)g : 0;
  if (g < 0) flags |= PB_F_CGROUP_TRUNCATED;

  __u32 tgid = BPF_CORE_READ(p, tgid);
  __u32 size = sizeof(struct pb_exec) + ilen + alen + clen + glen;
  flags |= fill_ids(&s->r.ids, p);
  fill_hdr(&s->r.h, PB_EXEC, flags, size, tgid, (__u32)old_pid);
  s->r.start_ns = BPF_CORE_READ(p, group_leader, start_time);
  s->r.argv_full_len = full > 0xffffffffull ? 0xffffffffu : (__u32)full;
  s->r.argc = BPF_CORE_READ(bprm, argc);
  s->r.image_len = ilen;
  s->r.cwd_len = clen;
  s->r.cgroup_len = glen;
  s->r.argv_len = alen;
  bpf_probe_read_kernel(s->r.comm, sizeof(s->r.comm), &p->comm);

  if (size > sizeof(*s)) return 0; /* cannot happen; bounds the copy for the verifier */
  /* A path the walk could not give is read from /proc/PID/exe by the
   * reader (source_ebpf.c), which is woken at once for it: at the next
   * drain (up to 100 ms) a short-lived program has exited (measured: a deep
   * copy of true, 0 of 20 read that way, 17 of 20 woken at once). The flag
   * is read back from the record (volatile: a map value's bytes, unknown to
   * the verifier): a test of flags itself, whose values the verifier
   * follows as constants through every branch, took pr_exec from 4,828
   * instructions to verify to 105,568 (169,931 unrolled). */
  __u16 written = *(volatile __u16 *)&s->r.h.flags;
  __u64 wake = (written & PB_F_IMAGE_FILENAME) ? BPF_RB_FORCE_WAKEUP : exec_wake_flag();
  if (bpf_ringbuf_output(&events, s, size, wake) < 0) count_fail();
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pr_exit, struct task_struct *p) {
  struct pb_exit *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    count_fail();
    return 0;
  }
  __u16 flags = 0;
  struct signal_struct *sig = BPF_CORE_READ(p, signal);
  int group_dead;
  if (bpf_core_field_exists(struct trace_event_raw_sched_process_exit, group_dead)) {
    /* 6.x: trace_sched_process_exit(p, group_dead) */
    group_dead = (int)(ctx[1] & 0xff);
    flags |= PB_F_GROUP_DEAD_PROBED;
  } else {
    /* Older kernels: do_exit() has decremented signal->live before the
     * tracepoint; 0 means no other thread is still running. */
    group_dead = BPF_CORE_READ(sig, live.counter) == 0;
  }
  unsigned int sflags = BPF_CORE_READ(sig, flags);
  if (sflags & PR_SIGNAL_GROUP_EXIT) flags |= PB_F_GROUP_EXIT;
  if (bpf_core_field_exists(sig->group_exec_task) && BPF_CORE_READ(sig, group_exec_task))
    flags |= PB_F_GROUP_EXEC;
  if (BPF_CORE_READ(p, group_leader, flags) & PR_PF_EXITING) flags |= PB_F_LEADER_EXITING;
  __u32 code = BPF_CORE_READ(p, exit_code);
  __u32 gstatus = 0;
  if (group_dead) {
    flags |= PB_F_GROUP_DEAD;
    /* As wait_task_zombie(): the group's code after a group exit, else the
     * leader's own exit code. */
    gstatus = (sflags & PR_SIGNAL_GROUP_EXIT) ? BPF_CORE_READ(sig, group_exit_code)
                                              : BPF_CORE_READ(p, group_leader, exit_code);
  }
  fill_hdr(&r->h, PB_EXIT, flags, sizeof(*r), BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
  r->code = code;
  r->group_status = gstatus;
  r->start_ns = BPF_CORE_READ(p, group_leader, start_time);
  r->task_start_ns = BPF_CORE_READ(p, start_time);
  bpf_ringbuf_submit(r, wake_flag());
  return 0;
}

SEC("tp_btf/task_rename")
int BPF_PROG(pr_comm, struct task_struct *task, const char *comm) {
  struct pb_comm *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    count_fail();
    return 0;
  }
  fill_hdr(&r->h, PB_COMM, 0, sizeof(*r), BPF_CORE_READ(task, tgid), BPF_CORE_READ(task, pid));
  bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), comm);
  bpf_ringbuf_submit(r, wake_flag());
  return 0;
}
