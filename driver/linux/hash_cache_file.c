/*
 * hash_cache_file.c - the image hash cache file (see hash_cache_file.h for
 * its layout and what is checked).
 */
#include "hash_cache_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "../common/pr_sha256.h"
#include "hasher.h"

#define FILE_MIN (PR_HASH_FILE_HEADER + 32u)
#define FILE_MAX (PR_HASH_FILE_HEADER + PR_HASH_FILE_MAX * PR_HASH_FILE_ENTRY + 32u)

static void say(char *why, size_t cap, const char *fmt, ...) {
  va_list ap;
  if (why == NULL || cap == 0) return;
  va_start(ap, fmt);
  vsnprintf(why, cap, fmt, ap);
  va_end(ap);
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static void uuid_text(const uint8_t id[16], char out[37]) {
  static const int dash[16] = {0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
  char *o = out;
  for (int i = 0; i < 16; i++) {
    o += sprintf(o, "%02x", id[i]);
    if (dash[i]) *o++ = '-';
  }
  *o = 0;
}

int pr_hash_file_boot_id(uint8_t id[16], char *why, size_t cap) {
  static const char *const path = "/proc/sys/kernel/random/boot_id";
  char text[64];
  int fd = open(path, O_RDONLY | O_CLOEXEC), k = 0;
  ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) {
    say(why, cap, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "empty");
    return -1;
  }
  text[n] = 0;
  for (ssize_t i = 0; i < n && k < 32; i++) {
    int c = text[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (c == '-') continue;
    if (d < 0) break;
    if (k % 2 == 0) id[k / 2] = (uint8_t)(d << 4);
    else id[k / 2] |= (uint8_t)d;
    k++;
  }
  if (k != 32) {
    say(why, cap, "%s is not a UUID", path);
    return -1;
  }
  return 0;
}

uint64_t pr_hash_file_diskseq(uint64_t dev) {
  char path[96], text[32];
  unsigned ma = major((dev_t)dev), mi = minor((dev_t)dev);
  int fd;
  ssize_t n;
  if (ma == 0) return 0;
  snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/diskseq", ma, mi);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n <= 0) return 0;
  text[n] = 0;
  return strtoull(text, NULL, 10);
}

/* Keeps the entries whose device has the diskseq it had when they were
 * hashed (see hash_cache_file.h); returns how many. */
static size_t keep_same_media(struct pr_hash_entry *e, size_t n) {
  struct {
    uint64_t dev, seq;
  } seen[64];
  size_t n_seen = 0, k = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t seq = 0;
    size_t j;
    for (j = 0; j < n_seen && seen[j].dev != e[i].dev; j++) {
    }
    if (j < n_seen) seq = seen[j].seq;
    else {
      seq = pr_hash_file_diskseq(e[i].dev);
      if (n_seen < sizeof(seen) / sizeof(seen[0])) {
        seen[n_seen].dev = e[i].dev;
        seen[n_seen++].seq = seq;
      }
    }
    if (seq == e[i].diskseq) e[k++] = e[i];
  }
  return k;
}

/* The directory part and the file name of path; name must be a plain name. */
static int split(const char *path, char *dir, size_t dcap, const char **name) {
  const char *slash = strrchr(path, '/');
  size_t dl;
  *name = slash ? slash + 1 : path;
  if (**name == 0 || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0) return -1;
  if (slash == NULL) dl = snprintf(dir, dcap, ".");
  else if (slash == path) dl = snprintf(dir, dcap, "/");
  else dl = snprintf(dir, dcap, "%.*s", (int)(slash - path), path);
  return dl < dcap ? 0 : -1;
}

/* Owner: root or the recorder's effective user. */
static int trusted_owner(uid_t u) { return u == 0 || u == geteuid(); }

/* One directory of the chain: owned by root or us, not writable by group or
 * others (an ancestor may be, when sticky). */
static int check_dir(int fd, const char *shown, int last, char *why, size_t cap) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    say(why, cap, "cannot stat the directory \"%s\": %s", shown, strerror(errno));
    return -1;
  }
  if (!trusted_owner(st.st_uid)) {
    say(why, cap, "the directory \"%s\" is owned by uid %u, expected root%s", shown, (unsigned)st.st_uid,
        geteuid() != 0 ? " or the recorder's user" : "");
    return -1;
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && (last || !(st.st_mode & S_ISVTX))) {
    say(why, cap, "the directory \"%s\" is writable by %s (mode %04o)", shown,
        st.st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st.st_mode & 07777));
    return -1;
  }
  return 0;
}

