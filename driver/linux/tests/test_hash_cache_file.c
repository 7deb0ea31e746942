/*
 * test_hash_cache_file.c - the image hash cache file (hash_cache_file.c):
 * what is saved loads back; the write is atomic (a new 0600 file renamed
 * over the old one, never through a link, no temp file left); a file of
 * another boot, of another owner, with group or other access, a link, in a
 * group-writable or foreign directory, or malformed (each field) is refused
 * with a warning that names the file (and the offset and field); a missing
 * file or directory is no cache, without a warning; an entry whose block
 * device now holds another medium (diskseq) is dropped. Under ASan and UBSan.
 * Root for the owner cases (they skip, saying so, without).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "../../common/pr_sha256.h"
#include "../../common/test_check.h"
#include "../../include/procrec_abi.h"
#include "../hash_cache_file.h"

static char dir[] = "/tmp/procrec-hcache-XXXXXX";
static char path[300];
static char why[2048];
static int last_dir_refused; /* the last refused() load refused the directory */

/* Entries with ctimes well in the past (the 2 s rule). */
static void entries(struct pr_hash_entry *e, int n) {
  memset(e, 0, sizeof(*e) * (size_t)n);
  for (int i = 0; i < n; i++) {
    e[i].dev = 2049;
    e[i].ino = 1000u + (uint64_t)i;
    e[i].size = 4096u * (uint64_t)(i + 1);
    e[i].mtime_ns = 1700000000000000000ll + i;
    e[i].ctime_ns = 1700000000000000000ll + 2 * i;
    for (int k = 0; k < 32; k++) e[i].sha[k] = (uint8_t)(i * 31 + k);
  }
}

static int save_n(int n) {
  struct pr_hash_entry e[8];
  entries(e, n);
  return pr_hash_file_save(path, e, (size_t)n, why, sizeof(why));
}

static size_t slurp(const char *p, uint8_t *b, size_t cap) {
  int fd = open(p, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, b, cap) : -1;
  if (fd >= 0) close(fd);
  return n < 0 ? 0 : (size_t)n;
}

/* Rewrites the file as b (n bytes), its checksum made right again when
 * resum, keeping its owner and mode. */
static int rewrite(const uint8_t *b0, size_t n, int resum) {
  uint8_t b[4096];
  int fd;
  memcpy(b, b0, n);
  if (resum && n >= 32) {
    struct pr_sha256 c;
    pr_sha256_init(&c);
    pr_sha256_update(&c, b, n - 32);
    pr_sha256_final(&c, b + n - 32);
  }
  fd = open(path, O_WRONLY | O_TRUNC);
  if (fd < 0) return 0;
  if (write(fd, b, n) != (ssize_t)n) n = 0;
  close(fd);
  return n > 0;
}

/* load fails with rc and a warning naming the file and containing text. */
static int refused(int rc, const char *text) {
  struct pr_hash_entry *e = (void *)1;
  int got;
  why[0] = 0;
  got = pr_hash_file_load(path, &e, why, sizeof(why), &last_dir_refused);
  if (got != rc || strstr(why, path) == NULL || strstr(why, text) == NULL ||
      strstr(why, "Cannot use the image hash cache") == NULL || e != NULL) {
    fprintf(stderr, "     load gave %d (wanted %d), \"%s\" (wanted \"%s\")\n", got, rc, why, text);
    free(e);
    return 0;
  }
  printf("     %s\n", why);
  return 1;
}

static int test_round_trip(void) {
  struct pr_hash_entry want[5], *got = NULL;
  struct stat st;
  DIR *d;
  struct dirent *de;
  int files = 0;
  entries(want, 5);
  CHECK(pr_hash_file_load(path, &got, why, sizeof(why), NULL) == 0 && got == NULL); /* none yet */
  CHECK(save_n(5) == 5);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_uid == geteuid());
  CHECK(st.st_size == PR_HASH_FILE_HEADER + 5 * PR_HASH_FILE_ENTRY + 32);
  CHECK(pr_hash_file_load(path, &got, why, sizeof(why), NULL) == 5);
  CHECK(memcmp(got, want, sizeof(want)) == 0);
  free(got);
  /* no temp file left beside it */
  d = opendir(dir);
  while (d != NULL && (de = readdir(d)) != NULL) files += de->d_name[0] != '.' || strstr(de->d_name, ".tmp") != NULL;
  if (d != NULL) closedir(d);
  CHECK(files == 1);
  return 0;
}

/* The old file is replaced by a new inode (rename), a link in its place is
 * replaced and not followed, and a umask does not change the mode. */
