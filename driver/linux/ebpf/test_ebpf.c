/*
 * test_ebpf.c - capture tests of the eBPF source through the public C ABI of
 * libprocrec.so, on the real kernel (run as root by `make -C driver/linux
 * test`; without root it says so and skips).
 *
 *   test_ebpf STORM            the storm (storm.c): every exec's image and argv
 *                              exact (the non-leader-thread exec too), every
 *                              parent and exit status right, every thread seen,
 *                              zero lost
 *   test_ebpf STORM loss       tiny BPF ring, reader paused: lost records whose
 *                              counts equal the kernel's per-CPU reserve
 *                              failures (read with bpftool from the map)
 *   test_ebpf STORM bench SRC  (not a test) records the storm with source SRC
 *                              (ebpf or netlink) through the library alone and
 *                              prints records, lost and this process's CPU
 *   test_ebpf - snapshot       a process created while the snapshot is taken
 *                              appears once: its snapshot record, not also a
 *                              live PROCESS_CREATE
 *   test_ebpf - unprivileged   (run without CAP_BPF/CAP_SYS_ADMIN): PR_SOURCE_EBPF
 *                              fails with PR_E_PERM and a clear message, AUTO
 *                              falls back to netlink and says why
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/procrec_abi.h"

static int failures;

#define CHECK(cond, ...)                                                                                               \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      failures++;                                                                                                      \
      if (failures <= 20) {                                                                                            \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                           \
        fprintf(stderr, __VA_ARGS__);                                                                                  \
        fputc('\n', stderr);                                                                                           \
      }                                                                                                                \
    }                                                                                                                  \
  } while (0)

/* ---- what was captured ----
 * pid_max is often 32768, and the storm creates 60,000 threads: pids are
 * reused during the storm. Each process the storm forks is one incarnation,
 * kept in creation order per pid; exec and exit apply to the pid's latest
 * incarnation that has not exited. The storm's output lists its children in
 * the same order. */

#define MAXPID (1u << 22)

struct seen {
  uint8_t created, execs, exited, exec_from_thread;
  uint32_t ppid;
  uint32_t status;
  uint16_t exec_flags;
  uint8_t prov_image, prov_argv;
  char *image;
  char *argv; /* NUL-joined, argv_len bytes */
  uint32_t argv_len, argc;
  int32_t next; /* next incarnation of the same pid, -1 */
};

static struct seen *inc;       /* incarnations */
static int32_t n_inc, cap_inc;
static int32_t *first_inc, *last_inc; /* per pid, -1 when none */
static uint64_t n_records, n_thread_create_storm, n_thread_exit_storm, lost_records, lost_count;
static _Atomic uint32_t storm_pid; /* known once the storm runs: its threads are counted */
static struct seen storm_self;
static atomic_int reading_done;
static void *handle;

static char *dup_str(const uint8_t *rec, struct pr_str s) {
  char *p = malloc(s.len + 1);
  memcpy(p, rec + s.off, s.len);
  p[s.len] = 0;
  return p;
}

static struct seen *live(uint32_t pid) {
  if (pid == storm_pid && storm_pid) return &storm_self;
  if (pid >= MAXPID || last_inc[pid] < 0) return NULL;
  struct seen *s = &inc[last_inc[pid]];
  return s->exited ? NULL : s;
}

