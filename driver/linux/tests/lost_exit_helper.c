/*
 * lost_exit_helper.c - a program whose thread exits a test can have lost
 * (tests/netlink_lost_exit_test.ts), step by step on files in DIR:
 *   lost_exit_helper DIR   writes DIR/pid, starts 4 threads, writes
 *                          DIR/ready; at DIR/go1 its threads end (joined,
 *                          then DIR/threads-gone); at DIR/go2 it calls
 *                          exit(3);
 *   lost_exit_helper storm N   creates and joins N threads, 8 at a time
 *                          (events to overflow a socket buffer).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *wait_for_close(void *arg) {
  char c;
  ssize_t n = read(*(int *)arg, &c, 1); /* 0 once the write end is closed */
  (void)n;
  return NULL;
}

static void *nothing(void *arg) { return arg; }

static void touch(const char *dir, const char *name, const char *text) {
  char path[4096];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "w");
  if (f == NULL) exit(2);
  fputs(text, f);
  fclose(f);
}

static void wait_for(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  while (access(path, F_OK) != 0) usleep(5000);
}

int main(int argc, char **argv) {
  pthread_t t[8];
  int fds[2], i;
  char pid[32];
  if (argc == 3 && strcmp(argv[1], "storm") == 0) {
    int n = atoi(argv[2]);
    for (i = 0; i < n; i += 8) {
      for (int j = 0; j < 8; j++) pthread_create(&t[j], NULL, nothing, NULL);
      for (int j = 0; j < 8; j++) pthread_join(t[j], NULL);
    }
    return 0;
  }
  if (argc != 2 || pipe(fds) != 0) return 2;
  snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
  touch(argv[1], "pid", pid);
  for (i = 0; i < 4; i++)
    if (pthread_create(&t[i], NULL, wait_for_close, &fds[0]) != 0) return 2;
  touch(argv[1], "ready", "");
  wait_for(argv[1], "go1");
  close(fds[1]);
  for (i = 0; i < 4; i++) pthread_join(t[i], NULL);
  usleep(200000); /* their exit events are sent after the join returns */
  touch(argv[1], "threads-gone", "");
  wait_for(argv[1], "go2");
  exit(3);
}
