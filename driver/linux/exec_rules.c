/*
 * exec_rules.c - see exec_rules.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "exec_rules.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/pr_record.h"
#include "../common/pr_sha256.h"
#include "mount_alias.h"
#include "source.h"

#define STR_CAP 4096  /* each string of a decision */
/* The arguments read for argv rules, at most: more than the kernel lets an
 * exec have (argv and envp strings and pointers together, at most 3/4 of
 * _STK_LIM = 6 MiB, and a quarter of the stack limit; 128 KiB per string),
 * so that every argument of an exec that can succeed is matched. */
#define ARGV_CAP ((size_t)6 << 20)
#define MARKS_MAX 1024 /* file systems marked */
#define RESCAN_MS 1000  /* how often other mount namespaces are looked at */
#define HASH_CACHE 64   /* contents hashed for file: rules, remembered */
#define MOUNTINFO_CAP ((size_t)64 << 20) /* a mount table's text, at most */

/* A file hashed for a file: rule, known by what would change if it did. */
struct hash_entry {
  uint64_t dev, ino, size;
  int64_t mtime_ns, ctime_ns;
  uint8_t sha256[32];
  int used;
};

struct pr_enforcer {
  struct pr_lib *lib;
  struct pr_exec_rules rules;
  int fan_fd;
  int wake_fd;
  int mounts_fd; /* /proc/self/mountinfo: POLLPRI when the mounts change */
  dev_t marked[MARKS_MAX];
  int n_marked;
  pthread_t thread;  /* answers permission events */
  int thread_started;
  pthread_t marker;  /* marks file systems as they appear */
  int marker_started;
  atomic_int stopping;
  struct hash_entry cache[HASH_CACHE]; /* the answer thread's only */
  uint8_t hash_buf[64 * 1024];
  unsigned cache_next;
  /* the thread's buffers */
  char image[STR_CAP], parent[STR_CAP], cgroup[STR_CAP];
  char *argv, *cmdline; /* the new arguments (NUL-separated, joined by spaces): grown as needed */
  size_t argv_cap, cmdline_cap;
  /* some rule has an argv matcher: the arguments are read whole, waiting up
   * to ~200 ms for the caller to sleep; else only what a decision keeps
   * (STR_CAP), as before, waiting ~2 ms: every exec on the host waits for
   * this read */
  int argv_rules;
  /* some rule has a path matcher: the exec'd file's other paths in this
   * mount namespace are learned (learn_aliases); else nothing of this is
   * opened or read */
  int path_rules;
  int alias_fd; /* the answer thread's own /proc/self/mountinfo: POLLPRI when this namespace's mounts change */
  int self_ok;  /* self_mounts is this namespace's table, read since the last change seen */
  struct pr_mount_table self_mounts, other_mounts;
  char *mi_buf; /* a mount table's text */
  size_t mi_cap;
  char root_of[STR_CAP];     /* the caller's root directory, for another namespace's table */
  char fs_path[2 * STR_CAP]; /* the file's path within its file system */
  struct pr_path_aliases aliases;
  uint8_t rec[sizeof(struct pr_rec_exec_decision) + 4 * STR_CAP + 64];
  char events[64 * 1024] __attribute__((aligned(8)));
};

int pr_enforcer_probe(char *why, size_t n) {
  int fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_REPORT_TID, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    snprintf(why, n, "cannot enforce exec rules: fanotify with permission events: %s%s", strerror(e),
             e == EPERM ? " (needs CAP_SYS_ADMIN)"
                        : e == EINVAL || e == ENOSYS ? " (the kernel lacks CONFIG_FANOTIFY_ACCESS_PERMISSIONS)" : "");
    return e == EPERM ? PR_E_PERM : PR_E_NOSUP;
  }
  close(fd);
  return PR_OK;
}

/* ---- marks: one per file system (super block) of this mount namespace ---- */

/* Unescapes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s) {
  char *o = s;
  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    } else {
      *o++ = *s;
    }
  }
  *o = 0;
}

/* Adds a mark for each file system of one mount namespace not marked yet:
 * the mounts of `mountinfo`, reached below `root` ("" for this process's
 * namespace, "/proc/PID/root" for another's). Pseudo file systems that
 * refuse marks are skipped. Runs in the marker thread (and once in
 * pr_enforcer_start before it): a stat that hangs (a dead network mount)
 * never holds up the answers. */
