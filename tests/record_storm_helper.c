/*
 * storm: a process and thread storm that writes its own ground truth.
 * Built by tests/record_storm_test.ts with gcc into a temporary directory.
 *
 *   storm TRUTH PROCS THREADS   run the storm, append ground truth to TRUTH
 *   storm --exec-again PATH...  (internal) exec PATH... : a second exec
 *
 * Ground truth lines, one write(2) each on an O_APPEND file:
 *   R pid                  the storm root
 *   P pid ppid wstatus     a process reaped by its parent, with its raw status
 *   X pid image argv...    an exec, arguments separated by \x1f
 *   T pid tid              a thread created, then joined (it exited)
 *   C pid tid              a thread created that then exec'd (no exit of its own)
 *
 * The root exits with status 3, so the recorder's pass-through can be checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int truth = -1;
static char self_path[4096];

static void say(const char *fmt, ...) {
  char line[8192];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof line) abort();
  if (write(truth, line, (size_t)n) != n) abort();
}

/* Announces an exec of argv (image = resolved path), then performs it. */
static _Noreturn void exec_logged(char *const argv[]) {
  char image[4096];
  if (!realpath(argv[0], image)) abort();
  char line[4096];
  size_t off = 0;
  for (int i = 0; argv[i]; i++) {
    int n = snprintf(line + off, sizeof line - off, "%s%s", i ? "\x1f" : "", argv[i]);
    off += (size_t)n;
  }
  say("X %d %s %s\n", getpid(), image, line);
  execv(argv[0], argv);
  _exit(127);
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void *thread_exec(void *arg) {
  (void)arg;
  say("C %d %d\n", getpid(), gettid_());
  char *argv[] = {"/bin/true", "from-a-thread", NULL};
  exec_logged(argv);
  return NULL;
}

static void *thread_quit(void *arg) {
  pid_t *tid = arg;
  *tid = gettid_();
  return NULL;
}

static pid_t spawn(int kind, int i) {
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(100);
  }
  if (pid > 0) return pid;
  char num[32];
  snprintf(num, sizeof num, "%d", i);
  switch (kind) {
  case 0: { /* exec /bin/true with an argument */
    char *argv[] = {"/bin/true", "storm", num, NULL};
    exec_logged(argv);
  }
  case 1: { /* exec /bin/false: exit 1 */
    char *argv[] = {"/bin/false", num, NULL};
    exec_logged(argv);
  }
  case 2: /* no exec, exit non-zero */
    _exit(i % 7 + 1);
  case 3: /* wait to be killed by a signal */
    for (;;) pause();
  case 4: { /* exec twice: this program, then /bin/true */
    say("X %d %s %s\x1f--exec-again\x1f/bin/true\x1fsecond\x1f%s\n", getpid(), self_path,
        self_path, num);
    char image[4096];
    if (!realpath("/bin/true", image)) abort();
    say("X %d %s /bin/true\x1fsecond\x1f%s\n", getpid(), image, num);
    char *argv[] = {self_path, "--exec-again", "/bin/true", "second", num, NULL};
    execv(self_path, argv);
    _exit(127);
  }
  case 5: { /* a grandchild: its parent is this child, not the root */
    pid_t g = fork();
    if (g == 0) {
      char *argv[] = {"/bin/sh", "-c", "exit 5", NULL};
      exec_logged(argv);
    }
    int st;
    if (waitpid(g, &st, 0) != g) _exit(101);
    say("P %d %d %d\n", g, getpid(), st);
    _exit(0);
  }
  case 6: { /* a thread that execs */
    pthread_t t;
    if (pthread_create(&t, NULL, thread_exec, NULL)) _exit(102);
    for (;;) pause();
  }
  }
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "--exec-again") == 0) {
    execv(argv[2], argv + 2);
    _exit(127);
  }
  if (argc != 4) {
    fprintf(stderr, "usage: storm TRUTH PROCS THREADS\n");
    return 2;
  }
  if (!realpath("/proc/self/exe", self_path)) return 2;
  truth = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (truth < 0) return 2;
  int procs = atoi(argv[2]), threads = atoi(argv[3]);
  say("R %d\n", getpid());

  /* processes, in batches of 50 running at once */
  for (int base = 0; base < procs; base += 50) {
    pid_t pids[50];
    int kinds[50], n = 0;
    for (int i = base; i < procs && i < base + 50; i++, n++) {
      kinds[n] = i % 12 < 6 ? 0 : i % 12 - 5; /* half /bin/true, the rest mixed */
      if (kinds[n] == 6 && i % 24 != 11) kinds[n] = 0; /* thread exec: fewer */
      pids[n] = spawn(kinds[n], i);
    }
    for (int j = 0; j < n; j++) {
      int st;
      if (kinds[j] == 3) kill(pids[j], ((base + j) / 12) % 2 ? SIGKILL : SIGTERM);
      if (waitpid(pids[j], &st, 0) != pids[j]) return 103;
      say("P %d %d %d\n", pids[j], getpid(), st);
    }
  }
  /* threads, in batches of 100 */
  for (int base = 0; base < threads; base += 100) {
    pthread_t t[100];
    pid_t tids[100];
    int n = 0;
    for (int i = base; i < threads && i < base + 100; i++, n++) {
      if (pthread_create(&t[n], NULL, thread_quit, &tids[n])) return 104;
    }
    for (int j = 0; j < n; j++) {
      pthread_join(t[j], NULL);
      say("T %d %d\n", getpid(), tids[j]);
    }
  }
  return 3;
}
