/*
 * Texts that begin with a byte order mark (EF BB BF), which a recorder must
 * keep as it found them: this process's name (comm), then an exec of a file
 * whose name begins with one, run by that relative name (argv[0]).
 */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  (void)argv;
  if (argc > 1) { /* the exec'd copy: live long enough to be read */
    usleep(50 * 1000);
    return 0;
  }
  prctl(PR_SET_NAME, "\xef\xbb\xbfsshd", 0, 0, 0);
  usleep(50 * 1000);
  execl("\xef\xbb\xbftool", "\xef\xbb\xbftool", "again", (char *)0);
  perror("execl");
  return 1;
}
