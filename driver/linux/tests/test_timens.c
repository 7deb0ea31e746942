/*
 * test_timens.c - lib.c's clocks in a time namespace: the parser of
 * /proc/<pid>/timens_offsets (no root), then (root, Linux 5.6+) a process in
 * a namespace whose monotonic and boottime clocks are shifted: the
 * library's own reads (pr_lib_mono_now, a snapshot's read time and start
 * time, the UTC mapping) must still be the host's clocks, which the
 * kernel's event times are.
 *
 * Built with lib.c, snapshot.c, procfs.c and driver/common like
 * test_lib_losses.c; this file defines pr_source_netlink and pr_source_ebpf
 * as a source that only takes the snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../source.h"
#include "test_util.h"

int pr_timens_parse(const char *text, int64_t *mono_ns, int64_t *boot_ns, char *why, size_t n); /* lib.c */

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#include "scripted_source.h"

/* ---- the parser ---- */

static int parses(const char *text, int64_t mono, int64_t boot) {
  int64_t m = -7, b = -7;
  char why[256] = "";
  if (pr_timens_parse(text, &m, &b, why, sizeof(why)) != 0) {
    fprintf(stderr, "refused \"%s\": %s\n", text, why);
    return 0;
  }
  if (m != mono || b != boot) {
    fprintf(stderr, "\"%s\": monotonic %lld boottime %lld\n", text, (long long)m, (long long)b);
    return 0;
  }
  return 1;
}

static int refuses(const char *text, const char *said) {
  int64_t m = 0, b = 0;
  char why[256] = "";
  if (pr_timens_parse(text, &m, &b, why, sizeof(why)) == 0) {
    fprintf(stderr, "accepted \"%s\"\n", text);
    return 0;
  }
  if (strstr(why, said) == NULL) {
    fprintf(stderr, "refused \"%s\" saying \"%s\", not \"%s\"\n", text, why, said);
    return 0;
  }
  return 1;
}

static int test_parser_reads_the_kernels_lines(void) {
  /* as the kernel prints them (its columns), then signed and by number */
  CHECK(parses("monotonic           0         0\nboottime            0         0\n", 0, 0));
  CHECK(parses("monotonic       86400         0\nboottime       172800       500\n", 86400000000000ll,
               172800000000500ll));
  /* a timespec: whole seconds, signed, then nanoseconds added */
  CHECK(parses("boottime -2 999999999\nmonotonic -1 0", -1000000000ll, -1000000001ll));
  CHECK(parses("1 3 0\n7 4 0\n", 3000000000ll, 4000000000ll));
  CHECK(parses("\nmonotonic 1 0\n\nrealtime 9 0\nboottime 2 0\n\n", 1000000000ll, 2000000000ll));
  return 0;
}

static int test_parser_names_the_line_at_fault(void) {
  char long_line[300];
  memset(long_line, 'x', sizeof(long_line) - 1);
  long_line[sizeof(long_line) - 1] = 0;
  CHECK(refuses("", "no monotonic line"));
  CHECK(refuses("monotonic 1 0\n", "no boottime line"));
  CHECK(refuses("monotonic 1 0\nboottime x 0\n", "line 2 \"boottime x 0\""));
  CHECK(refuses("monotonic 1\nboottime 1 0\n", "line 1 \"monotonic 1\""));
  CHECK(refuses("monotonic 1 0 9\nboottime 1 0\n", "line 1"));
  CHECK(refuses("monotonic 1 1000000000\nboottime 1 0\n", "out of range"));
  CHECK(refuses("monotonic 1 -1\nboottime 1 0\n", "out of range"));
  CHECK(refuses("monotonic 99999999999999999999 0\nboottime 1 0\n", "out of range"));
  CHECK(refuses(long_line, "line 1 is 299 bytes long"));
  return 0;
}

/* ---- in a time namespace (root) ---- */

static uint64_t host_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t utc_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Makes the caller's children's time namespace a new one with these
 * offsets; 0, or -1 when it cannot (said why: the test skips). */
