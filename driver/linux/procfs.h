/*
 * procfs.h - reading one process's details from /proc/<pid>/ for exec
 * enrichment and the start-up snapshot, with per-field provenance.
 *
 * Every read goes through a directory fd of /proc/<pid>: once it is open it
 * keeps naming the same process (reads fail with ESRCH/ENOENT when that
 * process is gone), so a reused pid can never lend its data after the
 * starttime check in pr_procfs_open.
 */
#ifndef PR_LINUX_PROCFS_H
#define PR_LINUX_PROCFS_H

#include <stdint.h>

#include "../common/pr_record.h"

struct pr_procfs_stat {
  uint32_t pid;
  uint32_t ppid;
  uint64_t start_ticks; /* field 22: clock ticks after boot (boot clock) */
  uint32_t flags;       /* field 9: PF_* */
  uint32_t threads;     /* field 20 */
  char comm[64];        /* between the parentheses, NUL-terminated */
  uint32_t comm_len;
};

#define PR_PF_KTHREAD 0x00200000u

/* Opens /proc/<pid> as a directory fd and reads its stat into *st. Returns
 * the fd (>= 0), or -1 with errno (ENOENT/ESRCH: gone). */
int pr_procfs_open(uint32_t pid, struct pr_procfs_stat *st);

/* Monotonic ns of a starttime in ticks, given CLOCK_BOOTTIME - MONOTONIC. */
uint64_t pr_procfs_start_mono(uint64_t start_ticks, int64_t boot_minus_mono);

/* Length of one clock tick in ns (sysconf(_SC_CLK_TCK)). */
uint64_t pr_procfs_tick_ns(void);

/* Where /proc/<pid>/syscall (dirfd) shows the process (PTRACE_MODE_ATTACH
 * is needed: root, or the same user without Yama's restrictions). */
enum pr_sc_state {
  PR_SC_UNKNOWN = 0, /* unreadable (denied) */
  PR_SC_RUNNING,     /* "running": on a CPU or runnable, maybe inside execve */
  PR_SC_ELSEWHERE,   /* blocked or stopped in another syscall or outside any, a zombie, or gone */
  PR_SC_EXECVE,      /* blocked or stopped inside execve or execveat (ia32 and x32 numbers too) */
};
enum pr_sc_state pr_procfs_syscall_state(int dirfd);

/* The exec'd file as fstatat(/proc/PID/exe) gave it while the process ran
 * it: the image hash cache's key (hasher.h). valid is 0 when the stat failed. */
struct pr_file_key {
  uint64_t dev, ino, size;
  int64_t mtime_ns, ctime_ns;
  int valid;
};

/* Fills the struct pr_proc_info at byte info_off of the record in b from
 * the process at dirfd (exe, cmdline, stat's comm, cwd, cgroup, ns/, status,
 * loginuid, sessionid) (dirfd < 0: the process is gone, every field is
 * PR_PROV_GONE). Strings are truncated to max_string. Returns the header
 * flags to add (PR_F_ARGV_TRUNCATED, PR_F_IMAGE_TRUNCATED), and sets *gone
 * when a field could not be read because the process had gone. */
uint16_t pr_procfs_fill_info(struct pr_builder *b, uint32_t info_off, int dirfd, const struct pr_procfs_stat *st,
                             uint32_t max_string, int *gone);

/* The same, and the exe file's key into *key (the stat that gave the
 * record's device and inode: no extra syscall). */
uint16_t pr_procfs_fill_info_key(struct pr_builder *b, uint32_t info_off, int dirfd, const struct pr_procfs_stat *st,
                                 uint32_t max_string, int *gone, struct pr_file_key *key);

/* The image of the process at dirfd as its exe link shows it, taken only
 * while that link names the file (dev, ino) an event reported (dev in
 * stat's st_dev encoding): the link is opened (O_PATH) and its path read
 * back from that open file, so the path and the identity are of one file.
 * The path (" (deleted)" and all, as readlink gives it) goes into buf, at
 * most cap bytes, its length into *len (cap: it may be cut); *iflags gets
 * PR_I_DELETED / PR_I_FILELESS as pr_procfs_fill_info judges them. Returns
 * PR_PROV_PROC, else why there is no image: PR_PROV_GONE (the process
 * exited, or its link names another file: a later exec), PR_PROV_DENIED,
 * PR_PROV_NONE (e.g. a path past PATH_MAX). */
uint8_t pr_procfs_exe_image(int dirfd, uint64_t dev, uint64_t ino, char *buf, size_t cap, size_t *len,
                            uint32_t *iflags);

/* Bytes a record buffer needs for a fixed part of fixed_size and the five
 * strings of a pr_proc_info that /proc fills (image, argv, comm, cwd, cgroup). */
static inline uint32_t pr_procfs_record_cap(uint32_t fixed_size, uint32_t max_string) {
  return fixed_size + 5u * max_string + 8u;
}

#endif /* PR_LINUX_PROCFS_H */