/* Opens dir (O_PATH) after checking every directory from / down to it (see
 * hash_cache_file.h). Returns the fd, or -1 with why set (*missing when
 * dir does not exist). */
static int open_trusted_dir(const char *dir, char *why, size_t cap, int *missing) {
  char real[PATH_MAX], shown[PATH_MAX], name[NAME_MAX + 1];
  const char *p = real;
  int fd;
  *missing = 0;
  if (realpath(dir, real) == NULL) {
    if (errno == ENOENT) *missing = 1;
    say(why, cap, "its directory \"%s\": %s", dir, strerror(errno));
    return -1;
  }
  fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    say(why, cap, "cannot open /: %s", strerror(errno));
    return -1;
  }
  strcpy(shown, "/");
  for (;;) {
    size_t len;
    int last, nfd;
    while (*p == '/') p++;
    last = *p == 0;
    if (check_dir(fd, shown, last, why, cap) != 0) {
      close(fd);
      return -1;
    }
    if (last) return fd;
    len = strcspn(p, "/");
    if (len > NAME_MAX) len = NAME_MAX;
    memcpy(name, p, len);
    name[len] = 0;
    p += len;
    nfd = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(fd);
    memcpy(shown, real, (size_t)(p - real));
    shown[p - real] = 0;
    if (nfd < 0) {
      say(why, cap, "cannot open the directory \"%s\": %s", shown, strerror(errno));
      return -1;
    }
    fd = nfd;
  }
}

static int64_t utc_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

/* Time since boot (CLOCK_BOOTTIME: suspends included). */
static int64_t boot_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_BOOTTIME, &t);
  return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

#define USE_FAIL "Cannot use the image hash cache \"%s\": %s; it is ignored (the images are read and hashed again)"

/* Checks the bytes of a cache file and copies its entries out. Returns the
 * count, or PR_E_INVAL with msg set (the offset and the field). */
static int parse(const uint8_t *b, size_t size, const uint8_t boot[16], struct pr_hash_entry **out, char *msg,
                 size_t cap) {
  uint8_t sum[32];
  struct pr_sha256 c;
  uint32_t version, esize, n, reserved;
  int64_t written;
  size_t want;
  struct pr_hash_entry *e;
  if (size < FILE_MIN) {
    say(msg, cap, "malformed: %zu bytes, shorter than the %u-byte header and checksum", size, FILE_MIN);
    return PR_E_INVAL;
  }
  if (memcmp(b, PR_HASH_FILE_MAGIC, 8) != 0) {
    say(msg, cap, "malformed at offset 0 (magic): not \"%s\"", PR_HASH_FILE_MAGIC);
    return PR_E_INVAL;
  }
  version = get32(b + 8);
  if (version != PR_HASH_FILE_VERSION) {
    say(msg, cap, "malformed at offset 8 (version): %u, expected %u", version, PR_HASH_FILE_VERSION);
    return PR_E_INVAL;
  }
  esize = get32(b + 12);
  if (esize != PR_HASH_FILE_ENTRY) {
    say(msg, cap, "malformed at offset 12 (entry size): %u, expected %u", esize, PR_HASH_FILE_ENTRY);
    return PR_E_INVAL;
  }
  n = get32(b + 40);
  if (n > PR_HASH_FILE_MAX) {
    say(msg, cap, "malformed at offset 40 (entry count): %u, more than the limit of %u", n, PR_HASH_FILE_MAX);
    return PR_E_INVAL;
  }
  want = PR_HASH_FILE_HEADER + (size_t)n * PR_HASH_FILE_ENTRY + 32u;
  if (size != want) {
    say(msg, cap, "malformed at offset 40 (entry count): %u entries make a %zu-byte file, this one has %zu bytes", n,
        want, size);
    return PR_E_INVAL;
  }
  pr_sha256_init(&c);
  pr_sha256_update(&c, b, size - 32);
  pr_sha256_final(&c, sum);
  if (memcmp(sum, b + size - 32, 32) != 0) {
    say(msg, cap, "malformed at offset %zu (checksum): not the SHA-256 of the bytes before it (torn or altered)",
        size - 32);
    return PR_E_INVAL;
  }
  reserved = get32(b + 44);
  if (reserved != 0) {
    say(msg, cap, "malformed at offset 44 (reserved): %u, expected 0", reserved);
    return PR_E_INVAL;
  }
  if (memcmp(b + 16, boot, 16) != 0) {
    char theirs[37], ours[37];
    uuid_text(b + 16, theirs);
    uuid_text(boot, ours);
    say(msg, cap, "written in another boot (boot id %s at offset 16; this boot is %s)", theirs, ours);
    return PR_E_INVAL;
  }
  written = (int64_t)get64(b + 32);
  /* A time of writing in this boot, up to now: the 2 s rule below subtracts
   * from it (INT64_MIN would wrap, and let any entry pass), and one from the
   * future would let an entry hashed as its file changed pass too. */
  {
    int64_t now = utc_now(), booted = now - boot_ns();
    if (written <= booted || written > now) {
      say(msg, cap,
          "offset 32 (written at): %lld is not a time of this boot (it began at %lld, now is %lld): malformed, or "
          "written before the clock was stepped",
          (long long)written, (long long)booted, (long long)now);
      return PR_E_INVAL;
    }
  }
  e = n ? malloc((size_t)n * sizeof(*e)) : NULL;
  if (n && e == NULL) {
    say(msg, cap, "out of memory");
    return PR_E_NOMEM;
  }
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *p = b + PR_HASH_FILE_HEADER + (size_t)i * PR_HASH_FILE_ENTRY;
    e[i].dev = get64(p);
    e[i].ino = get64(p + 8);
    e[i].size = get64(p + 16);
    e[i].mtime_ns = (int64_t)get64(p + 24);
    e[i].ctime_ns = (int64_t)get64(p + 32);
    e[i].diskseq = get64(p + 40);
    memcpy(e[i].sha, p + 48, 32);
    /* the 2 s rule: no entry is cached while its ctime is that recent */
    if (e[i].ctime_ns >= written - PR_HASH_RACY_NS) {
      say(msg, cap,
          "malformed at offset %zu (entry %u, ctime_ns): %lld is not 2 s older than the file's time of writing "
          "(offset 32: %lld)",
          (size_t)(p + 32 - b), i, (long long)e[i].ctime_ns, (long long)written);
      free(e);
      return PR_E_INVAL;
    }
  }
  n = (uint32_t)keep_same_media(e, n);
  if (n == 0) {
    free(e);
    e = NULL;
  }
  *out = e;
  return (int)n;
}