static void mark_namespace(struct pr_enforcer *e, const char *mountinfo, const char *root) {
  FILE *f = fopen(mountinfo, "re");
  char line[4096], path[4096 + 64];
  if (!f) return;
  while (fgets(line, sizeof(line), f)) {
    char *save = NULL, *tok;
    char *mnt = NULL;
    int i = 0;
    struct stat st;
    for (tok = strtok_r(line, " ", &save); tok && i < 5; tok = strtok_r(NULL, " ", &save), i++)
      if (i == 4) mnt = tok;
    if (!mnt) continue;
    unescape(mnt);
    snprintf(path, sizeof(path), "%s%s", root, mnt);
    if (stat(path, &st) != 0) continue;
    int seen = 0;
    for (int k = 0; k < e->n_marked; k++) seen |= e->marked[k] == st.st_dev;
    if (seen || e->n_marked >= MARKS_MAX) continue;
    if (fanotify_mark(e->fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM, AT_FDCWD, path) != 0 &&
        fanotify_mark(e->fan_fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC_PERM, AT_FDCWD, path) != 0)
      continue;
    e->marked[e->n_marked++] = st.st_dev;
  }
  fclose(f);
}

/* This namespace's file systems, then those of every other mount namespace
 * (containers: their overlay roots are mounted only there). */
static void mark_all(struct pr_enforcer *e) {
  struct stat self;
  DIR *d;
  struct dirent *de;
  ino_t seen_ns[256];
  int n_ns = 0;
  mark_namespace(e, "/proc/self/mountinfo", "");
  if (stat("/proc/self/ns/mnt", &self) != 0) return;
  seen_ns[n_ns++] = self.st_ino;
  d = opendir("/proc");
  if (!d) return;
  while ((de = readdir(d)) != NULL && !atomic_load(&e->stopping)) {
    char p[64], info[80], root[64];
    struct stat ns;
    int known = 0;
    if (de->d_name[0] < '1' || de->d_name[0] > '9') continue;
    snprintf(p, sizeof(p), "/proc/%.16s/ns/mnt", de->d_name);
    if (stat(p, &ns) != 0) continue;
    for (int k = 0; k < n_ns; k++) known |= seen_ns[k] == ns.st_ino;
    if (known) continue;
    if (n_ns < 256) seen_ns[n_ns++] = ns.st_ino;
    snprintf(info, sizeof(info), "/proc/%.16s/mountinfo", de->d_name);
    snprintf(root, sizeof(root), "/proc/%.16s/root", de->d_name);
    mark_namespace(e, info, root);
  }
  closedir(d);
}

/* The marker thread: new mounts of this namespace (mountinfo's POLLPRI) at
 * once, every namespace every RESCAN_MS. */
static void *mark_loop(void *arg) {
  struct pr_enforcer *e = arg;
  struct pollfd p[2] = {{.fd = e->wake_fd, .events = POLLIN}, {.fd = e->mounts_fd, .events = POLLPRI}};
  while (!atomic_load(&e->stopping)) {
    int r = poll(p, e->mounts_fd >= 0 ? 2 : 1, RESCAN_MS);
    if (atomic_load(&e->stopping)) break;
    if (r < 0 && errno != EINTR) break;
    mark_all(e);
  }
  return NULL;
}

/* ---- what the event's caller is ---- */

static ssize_t read_small(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n;
  if (fd < 0) return -1;
  n = read(fd, buf, cap - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return n;
}

/* Tgid, PPid and the real and effective uid from /proc/TID/status. */
static int read_status(pid_t tid, uint32_t *tgid, uint32_t *ppid, uint32_t *uid, uint32_t *euid) {
  char path[64], buf[4096];
  const char *p;
  snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
  if (read_small(path, buf, sizeof(buf)) < 0) return -1;
  if (!(p = strstr(buf, "\nTgid:")) || sscanf(p + 6, "%u", tgid) != 1) return -1;
  if (!(p = strstr(buf, "\nPPid:")) || sscanf(p + 6, "%u", ppid) != 1) return -1;
  if (!(p = strstr(buf, "\nUid:")) || sscanf(p + 5, "%u %u", uid, euid) != 2) return -1;
  return 0;
}

/* The cgroup v2 path ("0::PATH") from /proc/TID/cgroup into out. */
static int read_cgroup(pid_t tid, char *out, size_t cap) {
  char path[64], buf[4096];
  const char *p;
  snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)tid);
  if (read_small(path, buf, sizeof(buf)) < 0) return -1;
  p = strncmp(buf, "0::", 3) == 0 ? buf : strstr(buf, "\n0::");
  if (!p) return -1;
  p += p == buf ? 3 : 4;
  size_t n = strcspn(p, "\n");
  if (n >= cap) return -1;
  memcpy(out, p, n);
  out[n] = 0;
  return (int)n;
}