static int test_atomic_write(void) {
  char target[320];
  struct stat a, b;
  uint8_t buf[64];
  mode_t old;
  CHECK(save_n(2) == 2 && stat(path, &a) == 0);
  CHECK(save_n(3) == 3 && stat(path, &b) == 0);
  CHECK(a.st_ino != b.st_ino); /* a new file renamed over, never rewritten in place */
  snprintf(target, sizeof(target), "%s/target", dir);
  CHECK(unlink(path) == 0);
  {
    int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "untouched", 9) == 9);
    close(fd);
  }
  CHECK(symlink(target, path) == 0);
  CHECK(refused(PR_E_PERM, "symbolic link"));
  old = umask(0277);
  CHECK(save_n(1) == 1);
  umask(old);
  CHECK(lstat(path, &a) == 0 && S_ISREG(a.st_mode) && (a.st_mode & 07777) == 0600);
  CHECK(slurp(target, buf, sizeof(buf)) == 9 && memcmp(buf, "untouched", 9) == 0);
  CHECK(unlink(target) == 0);
  return 0;
}

static int test_refused_mode_and_owner(void) {
  CHECK(save_n(2) == 2);
  CHECK(chmod(path, 0644) == 0);
  CHECK(refused(PR_E_PERM, "mode 0644, expected 0600") && !last_dir_refused);
  CHECK(chmod(path, 0600) == 0);
  CHECK(chmod(dir, 0770) == 0);
  CHECK(refused(PR_E_PERM, "writable by its group") && last_dir_refused);
  CHECK(strstr(why, "neither used nor written") != NULL);
  CHECK(save_n(1) == PR_E_PERM && strstr(why, "Cannot save the image hash cache") != NULL); /* not written there */
  CHECK(chmod(dir, 0700) == 0);
  if (geteuid() != 0) {
    printf("     skip the owner cases: they need root\n");
    return 0;
  }
  CHECK(chown(path, 65534, 65534) == 0);
  CHECK(refused(PR_E_PERM, "owned by uid 65534"));
  CHECK(chown(path, 0, 0) == 0);
  CHECK(chown(dir, 65534, 0) == 0);
  CHECK(refused(PR_E_PERM, "is owned by uid 65534, expected root") && last_dir_refused);
  CHECK(chown(dir, 0, 0) == 0);
  {
    struct pr_hash_entry *e = NULL;
    CHECK(pr_hash_file_load(path, &e, why, sizeof(why), NULL) == 2);
    free(e);
  }
  return 0;
}

static int test_refused_malformed(void) {
  uint8_t good[4096], b[4096];
  size_t n;
  CHECK(save_n(3) == 3);
  n = slurp(path, good, sizeof(good));
  CHECK(n == PR_HASH_FILE_HEADER + 3 * PR_HASH_FILE_ENTRY + 32);

  memcpy(b, good, n);
  b[17] ^= 0x40; /* another boot id */
  CHECK(rewrite(b, n, 1) && refused(PR_E_INVAL, "written in another boot (boot id "));
  CHECK(strstr(why, "at offset 16") != NULL);

  memcpy(b, good, n);
  b[0] = 'X';
  CHECK(rewrite(b, n, 1) && refused(PR_E_INVAL, "offset 0 (magic)"));
  memcpy(b, good, n);
  b[8] = 1;
  CHECK(rewrite(b, n, 1) && refused(PR_E_INVAL, "offset 8 (version): 1, expected 2"));
  memcpy(b, good, n);
  b[12] = 72;
  CHECK(rewrite(b, n, 1) && refused(PR_E_INVAL, "offset 12 (entry size): 72, expected 80"));
  CHECK(rewrite(good, n - 5, 0) && refused(PR_E_INVAL, "offset 40 (entry count): 3 entries make a"));
  CHECK(rewrite(good, 20, 0) && refused(PR_E_INVAL, "20 bytes, shorter than"));
  memcpy(b, good, n);
  b[40] = 0xff, b[41] = 0xff;
  CHECK(rewrite(b, n, 1) && refused(PR_E_INVAL, "offset 40 (entry count): 65535, more than the limit"));
  memcpy(b, good, n);
  b[44] = 1;
  CHECK(rewrite(b, n, 1) && refused(PR_E_INVAL, "offset 44 (reserved)"));
  memcpy(b, good, n);
  b[PR_HASH_FILE_HEADER + PR_HASH_FILE_ENTRY + 60] ^= 1; /* a hash bit of entry 1, checksum left */
  CHECK(rewrite(b, n, 0) && refused(PR_E_INVAL, "(checksum): not the SHA-256"));
  /* entry 2's ctime not 2 s before the file's time of writing */
  memcpy(b, good, n);
  memcpy(b + PR_HASH_FILE_HEADER + 2 * PR_HASH_FILE_ENTRY + 32, b + 32, 8);
  CHECK(rewrite(b, n, 1) && refused(PR_E_INVAL, "(entry 2, ctime_ns)"));
  CHECK(strstr(why, "offset 240") != NULL);
  /* a time of writing that is not in this boot so far: never subtracted
   * from (INT64_MIN wrapped, and let every entry pass the 2 s rule) */
  {
    const int64_t bad[] = {INT64_MIN, -1, 0, 1000000000ll, INT64_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      memcpy(b, good, n);
      for (int k = 0; k < 8; k++) b[32 + k] = (uint8_t)((uint64_t)bad[i] >> (8 * k));
      CHECK(rewrite(b, n, 1) && refused(PR_E_INVAL, "offset 32 (written at)"));
      CHECK(strstr(why, "is not a time of this boot") != NULL);
    }
  }
  /* too large to be one */
  {
    int fd = open(path, O_WRONLY | O_TRUNC);
    CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
    close(fd);
  }
  CHECK(refused(PR_E_INVAL, "more than the limit of"));
  CHECK(rewrite(good, n, 0));
  {
    struct pr_hash_entry *e = NULL;
    CHECK(pr_hash_file_load(path, &e, why, sizeof(why), NULL) == 3);
    free(e);
  }
  return 0;
}

