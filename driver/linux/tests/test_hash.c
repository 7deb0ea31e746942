/*
 * test_hash.c - the image hash worker of libprocrec.so against the real
 * kernel (root): under each source it can open (proc connector, eBPF), a
 * binary this test runs gets the SHA-256 that sha256sum gives; one modified,
 * replaced or deleted between its exec and the hashing (the worker paused
 * with PR_CTL_PAUSE_HASHER) is PR_HASH_CHANGED or PR_HASH_GONE, never a hash;
 * fifty runs of /bin/sleep read the file at most once (the cache). The
 * programs live a little while (sleep 0.02 and more), so that the proc
 * connector source can read their /proc details (device and inode) in time:
 * without them the worker cannot check a file and says PR_HASH_GONE.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/procrec_abi.h"
#include "test_util.h"

static char dir[] = "/tmp/procrec-hash-XXXXXX";

static void *open_source(uint32_t source) {
  struct procrec_options o;
  void *h = NULL;
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = source;
  o.flags = PR_OPT_NO_SNAPSHOT;
  if (procrec_open(&o, &h) != PR_OK) return NULL;
  return h;
}

/* Copies src to dst (a fresh inode), mode 0755. */
static int copy_file(const char *src, const char *dst) {
  char buf[65536];
  ssize_t n;
  int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755), ok = in >= 0 && out >= 0;
  while (ok && (n = read(in, buf, sizeof(buf))) > 0) ok = write(out, buf, (size_t)n) == n;
  if (in >= 0) close(in);
  if (out >= 0) close(out);
  return ok;
}

/* sha256sum's digest of path (64 hex digits). */
static int sha256sum_of(const char *path, char out[65]) {
  char cmd[600];
  FILE *p;
  int ok;
  snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
  p = popen(cmd, "r");
  if (p == NULL) return 0;
  ok = fscanf(p, "%64s", out) == 1;
  pclose(p);
  return ok && strlen(out) == 64;
}