/* What read_new_argv learned. */
enum argv_read {
  ARGV_READ = 0,   /* the arguments are in e->argv */
  ARGV_NONE = -1,  /* the caller is not in an exec system call (a kernel-started helper): there are none to read */
  ARGV_UNREAD = -2 /* the caller is in execve, but its arguments could not be read */
};

/* Grows *p (of *cap bytes) to hold need bytes, at most ARGV_CAP: 0, or -1
 * past ARGV_CAP, or -2 when memory ran out. */
static int grow(char **p, size_t *cap, size_t need) {
  size_t n = *cap ? *cap : STR_CAP;
  char *q;
  if (need <= *cap) return 0;
  if (need > ARGV_CAP) return -1;
  while (n < need) n *= 2;
  if (n > ARGV_CAP) n = ARGV_CAP;
  q = realloc(*p, n);
  if (!q) return -2;
  *p = q;
  *cap = n;
  return 0;
}

/* The new arguments of the exec the caller is blocked in, all of them (up
 * to ARGV_CAP bytes, more than the kernel lets an exec have): its system
 * call's argv pointer from /proc/TID/syscall, the pointers and strings read
 * through /proc/TID/mem, NUL-separated into e->argv; *len the bytes (the
 * last NUL not counted), *argc the arguments, *cut when they did not fit.
 *
 * On x86_64 the system call is execve (59) or execveat (322), or, from a
 * 32-bit caller (a 32-bit program, or int $0x80 from a 64-bit one), the
 * ia32 execve (11) or execveat (358), whose pointers are 32-bit. The kernel
 * reports the number of a compat call as the caller gave it (and its
 * arguments from the ia32 registers), with no sign of its ABI; but the
 * caller waits for an exec permission event, so it is inside an exec: the
 * x86_64 calls numbered 11 (munmap) and 358 (none) never open a file for
 * exec, nor do the ia32 calls numbered 59 and 322. */
static enum argv_read read_new_argv(struct pr_enforcer *e, pid_t tid, size_t *len_out, uint32_t *argc, int *cut) {
  char path[64], buf[512];
  long nr;
  unsigned long long a[6];
  uint64_t uargv;
  unsigned psz = 8; /* the caller's pointer size */
  size_t len = 0;
  int fd, n;
  *argc = 0;
  *cut = 0;
  *len_out = 0;
  snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
  /* The caller queues the event, then goes to sleep waiting for the answer:
   * until it sleeps the file says "running". It cannot go on without the
   * answer, so waiting costs only its exec's time: ~2 ms of short polls,
   * then up to ~200 ms (a caller preempted before it slept, on a loaded
   * host), before its arguments count as unread (which fails closed). */
  const size_t limit = e->argv_rules ? ARGV_CAP : STR_CAP;
  for (int tries = 0;; tries++) {
    if (read_small(path, buf, sizeof(buf)) < 0) return ARGV_UNREAD;
    if (strncmp(buf, "running", 7) != 0) break;
    if (tries >= (e->argv_rules ? 300 : 100)) return ARGV_UNREAD;
    usleep(tries < 100 ? 20 : 1000);
  }
  n = sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5]);
  if (n >= 1 && nr < 0) return ARGV_NONE; /* not in a system call: the kernel started this exec */
  if (n != 7) return ARGV_UNREAD;
#if defined(__x86_64__)
  if (nr == 59) uargv = a[1];        /* execve(path, argv, envp) */
  else if (nr == 322) uargv = a[2];  /* execveat(dirfd, path, argv, envp, flags) */
  else if (nr == 11) uargv = a[1] & 0xffffffffu, psz = 4;  /* ia32 execve */
  else if (nr == 358) uargv = a[2] & 0xffffffffu, psz = 4; /* ia32 execveat */
  else return ARGV_UNREAD; /* an exec call not known here (x32's): fail closed */
#elif defined(__aarch64__)
  if (nr == 221) uargv = a[1];
  else if (nr == 281) uargv = a[2];
  else return ARGV_UNREAD; /* an exec call not known here (arm32's): fail closed */