/* An entry of a block device is kept only while the device holds the same
 * medium (its diskseq); one of a device without (major 0) is kept. */
static int test_same_medium(void) {
  struct pr_hash_entry e[4], *got = NULL;
  struct stat st;
  uint64_t seq;
  CHECK(stat("/", &st) == 0);
  seq = pr_hash_file_diskseq((uint64_t)st.st_dev);
  if (seq == 0) {
    printf("     skip: / is not on a block device with a diskseq here\n");
    return 0;
  }
  entries(e, 4);
  e[0].dev = e[1].dev = (uint64_t)st.st_dev;
  e[0].diskseq = seq;     /* the same medium: kept */
  e[1].diskseq = seq + 1; /* another medium under this device number: dropped */
  e[2].dev = 44;          /* 0:44, no block device: kept */
  e[2].diskseq = 0;
  e[3].dev = (uint64_t)st.st_dev;
  e[3].diskseq = 0; /* hashed when the device had no medium with a diskseq: dropped */
  CHECK(pr_hash_file_save(path, e, 4, why, sizeof(why)) == 4);
  why[0] = 0;
  CHECK(pr_hash_file_load(path, &got, why, sizeof(why), NULL) == 2 && why[0] == 0);
  CHECK(memcmp(&got[0], &e[0], sizeof(e[0])) == 0 && memcmp(&got[1], &e[2], sizeof(e[2])) == 0);
  free(got);
  printf("     / is on device %u:%u, diskseq %llu\n", major(st.st_dev), minor(st.st_dev), (unsigned long long)seq);
  return 0;
}

static int test_missing(void) {
  char saved[300];
  struct pr_hash_entry *e = NULL;
  snprintf(saved, sizeof(saved), "%s", path);
  snprintf(path, sizeof(path), "%s/none/image-hashes", dir);
  why[0] = 0;
  CHECK(pr_hash_file_load(path, &e, why, sizeof(why), NULL) == 0 && e == NULL && why[0] == 0);
  /* saving makes the last directory (0700) */
  CHECK(save_n(1) == 1);
  {
    struct stat st;
    char sub[320];
    snprintf(sub, sizeof(sub), "%s/none", dir);
    CHECK(stat(sub, &st) == 0 && (st.st_mode & 07777) == 0700);
    unlink(path);
    rmdir(sub);
  }
  snprintf(path, sizeof(path), "%s", saved);
  return 0;
}

int main(void) {
  if (mkdtemp(dir) == NULL) return 2;
  snprintf(path, sizeof(path), "%s/image-hashes", dir);
  t_run("what is saved loads back; a missing file is no cache", test_round_trip);
  t_run("the write is atomic: a new 0600 file renamed over the old, a link replaced, not followed", test_atomic_write);
  t_run("a file with group or other access, of another owner, in a writable or foreign directory is refused",
        test_refused_mode_and_owner);
  t_run("a file of another boot, or malformed in any field, is refused naming the offset and field",
        test_refused_malformed);
  t_run("an entry of another medium under the same device number is dropped (diskseq), silently", test_same_medium);
  t_run("a missing file or directory is no cache, without a warning; saving makes the directory", test_missing);
  unlink(path);
  rmdir(dir);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