static void take(const uint8_t *rec) {
  const struct pr_rec_header *h = (const void *)rec;
  struct seen *s = live(h->pid);
  n_records++;
  switch (h->kind) {
  case PR_REC_PROCESS_CREATE: {
    const struct pr_rec_process_create *r = (const void *)rec;
    if (!storm_pid || r->parent_pid != storm_pid || h->pid >= MAXPID) break;
    if (n_inc == cap_inc) inc = realloc(inc, sizeof(*inc) * (size_t)(cap_inc = cap_inc ? cap_inc * 2 : 4096));
    s = &inc[n_inc];
    memset(s, 0, sizeof(*s));
    s->next = -1;
    s->created = 1;
    s->ppid = r->parent_pid;
    if (last_inc[h->pid] >= 0) inc[last_inc[h->pid]].next = n_inc;
    else first_inc[h->pid] = n_inc;
    last_inc[h->pid] = n_inc++;
    break;
  }
  case PR_REC_EXEC: {
    const struct pr_rec_exec *r = (const void *)rec;
    if (!s) break;
    s->execs++;
    s->exec_from_thread = h->tid != h->pid;
    s->exec_flags = h->flags;
    s->prov_image = r->info.prov_image;
    s->prov_argv = r->info.prov_argv;
    free(s->image);
    free(s->argv);
    s->image = dup_str(rec, r->info.image);
    s->argv = dup_str(rec, r->info.argv);
    s->argv_len = r->info.argv.len;
    s->argc = r->info.argc;
    break;
  }
  case PR_REC_PROCESS_EXIT: {
    const struct pr_rec_process_exit *r = (const void *)rec;
    if (s) s->exited++, s->status = r->status;
    break;
  }
  case PR_REC_THREAD_CREATE:
    if (storm_pid && h->pid == storm_pid) n_thread_create_storm++;
    break;
  case PR_REC_THREAD_EXIT:
    if (storm_pid && h->pid == storm_pid) n_thread_exit_storm++;
    break;
  case PR_REC_LOST: {
    const struct pr_rec_lost *r = (const void *)rec;
    lost_records++;
    lost_count += r->count;
    CHECK(r->reason == PR_LOST_BPF_RESERVE, "lost record with reason %u, expected PR_LOST_BPF_RESERVE", r->reason);
    break;
  }
  default:
    break;
  }
}

/* The next incarnation of pid in creation order (the storm lists children in order). */
static struct seen *next_of(uint32_t pid) {
  static struct seen none;
  static int32_t *cursor;
  if (!cursor) {
    cursor = malloc(sizeof(*cursor) * MAXPID);
    for (uint32_t i = 0; i < MAXPID; i++) cursor[i] = -2;
  }
  if (pid >= MAXPID) return &none;
  int32_t i = cursor[pid] == -2 ? first_inc[pid] : cursor[pid];
  if (i < 0) {
    memset(&none, 0, sizeof(none));
    return &none;
  }
  cursor[pid] = inc[i].next;
  return &inc[i];
}

static int read_some(uint32_t timeout_ms) {
  static uint8_t buf[1 << 20];
  int32_t n = procrec_read(handle, buf, sizeof(buf), timeout_ms);
  uint32_t off = 0;
  if (n < 0) {
    char e[256];
    procrec_last_error(handle, e, sizeof(e));
    fprintf(stderr, "procrec_read: %d: %s\n", n, e);
    exit(2);
  }
  while (off + sizeof(struct pr_rec_header) <= (uint32_t)n) {
    const struct pr_rec_header *h = (const void *)(buf + off);
    if (h->size < sizeof(*h) || off + h->size > (uint32_t)n) {
      fprintf(stderr, "FAIL: malformed record at %u\n", off);
      exit(2);
    }
    take(buf + off);
    off += h->size;
  }
  return n;
}

static void *reader(void *arg) {
  while (!atomic_load(&reading_done)) read_some(50);
  return arg;
}

static void *open_source(uint32_t source, uint32_t bpf_ring, uint32_t *got, char *why, size_t n) {
  struct procrec_options o;
  void *h = NULL;
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = source;
  o.flags = PR_OPT_NO_SNAPSHOT;
  o.bpf_ring_bytes = bpf_ring;
  int32_t rc = procrec_open(&o, &h);
  if (rc != PR_OK) {
    procrec_last_error(NULL, why, (uint32_t)n);
    *got = (uint32_t)-rc;
    return NULL;
  }
  *got = (uint32_t)procrec_source(h, why, (uint32_t)n);
  return h;
}