#else
  (void)nr;
  (void)a;
  return ARGV_UNREAD;
#endif
  if (!uargv) return ARGV_READ;
  snprintf(path, sizeof(path), "/proc/%d/mem", (int)tid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ARGV_UNREAD;
  for (uint64_t i = 0; !*cut;) {
    uint8_t ptrs[4096];
    ssize_t got = pread(fd, ptrs, sizeof(ptrs), (off_t)(uargv + psz * i));
    if (got < (ssize_t)psz) goto unread;
    for (ssize_t at = 0; at + (ssize_t)psz <= got && !*cut; at += psz, i++) {
      uint64_t up = 0;
      size_t chunk = 64, start = len;
      if (psz == 8) memcpy(&up, ptrs + at, 8);
      else {
        uint32_t u32;
        memcpy(&u32, ptrs + at, 4);
        up = u32;
      }
      if (!up) goto done;
      /* the string, in growing reads up to its NUL */
      for (;;) {
        if (len + chunk + 1 > limit) chunk = limit - 1 - len;
        int g = chunk == 0 ? -1 : grow(&e->argv, &e->argv_cap, len + chunk + 1);
        if (g == -2) goto unread; /* out of memory: unread, which fails closed */
        if (g != 0) {
          *cut = 1; /* more than any exec may have: what was read is kept */
          if (len > start) (*argc)++;
          break;
        }
        ssize_t r = pread(fd, e->argv + len, chunk, (off_t)(up + (len - start)));
        if (r <= 0) goto unread;
        char *z = memchr(e->argv + len, 0, (size_t)r);
        if (z) {
          len = (size_t)(z - e->argv) + 1;
          (*argc)++;
          break;
        }
        len += (size_t)r;
        if (chunk < 64 * 1024) chunk *= 2;
      }
    }
  }
done:
  close(fd);
  if (len > 0 && e->argv[len - 1] == 0) len--; /* no trailing NUL, as exec records */
  *len_out = len;
  return ARGV_READ;
unread:
  close(fd);
  return ARGV_UNREAD;
}

/* ---- contents, for file: rules that catch copies ---- */

