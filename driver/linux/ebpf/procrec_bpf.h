/*
 * procrec_bpf.h - the records that procrec.bpf.c writes into its BPF ring
 * buffer and source_ebpf.c reads back (kernel to library, never on disk).
 *
 * Included by the BPF program (after vmlinux.h) and by the library (after
 * <linux/types.h>). Little-endian host layout, no padding holes. Every record
 * starts with struct pb_hdr; exec records carry their strings after the fixed
 * part (image then argv), so a record is as long as what it carries.
 *
 * Reserve failures: each CPU counts its failed reserves in the per-CPU map
 * `reserve_fail`; every record carries its CPU's count at the time it was
 * built (lost_cum), so the reader puts a lost record exactly where the
 * failures happened (before the first record that follows them on that CPU),
 * and reads the map for failures that no later record has reported yet.
 */
#ifndef PROCREC_BPF_H
#define PROCREC_BPF_H

enum pb_kind {
  PB_FORK = 1, /* sched_process_fork: a process or a thread was created */
  PB_EXEC = 2, /* sched_process_exec */
  PB_EXIT = 3, /* sched_process_exit: one task ended */
  PB_COMM = 4, /* task_rename: a task's comm changed (prctl, exec) */
};

/* pb_hdr.flags */
#define PB_F_THREAD 0x0001u          /* fork: CLONE_THREAD (new thread, same process) */
#define PB_F_GROUP_DEAD 0x0002u      /* exit: the last live thread of its group */
#define PB_F_GROUP_DEAD_PROBED 0x0004u /* exit: group_dead taken from the tracepoint */
#define PB_F_GROUP_EXIT 0x0008u      /* exit: the whole group is exiting (exit_group, fatal signal) */
#define PB_F_GROUP_EXEC 0x0010u      /* exit: killed by an exec in another thread */
#define PB_F_ARGV_TRUNCATED 0x0020u  /* exec: argv longer than argv_max */
#define PB_F_IMAGE_TRUNCATED 0x0040u /* exec: filename filled the image buffer */
#define PB_F_ARGV_FAULT 0x0080u      /* exec: the argument area could not be read */
#define PB_F_IMAGE_FILENAME 0x0100u  /* exec: image is bprm->filename (the path walk failed; the reader, woken at once, reads /proc/PID/exe) */
#define PB_F_CWD_TRUNCATED 0x0200u   /* exec: cwd deeper or longer than the walk allows */
#define PB_F_LEADER_EXITING 0x0400u  /* exit: the group leader is exiting or has exited */
#define PB_F_IMAGE_PSEUDO 0x0800u    /* exec: the file has no name in a tree (memfd): image is "/" d_name */
#define PB_F_IMAGE_DELETED 0x1000u   /* exec: the file's dentry was unlinked (d_unlinked) */
#define PB_F_CGROUP_TRUNCATED 0x2000u /* exec: the cgroup path is deeper or longer than the walk allows */
#define PB_F_NO_AUDIT 0x4000u        /* fork/exec: the kernel has no loginuid/sessionid (no CONFIG_AUDIT) */
#define PB_F_FILE_KEY 0x8000u        /* exec: file_size, mtime_ns and ctime_ns are the image inode's */
/* pb_exec.flags2 (the header's flags have no bit left) */
#define PB_F2_CWD_DELETED 0x0001u    /* exec: the working directory was removed (d_unlinked) */

/* Identity of a task shared by fork and exec records (48 bytes): the
 * credentials of real_cred, the audit ids, cgroup v2 and namespaces. */
struct pb_ids {
  __u32 uid, gid;   /* real */
  __u32 euid, egid; /* effective */
  __u32 loginuid;   /* audit; (u32)-1 when unset */
  __u32 sessionid;
  __u64 cgroup_id;  /* the default hierarchy's kernfs id */
  __u32 ns_pid, ns_mnt, ns_net, ns_user, ns_cgroup;
  __u32 pad;
};

/* Capacities of the exec strings inside one record (the per-CPU scratch). */
#define PB_IMAGE_CAP 4096u
#define PB_ARGV_CAP 16384u
#define PB_CWD_CAP 4096u
#define PB_CGROUP_CAP 2048u

struct pb_hdr { /* 32 bytes */
  __u16 kind;     /* enum pb_kind */
  __u16 flags;    /* PB_F_* */
  __u32 size;     /* bytes of this record (not padded) */
  __u64 ts;       /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
  __u32 pid;      /* subject tgid */
  __u32 tid;      /* subject pid (thread id) */
  __u32 cpu;      /* CPU that wrote the record */
  __u32 lost_cum; /* reserve failures on that CPU before this record (mod 2^32) */
};

struct pb_fork { /* 120 bytes; hdr pid/tid: the new task */
  struct pb_hdr h;
  __u32 ppid;     /* real_parent's tgid: the kernel's parent */
  __u32 ptid;     /* real_parent's pid: the parent thread */
  __u32 cpid;     /* the task that called fork/clone (tgid) */
  __u32 ctid;     /* ... and its thread id */
  __u64 start_ns; /* new task's start_time (monotonic) */
  struct pb_ids ids; /* of the new task (not filled for a thread) */
  char comm[16];
};

struct pb_exec { /* 168 bytes + image_len + argv_len + cwd_len + cgroup_len; hdr tid: the thread that exec'd */
  struct pb_hdr h;
  __u64 start_ns;      /* group leader's start_time (the process's identity) */
  struct pb_ids ids;   /* after the exec (a setuid image has changed euid) */
  __u64 dev;           /* the image file's super_block s_dev (kernel encoding) */
  __u64 ino;           /* its inode number */
  __u32 argv_full_len; /* bytes of the whole argument area (arg_end - arg_start) */
  __u32 argc;          /* bprm->argc */
  __u16 image_len;     /* bytes of the image path, no NUL */
  __u16 cwd_len;       /* bytes of the working directory, no NUL (0: unknown) */
  __u16 cgroup_len;    /* bytes of the cgroup v2 path, no NUL (0: unknown) */
  __u16 flags2;        /* PB_F2_* */
  __u32 argv_len;      /* bytes of argv kept (NUL-separated, as in the arg area) */
  __u32 pad2;
  char comm[16];
  /* With PB_F_FILE_KEY, the image inode at the exec, as stat(2) shows it:
   * with dev and ino, the image hash cache's key (driver/linux/hasher.h). */
  __u64 file_size;
  __s64 mtime_ns; /* ns since 1970 */
  __s64 ctime_ns;
  /* then image_len bytes of the image path (the executable file's absolute
   * path, as /proc/PID/exe shows it; for a script, its interpreter), then
   * argv_len bytes of arguments, then cwd_len bytes of the working directory,
   * then cgroup_len bytes of the cgroup v2 path */
};

struct pb_exit { /* 56 bytes; hdr pid/tid: the task that ended */
  struct pb_hdr h;
  __u32 code;         /* the task's exit_code (wait-status form) */
  __u32 group_status; /* with PB_F_GROUP_DEAD: the status wait() reports for the process */
  __u64 start_ns;     /* group leader's start_time */
  __u64 task_start_ns; /* this task's start_time */
};

struct pb_comm { /* 48 bytes; hdr pid/tid: the task renamed */
  struct pb_hdr h;
  char comm[16]; /* the new name */
};

#endif /* PROCREC_BPF_H */
