/*
 * procfs.c - see procfs.h.
 */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Reads up to cap bytes of dirfd/name; *full gets the whole length (reading
 * on to count it). Returns bytes kept, or -1 with errno. A /proc/<pid> file
 * fills a read as far as it has bytes (seq_file, cmdline, the id files), so
 * a read shorter than asked is its end: no second read to see 0 (a syscall
 * less per file, on every exec's several files). */
static ssize_t read_file(int dirfd, const char *name, char *buf, size_t cap, size_t *full) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  size_t kept = 0, total = 0;
  char sink[4096];
  if (fd < 0) return -1;
  for (;;) {
    ssize_t n;
    size_t asked = kept < cap ? cap - kept : sizeof(sink);
    if (kept < cap) n = read(fd, buf + kept, asked);
    else n = read(fd, sink, sizeof(sink));
    if (n < 0) {
      int e = errno;
      if (e == EINTR) continue;
      close(fd);
      errno = e;
      return -1;
    }
    if (n == 0) break;
    if (kept < cap) kept += (size_t)n;
    total += (size_t)n;
    if ((size_t)n < asked) break;
  }
  close(fd);
  if (full) *full = total;
  return (ssize_t)kept;
}

static int parse_stat(const char *s, size_t n, struct pr_procfs_stat *st) {
  const char *open_paren = memchr(s, '(', n), *close_paren = NULL, *p;
  unsigned long long v;
  int field;
  size_t i;
  for (i = n; i > 0; i--)
    if (s[i - 1] == ')') {
      close_paren = s + i - 1;
      break;
    }
  if (open_paren == NULL || close_paren == NULL || close_paren < open_paren) return -1;
  st->comm_len = (uint32_t)(close_paren - open_paren - 1);
  if (st->comm_len >= sizeof(st->comm)) st->comm_len = sizeof(st->comm) - 1;
  memcpy(st->comm, open_paren + 1, st->comm_len);
  st->comm[st->comm_len] = 0;
  /* Fields from 3 (state) on, separated by single spaces. */
  p = close_paren + 2;
  for (field = 3; field <= 22 && p < s + n; field++) {
    char *end;
    if (field == 3) {
      p += 2;
      continue;
    }
    v = strtoull(p, &end, 10);
    if (end == p) return -1;
    if (field == 4) st->ppid = (uint32_t)v;
    else if (field == 9) st->flags = (uint32_t)v;
    else if (field == 20) st->threads = (uint32_t)v;
    else if (field == 22) {
      st->start_ticks = v;
      return 0;
    }
    p = end + 1;
  }
  return -1;
}

int pr_procfs_open(uint32_t pid, struct pr_procfs_stat *st) {
  char path[32], buf[1024];
  ssize_t n;
  int fd;
  memset(st, 0, sizeof(*st));
  st->pid = pid;
  snprintf(path, sizeof(path), "/proc/%u", pid);
  fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  n = read_file(fd, "stat", buf, sizeof(buf) - 1, NULL);
  if (n <= 0 || parse_stat(buf, (size_t)n, st) != 0) {
    close(fd);
    errno = ESRCH;
    return -1;
  }
  return fd;
}

uint64_t pr_procfs_tick_ns(void) {
  static uint64_t tick;
  if (tick == 0) {
    long hz = sysconf(_SC_CLK_TCK);
    tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
  }
  return tick;
}

uint64_t pr_procfs_start_mono(uint64_t start_ticks, int64_t boot_minus_mono) {
  int64_t boot_ns = (int64_t)(start_ticks * pr_procfs_tick_ns());
  int64_t mono = boot_ns - boot_minus_mono;
  return mono > 0 ? (uint64_t)mono : 0;
}

static uint8_t prov_of_errno(int e, int kthread) {
  if (e == EACCES || e == EPERM) return PR_PROV_DENIED;
  if (kthread) return PR_PROV_NONE;
  if (e == ENOENT || e == ESRCH) return PR_PROV_GONE;
  return PR_PROV_NONE;
}

/* Parses "Uid:\t<real>\t<effective>..." from a status buffer: the real id
 * into *out, the effective one into *eff. */