static int64_t ns_of(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

/* The SHA-256 of the file the event's descriptor is (st: its fstat) into
 * s->sha256: from the cache when the same file (device, inode, size, mtime,
 * ctime) was hashed before, else read with pread (the descriptor's offset is
 * the exec's). Only called for files of a size some file: rule's file has.
 * A read error leaves s->have_sha 0: the copy is not recognised (the file
 * itself still is, by identity). */
static void hash_file(struct pr_enforcer *e, int fd, const struct stat *st, struct pr_exec_subject *s) {
  struct pr_sha256 c;
  uint8_t *buf = e->hash_buf;
  uint64_t at = 0;
  int64_t mt = ns_of(st->st_mtim), ct = ns_of(st->st_ctim);
  for (unsigned i = 0; i < HASH_CACHE; i++) {
    const struct hash_entry *h = &e->cache[i];
    if (h->used && h->dev == (uint64_t)st->st_dev && h->ino == (uint64_t)st->st_ino &&
        h->size == (uint64_t)st->st_size && h->mtime_ns == mt && h->ctime_ns == ct) {
      memcpy(s->sha256, h->sha256, 32);
      s->have_sha = 1;
      pr_lib_count(e->lib, PR_CNT_EXEC_HASH_CACHED, 1);
      return;
    }
  }
  pr_sha256_init(&c);
  while (at < (uint64_t)st->st_size) {
    ssize_t n = pread(fd, buf, sizeof(e->hash_buf), (off_t)at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return; /* unreadable or shorter than its size: not hashed */
    pr_sha256_update(&c, buf, (size_t)n);
    at += (uint64_t)n;
  }
  pr_sha256_final(&c, s->sha256);
  s->have_sha = 1;
  pr_lib_count(e->lib, PR_CNT_EXEC_HASHED, 1);
  {
    struct hash_entry *h = &e->cache[e->cache_next++ % HASH_CACHE];
    h->dev = (uint64_t)st->st_dev;
    h->ino = (uint64_t)st->st_ino;
    h->size = (uint64_t)st->st_size;
    h->mtime_ns = mt;
    h->ctime_ns = ct;
    memcpy(h->sha256, s->sha256, 32);
    h->used = 1;
  }
}

/* ---- a path rule's other paths of the file (mount_alias.h) ---- */

/* The whole text of a mount table (fd: /proc/.../mountinfo, at any offset)
 * into e->mi_buf: its length, or -1. */
static ssize_t read_mountinfo(struct pr_enforcer *e, int fd) {
  size_t len = 0;
  if (lseek(fd, 0, SEEK_SET) != 0) return -1;
  for (;;) {
    if (e->mi_cap - len < 4096) {
      size_t cap = e->mi_cap ? e->mi_cap * 2 : 64 * 1024;
      char *p;
      if (cap > MOUNTINFO_CAP || !(p = realloc(e->mi_buf, cap))) return -1;
      e->mi_buf = p;
      e->mi_cap = cap;
    }
    ssize_t n = read(fd, e->mi_buf + len, e->mi_cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) return (ssize_t)len;
    len += (size_t)n;
  }
}

/* Re-reads this namespace's mount table into e->self_mounts when it changed
 * since it was last read (POLLPRI on e->alias_fd, which the read clears for
 * the next change: proc(5)), or when the last read failed. */
static void refresh_self(struct pr_enforcer *e) {
  struct pollfd p = {.fd = e->alias_fd, .events = POLLPRI};
  ssize_t len;
  if (e->self_ok && poll(&p, 1, 0) == 0) return;
  len = read_mountinfo(e, e->alias_fd);
  e->self_ok = len >= 0 && pr_mountinfo_parse(&e->self_mounts, e->mi_buf, (size_t)len) == 0;
}

/* The mount ID of the mount fd was opened through: statx, or (before Linux
 * 5.8) the descriptor's fdinfo. */
static int mount_id_of(int fd, uint32_t *id) {
  struct statx sx;
  char path[64], buf[1024];
  const char *p;
  if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &sx) == 0 && (sx.stx_mask & STATX_MNT_ID)) {
    *id = (uint32_t)sx.stx_mnt_id;
    return 0;
  }
  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
  if (read_small(path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nmnt_id:")) || sscanf(p + 8, "%u", id) != 1)
    return -1;
  return 0;
}

/* The other paths in this mount namespace of the file the exec opened
 * (descriptor fd, the kernel's path s->image), for path matchers: the mount
 * it went through, found by its ID in this namespace's table or else in the
 * caller's (a mount made only in another namespace: unshare -m, a
 * container), gives the file's path within its file system; every mount of
 * this namespace of that file system which shows that path gives a name.
 * s->aliases_unknown when they could not be learned: the mount is in no
 * table procrec can read (detached by umount -l or made by open_tree, or
 * outside the caller's root directory), a table could not be read, the
 * kernel's path does not lie below the mount's point, or there were more
 * names than PR_ALIASES_MAX. Reads this namespace's table only when it
 * changed, the caller's for each exec through a mount of another
 * namespace. */
static void learn_aliases(struct pr_enforcer *e, int fd, pid_t tid, struct pr_exec_subject *s) {
  const struct pr_mount *m;
  const char *base = "";
  ssize_t base_len = 0;
  uint32_t id;
  long n;
  s->aliases_unknown = 1;
  if (!s->have_image || s->image_len >= STR_CAP - 1) return; /* readlink may have cut it */
  if (mount_id_of(fd, &id) != 0) return;
  refresh_self(e);
  m = e->self_ok ? pr_mount_find(&e->self_mounts, id) : NULL;
  if (!m && e->self_ok) {
    /* mounted during the last read of the table? (the exec can only go
     * through a mount attached before it: its change is seen by now) */
    refresh_self(e);
    m = e->self_ok ? pr_mount_find(&e->self_mounts, id) : NULL;
  }
  if (!e->self_ok) return;
  if (!m) {
    /* Another namespace's mount: the caller's table names mount points
     * from the caller's root directory, the kernel names the file from the
     * root of that namespace (the path it gives for a mount this process
     * cannot reach): the caller's root, named the same way, goes first
     * ("/" unless the caller is chrooted). */
    char path[64];
    ssize_t len;
    int mfd;
    snprintf(path, sizeof(path), "/proc/%d/root", (int)tid);
    base_len = readlink(path, e->root_of, STR_CAP - 1);
    if (base_len <= 0 || base_len >= STR_CAP - 1) return;
    base = e->root_of;
    snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)tid);
    if ((mfd = open(path, O_RDONLY | O_CLOEXEC)) < 0) return;
    len = read_mountinfo(e, mfd);
    close(mfd);
    if (len < 0 || pr_mountinfo_parse(&e->other_mounts, e->mi_buf, (size_t)len) != 0) return;
    if (!(m = pr_mount_find(&e->other_mounts, id))) return;
  }
  n = pr_mount_fs_path(m, base, (size_t)base_len, s->image, s->image_len, e->fs_path, sizeof(e->fs_path));
  if (n < 0) return;
  pr_mount_aliases(&e->self_mounts, m->major, m->minor, e->fs_path, (size_t)n, &e->aliases);
  s->aliases = e->aliases.p;
  s->alias_lens = e->aliases.len;
  s->n_aliases = e->aliases.n;
  s->aliases_unknown = e->aliases.cut;
}