int pr_hash_file_load(const char *path, struct pr_hash_entry **out, char *why, size_t cap, int *dir_refused) {
  char dir[PATH_MAX], msg[512];
  const char *name;
  uint8_t boot[16], *b = NULL;
  struct stat st;
  size_t got = 0;
  int dfd, fd, missing, rc;
  *out = NULL;
  if (dir_refused != NULL) *dir_refused = 0;
  if (split(path, dir, sizeof(dir), &name) != 0) {
    say(why, cap, USE_FAIL, path, "not a file name");
    return PR_E_INVAL;
  }
  if (pr_hash_file_boot_id(boot, msg, sizeof(msg)) != 0) {
    say(why, cap, USE_FAIL, path, msg);
    return PR_E_IO;
  }
  dfd = open_trusted_dir(dir, msg, sizeof(msg), &missing);
  if (dfd < 0) {
    if (missing) return 0; /* no cache yet */
    say(why, cap,
        "Cannot use the image hash cache \"%s\": %s; it is neither used nor written (the images are read and "
        "hashed again)",
        path, msg);
    if (dir_refused != NULL) *dir_refused = 1;
    return PR_E_PERM;
  }
  fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  close(dfd);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return 0;
    say(why, cap, USE_FAIL, path, err == ELOOP ? "it is a symbolic link" : strerror(err));
    return err == ELOOP || err == EACCES ? PR_E_PERM : PR_E_IO;
  }
  rc = PR_E_PERM;
  if (fstat(fd, &st) != 0) {
    snprintf(msg, sizeof(msg), "%s", strerror(errno));
    rc = PR_E_IO;
  } else if (!S_ISREG(st.st_mode)) {
    snprintf(msg, sizeof(msg), "it is not a regular file");
  } else if (st.st_uid != geteuid()) {
    snprintf(msg, sizeof(msg), "it is owned by uid %u, expected %u (the recorder's user)", (unsigned)st.st_uid,
             (unsigned)geteuid());
  } else if (st.st_mode & 077) {
    snprintf(msg, sizeof(msg), "it is mode %04o, expected 0600 (no access for group or others)",
             (unsigned)(st.st_mode & 07777));
  } else if ((size_t)st.st_size > FILE_MAX) {
    snprintf(msg, sizeof(msg), "malformed: %lld bytes, more than the limit of %u (%u entries)", (long long)st.st_size,
             FILE_MAX, PR_HASH_FILE_MAX);
    rc = PR_E_INVAL;
  } else if ((b = malloc((size_t)st.st_size + 1)) == NULL) {
    snprintf(msg, sizeof(msg), "out of memory");
    rc = PR_E_NOMEM;
  } else {
    for (;;) {
      ssize_t k = read(fd, b + got, (size_t)st.st_size + 1 - got);
      if (k < 0 && errno == EINTR) continue;
      if (k < 0) {
        snprintf(msg, sizeof(msg), "reading it failed: %s", strerror(errno));
        rc = PR_E_IO;
        break;
      }
      if (k == 0 || (got += (size_t)k) > (size_t)st.st_size) {
        rc = 0;
        break;
      }
    }
    if (rc == 0 && got != (size_t)st.st_size) {
      snprintf(msg, sizeof(msg), "it changed while it was read (%lld bytes, then %zu)", (long long)st.st_size, got);
      rc = PR_E_IO;
    }
    if (rc == 0) rc = parse(b, got, boot, out, msg, sizeof(msg));
  }
  close(fd);
  free(b);
  if (rc < 0) say(why, cap, USE_FAIL, path, msg);
  return rc;
}

