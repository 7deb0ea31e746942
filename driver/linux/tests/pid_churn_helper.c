/*
 * pid_churn_helper SLEEPERS: one pid reused again and again while a recorder
 * starts (tests/test_snapshot_reuse.c, tests/snapshot_pid_reuse_test.ts).
 *
 * Picks a pid P that is free with free neighbours, starts SLEEPERS idle
 * children under lower pids (/proc lists pids in order, so a snapshot reads
 * them, and takes its time, before it reaches P), then forks children one
 * after another under P (ns_last_pid = P - 1 before each fork; root), each
 * alive about a millisecond and exiting with a code that numbers it
 * (1..250), until its standard input reaches end of file. Prints "ready"
 * once the churn runs, and at the end "churn PID" (its own pid) and per
 * child that got the churned pid "child PID CODE T0 T1": CLOCK_MONOTONIC ns
 * before its fork and after its wait (the child lived inside). Other
 * processes forking meanwhile may take the pid: that child is not listed,
 * and when one of them keeps it, the churn moves on to a free pid above.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 100000

struct child {
  int pid, code;
  long long t0, t1;
};

static long long mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int set_last_pid(int pid) {
  char buf[32];
  int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY), n = snprintf(buf, sizeof(buf), "%d", pid), ok;
  if (fd < 0) return -1;
  ok = write(fd, buf, (size_t)n) == n;
  close(fd);
  return ok ? 0 : -1;
}

static int pid_in_use(int pid) {
  char path[32];
  struct stat st;
  snprintf(path, sizeof(path), "/proc/%d", pid);
  return stat(path, &st) == 0;
}

static int pid_max(void) {
  FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
  int max = 32768;
  if (f) {
    if (fscanf(f, "%d", &max) != 1) max = 32768;
    fclose(f);
  }
  return max;
}

static int free_around(int p) {
  for (int i = -8; i <= 8; i++)
    if (pid_in_use(p + i)) return 0;
  return 1;
}

/* A pid with the 16 around it free, above room for the sleepers. */
static int pick_pid(int sleepers) {
  int max = pid_max(), tries;
  srand((unsigned)(mono() ^ getpid()));
  for (tries = 0; tries < 1000; tries++) {
    int p = sleepers + 2000 + rand() % (max - sleepers - 3000);
    if (free_around(p)) return p;
  }
  return -1;
}

/* The next pid above p with the 16 around it free (p when none). */
static int move_on(int p) {
  for (int q = p + 17; q < pid_max() - 9; q++)
    if (free_around(q)) return q;
  return p;
}

int main(int argc, char **argv) {
  int sleepers = argc > 1 ? atoi(argv[1]) : 0, idle[2], pid, n = 0, i, announced = 0;
  static struct child kids[MAX_CHILDREN];
  long long began;
  if (argc != 2 || sleepers < 0) {
    fprintf(stderr, "usage: pid_churn_helper SLEEPERS\n");
    return 2;
  }
  pid = pick_pid(sleepers);
  if (pid < 0 || pipe(idle) != 0) {
    fprintf(stderr, "pid_churn_helper: no free pid\n");
    return 1;
  }
  if (set_last_pid(pid - sleepers - 1000) != 0) {
    perror("pid_churn_helper: ns_last_pid");
    return 1;
  }
  for (i = 0; i < sleepers; i++) { /* each waits for end of file on idle */
    pid_t k = fork();
    char c;
    if (k < 0) break;
    if (k == 0) {
      close(idle[1]);
      (void)!read(idle[0], &c, 1);
      _exit(0);
    }
  }
  close(idle[0]);
  fcntl(0, F_SETFL, O_NONBLOCK);
  began = mono();
  for (;;) {
    struct pollfd in = {.fd = 0, .events = POLLIN};
    long long t0, t1;
    int code = n % 250 + 1, st;
    pid_t k;
    char c;
    if (poll(&in, 1, 0) > 0 && read(0, &c, 1) == 0) break;
    if (set_last_pid(pid - 1) != 0) break;
    t0 = mono();
    k = fork();
    if (k < 0) break;
    if (k == 0) {
      struct timespec d = {0, 1000000};
      nanosleep(&d, NULL);
      _exit(code);
    }
    while (waitpid(k, &st, 0) < 0 && errno == EINTR) {
    }
    t1 = mono();
    if (k == pid && n < MAX_CHILDREN) {
      kids[n].pid = pid;
      kids[n].code = code;
      kids[n].t0 = t0;
      kids[n].t1 = t1;
      n++;
    } else if (k != pid && pid_in_use(pid)) {
      pid = move_on(pid); /* another process keeps it */
    }
    if (!announced && t1 - began > 50000000LL) {
      printf("ready\n");
      fflush(stdout);
      announced = 1;
    }
  }
  close(idle[1]);
  while (wait(NULL) > 0) {
  }
  printf("churn %d\n", (int)getpid());
  for (i = 0; i < n; i++) printf("child %d %d %lld %lld\n", kids[i].pid, kids[i].code, kids[i].t0, kids[i].t1);
  return 0;
}
