/*
 * identity_workload.c - the execs tests/identity_capture_test.ts records:
 *   1. a memfd holding a copy of /bin/sleep, exec'd through /proc/self/fd/N
 *      (fileless: the kernel names it "/memfd:procrec-x (deleted)");
 *   2. a copy of /bin/sleep in DIR, opened, unlinked, then exec'd through
 *      /proc/self/fd/N (a deleted image: "DIR/delsleep (deleted)").
 * Each runs `sleep 0.02`: 20 ms, so that the proc connector source reads its
 * /proc values while it runs (its thread can wake a few ms after an exec; a
 * 1 ms program such as true may have exited by then, and is then recorded
 * without image, as documented).
 * Writes to TRUTH one line per exec: "memfd DEV INO" and "deleted DEV INO
 * PATH", as fstat(2) gives them before the exec.
 *
 * usage: identity_workload DIR TRUTH
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void copy_sleep(int out) {
  char buf[65536];
  ssize_t n;
  int in = open("/bin/sleep", O_RDONLY | O_CLOEXEC);
  if (in < 0) exit(2);
  while ((n = read(in, buf, sizeof(buf))) > 0)
    if (write(out, buf, (size_t)n) != n) exit(2);
  close(in);
}

static void run_fd(int fd, const char *argv0) {
  char path[64];
  pid_t pid = fork();
  if (pid < 0) exit(2);
  if (pid == 0) {
    char *argv[] = {(char *)argv0, "0.02", NULL};
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    execv(path, argv);
    _exit(127);
  }
  int st;
  waitpid(pid, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) exit(3);
}

int main(int argc, char **argv) {
  struct stat st;
  char path[4096];
  FILE *truth;
  int fd;
  if (argc != 3) return 2;
  truth = fopen(argv[2], "w");
  if (!truth) return 2;

  fd = memfd_create("procrec-x", 0);
  if (fd < 0) return 2;
  copy_sleep(fd);
  fstat(fd, &st);
  fprintf(truth, "memfd %llu %llu\n", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
  fflush(truth);
  run_fd(fd, "memfdsleep");

  snprintf(path, sizeof(path), "%s/delsleep", argv[1]);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (fd < 0) return 2;
  copy_sleep(fd);
  close(fd);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 2;
  fstat(fd, &st);
  if (unlink(path) != 0) return 2;
  fprintf(truth, "deleted %llu %llu %s\n", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, path);
  fclose(truth);
  run_fd(fd, "delsleep");
  return 0;
}