static int status_field(const char *s, size_t n, const char *key, uint32_t *out, uint32_t *eff) {
  size_t k = strlen(key), i = 0;
  while (i + k < n) {
    if ((i == 0 || s[i - 1] == '\n') && memcmp(s + i, key, k) == 0) {
      char *end, *end2;
      unsigned long v = strtoul(s + i + k, &end, 10), e;
      if (end == s + i + k) return -1;
      e = strtoul(end, &end2, 10);
      if (end2 == end) return -1;
      *out = (uint32_t)v;
      *eff = (uint32_t)e;
      return 0;
    }
    i++;
  }
  return -1;
}

/* The execve and execveat numbers a process can be in: native, and on
 * x86_64 those of 32-bit (ia32) and x32 processes. A native syscall with an
 * ia32 number (11 is munmap) only makes the check wait (nl_enricher.c). */
static int is_execve_nr(long nr) {
  if (nr == SYS_execve) return 1;
#ifdef SYS_execveat
  if (nr == SYS_execveat) return 1;
#endif
#ifdef __x86_64__
  if (nr == 11 || nr == 358) return 1;                               /* ia32 */
  if (nr == (0x40000000L | 520) || nr == (0x40000000L | 545)) return 1; /* x32 */
#endif
  return 0;
}

enum pr_sc_state pr_procfs_syscall_state(int dirfd) {
  /* the whole line (number, six arguments, sp, pc: at most ~160 bytes) in
   * one read: read_file reads on to the end when the buffer fills */
  char buf[256];
  ssize_t n = read_file(dirfd, "syscall", buf, sizeof(buf) - 1, NULL);
  if (n < 0) return errno == ENOENT || errno == ESRCH ? PR_SC_ELSEWHERE : PR_SC_UNKNOWN;
  if (n == 0) return PR_SC_UNKNOWN;
  buf[n] = 0;
  if (buf[0] == '-') return PR_SC_ELSEWHERE; /* "-1 sp pc": in no syscall (a zombie too) */
  if (buf[0] < '0' || buf[0] > '9') return PR_SC_RUNNING;
  return is_execve_nr(strtol(buf, NULL, 10)) ? PR_SC_EXECVE : PR_SC_ELSEWHERE;
}

/* Reads a decimal id file (loginuid, sessionid). */
static int read_id(int dirfd, const char *name, uint32_t *out) {
  char b[32], *end;
  ssize_t n = read_file(dirfd, name, b, sizeof(b) - 1, NULL);
  if (n <= 0) return -1;
  b[n] = 0;
  unsigned long v = strtoul(b, &end, 10);
  if (end == b) return -1;
  *out = (uint32_t)v;
  return 0;
}

/* Where the cgroup v2 hierarchy is mounted ("" when it is not), found once
 * in /proc/self/mountinfo. */
static char cgroup2_root[512];
static pthread_once_t cgroup2_once = PTHREAD_ONCE_INIT;

static void find_cgroup2(void) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[4096];
  if (!f) return;
  while (fgets(line, sizeof(line), f)) {
    /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPER */
    char *dash = strstr(line, " - cgroup2 ");
    char *p = line, *mp;
    int field;
    if (!dash) continue;
    for (field = 0; field < 4 && p; field++) {
      p = strchr(p, ' ');
      if (p) p++;
    }
    if (!p) continue;
    mp = p;
    p = strchr(mp, ' ');
    if (!p || (size_t)(p - mp) >= sizeof(cgroup2_root)) continue;
    memcpy(cgroup2_root, mp, (size_t)(p - mp));
    cgroup2_root[p - mp] = 0;
    break;
  }
  fclose(f);
}

/* The cgroup v2 path of the process ("0::PATH" in /proc/PID/cgroup) into
 * buf; its length, or -1. */
static ssize_t cgroup_path(int dirfd, char *buf, size_t cap) {
  ssize_t n = read_file(dirfd, "cgroup", buf, cap - 1, NULL);
  char *p;
  if (n <= 0) return -1;
  buf[n] = 0;
  for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, "0::", 3) == 0) {
      char *e = strchr(p + 3, '\n');
      size_t len = e ? (size_t)(e - p - 3) : strlen(p + 3);
      memmove(buf, p + 3, len);
      buf[len] = 0;
      return (ssize_t)len;
    }
  }
  return -1;
}

