/*
 * Runs FILE from under a path longer than PATH_MAX: makes DEPTH directories
 * of 200 characters, each entered by a relative chdir, links FILE there as
 * "x" and execs "./x 0.1" (a relative name: no absolute path is ever
 * formed). The recording tests check what the sources make of its image.
 * Usage: long_path_helper FILE DEPTH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  char name[201];
  memset(name, 'd', 200);
  name[200] = 0;
  for (int i = atoi(argv[2]); i > 0; i--) {
    if (mkdir(name, 0700) != 0 || chdir(name) != 0) {
      perror(name);
      return 9;
    }
  }
  if (link(argv[1], "x") != 0) {
    perror("link");
    return 9;
  }
  execl("./x", "./x", "0.1", (char *)0);
  perror("execl");
  return 127;
}