/* Runs the storm binary with its stdout into a buffer; returns its wait status. */
static int run_storm(const char *storm, const char *threads, const char *execs, char **out) {
  int p[2];
  size_t cap = 1 << 16, len = 0;
  ssize_t k;
  if (pipe(p) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    execl(storm, storm, threads, execs, (char *)NULL);
    _exit(127);
  }
  storm_pid = (uint32_t)pid;
  close(p[1]);
  *out = malloc(cap);
  while ((k = read(p[0], *out + len, cap - len - 1)) > 0) {
    len += (size_t)k;
    if (cap - len < 4096) *out = realloc(*out, cap *= 2);
  }
  (*out)[len] = 0;
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  return st;
}

/* Sum of the eBPF source's per-CPU reserve failures, read by bpftool from
 * this process's map (a per-CPU array with 8-byte values, found in fdinfo). */
static long long kernel_reserve_failures(void) {
  char path[300], line[256], cmd[512];
  DIR *d = opendir("/proc/self/fdinfo");
  struct dirent *e;
  long long total = -1;
  if (!d) return -1;
  while ((e = readdir(d))) {
    unsigned type = 0, vsize = 0, id = 0;
    snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    while (fgets(line, sizeof(line), f)) {
      sscanf(line, "map_type: %u", &type);
      sscanf(line, "value_size: %u", &vsize);
      sscanf(line, "map_id: %u", &id);
    }
    fclose(f);
    if (type != 6 || vsize != 8 || !id) continue; /* BPF_MAP_TYPE_PERCPU_ARRAY of u64 */
    snprintf(cmd, sizeof(cmd), "PATH=\"$PATH:/usr/sbin:/sbin\" bpftool -j map dump id %u", id);
    FILE *b = popen(cmd, "r");
    if (!b) break;
    static char json[1 << 16];
    size_t len = fread(json, 1, sizeof(json) - 1, b);
    json[len] = 0;
    pclose(b);
    /* raw bytes first, then (the map has BTF) "formatted" with numbers */
    char *fmt = strstr(json, "\"formatted\"");
    if (!fmt) break;
    total = 0;
    for (char *p = fmt; (p = strstr(p, "\"value\":")); p += 8) total += strtoll(p + 8, NULL, 10);
    break;
  }
  closedir(d);
  return total;
}