static void hex(const uint8_t d[32], char out[65]) {
  int i;
  for (i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

/* Runs path with argument arg, waits for it; returns its pid. */
static pid_t run(const char *path, const char *arg) {
  pid_t p = fork();
  if (p == 0) {
    execl(path, path, arg, (char *)NULL);
    _exit(97);
  }
  waitpid(p, NULL, 0);
  return p;
}

/* The hash record of pid's exec, reading up to 15 s. */
static const struct pr_rec_hash *hash_of(void *h, struct t_records *r, pid_t pid) {
  uint64_t deadline = t_now_ms() + 15000;
  for (;;) {
    size_t off = 0;
    const struct pr_rec_header *x;
    while ((x = t_next(r, &off)) != NULL)
      if (x->kind == PR_REC_HASH && x->pid == (uint32_t)pid) return (const void *)x;
    if (t_now_ms() > deadline || t_read_some(h, r, 200) < 0) return NULL;
  }
}

static int test_source(uint32_t source, const char *name) {
  struct t_records r = {0};
  char ok_path[200], chg_path[200], rep_path[200], gone_path[200], want[65], got[65], tmp[300];
  const struct pr_rec_hash *x;
  pid_t p_ok, p_chg, p_rep, p_gone, p_true[50];
  int i, read_true = 0, ok_true = 0, fd;
  char sleep_sha[65];
  void *h = open_source(source);
  if (h == NULL) {
    printf("     skip %s: it cannot be opened here\n", name);
    return 0;
  }
  snprintf(ok_path, sizeof(ok_path), "%s/ok-%s", dir, name);
  snprintf(chg_path, sizeof(chg_path), "%s/changed-%s", dir, name);
  snprintf(rep_path, sizeof(rep_path), "%s/replaced-%s", dir, name);
  snprintf(gone_path, sizeof(gone_path), "%s/gone-%s", dir, name);
  CHECK(copy_file("/bin/sleep", ok_path) && copy_file("/bin/sleep", chg_path) && copy_file("/bin/sleep", rep_path) &&
        copy_file("/bin/sleep", gone_path));
  CHECK(sha256sum_of("/bin/sleep", sleep_sha));
  /* The copies' ctime well before their exec: a file written within
   * PR_HASH_GRANULE_NS of its exec is (rightly) "changed" once its process
   * has ended, and a fast start can leave less than that. */
  usleep(200000);
  CHECK(procrec_start(h) == PR_OK);

  /* Hashed as exec'd. */
  p_ok = run(ok_path, "0.05");
  for (i = 0; i < 50; i++) p_true[i] = run("/bin/sleep", "0.02");

  /* Changed, replaced, deleted while the worker waits. */
  CHECK(procrec_control(h, PR_CTL_PAUSE_HASHER, NULL, 0) == PR_OK);
  p_chg = run(chg_path, "0.05");
  p_rep = run(rep_path, "0.05");
  p_gone = run(gone_path, "0.05");
  usleep(50000); /* past a coarse timestamp granule */
  fd = open(chg_path, O_WRONLY | O_APPEND);
  CHECK(fd >= 0 && write(fd, "x", 1) == 1);
  close(fd);
  snprintf(tmp, sizeof(tmp), "%s.new", rep_path);
  CHECK(copy_file("/bin/true", tmp) && rename(tmp, rep_path) == 0);
  CHECK(unlink(gone_path) == 0);
  CHECK(procrec_control(h, PR_CTL_RESUME_HASHER, NULL, 0) == PR_OK);

  x = hash_of(h, &r, p_ok);
  if (x != NULL && x->status != PR_HASH_OK) fprintf(stderr, "     %s: status %u why %u\n", name, x->status, x->err);
  CHECK(x != NULL && x->status == PR_HASH_OK);
  CHECK(sha256sum_of(ok_path, want));
  hex(x->sha256, got);
  if (strcmp(got, want) != 0) fprintf(stderr, "     %s: recorded %s, sha256sum %s\n", name, got, want);
  CHECK(strcmp(got, want) == 0);
  for (i = 0; i < 50; i++) {
    x = hash_of(h, &r, p_true[i]);
    CHECK(x != NULL);
    /* On a loaded machine the proc connector can read /proc too late for a
     * few (no device/inode: gone, "no identity"), never a wrong hash. */
    if (x->status == PR_HASH_GONE && x->err == 4 && source == PR_SOURCE_NETLINK) continue;
    if (x->status != PR_HASH_OK) fprintf(stderr, "     %s: status %u why %u\n", name, x->status, x->err);
    CHECK(x->status == PR_HASH_OK);
    hex(x->sha256, got);
    CHECK(strcmp(got, sleep_sha) == 0);
    ok_true++;
    if (!(x->hash_flags & PR_H_CACHED)) read_true++;
  }
  CHECK(ok_true >= 25 && read_true <= 1);
  x = hash_of(h, &r, p_chg);
  if (x != NULL && x->status != PR_HASH_CHANGED) fprintf(stderr, "     %s: status %u why %u\n", name, x->status, x->err);
  CHECK(x != NULL && x->status == PR_HASH_CHANGED && x->err == 2 /* ctime after the exec */);
  for (i = 0; i < 32; i++) CHECK(x->sha256[i] == 0);
  x = hash_of(h, &r, p_rep);
  CHECK(x != NULL && x->status == PR_HASH_CHANGED && x->err == 1 /* another file */);
  x = hash_of(h, &r, p_gone);
  CHECK(x != NULL && x->status == PR_HASH_GONE);
  procrec_close(h);
  printf("     %s: sha256 %s = sha256sum; %d of 50 x /bin/sleep hashed, read %d time(s); changed, replaced, gone\n", name,
         want, ok_true, read_true);
  unlink(ok_path);
  unlink(chg_path);
  unlink(rep_path);
  free(r.buf);
  return 0;
}

static int test_netlink_hashes(void) { return test_source(PR_SOURCE_NETLINK, "netlink"); }
static int test_ebpf_hashes(void) { return test_source(PR_SOURCE_EBPF, "ebpf"); }

/* A process that still runs is hashed through /proc/PID/exe even after its
 * file was unlinked: the hash of the deleted file, not gone. */
static int test_running_deleted_binary(void) {
  struct t_records r = {0};
  char path[300], want[65], got[65];
  const struct pr_rec_hash *x;
  int pipefd[2];
  pid_t p;
  void *h = open_source(PR_SOURCE_AUTO);
  CHECK(h != NULL);
  snprintf(path, sizeof(path), "%s/sleeper", dir);
  CHECK(copy_file("/bin/sleep", path) && sha256sum_of(path, want));
  CHECK(pipe(pipefd) == 0);
  CHECK(procrec_control(h, PR_CTL_PAUSE_HASHER, NULL, 0) == PR_OK);
  CHECK(procrec_start(h) == PR_OK);
  p = fork();
  if (p == 0) {
    execl(path, path, "30", (char *)NULL);
    _exit(97);
  }
  usleep(200000);
  CHECK(unlink(path) == 0);
  CHECK(procrec_control(h, PR_CTL_RESUME_HASHER, NULL, 0) == PR_OK);
  x = hash_of(h, &r, p);
  kill(p, 9);
  waitpid(p, NULL, 0);
  close(pipefd[0]);
  close(pipefd[1]);
  CHECK(x != NULL && x->status == PR_HASH_OK && (x->hash_flags & PR_H_VIA_EXE));
  hex(x->sha256, got);
  CHECK(strcmp(got, want) == 0);
  procrec_close(h);
  free(r.buf);
  return 0;
}

/* A memfd exec (fileless): hashed through /proc/PID/exe while it runs (the
 * memfd's contents: sleep's hash); once it ended before the hashing, gone. */
static int test_memfd(void) {
  struct t_records r = {0};
  char want[65], got[65];
  const struct pr_rec_hash *x;
  pid_t live, ended;
  int i;
  void *h = open_source(PR_SOURCE_AUTO);
  CHECK(h != NULL);
  CHECK(sha256sum_of("/bin/sleep", want));
  CHECK(procrec_start(h) == PR_OK);
  for (i = 0; i < 2; i++) {
    pid_t p;
    if (i == 1) CHECK(procrec_control(h, PR_CTL_PAUSE_HASHER, NULL, 0) == PR_OK);
    p = fork();
    if (p == 0) {
      char fdpath[64];
      int fd = memfd_create("hashme", 0);
      if (fd < 0) _exit(96);
      {
        char buf[65536];
        ssize_t n;
        int in = open("/bin/sleep", O_RDONLY);
        while (in >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
          if (write(fd, buf, (size_t)n) != n) _exit(96);
      }
      snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
      execl(fdpath, "sleep", i == 0 ? "1" : "0.05", (char *)NULL);
      _exit(97);
    }
    if (i == 0) live = p;
    else {
      ended = p;
      waitpid(p, NULL, 0);
      CHECK(procrec_control(h, PR_CTL_RESUME_HASHER, NULL, 0) == PR_OK);
    }
  }
  x = hash_of(h, &r, live);
  CHECK(x != NULL && x->status == PR_HASH_OK && (x->hash_flags & PR_H_VIA_EXE));
  hex(x->sha256, got);
  CHECK(strcmp(got, want) == 0);
  x = hash_of(h, &r, ended);
  CHECK(x != NULL && x->status == PR_HASH_GONE);
  waitpid(live, NULL, 0);
  procrec_close(h);
  free(r.buf);
  return 0;
}

/* Voluntary context switches of this process's hash worker thread (its
 * wake-ups), -1 when it is not found. */
static long worker_wakeups(void) {
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  long n = -1;
  while (d != NULL && (e = readdir(d)) != NULL) {
    char path[300], line[256];
    FILE *f;
    int ours = 0;
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
    if ((f = fopen(path, "r")) == NULL) continue;
    ours = fgets(line, sizeof(line), f) != NULL && strcmp(line, "procrec-hash\n") == 0;
    fclose(f);
    if (!ours) continue;
    snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
    if ((f = fopen(path, "r")) == NULL) continue;
    while (fgets(line, sizeof(line), f) != NULL) sscanf(line, "voluntary_ctxt_switches: %ld", &n);
    fclose(f);
  }
  if (d != NULL) closedir(d);
  return n;
}

/* An image already in the cache is hashed at the exec, from the key the
 * source gave with the exec record (the proc connector: the stat of its
 * /proc read; eBPF: the inode the kernel exec'd), without waking the worker:
 * 50 runs of /bin/sleep after the first (which fills the cache) wake it far
 * fewer than 50 times (other processes of the machine may wake it), and
 * each hash is sha256sum's, cached, as the process's own image. */
static int test_cached_at_once(uint32_t source, const char *name) {
  struct t_records r = {0};
  char want[65], got[65];
  const struct pr_rec_hash *x;
  pid_t p[50];
  long w0, w1;
  int i, at_once = 0;
  void *h = open_source(source);
  if (h == NULL) {
    printf("     skip %s: it cannot be opened here\n", name);
    return 0;
  }
  CHECK(sha256sum_of("/bin/sleep", want));
  CHECK(procrec_start(h) == PR_OK);
  x = hash_of(h, &r, run("/bin/sleep", "0.02"));
  CHECK(x != NULL && x->status == PR_HASH_OK);
  usleep(100000);
  w0 = worker_wakeups();
  for (i = 0; i < 50; i++) p[i] = run("/bin/sleep", "0.02");
  usleep(100000);
  w1 = worker_wakeups();
  for (i = 0; i < 50; i++) {
    x = hash_of(h, &r, p[i]);
    CHECK(x != NULL);
    /* a /proc read too late on a loaded machine: no key, no hash */
    if (x->status == PR_HASH_GONE && x->err == 4) continue;
    CHECK(x->status == PR_HASH_OK && x->hash_flags == (PR_H_VIA_EXE | PR_H_CACHED));
    hex(x->sha256, got);
    CHECK(strcmp(got, want) == 0);
    at_once++;
  }
  printf("     %s: %d of 50 hashed from the cache; the worker woke %ld time(s) meanwhile\n", name, at_once, w1 - w0);
  CHECK(at_once >= 25);
  CHECK(w0 >= 0 && w1 - w0 < 25);
  procrec_close(h);
  free(r.buf);
  return 0;
}

static int test_netlink_cached_at_once(void) { return test_cached_at_once(PR_SOURCE_NETLINK, "netlink"); }
static int test_ebpf_cached_at_once(void) { return test_cached_at_once(PR_SOURCE_EBPF, "ebpf"); }

/* PR_CTL_HASH_CACHE_LOAD / SAVE with path as arg. */
static int cache_ctl(void *h, uint32_t op, const char *path) {
  return procrec_control(h, op, (const uint8_t *)path, (uint32_t)strlen(path));
}

static void last_error(void *h, char *buf, uint32_t cap) {
  buf[0] = 0;
  procrec_last_error(h, buf, cap);
}

/* The cache kept between runs: a first library instance reads two test-built
 * binaries and saves its cache at stop; a second one, given that file,
 * hashes the unchanged binary from it (cached, sha256sum's hash, not read)
 * and reads the one modified in between again (its new hash). A third one,
 * given the file after its mode was opened to group and others, ignores it
 * with a warning naming it, and reads the binary. */
static int test_cache_between_runs(uint32_t source, const char *name) {
  struct t_records r1 = {0}, r2 = {0}, r3 = {0};
  char same[200], chg[200], cache[200], want[65], want_chg[65], got[65], err[1024];
  const struct pr_rec_hash *x;
  struct procrec_stats st;
  void *h;
  int fd, n;
  snprintf(same, sizeof(same), "%s/kept-%s", dir, name);
  snprintf(chg, sizeof(chg), "%s/modified-%s", dir, name);
  snprintf(cache, sizeof(cache), "%s/cache-%s/image-hashes", dir, name);
  CHECK(copy_file("/bin/sleep", same) && copy_file("/bin/sleep", chg) && sha256sum_of(same, want));
  usleep(2200000); /* the 2 s rule: a file changed more recently is not cached */

  if ((h = open_source(source)) == NULL) {
    printf("     skip %s: it cannot be opened here\n", name);
    return 0;
  }
  CHECK(cache_ctl(h, PR_CTL_HASH_CACHE_LOAD, cache) == 0); /* none yet: no error */
  CHECK(cache_ctl(h, PR_CTL_HASH_CACHE_SAVE, cache) == PR_E_STATE); /* only once started */
  CHECK(procrec_start(h) == PR_OK);
  x = hash_of(h, &r1, run(same, "0.05"));
  CHECK(x != NULL && x->status == PR_HASH_OK && !(x->hash_flags & PR_H_CACHED));
  /* saved while running: what was hashed so far, there for another
   * recorder of this boot at once */
  n = cache_ctl(h, PR_CTL_HASH_CACHE_SAVE, cache);
  CHECK(n >= 1);
  {
    void *h2 = open_source(source);
    CHECK(h2 != NULL);
    CHECK(cache_ctl(h2, PR_CTL_HASH_CACHE_LOAD, cache) == n);
    procrec_close(h2);
  }
  x = hash_of(h, &r1, run(chg, "0.05"));
  CHECK(x != NULL && x->status == PR_HASH_OK && !(x->hash_flags & PR_H_CACHED));
  CHECK(procrec_stop(h) == PR_OK);
  n = cache_ctl(h, PR_CTL_HASH_CACHE_SAVE, cache);
  CHECK(n >= 2);
  procrec_close(h);

  fd = open(chg, O_WRONLY | O_APPEND);
  CHECK(fd >= 0 && write(fd, "x", 1) == 1);
  close(fd);
  CHECK(sha256sum_of(chg, want_chg) && strcmp(want, want_chg) != 0);

  h = open_source(source);
  CHECK(h != NULL);
  CHECK(cache_ctl(h, PR_CTL_HASH_CACHE_LOAD, cache) == n);
  CHECK(procrec_start(h) == PR_OK);
  CHECK(cache_ctl(h, PR_CTL_HASH_CACHE_LOAD, cache) == PR_E_STATE); /* only before start */
  x = hash_of(h, &r2, run(same, "0.05"));
  CHECK(x != NULL && x->status == PR_HASH_OK && (x->hash_flags & PR_H_CACHED));
  hex(x->sha256, got);
  CHECK(strcmp(got, want) == 0);
  x = hash_of(h, &r2, run(chg, "0.05"));
  if (x != NULL && x->status != PR_HASH_OK) fprintf(stderr, "     %s: status %u why %u\n", name, x->status, x->err);
  CHECK(x != NULL && x->status == PR_HASH_OK && !(x->hash_flags & PR_H_CACHED));
  hex(x->sha256, got);
  CHECK(strcmp(got, want_chg) == 0);
  CHECK(procrec_stats(h, &st) == PR_OK && st.hash_cached >= 1 && st.hash_read >= 1);
  procrec_close(h);

  CHECK(chmod(cache, 0644) == 0);
  h = open_source(source);
  CHECK(h != NULL);
  CHECK(cache_ctl(h, PR_CTL_HASH_CACHE_LOAD, cache) == PR_E_PERM);
  last_error(h, err, sizeof(err));
  printf("     %s: %s\n", name, err);
  CHECK(strstr(err, cache) != NULL && strstr(err, "mode 0644") != NULL);
  CHECK(procrec_start(h) == PR_OK);
  x = hash_of(h, &r3, run(same, "0.05"));
  CHECK(x != NULL && x->status == PR_HASH_OK && !(x->hash_flags & PR_H_CACHED));
  procrec_close(h);
  printf("     %s: %d entries saved; the unchanged binary from the file (not read), the modified one read again\n",
         name, n);
  unlink(cache);
  *strrchr(cache, '/') = 0;
  rmdir(cache);
  unlink(same);
  unlink(chg);
  free(r1.buf);
  free(r2.buf);
  free(r3.buf);
  return 0;
}

static int test_netlink_cache_file(void) { return test_cache_between_runs(PR_SOURCE_NETLINK, "netlink"); }
static int test_ebpf_cache_file(void) { return test_cache_between_runs(PR_SOURCE_EBPF, "ebpf"); }

int main(void) {
  if (geteuid() != 0) {
    printf("skip test_hash: capture needs root\n");
    return 0;
  }
  if (mkdtemp(dir) == NULL) return 2;
  t_run("netlink: an exec'd binary's sha256 is sha256sum's; changed, replaced, deleted ones are marked; cached",
        test_netlink_hashes);
  t_run("ebpf: an exec'd binary's sha256 is sha256sum's; changed, replaced, deleted ones are marked; cached",
        test_ebpf_hashes);
  t_run("netlink: a cached image is hashed at the exec, without waking the worker", test_netlink_cached_at_once);
  t_run("ebpf: a cached image is hashed at the exec, without waking the worker", test_ebpf_cached_at_once);
  t_run("a running binary deleted before hashing is hashed through /proc/PID/exe", test_running_deleted_binary);
  t_run("a memfd exec is hashed while it runs, gone once it ended", test_memfd);
  t_run("netlink: a cache file from an earlier run: unchanged images not read again, a modified one read",
        test_netlink_cache_file);
  t_run("ebpf: a cache file from an earlier run: unchanged images not read again, a modified one read",
        test_ebpf_cache_file);
  rmdir(dir);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