/* fileless / deleted of an exe link that read as path[0..n) and stats as
 * *st, judged as d_path does: " (deleted)" is appended to an unlinked file
 * and to a file that never had a name (memfd); the latter's device is not
 * that of the directory its name would be in. A file whose name really ends
 * in " (deleted)" and still exists under it is neither. */
static uint32_t image_flags(int dirfd, const char *path, size_t n, const struct stat *st) {
  static const char suffix[] = " (deleted)";
  const size_t sl = sizeof(suffix) - 1;
  char p[4096 + 8];
  struct stat ds;
  char *slash;
  if (n < sl + 1 || n + 6 > sizeof(p) || memcmp(path + n - sl, suffix, sl) != 0 || path[0] != '/') return 0;
  /* relative to the process's root: "root" + path */
  memcpy(p, "root", 4);
  memcpy(p + 4, path, n);
  p[4 + n] = 0;
  if (fstatat(dirfd, p, &ds, 0) == 0 && ds.st_dev == st->st_dev && ds.st_ino == st->st_ino) return 0;
  p[4 + n - sl] = 0;
  slash = strrchr(p + 4, '/');
  if (slash == p + 4) slash[1] = 0; /* the root directory */
  else *slash = 0;
  if (fstatat(dirfd, p, &ds, 0) == 0) return ds.st_dev != st->st_dev ? PR_I_FILELESS : PR_I_DELETED;
  return strncmp(path, "/memfd:", 7) == 0 ? PR_I_FILELESS : PR_I_DELETED;
}

uint8_t pr_procfs_exe_image(int dirfd, uint64_t dev, uint64_t ino, char *buf, size_t cap, size_t *len,
                            uint32_t *iflags) {
  char self[48];
  struct stat st;
  ssize_t n;
  int fd, err;
  *len = 0;
  *iflags = 0;
  fd = openat(dirfd, "exe", O_PATH | O_CLOEXEC);
  if (fd < 0) return prov_of_errno(errno, 0);
  if (fstat(fd, &st) != 0) {
    err = errno;
    close(fd);
    return prov_of_errno(err, 0);
  }
  if ((uint64_t)st.st_dev != dev || (uint64_t)st.st_ino != ino) {
    close(fd);
    return PR_PROV_GONE;
  }
  snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
  n = readlink(self, buf, cap);
  err = errno;
  close(fd);
  if (n < 0) return prov_of_errno(err, 0);
  *len = (size_t)n;
  *iflags = image_flags(dirfd, buf, (size_t)n, &st);
  return PR_PROV_PROC;
}

/* Namespace inode numbers from /proc/PID/ns/; 0 when all failed. Each link
 * reads "TYPE:[INODE]", the inode its target stats as: the link is read, not
 * followed (a lookup in the namespace file system less per namespace). */
static int read_ns(int dirfd, struct pr_proc_info *info) {
  static const char *names[5] = {"ns/pid", "ns/mnt", "ns/net", "ns/user", "ns/cgroup"};
  uint32_t *dst[5] = {&info->ns_pid, &info->ns_mnt, &info->ns_net, &info->ns_user, &info->ns_cgroup};
  int got = 0;
  for (int i = 0; i < 5; i++) {
    char link[64], *open_br, *end;
    unsigned long long ino;
    ssize_t n = readlinkat(dirfd, names[i], link, sizeof(link) - 1);
    if (n <= 0) continue;
    link[n] = 0;
    open_br = strchr(link, '[');
    if (open_br == NULL) continue;
    ino = strtoull(open_br + 1, &end, 10);
    if (end == open_br + 1 || *end != ']') continue;
    *dst[i] = (uint32_t)ino;
    got++;
  }
  return got;
}

uint16_t pr_procfs_fill_info(struct pr_builder *b, uint32_t info_off, int dirfd, const struct pr_procfs_stat *st,
                             uint32_t max_string, int *gone) {
  return pr_procfs_fill_info_key(b, info_off, dirfd, st, max_string, gone, NULL);
}