static int test_storm(const char *storm) {
  char why[512];
  uint32_t src;
  handle = open_source(PR_SOURCE_EBPF, 0, &src, why, sizeof(why));
  if (!handle) {
    fprintf(stderr, "FAIL: cannot open the eBPF source (status -%u): %s\n", src, why);
    return 1;
  }
  CHECK(src == PR_SOURCE_EBPF, "procrec_source says %u (%s), expected eBPF", src, why);
  CHECK(procrec_start(handle) == PR_OK, "procrec_start");
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
  char *out = NULL;
  int st = run_storm(storm, "60000", "1500", &out);
  CHECK(st == 0, "storm exited with status %d", st);
  CHECK(procrec_stop(handle) == PR_OK, "procrec_stop");
  atomic_store(&reading_done, 1);
  pthread_join(t, NULL);
  while (read_some(0) > 0) {
  }

  unsigned execs = 0, exec_ok = 0, children = 0, thread_exec = 0;
  long threads = 0;
  char *save = NULL;
  for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    unsigned pid, stt, idx;
    char image[64];
    if (sscanf(line, "exec %u %u %63s %u", &pid, &idx, image, &stt) == 4) {
      struct seen *s = next_of(pid);
      char want[128];
      int wl = snprintf(want, sizeof(want), "%s%cstorm%c%u%c", image, 0, 0, idx, 0);
      execs++;
      CHECK(s->created == 1, "exec child %u: %u create records", pid, s->created);
      CHECK(s->ppid == storm_pid, "exec child %u: parent %u, expected %u", pid, s->ppid, storm_pid);
      CHECK(s->execs == 1, "exec child %u: %u exec records", pid, s->execs);
      CHECK(s->exited == 1 && s->status == stt, "exec child %u: exit status %#x (%u records), expected %#x", pid,
            s->status, s->exited, stt);
      char real[4096];
      if (!realpath(image, real)) snprintf(real, sizeof(real), "%s", image);
      /* image: the executable's path as /proc/PID/exe shows it; argv[0]: as passed */
      if (s->execs == 1 && s->image && strcmp(s->image, real) == 0 && s->argv_len == (uint32_t)wl &&
          memcmp(s->argv, want, (size_t)wl) == 0 && s->argc == 3 && s->prov_image == PR_PROV_KERNEL &&
          s->prov_argv == PR_PROV_KERNEL && !(s->exec_flags & PR_F_ARGV_TRUNCATED))
        exec_ok++;
      else
        CHECK(0, "exec child %u: image %s argv (%u bytes, argc %u) differs from %s (%s) storm %u", pid,
              s->image ? s->image : "(none)", s->argv_len, s->argc, real, image, idx);
    } else if (sscanf(line, "thread-exec %u %u", &pid, &stt) == 2) {
      struct seen *s = next_of(pid);
      static const char want[] = "/bin/true\0storm-thread-exec";
      thread_exec++;
      CHECK(s->execs == 1 && s->exec_from_thread, "thread-exec child %u: %u execs, from a thread: %u", pid, s->execs,
            s->exec_from_thread);
      char real[4096];
      if (!realpath("/bin/true", real)) snprintf(real, sizeof(real), "/bin/true");
      CHECK(s->image && strcmp(s->image, real) == 0 && s->argv_len == sizeof(want) &&
                memcmp(s->argv, want, sizeof(want)) == 0,
            "thread-exec child %u: image or argv differs", pid);
      CHECK(s->exited == 1 && s->status == stt, "thread-exec child %u: status %#x, expected %#x", pid, s->status, stt);
    } else if (sscanf(line, "child %u %u", &pid, &stt) == 2) {
      struct seen *s = next_of(pid);
      children++;
      CHECK(s->created == 1 && s->ppid == storm_pid, "child %u: created %u, parent %u", pid, s->created, s->ppid);
      CHECK(s->exited == 1 && s->status == stt, "child %u: status %#x, expected %#x", pid, s->status, stt);
    } else if (sscanf(line, "storm %u %ld", &pid, &threads) == 2) {
      CHECK(pid == storm_pid, "storm pid");
    }
  }
  CHECK(execs == 1500 && thread_exec == 1 && children == 3, "storm output: %u execs, %u thread-exec, %u children",
        execs, thread_exec, children);
  CHECK(exec_ok == execs, "%u of %u execs with exact image and argv", exec_ok, execs);
  CHECK(n_thread_create_storm == (uint64_t)threads + 4, "%llu thread creates in the storm process, expected %ld",
        (unsigned long long)n_thread_create_storm, threads + 4);
  CHECK(n_thread_exit_storm >= (uint64_t)threads + 4, "%llu thread exits in the storm process, expected %ld",
        (unsigned long long)n_thread_exit_storm, threads + 4);
  CHECK(storm_self.exited == 1 && storm_self.status == 0, "storm process exit: %u records, status %#x", storm_self.exited, storm_self.status);
  CHECK(lost_records == 0, "%llu lost records (%llu events)", (unsigned long long)lost_records,
        (unsigned long long)lost_count);
  struct procrec_stats stats;
  memset(&stats, 0, sizeof(stats));
  procrec_stats(handle, &stats);
  printf("storm: %u/%u execs exact (thread exec %u), %llu+%llu threads, %llu records, %llu kernel messages, lost %llu\n",
         exec_ok, execs, thread_exec, (unsigned long long)n_thread_create_storm,
         (unsigned long long)n_thread_exit_storm, (unsigned long long)n_records,
         (unsigned long long)stats.kernel_msgs, (unsigned long long)stats.lost_total);
  procrec_close(handle);
  free(out);
  return failures ? 1 : 0;
}

