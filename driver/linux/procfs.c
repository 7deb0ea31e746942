/*
 * procfs.c - see procfs.h.
 */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads up to cap bytes of dirfd/name; *full gets the whole length (reading
 * on to count it). Returns bytes kept, or -1 with errno. */
static ssize_t read_file(int dirfd, const char *name, char *buf, size_t cap, size_t *full) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  size_t kept = 0, total = 0;
  char sink[4096];
  if (fd < 0) return -1;
  for (;;) {
    ssize_t n;
    if (kept < cap) n = read(fd, buf + kept, cap - kept);
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

/* Parses "Uid:\t<real>\t..." from a status buffer. */
static int status_field(const char *s, size_t n, const char *key, uint32_t *out) {
  size_t k = strlen(key), i = 0;
  while (i + k < n) {
    if ((i == 0 || s[i - 1] == '\n') && memcmp(s + i, key, k) == 0) {
      char *end;
      unsigned long v = strtoul(s + i + k, &end, 10);
      if (end == s + i + k) return -1;
      *out = (uint32_t)v;
      return 0;
    }
    i++;
  }
  return -1;
}

uint16_t pr_procfs_fill_info(struct pr_builder *b, uint32_t info_off, int dirfd, const struct pr_procfs_stat *st,
                             uint32_t max_string, int *gone) {
  struct pr_proc_info info;
  uint16_t flags = 0;
  int kthread = st != NULL && (st->flags & PR_PF_KTHREAD) != 0;
  char *buf;
  size_t cap = max_string > 8192 ? max_string : 8192, full = 0;
  ssize_t n;
  int rc;

  *gone = 0;
  memcpy(&info, b->buf + info_off, sizeof(info));
  if (dirfd < 0 || (buf = malloc(cap + 1)) == NULL) {
    info.prov_image = info.prov_argv = info.prov_comm = info.prov_cwd = info.prov_cred =
        dirfd < 0 ? PR_PROV_GONE : PR_PROV_NONE;
    if (dirfd < 0) *gone = 1;
    memcpy(b->buf + info_off, &info, sizeof(info));
    return 0;
  }

  /* Image: the exe link (ENOENT for a zombie or a kernel thread). */
  n = readlinkat(dirfd, "exe", buf, cap);
  if (n >= 0) {
    rc = pr_rb_add_str(b, info_off + offsetof(struct pr_proc_info, image), buf, (uint32_t)n, max_string);
    if (rc == 1 || (size_t)n == cap) flags |= PR_F_IMAGE_TRUNCATED;
    info.prov_image = PR_PROV_PROC;
  } else {
    info.prov_image = prov_of_errno(errno, kthread);
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

  /* uid/gid: the real ids from status. */
  n = read_file(dirfd, "status", buf, cap, NULL);
  if (n > 0 && status_field(buf, (size_t)n, "Uid:", &info.uid) == 0 &&
      status_field(buf, (size_t)n, "Gid:", &info.gid) == 0) {
    info.prov_cred = PR_PROV_PROC;
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