/* ---- one event ---- */

/* `now`: when it was decided, while the caller still waited (after the
 * answer the caller may fail its exec and exit at once, and its exit must not
 * come before its decision) */
static void emit_decision(struct pr_enforcer *e, uint64_t now, pid_t tid, uint32_t tgid, uint32_t rule,
                          uint32_t action, uint16_t flags, const struct pr_exec_subject *s, uint32_t ppid,
                          const char *argv, int argv_len, uint32_t argc, uint64_t cgroup_id) {
  struct pr_builder b;
  struct pr_rec_exec_decision *r;
  struct pr_rec_header *h;
  uint32_t lim = pr_lib_options(e->lib)->max_string;
  if (lim == 0 || lim > STR_CAP) lim = STR_CAP; /* the arguments may be megabytes: the record keeps STR_CAP */
  if (pr_rb_init(&b, e->rec, sizeof(e->rec), PR_REC_EXEC_DECISION, sizeof(*r)) != 0) return;
  h = pr_rb_header(&b);
  h->mono_ns = now;
  h->utc_ns = pr_lib_utc_ns(e->lib, now);
  h->pid = tgid;
  h->tid = (uint32_t)tid;
  r = (struct pr_rec_exec_decision *)(void *)b.buf;
  r->rule = rule;
  r->action = action;
  r->ppid = ppid;
  r->uid = s->uid;
  r->euid = s->euid;
  r->argc = argc;
  r->dev = s->dev;
  r->ino = s->ino;
  r->cgroup_id = cgroup_id;
  if (pr_rb_add_str(&b, offsetof(struct pr_rec_exec_decision, image), s->image, (uint32_t)s->image_len, lim) == 1)
    flags |= PR_F_IMAGE_TRUNCATED;
  if (argv_len >= 0 &&
      pr_rb_add_str(&b, offsetof(struct pr_rec_exec_decision, argv), argv, (uint32_t)argv_len, lim) == 1)
    flags |= PR_F_ARGV_TRUNCATED;
  pr_rb_add_str(&b, offsetof(struct pr_rec_exec_decision, parent), s->parent, (uint32_t)s->parent_len, lim);
  pr_rb_add_str(&b, offsetof(struct pr_rec_exec_decision, cgroup), s->cgroup, (uint32_t)s->cgroup_len, lim);
  h->flags = flags;
  uint32_t size = pr_rb_finish(&b);
  if (size) pr_lib_emit(e->lib, b.buf, size);
}

/* Decides one permission event and answers it (always: a waiting exec is
 * never left waiting). */
