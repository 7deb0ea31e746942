/*
 * A process that makes a child with CLONE_PARENT (its parent is then this
 * process's parent, the recorder), which forks a grandchild: each execs
 * /bin/echo with a marker. The recording tests check that
 * `record --only-command` keeps them (the child is made by the command).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
  long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) {
    perror("clone");
    return 1;
  }
  if (pid == 0) {
    pid_t g = fork();
    if (g == 0) {
      execl("/bin/echo", "echo", "clone-parent-grandchild", (char *)0);
      _exit(127);
    }
    waitpid(g, 0, 0);
    execl("/bin/echo", "echo", "clone-parent-child", (char *)0);
    _exit(127);
  }
  /* not this process's child: wait for it by time */
  usleep(500 * 1000);
  return 0;
}