static int test_loss(const char *storm) {
  char why[512];
  uint32_t src;
  handle = open_source(PR_SOURCE_EBPF, 32 << 10, &src, why, sizeof(why)); /* the least a ring may be */
  if (!handle) {
    fprintf(stderr, "FAIL: cannot open the eBPF source (status -%u): %s\n", src, why);
    return 1;
  }
  CHECK(procrec_start(handle) == PR_OK, "procrec_start");
  CHECK(procrec_control(handle, PR_CTL_PAUSE_READER, NULL, 0) == PR_OK, "pause");
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
  char *out = NULL;
  int st = run_storm(storm, "4000", "100", &out);
  CHECK(st == 0, "storm exited with status %d", st);
  CHECK(procrec_control(handle, PR_CTL_RESUME_READER, NULL, 0) == PR_OK, "resume");
  usleep(500 * 1000); /* the reader drains the BPF ring; nothing fails any more */
  long long kernel = kernel_reserve_failures();
  CHECK(procrec_stop(handle) == PR_OK, "procrec_stop");
  atomic_store(&reading_done, 1);
  pthread_join(t, NULL);
  while (read_some(0) > 0) {
  }
  struct procrec_stats stats;
  memset(&stats, 0, sizeof(stats));
  procrec_stats(handle, &stats);
  CHECK(kernel > 1000, "the kernel counted %lld reserve failures: the forced loss did not happen", kernel);
  CHECK(lost_records > 0, "no lost records");
  CHECK((long long)lost_count == kernel, "lost records count %llu events, the kernel's per-CPU failures sum to %lld",
        (unsigned long long)lost_count, kernel);
  CHECK(stats.lost_bpf == lost_count, "stats.lost_bpf %llu, lost records %llu", (unsigned long long)stats.lost_bpf,
        (unsigned long long)lost_count);
  printf("loss: %llu lost records counting %llu events; kernel reserve failures %lld; stats.lost_bpf %llu\n",
         (unsigned long long)lost_records, (unsigned long long)lost_count, kernel, (unsigned long long)stats.lost_bpf);
  procrec_close(handle);
  free(out);
  return failures ? 1 : 0;
}

static int test_unprivileged(void) {
  char why[512];
  uint32_t src;
  void *h = open_source(PR_SOURCE_EBPF, 0, &src, why, sizeof(why));
  CHECK(h == NULL, "PR_SOURCE_EBPF opened without the privilege to load BPF");
  CHECK(h != NULL || src == (uint32_t)-PR_E_PERM, "PR_SOURCE_EBPF failed with -%u, expected PR_E_PERM", src);
  CHECK(h != NULL || strstr(why, "not allowed to load BPF") != NULL, "unclear message: %s", why);
  printf("unprivileged: PR_SOURCE_EBPF: %s\n", why);
  if (h) procrec_close(h);
  h = open_source(PR_SOURCE_AUTO, 0, &src, why, sizeof(why));
  if (!h) {
    printf("unprivileged: PR_SOURCE_AUTO failed too (no proc connector privilege either): %s\n", why);
    CHECK(strstr(why, "not allowed to load BPF") != NULL, "AUTO's message does not say why eBPF failed: %s", why);
  } else {
    CHECK(src == PR_SOURCE_NETLINK, "AUTO chose %u, expected netlink", src);
    CHECK(strncmp(why, "netlink: ", 9) == 0 && strstr(why, "not allowed to load BPF") != NULL,
          "AUTO's reason does not say why: %s", why);
    printf("unprivileged: PR_SOURCE_AUTO: %s\n", why);
    procrec_close(h);
  }
  return failures ? 1 : 0;
}