static void handle(struct pr_enforcer *e, const struct fanotify_event_metadata *m) {
  char *image = e->image, *parent = e->parent, *cgroup = e->cgroup;
  struct pr_exec_subject s;
  struct fanotify_response resp = {.fd = m->fd, .response = FAN_ALLOW};
  char path[64];
  struct stat st;
  uint32_t tgid = 0, ppid = 0, rule = 0, action = 0, argc = 0;
  pid_t tid = m->pid;
  int cut = 0, argv_len = -1;
  size_t len = 0;
  uint16_t flags = 0;
  uint64_t cgroup_id = 0;
  ssize_t n;

  memset(&s, 0, sizeof(s));
  snprintf(path, sizeof(path), "/proc/self/fd/%d", m->fd);
  n = readlink(path, image, STR_CAP - 1);
  if (n > 0) {
    s.image = image;
    s.image_len = (size_t)n;
    s.have_image = 1;
  }
  if (e->path_rules) learn_aliases(e, m->fd, tid, &s);
  if (fstat(m->fd, &st) == 0) {
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = (uint64_t)st.st_size;
    s.have_file = 1;
    /* only a file of a size some file: rule's file has is read */
    if (pr_exec_rules_hash_wanted(&e->rules, s.dev, s.ino, s.size)) hash_file(e, m->fd, &st, &s);
  }
  if (read_status(tid, &tgid, &ppid, &s.uid, &s.euid) == 0) {
    s.have_ids = 1;
    snprintf(path, sizeof(path), "/proc/%u/exe", ppid);
    n = ppid ? readlink(path, parent, STR_CAP - 1) : -1;
    if (n > 0) {
      s.parent = parent;
      s.parent_len = (size_t)n;
      s.have_parent = 1;
    }
  } else {
    tgid = (uint32_t)tid;
  }
  n = read_cgroup(tid, cgroup, STR_CAP);
  if (n >= 0) {
    char cpath[STR_CAP + 32];
    s.cgroup = cgroup;
    s.cgroup_len = (size_t)n;
    s.have_cgroup = 1;
    snprintf(cpath, sizeof(cpath), "/sys/fs/cgroup%s", cgroup);
    if (stat(cpath, &st) == 0) cgroup_id = st.st_ino;
  }
  switch (read_new_argv(e, tid, &len, &argc, &cut)) {
  case ARGV_READ:
    if (grow(&e->cmdline, &e->cmdline_cap, len + 1) != 0) {
      s.argv_unread = 1;
      break;
    }
    if (len) memcpy(e->cmdline, e->argv, len);
    for (size_t i = 0; i < len; i++)
      if (e->cmdline[i] == 0) e->cmdline[i] = ' ';
    e->cmdline[len] = 0;
    argv_len = (int)len;
    s.cmdline = e->cmdline;
    s.cmdline_len = len;
    s.have_argv = 1;
    if (cut) flags |= PR_F_ARGV_TRUNCATED;
    break;
  case ARGV_UNREAD:
    s.argv_unread = 1;
    break;
  case ARGV_NONE:
    break;
  }

  int matched = pr_exec_decide(&e->rules, &s, &rule, &action);
  if (matched && pr_exec_matched_by_content(&e->rules, rule, &s)) flags |= PR_F_BY_CONTENT;
  /* the rule's argv matcher could not be evaluated and counted as a match
   * (fail closed): the decision has no argv and says it is cut, all of it */
  if (matched && pr_exec_argv_unread(&e->rules, rule, &s)) flags |= PR_F_ARGV_TRUNCATED;
  if (matched && action == PR_RULE_DENY) {
    if (tgid == 1 || tgid == (uint32_t)getpid() || (e->rules.exempt_pid && tgid == e->rules.exempt_pid)) {
      action = PR_RULE_AUDIT;
      flags |= PR_F_EXEMPT;
    } else {
      resp.response = FAN_DENY;
    }
  }
  uint64_t now = pr_lib_mono_now();
  if (write(e->fan_fd, &resp, sizeof(resp)) != (ssize_t)sizeof(resp)) {
    /* the kernel refused the answer: nothing waits any more (the caller died) */
  }
  close(m->fd);
  if (matched)
    emit_decision(e, now, tid, tgid, rule, action, flags, &s, ppid, e->argv, argv_len, argc, cgroup_id);
}

static void *run(void *arg) {
  struct pr_enforcer *e = arg;
  char *buf = e->events;
  struct pollfd p[2] = {{.fd = e->fan_fd, .events = POLLIN}, {.fd = e->wake_fd, .events = POLLIN}};
  while (!atomic_load(&e->stopping)) {
    int r = poll(p, 2, 1000);
    if (r < 0 && errno != EINTR) break;
    if (r <= 0 || !(p[0].revents & POLLIN)) continue;
    ssize_t n = read(e->fan_fd, buf, sizeof(e->events));
    if (n <= 0) continue;
    const struct fanotify_event_metadata *m = (const void *)buf;
    while (FAN_EVENT_OK(m, n)) {
      /* a permission event is always answered: its caller waits for it */
      if (m->fd >= 0) {
        if (m->mask & FAN_OPEN_EXEC_PERM) handle(e, m);
        else close(m->fd);
      }
      m = FAN_EVENT_NEXT(m, n);
    }
  }
  return NULL;
}

