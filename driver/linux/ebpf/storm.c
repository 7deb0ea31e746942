/*
 * storm.c - a process-lifecycle storm for the capture tests and benchmark.
 *
 *   storm [THREADS [EXECS [OUT]]]  defaults: 60000 threads, 1500 execs, stdout
 *
 * At the same time: 4 worker threads create and join THREADS short-lived
 * threads in this process, while the main thread forks EXECS children that
 * exec /bin/true (even index) or /bin/false (odd) with argv
 * {IMAGE, "storm", "<index>"} and waits for each. Then three more children:
 * one whose non-leader thread execs /bin/true {"/bin/true", "storm-thread-exec"},
 * one that _exit(3)s without exec, one that kills itself with SIGKILL.
 *
 * Prints (to OUT, or stdout) what the recording must contain, one line per child:
 *   exec PID INDEX IMAGE STATUS      (STATUS: raw wait status, decimal)
 *   thread-exec PID STATUS
 *   child PID STATUS                  (no exec)
 *   storm PID THREADS                 (this process, last line)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define WORKERS 4

static long per_worker;

static void *noop(void *arg) { return arg; }

static void *worker(void *arg) {
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 << 10);
  for (long i = 0; i < per_worker; i++) {
    pthread_t t;
    if (pthread_create(&t, &a, noop, NULL) != 0) {
      perror("storm: pthread_create");
      exit(2);
    }
    pthread_join(t, NULL);
  }
  pthread_attr_destroy(&a);
  return arg;
}

static void *exec_from_thread(void *arg) {
  char *argv[] = {"/bin/true", "storm-thread-exec", NULL};
  execv(argv[0], argv);
  _exit(127);
  return arg;
}

static void *exit_later(void *arg) {
  usleep(20 * 1000); /* the leader has exited by now */
  _exit(5); /* exit_group, without flushing the stdio inherited from the storm */
  return arg;
}

static int wait_for(pid_t pid) {
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
  }
  return st;
}

int main(int argc, char **argv) {
  long threads = argc > 1 ? atol(argv[1]) : 60000;
  long execs = argc > 2 ? atol(argv[2]) : 1500;
  pthread_t w[WORKERS];
  pid_t pid;
  char idx[32];

  if (argc > 3 && !freopen(argv[3], "w", stdout)) {
    perror("storm: output");
    return 2;
  }
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  per_worker = threads / WORKERS;
  for (int i = 0; i < WORKERS; i++) pthread_create(&w[i], NULL, worker, NULL);

  for (long i = 0; i < execs; i++) {
    const char *image = (i & 1) ? "/bin/false" : "/bin/true";
    snprintf(idx, sizeof(idx), "%ld", i);
    pid = fork();
    if (pid == 0) {
      char *cargv[] = {(char *)image, "storm", idx, NULL};
      execv(image, cargv);
      _exit(127);
    }
    if (pid < 0) {
      perror("storm: fork");
      return 2;
    }
    printf("exec %d %ld %s %d\n", (int)pid, i, image, wait_for(pid));
  }
  for (int i = 0; i < WORKERS; i++) pthread_join(w[i], NULL);

  pid = fork();
  if (pid == 0) {
    pthread_t t;
    pthread_create(&t, NULL, exec_from_thread, NULL);
    pthread_join(t, NULL); /* never returns: the exec replaces the process */
    _exit(126);
  }
  printf("thread-exec %d %d\n", (int)pid, wait_for(pid));
  pid = fork();
  if (pid == 0) _exit(3);
  printf("child %d %d\n", (int)pid, wait_for(pid));
  pid = fork();
  if (pid == 0) raise(SIGKILL);
  printf("child %d %d\n", (int)pid, wait_for(pid));
  pid = fork();
  if (pid == 0) {
    pthread_t t;
    pthread_create(&t, NULL, exit_later, NULL);
    pthread_exit(NULL);
  }
  printf("child %d %d\n", (int)pid, wait_for(pid));
  printf("storm %d %ld\n", (int)getpid(), per_worker * WORKERS);
  return 0;
}