#define SAVE_FAIL "Cannot save the image hash cache \"%s\": %s"

int pr_hash_file_save(const char *path, const struct pr_hash_entry *e, size_t n, char *why, size_t cap) {
  static unsigned counter;
  char dir[PATH_MAX], msg[512], tmp[NAME_MAX + 1];
  const char *name;
  uint8_t boot[16], *b, *p;
  struct pr_sha256 c;
  size_t size, off = 0;
  int dfd, fd = -1, missing, err = 0;
  if (split(path, dir, sizeof(dir), &name) != 0 || strlen(name) > NAME_MAX - 40) {
    say(why, cap, SAVE_FAIL, path, "not a file name");
    return PR_E_INVAL;
  }
  if (n > PR_HASH_FILE_MAX) n = PR_HASH_FILE_MAX;
  if (pr_hash_file_boot_id(boot, msg, sizeof(msg)) != 0) {
    say(why, cap, SAVE_FAIL, path, msg);
    return PR_E_IO;
  }
  dfd = open_trusted_dir(dir, msg, sizeof(msg), &missing);
  if (dfd < 0 && missing) { /* its directory is made, only the last one */
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
      say(msg, sizeof(msg), "cannot make its directory \"%s\": %s", dir, strerror(errno));
    } else {
      dfd = open_trusted_dir(dir, msg, sizeof(msg), &missing);
    }
  }
  if (dfd < 0) {
    say(why, cap, SAVE_FAIL, path, msg);
    return PR_E_PERM;
  }
  size = PR_HASH_FILE_HEADER + n * PR_HASH_FILE_ENTRY + 32u;
  b = calloc(1, size);
  if (b == NULL) {
    close(dfd);
    say(why, cap, SAVE_FAIL, path, "out of memory");
    return PR_E_NOMEM;
  }
  memcpy(b, PR_HASH_FILE_MAGIC, 8);
  put32(b + 8, PR_HASH_FILE_VERSION);
  put32(b + 12, PR_HASH_FILE_ENTRY);
  memcpy(b + 16, boot, 16);
  put64(b + 32, (uint64_t)utc_now());
  put32(b + 40, (uint32_t)n);
  for (size_t i = 0; i < n; i++) {
    p = b + PR_HASH_FILE_HEADER + i * PR_HASH_FILE_ENTRY;
    put64(p, e[i].dev);
    put64(p + 8, e[i].ino);
    put64(p + 16, e[i].size);
    put64(p + 24, (uint64_t)e[i].mtime_ns);
    put64(p + 32, (uint64_t)e[i].ctime_ns);
    put64(p + 40, e[i].diskseq);
    memcpy(p + 48, e[i].sha, 32);
  }
  pr_sha256_init(&c);
  pr_sha256_update(&c, b, size - 32);
  pr_sha256_final(&c, b + size - 32);
  /* a new file of ours (O_EXCL: never one someone else made), renamed over */
  for (int tries = 0; fd < 0 && tries < 100; tries++) {
    snprintf(tmp, sizeof(tmp), ".%s.%d.%u.tmp", name, (int)getpid(), __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) err = errno;
  else if (fchmod(fd, 0600) != 0) err = errno;
  while (err == 0 && off < size) {
    ssize_t k = write(fd, b + off, size - off);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) err = errno;
    else off += (size_t)k;
  }
  if (fd >= 0 && close(fd) != 0 && err == 0) err = errno;
  if (err == 0 && renameat(dfd, tmp, dfd, name) != 0) err = errno;
  if (err != 0 && fd >= 0) unlinkat(dfd, tmp, 0);
  close(dfd);
  free(b);
  if (err != 0) {
    say(why, cap, SAVE_FAIL, path, strerror(err));
    return PR_E_IO;
  }
  return (int)n;
}
