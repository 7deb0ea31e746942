/*
 * A process that makes a child with CLONE_PARENT (its parent is then this
 * process's parent, the recorder), which forks a grandchild: each execs
 * this program again with a marker. The recording tests check that
 * `record --only-command` keeps them (the child is made by the command).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Execs this program again with `marker`: it lives 200 ms (long enough for
 * the proc connector source to read its arguments from /proc; an echo that
 * ended at once was recorded as gone, and the test missed its marker). */
static void exec_marker(const char *self, const char *marker) {
  execl(self, "clone_parent_helper", marker, (char *)0);
  _exit(127);
}

int main(int argc, char **argv) {
  (void)argv;
  char self[4096];
  ssize_t n;
  if (argc > 1) { /* a marker's exec */
    usleep(200 * 1000);
    return 0;
  }
  n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    perror("readlink");
    return 1;
  }
  self[n] = 0;
  long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) {
    perror("clone");
    return 1;
  }
  if (pid == 0) {
    pid_t g = fork();
    if (g == 0) exec_marker(self, "clone-parent-grandchild");
    waitpid(g, 0, 0);
    exec_marker(self, "clone-parent-child");
  }
  /* not this process's child: wait for it by time */
  usleep(1000 * 1000);
  return 0;
}