uint16_t pr_procfs_fill_info_key(struct pr_builder *b, uint32_t info_off, int dirfd, const struct pr_procfs_stat *st,
                                 uint32_t max_string, int *gone, struct pr_file_key *key) {
  struct pr_proc_info info;
  uint16_t flags = 0;
  int kthread = st != NULL && (st->flags & PR_PF_KTHREAD) != 0;
  char *buf;
  size_t cap = max_string > 8192 ? max_string : 8192, full = 0;
  ssize_t n;
  int rc;

  *gone = 0;
  if (key != NULL) key->valid = 0;
  memcpy(&info, b->buf + info_off, sizeof(info));
  if (dirfd < 0 || (buf = malloc(cap + 1)) == NULL) {
    info.prov_image = info.prov_argv = info.prov_comm = info.prov_cwd = info.prov_cred = info.prov_file =
        info.prov_ns = info.prov_cgroup = dirfd < 0 ? PR_PROV_GONE : PR_PROV_NONE;
    if (dirfd < 0) *gone = 1;
    memcpy(b->buf + info_off, &info, sizeof(info));
    return 0;
  }

  /* Image: the exe link (ENOENT for a zombie or a kernel thread;
   * ENAMETOOLONG for a path past PATH_MAX, whose file is still stat'ed). */
  n = readlinkat(dirfd, "exe", buf, cap);
  int link_err = n < 0 ? errno : 0;
  if (n >= 0) {
    rc = pr_rb_add_str(b, info_off + offsetof(struct pr_proc_info, image), buf, (uint32_t)n, max_string);
    if (rc == 1 || (size_t)n == cap) flags |= PR_F_IMAGE_TRUNCATED;
    info.prov_image = PR_PROV_PROC;
  } else {
    info.prov_image = prov_of_errno(link_err, kthread);
  }
  if (n >= 0 || link_err == ENAMETOOLONG) {
    /* the file itself: device, inode, unlinked or never named */
    struct stat st_exe;
    if (fstatat(dirfd, "exe", &st_exe, 0) == 0) {
      info.dev = (uint64_t)st_exe.st_dev;
      info.ino = (uint64_t)st_exe.st_ino;
      if (n >= 0) info.image_flags |= image_flags(dirfd, buf, (size_t)n, &st_exe);
      info.prov_file = PR_PROV_PROC;
      if (key != NULL) {
        key->dev = info.dev;
        key->ino = info.ino;
        key->size = (uint64_t)st_exe.st_size;
        key->mtime_ns = (int64_t)st_exe.st_mtim.tv_sec * 1000000000ll + st_exe.st_mtim.tv_nsec;
        key->ctime_ns = (int64_t)st_exe.st_ctim.tv_sec * 1000000000ll + st_exe.st_ctim.tv_nsec;
        key->valid = 1;
      }
    } else {
      info.prov_file = prov_of_errno(errno, kthread);
    }
  } else {
    info.prov_file = info.prov_image;
  }

  /* argv: NUL-separated; empty for a zombie and for kernel threads. */
  n = read_file(dirfd, "cmdline", buf, max_string + 1u, &full);
  if (n > 0) {
    uint32_t keep = (uint32_t)n > max_string ? max_string : (uint32_t)n;
    rc = pr_rb_add_str(b, info_off + offsetof(struct pr_proc_info, argv), buf, keep, max_string);
    if ((uint32_t)n > max_string || rc == 1) flags |= PR_F_ARGV_TRUNCATED;
    info.argv_full_len = full > UINT32_MAX ? UINT32_MAX : (uint32_t)full;
    info.argc = pr_argv_count((const uint8_t *)buf, keep);
    info.prov_argv = PR_PROV_PROC;
  } else if (n == 0) {
    info.prov_argv = kthread ? PR_PROV_NONE : PR_PROV_GONE;
  } else {
    info.prov_argv = prov_of_errno(errno, kthread);
  }

  /* comm: from the stat read when the directory was opened. */
  if (st != NULL) {
    pr_rb_add_str(b, info_off + offsetof(struct pr_proc_info, comm), st->comm, st->comm_len, max_string);
    info.prov_comm = PR_PROV_PROC;
  }

  /* cwd */
  n = readlinkat(dirfd, "cwd", buf, cap);
  if (n >= 0) {
    pr_rb_add_str(b, info_off + offsetof(struct pr_proc_info, cwd), buf, (uint32_t)n, max_string);
    info.prov_cwd = PR_PROV_PROC;
  } else {
    info.prov_cwd = prov_of_errno(errno, kthread);
  }

  /* cgroup v2 path, and its id: the inode of its directory */
  n = cgroup_path(dirfd, buf, cap);
  if (n >= 0) {
    struct stat cs;
    char *full;
    rc = pr_rb_add_str(b, info_off + offsetof(struct pr_proc_info, cgroup), buf, (uint32_t)n, max_string);
    if (rc == 1) info.image_flags |= PR_I_CGROUP_TRUNCATED;
    pthread_once(&cgroup2_once, find_cgroup2);
    if (cgroup2_root[0] && (full = malloc(sizeof(cgroup2_root) + (size_t)n + 1)) != NULL) {
      snprintf(full, sizeof(cgroup2_root) + (size_t)n + 1, "%s%s", cgroup2_root, buf);
      if (stat(full, &cs) == 0) info.cgroup_id = (uint64_t)cs.st_ino;
      free(full);
    }
    info.prov_cgroup = PR_PROV_PROC;
  } else {
    info.prov_cgroup = prov_of_errno(errno, kthread);
  }

  /* namespaces */
  info.prov_ns = read_ns(dirfd, &info) > 0 ? PR_PROV_PROC : prov_of_errno(errno, kthread);

  /* ids: real and effective from status, the audit ids from their files */
  n = read_file(dirfd, "status", buf, cap, NULL);
  if (n > 0 && status_field(buf, (size_t)n, "Uid:", &info.uid, &info.euid) == 0 &&
      status_field(buf, (size_t)n, "Gid:", &info.gid, &info.egid) == 0) {
    info.prov_cred = PR_PROV_PROC;
    if (read_id(dirfd, "loginuid", &info.loginuid) != 0) info.loginuid = PR_ID_UNSET;
    if (read_id(dirfd, "sessionid", &info.sessionid) != 0) info.sessionid = PR_ID_UNSET;
  } else {
    info.prov_cred = n < 0 ? prov_of_errno(errno, 0) : PR_PROV_GONE;
  }

  free(buf);
  /* pr_rb_add_str wrote the string fields into b; merge ours around them. */
  {
    struct pr_proc_info cur;
    memcpy(&cur, b->buf + info_off, sizeof(cur));
    cur.uid = info.uid;
    cur.gid = info.gid;
    cur.euid = info.euid;
    cur.egid = info.egid;
    cur.loginuid = info.loginuid;
    cur.sessionid = info.sessionid;
    cur.image_flags = info.image_flags;
    cur.dev = info.dev;
    cur.ino = info.ino;
    cur.cgroup_id = info.cgroup_id;
    cur.ns_pid = info.ns_pid;
    cur.ns_mnt = info.ns_mnt;
    cur.ns_net = info.ns_net;
    cur.ns_user = info.ns_user;
    cur.ns_cgroup = info.ns_cgroup;
    cur.prov_file = info.prov_file;
    cur.prov_ns = info.prov_ns;
    cur.prov_cgroup = info.prov_cgroup;
    cur.prov_image = info.prov_image;
    cur.prov_argv = info.prov_argv;
    cur.prov_comm = info.prov_comm;
    cur.prov_cwd = info.prov_cwd;
    cur.prov_cred = info.prov_cred;
    cur.argv_full_len = info.argv_full_len;
    cur.argc = info.argc;
    memcpy(b->buf + info_off, &cur, sizeof(cur));
  }
  *gone = info.prov_image == PR_PROV_GONE || info.prov_argv == PR_PROV_GONE || info.prov_cwd == PR_PROV_GONE ||
          info.prov_cred == PR_PROV_GONE;
  return flags;
}