static int new_time_namespace(const char *offsets) {
  int fd;
  if (unshare(CLONE_NEWTIME) != 0) {
    printf("skip: unshare(CLONE_NEWTIME): %s (%s)\n", strerror(errno),
           errno == EPERM ? "it needs root" : "this kernel has no time namespaces");
    return -1;
  }
  fd = open("/proc/self/timens_offsets", O_WRONLY);
  if (fd < 0 || write(fd, offsets, strlen(offsets)) != (ssize_t)strlen(offsets)) {
    printf("skip: cannot write /proc/self/timens_offsets: %s\n", strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

/* What the process in the namespace saw, sent to its parent outside. */
struct seen {
  int rc;              /* 0: everything below is filled */
  uint64_t ns_mono;    /* this namespace's CLOCK_MONOTONIC, read just before */
  uint64_t mono_now;   /* pr_lib_mono_now */
  uint64_t utc_of_now; /* pr_lib_utc_ns of it */
  uint64_t utc;        /* CLOCK_REALTIME just after */
  uint64_t snap_read;  /* its own snapshot record's mono_ns */
  uint64_t snap_start; /* and start_ns */
  int snaps;           /* snapshot records read */
};

static void in_namespace(int out) {
  struct seen s;
  struct procrec_options o;
  struct t_records r = {0};
  const struct pr_rec_header *rh;
  size_t off;
  void *h = NULL;
  memset(&s, 0, sizeof(s));
  s.rc = 1;
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = PR_SOURCE_NETLINK;
  o.flags = PR_OPT_NO_HASH;
  o.max_string = 256;
  if (procrec_open(&o, &h) == PR_OK && procrec_start(h) == PR_OK) {
    s.ns_mono = host_mono(); /* this process's clock: the namespace's */
    s.mono_now = pr_lib_mono_now();
    s.utc_of_now = pr_lib_utc_ns(g_lib, s.mono_now);
    s.utc = utc_now();
    while (t_read_some(h, &r, 100) > 0) {
    }
    for (off = 0; (rh = t_next(&r, &off)) != NULL;)
      if (rh->kind == PR_REC_SNAPSHOT) {
        const struct pr_rec_snapshot *sn = (const void *)rh;
        s.snaps++;
        if (rh->pid == (uint32_t)getpid()) {
          s.snap_read = rh->mono_ns;
          s.snap_start = sn->start_ns;
          s.rc = 0;
        }
      }
  } else {
    char why[512];
    procrec_last_error(h, why, sizeof(why));
    fprintf(stderr, "procrec in the namespace: %s\n", why);
  }
  if (h) procrec_close(h);
  free(r.buf);
  if (write(out, &s, sizeof(s)) != (ssize_t)sizeof(s)) _exit(3);
  _exit(0);
}

/* Runs in a child of the test (which stays in the host's namespace): makes
 * a namespace with the monotonic clock a day ahead and the boottime clock
 * half a second behind, forks a process into it and checks what it saw
 * against the host's clocks read around it. Exits 0 when it passes. */
static int check_from_outside(void) {
  int p[2];
  pid_t pid;
  int st;
  uint64_t before, after, utc_before, utc_after;
  struct seen s;
  if (new_time_namespace("monotonic 86400 0\nboottime -1 500000000\n") != 0) return 77;
  if (pipe(p) != 0) return 1;
  before = host_mono();
  utc_before = utc_now();
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    in_namespace(p[1]);
  }
  close(p[1]);
  if (pid < 0 || read(p[0], &s, sizeof(s)) != (ssize_t)sizeof(s)) return 1;
  after = host_mono();
  utc_after = utc_now();
  waitpid(pid, &st, 0);
  CHECK(s.rc == 0);
  CHECK(s.snaps > 1);
  /* the namespace's clock is a day ahead; the library's is the host's */
  CHECK(s.ns_mono > after + 86000000000000ull);
  CHECK(s.mono_now >= before && s.mono_now <= after);
  CHECK(s.utc_of_now + 50000000u >= s.utc && s.utc_of_now <= s.utc + 50000000u);
  CHECK(s.utc >= utc_before && s.utc <= utc_after);
  /* the snapshot read itself during the run, and started after the fork:
   * starttime counts 10 ms ticks, rounded down */
  CHECK(s.snap_read >= before && s.snap_read <= after);
  CHECK(s.snap_start + 10000000u + 1000000u >= before && s.snap_start <= after);
  return 0;
}

static int run_outside(int (*fn)(void)) {
  int st;
  pid_t pid;
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    int rc = fn();
    fflush(stdout);
    _exit(rc);
  }
  if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return 1;
  return WEXITSTATUS(st) == 77 ? 0 : WEXITSTATUS(st); /* 77: skipped, said why */
}

static int times_are_the_hosts(void) { return check_from_outside(); }

static int test_library_clocks_are_the_hosts_in_a_time_namespace(void) {
  return run_outside(times_are_the_hosts);
}

/* After unshare(CLONE_NEWTIME) the process itself stays where it was, but
 * /proc/self/timens_offsets shows its children's namespace: open refuses
 * rather than take the wrong offsets. */
static int refuses_the_childrens_offsets(void) {
  void *h = NULL;
  struct procrec_options o;
  char why[512];
  if (new_time_namespace("monotonic 86400 0\nboottime 0 0\n") != 0) return 77;
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = PR_SOURCE_NETLINK;
  o.flags = PR_OPT_NO_HASH;
  CHECK(procrec_open(&o, &h) == PR_E_NOSUP);
  CHECK(h == NULL);
  procrec_last_error(NULL, why, sizeof(why));
  CHECK(strstr(why, "timens_offsets") != NULL);
  CHECK(strstr(why, "its children's") != NULL);
  return 0;
}

static int test_open_refuses_offsets_of_another_namespace(void) { return run_outside(refuses_the_childrens_offsets); }

int main(void) {
  /* the namespace tests run in children: the offsets are read once per
   * process, so the test itself never opens the library */
  t_run("the parser reads the kernel's lines: names or numbers, signed seconds, nanoseconds",
        test_parser_reads_the_kernels_lines);
  t_run("the parser names the line at fault and what it expected", test_parser_names_the_line_at_fault);
  t_run("in a time namespace the library's clocks, snapshot reads and start times are the host's",
        test_library_clocks_are_the_hosts_in_a_time_namespace);
  t_run("open refuses when timens_offsets shows its children's namespace, not its own",
        test_open_refuses_offsets_of_another_namespace);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