/* Processes created while procrec_start attaches and takes the snapshot:
 * each must appear once (its snapshot record, or a live create), never as
 * both (which would look like a reused pid). A forker makes a child every
 * millisecond, each alive 300 ms, from 300 ms before the start until 300 ms
 * after it.
 * SLEEPERS idle processes make /proc long, as on a busy host: the snapshot
 * then lists it in several getdents calls and takes long enough for the
 * forker's new children to be both in the ring and in the snapshot. */
#define SLEEPERS 3000

/* A process that forks a child (alive 300 ms) every millisecond until
 * `quit` (a pipe's read end) reaches end of file; it first closes the
 * write ends `others` (-1 terminated) it must not hold. */
static pid_t start_forker(int quit, const int *others) {
  pid_t forker = fork();
  if (forker != 0) return forker;
  while (*others >= 0) close(*others++);
  fcntl(quit, F_SETFL, O_NONBLOCK);
  for (;;) {
    char c;
    pid_t k = fork();
    if (k == 0) {
      usleep(300000);
      _exit(0);
    }
    usleep(1000);
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    if (read(quit, &c, 1) == 0) break;
  }
  while (wait(NULL) > 0) {
  }
  _exit(0);
}

static int test_snapshot_overlap(void) {
  struct procrec_options o;
  static uint8_t buf[1 << 20];
  static pid_t sleepers[SLEEPERS];
  uint8_t *all = NULL;
  size_t len = 0, cap = 0, off, off2;
  uint32_t src;
  int st, twice = 0, snaps_of_children = 0, creates_of_children = 0, n_sleepers = 0;
  int idle[2], quit[2];
  char why[512];
  void *h = NULL;
  pid_t forker;
  int32_t n;
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = PR_SOURCE_EBPF;
  n = procrec_open(&o, &h); /* loading the programs takes a while: before the forker */
  if (n != PR_OK) {
    procrec_last_error(NULL, why, sizeof(why));
    fprintf(stderr, "FAIL: cannot open the eBPF source: %d: %s\n", n, why);
    return 1;
  }
  src = (uint32_t)procrec_source(h, why, sizeof(why));
  CHECK(src == PR_SOURCE_EBPF, "source %u (%s), expected ebpf", src, why);
  if (pipe(idle) != 0 || pipe(quit) != 0) return 2;
  for (; n_sleepers < SLEEPERS; n_sleepers++) { /* each waits for end of file on idle */
    char c;
    pid_t k = fork();
    if (k < 0) break;
    if (k == 0) {
      close(idle[1]);
      close(quit[1]);
      (void)!read(idle[0], &c, 1);
      _exit(0);
    }
    sleepers[n_sleepers] = k;
  }
  close(idle[0]);
  {
    int others[] = {quit[1], idle[1], -1};
    forker = start_forker(quit[0], others);
  }
  close(quit[0]);
  usleep(300000);
  CHECK(procrec_start(h) == PR_OK, "procrec_start");
  usleep(300000);
  close(quit[1]);
  waitpid(forker, &st, 0);
  close(idle[1]);
  for (int i = 0; i < n_sleepers; i++) waitpid(sleepers[i], &st, 0);
  procrec_stop(h);
  while ((n = procrec_read(h, buf, sizeof(buf), 0)) > 0) {
    if (len + (size_t)n > cap) all = realloc(all, cap = (len + (size_t)n) * 2);
    memcpy(all + len, buf, (size_t)n);
    len += (size_t)n;
  }
  CHECK(n == 0, "procrec_read: %d", n);
  procrec_close(h);
  for (off = 0; off < len; off += ((const struct pr_rec_header *)(const void *)(all + off))->size) {
    const struct pr_rec_header *r = (const void *)(all + off);
    if (r->kind == PR_REC_PROCESS_CREATE &&
        ((const struct pr_rec_process_create *)(const void *)r)->parent_pid == (uint32_t)forker)
      creates_of_children++;
    if (r->kind != PR_REC_SNAPSHOT) continue;
    if (((const struct pr_rec_snapshot *)(const void *)r)->parent_pid == (uint32_t)forker) snaps_of_children++;
    for (off2 = off + r->size; off2 < len; off2 += ((const struct pr_rec_header *)(const void *)(all + off2))->size) {
      const struct pr_rec_header *g = (const void *)(all + off2);
      if (g->pid != r->pid) continue;
      if (g->kind == PR_REC_PROCESS_EXIT) break; /* a later create is a reused pid */
      /* a create of a process that already existed when the snapshot read it */
      if (g->kind == PR_REC_PROCESS_CREATE &&
          ((const struct pr_rec_process_create *)(const void *)g)->start_ns <= r->mono_ns) {
        if (twice < 5) fprintf(stderr, "     pid %u: a snapshot record and a create of the same process\n", r->pid);
        twice++;
        break;
      }
    }
  }
  printf("snapshot overlap: %d idle processes; %d children of the forker in the snapshot, %d live creates, %d "
         "shown twice\n",
         n_sleepers, snaps_of_children, creates_of_children, twice);
  CHECK(snaps_of_children > 0, "no child of the forker in the snapshot: the overlap was not exercised");
  CHECK(creates_of_children > 0, "no live create of the forker's children");
  CHECK(twice == 0, "%d processes appear as a snapshot record and as a live create", twice);
  free(all);
  return failures ? 1 : 0;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru); /* this process's threads: the library's and the reader */
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
         ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static int bench(const char *storm, const char *source) {
  char why[512];
  uint32_t src, want = strcmp(source, "netlink") == 0 ? PR_SOURCE_NETLINK : PR_SOURCE_EBPF;
  double c0 = cpu_seconds();
  handle = open_source(want, 0, &src, why, sizeof(why));
  if (!handle) {
    fprintf(stderr, "bench: cannot open %s: %s\n", source, why);
    return 2;
  }
  procrec_start(handle);
  double c1 = cpu_seconds();
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
  char *out = NULL;
  run_storm(storm, "60000", "1500", &out);
  procrec_stop(handle);
  atomic_store(&reading_done, 1);
  pthread_join(t, NULL);
  while (read_some(0) > 0) {
  }
  double c2 = cpu_seconds();
  struct procrec_stats st;
  memset(&st, 0, sizeof(st));
  procrec_stats(handle, &st);
  printf("library %-7s: %llu records, %llu kernel messages, lost %llu; CPU %.3f s (open+start %.3f s, storm %.3f s)\n",
         source, (unsigned long long)n_records, (unsigned long long)st.kernel_msgs, (unsigned long long)st.lost_total,
         c2 - c0, c1 - c0, c2 - c1);
  procrec_close(handle);
  free(out);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_ebpf STORM [loss] | test_ebpf - snapshot | test_ebpf - unprivileged\n");
    return 2;
  }
  if (argc > 2 && strcmp(argv[2], "unprivileged") == 0) return test_unprivileged();
  if (geteuid() != 0) {
    printf("test_ebpf: SKIPPED: capture tests need root (euid %u)\n", geteuid());
    return 0;
  }
  first_inc = malloc(sizeof(*first_inc) * MAXPID);
  last_inc = malloc(sizeof(*last_inc) * MAXPID);
  if (!first_inc || !last_inc) return 2;
  memset(first_inc, 0xff, sizeof(*first_inc) * MAXPID);
  memset(last_inc, 0xff, sizeof(*last_inc) * MAXPID);
  if (argc > 2 && strcmp(argv[2], "loss") == 0) return test_loss(argv[1]);
  if (argc > 2 && strcmp(argv[2], "snapshot") == 0) return test_snapshot_overlap();
  if (argc > 3 && strcmp(argv[2], "bench") == 0) return bench(argv[1], argv[3]);
  return test_storm(argv[1]);
}