int pr_enforcer_start(struct pr_lib *lib, const struct pr_exec_rules *rules, struct pr_enforcer **out) {
  struct pr_enforcer *e = calloc(1, sizeof(*e));
  int err;
  *out = NULL;
  if (!e) {
    pr_lib_set_error(lib, "Cannot enforce exec rules: out of memory");
    return PR_E_NOMEM;
  }
  e->lib = lib;
  e->fan_fd = e->wake_fd = e->mounts_fd = e->alias_fd = -1;
  e->rules = *rules;
  /* the compiled expressions belong to the caller's copy: compile ours */
  memset(e->rules.has_re, 0, sizeof(e->rules.has_re));
  for (uint32_t k = 0; k < e->rules.n; k++)
    if (e->rules.rules[k].match & PR_RM_ARGV) e->argv_rules = 1;
  for (uint32_t k = 0; k < e->rules.n; k++)
    if (e->rules.rules[k].match & PR_RM_ARGV_REGEX) {
      if (pr_ere_compile(&e->rules.re[k], e->rules.rules[k].argv) != 0) {
        pr_exec_rules_free(&e->rules);
        free(e);
        pr_lib_set_error(lib, "Cannot enforce exec rules: rule %u: its argv expression does not compile", k);
        return PR_E_INVAL;
      }
      e->rules.has_re[k] = 1;
    }
  for (uint32_t k = 0; k < e->rules.n; k++)
    if (e->rules.rules[k].match & PR_RM_PATH) e->path_rules = 1;
  e->fan_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_REPORT_TID, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
  e->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  e->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (e->fan_fd < 0 || e->wake_fd < 0) {
    err = errno;
    pr_lib_set_error(lib, "Cannot enforce exec rules: fanotify: %s", strerror(err));
    pr_enforcer_stop(e);
    return err == EPERM ? PR_E_PERM : PR_E_NOSUP;
  }
  if (e->path_rules) {
    /* a path rule matches every path of the file in this namespace: without
     * the mount table it could match only the one the exec went through */
    e->alias_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (e->alias_fd >= 0) refresh_self(e);
    if (!e->self_ok) {
      err = errno;
      pr_lib_set_error(lib, "Cannot enforce exec rules: a path rule needs the mount table /proc/self/mountinfo: %s",
                       strerror(err));
      pr_enforcer_stop(e);
      return PR_E_IO;
    }
  }
  /* The thread first: once a file system is marked, its execs wait for it. */
  err = pr_start_thread(&e->thread, run, e);
  e->thread_started = err == 0;
  if (err) {
    pr_lib_set_error(lib, "Cannot enforce exec rules: thread: %s", strerror(err));
    close(e->fan_fd);
    e->fan_fd = -1;
    pr_enforcer_stop(e);
    return PR_E_IO;
  }
  mark_all(e);
  if (e->n_marked == 0) {
    pr_lib_set_error(lib, "Cannot enforce exec rules: no file system accepted a fanotify mark");
    pr_enforcer_stop(e);
    return PR_E_NOSUP;
  }
  err = pr_start_thread(&e->marker, mark_loop, e);
  e->marker_started = err == 0;
  if (err) {
    pr_lib_set_error(lib, "Cannot enforce exec rules: thread: %s", strerror(err));
    pr_enforcer_stop(e);
    return PR_E_IO;
  }
  *out = e;
  return PR_OK;
}

void pr_enforcer_stop(struct pr_enforcer *e) {
  uint64_t one = 1;
  if (!e) return;
  atomic_store(&e->stopping, 1);
  if (e->wake_fd >= 0) (void)!write(e->wake_fd, &one, sizeof(one)); /* never read: wakes both threads */
  if (e->thread_started) pthread_join(e->thread, NULL);
  /* Closing the group removes the marks; the kernel lets waiting execs on.
   * Before the marker is joined: a stat of a dead network mount may hold it,
   * and no exec of the host may wait for that. */
  if (e->fan_fd >= 0) close(e->fan_fd);
  e->fan_fd = -1;
  if (e->marker_started) pthread_join(e->marker, NULL);
  if (e->wake_fd >= 0) close(e->wake_fd);
  if (e->mounts_fd >= 0) close(e->mounts_fd);
  if (e->alias_fd >= 0) close(e->alias_fd);
  pr_mount_table_free(&e->self_mounts);
  pr_mount_table_free(&e->other_mounts);
  free(e->mi_buf);
  pr_exec_rules_free(&e->rules);
  free(e->argv);
  free(e->cmdline);
  free(e);
}
