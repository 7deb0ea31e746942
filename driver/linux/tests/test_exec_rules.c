/*
 * test_rules.c - the exec rules (PR_OPT_EXEC_RULES, exec_rules.c) through
 * the public C ABI of libprocrec.so, on the real kernel (root; skips, saying
 * why, when the kernel has no fanotify permission events).
 *
 * A copy of /bin/true in a temp dir is denied by a path glob: run directly,
 * through a symlink and by a relative path, each fails with EPERM; a hard
 * link is denied by a file rule (dev + ino); an audit rule lets /bin/echo run;
 * /bin/true itself still runs; the exempt process runs the denied copy (an
 * audited decision with PR_F_EXEMPT). Every decision is a PR_REC_EXEC_DECISION
 * with the rule index, the kernel's path of the file and the argv. After
 * procrec_close the copy runs again.
 *
 * A file rule with its contents (PR_RF_CONTENT: size and SHA-256) denies a
 * copy of its file under another name in another folder (PR_F_BY_CONTENT);
 * files of other sizes are never hashed (procrec_stats.exec_hashed counts
 * exactly the one copy; running it again is a cache hit).
 *
 * An argv rule sees every argument of an exec, however it is made: through
 * int $0x80 (ia32 execve and execveat, 32-bit pointers; exec_rules_helper),
 * after an argument longer than a decision's string, after more than 256
 * arguments. An exec whose arguments cannot be read (exec_rules_helper
 * badargv: argv at an unmapped address) is denied by a deny rule whose
 * other matchers match (fail closed: EPERM, not EFAULT), and its decision
 * has no argv and PR_F_ARGV_TRUNCATED.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/pr_sha256.h"
#include "../../include/procrec_abi.h"

static int failures;
#define CHECK(c, ...)                                    \
  do {                                                   \
    if (!(c)) {                                          \
      failures++;                                        \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                      \
      fputc('\n', stderr);                               \
    }                                                    \
  } while (0)

/* Runs path (argv0 as given) in dir; returns the errno of execv (0 when it ran and exited 0). */
static int run(const char *dir, const char *path) {
  int pipefd[2], err = 0;
  pid_t pid;
  if (pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  pid = fork();
  if (pid == 0) {
    char *const argv[] = {(char *)path, "--marker-arg", NULL};
    if (dir && chdir(dir) != 0) _exit(126);
    execv(path, argv);
    err = errno;
    (void)!write(pipefd[1], &err, sizeof(err));
    _exit(127);
  }
  close(pipefd[1]);
  if (read(pipefd[0], &err, sizeof(err)) != sizeof(err)) err = 0;
  close(pipefd[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (!err && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) err = -2;
  return err;
}

/* Runs argv (argv[0] the path); the exit status (126 and *err = errno when
 * execv failed), or with `helper`, the helper's "errno=N" in *err. */
static int run_argv(char *const argv[], int *err) {
  int pipefd[2], st = 0;
  pid_t pid;
  *err = 0;
  if (pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  pid = fork();
  if (pid == 0) {
    int out = open("/dev/null", O_WRONLY);
    int e;
    if (out >= 0) dup2(out, 2);
    dup2(pipefd[1], 1);
    execv(argv[0], argv);
    e = errno;
    printf("errno=%d\n", e);
    fflush(stdout);
    _exit(126);
  }
  close(pipefd[1]);
  char buf[256];
  ssize_t n = read(pipefd[0], buf, sizeof(buf) - 1);
  close(pipefd[0]);
  waitpid(pid, &st, 0);
  buf[n > 0 ? n : 0] = 0;
  const char *p = strstr(buf, "errno=");
  if (p) *err = atoi(p + 6);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void put_glob(char *dst, uint16_t *len, const char *s) {
  snprintf(dst, PR_RULE_GLOB, "%s", s);
  *len = (uint16_t)strlen(dst);
}

int main(void) {
  char dir[] = "/tmp/procrec-rules-XXXXXX", copy[64], link_[64], hard[64], why[512];
  struct procrec_options o = {.size = sizeof(o), .source = PR_SOURCE_AUTO, .flags = PR_OPT_EXEC_RULES | PR_OPT_NO_SNAPSHOT};
  struct {
    struct pr_rule_set set;
    struct pr_rule r[5];
    struct pr_rule_file f[2];
  } arg;
  struct stat st;
  void *h = NULL;
  int rc;
  if (geteuid() != 0) {
    printf("test_rules: skipped: needs root\n");
    return 0;
  }
  rc = procrec_open(&o, &h);
  if (rc != PR_OK) {
    procrec_last_error(NULL, why, sizeof(why));
    if (rc == PR_E_NOSUP) {
      printf("test_rules: skipped: %s\n", why);
      return 0;
    }
    fprintf(stderr, "FAIL: procrec_open: %d %s\n", rc, why);
    return 1;
  }
  if (!mkdtemp(dir)) return 1;
  snprintf(copy, sizeof(copy), "%s/denied-true", dir);
  snprintf(link_, sizeof(link_), "%s/via-link", dir);
  snprintf(hard, sizeof(hard), "%s/hard-true", dir);
  char cmd[2048], uniq[300], renamed[300];
  snprintf(cmd, sizeof(cmd), "cp /bin/true %s && ln -s %s %s && cp /bin/true %s/other && ln %s/other %s", copy,
           copy, link_, dir, dir, hard);
  if (system(cmd) != 0) return 1;
  /* a binary no other process runs: /bin/true with bytes of this run
   * appended (still runs); its copy under another name, in another folder */
  snprintf(uniq, sizeof(uniq), "%s/uniq-true", dir);
  snprintf(renamed, sizeof(renamed), "%s/sub/renamed-copy", dir);
  snprintf(cmd, sizeof(cmd), "cp /bin/true %s && printf 'procrec-%d-%ld' >> %s && mkdir %s/sub && cp %s %s", uniq,
           (int)getpid(), (long)time(NULL), uniq, dir, uniq, renamed);
  if (system(cmd) != 0) return 1;
  memset(&arg, 0, sizeof(arg));
  arg.set.size = sizeof(arg.set);
  arg.set.rules = 5;
  arg.set.files = 2;
  /* The exempt process (in procrec: the recorder itself): a child that
   * waits, then execs the denied copy; a deny rule must let it run. */
  int go[2];
  if (pipe(go) != 0) return 1;
  pid_t exempt = fork();
  if (exempt == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1) _exit(125);
    execl(copy, copy, "--exempt", (char *)NULL);
    _exit(errno == EPERM ? 126 : 127);
  }
  close(go[0]);
  arg.set.exempt_pid = (uint32_t)exempt;
  arg.r[0].action = PR_RULE_DENY;
  arg.r[0].match = PR_RM_PATH;
  put_glob(arg.r[0].path, &arg.r[0].path_len, "/tmp/procrec-rules-*/denied-*");
  arg.r[1].action = PR_RULE_DENY;
  arg.r[1].match = PR_RM_FILE;
  arg.r[2].action = PR_RULE_AUDIT;
  arg.r[2].match = PR_RM_PATH | PR_RM_UID | PR_RM_ARGV;
  arg.r[2].uid = 0;
  put_glob(arg.r[2].path, &arg.r[2].path_len, "*/ech?");
  put_glob(arg.r[2].argv, &arg.r[2].argv_len, "o --marker");
  char other[300];
  snprintf(other, sizeof(other), "%s/other", dir);
  stat(other, &st);
  arg.f[0].dev = st.st_dev;
  arg.f[0].ino = st.st_ino;
  arg.f[0].rule = 1;
  arg.r[3].action = PR_RULE_DENY;
  arg.r[3].match = PR_RM_FILE;
  {
    static uint8_t data[4 << 20];
    struct pr_sha256 c;
    FILE *f = fopen(uniq, "rb");
    size_t n = f ? fread(data, 1, sizeof(data), f) : 0;
    if (f) fclose(f);
    stat(uniq, &st);
    CHECK(n > 0 && n == (size_t)st.st_size, "read %s", uniq);
    pr_sha256_init(&c);
    pr_sha256_update(&c, data, n);
    pr_sha256_final(&c, arg.f[1].sha256);
    arg.f[1].dev = st.st_dev;
    arg.f[1].ino = st.st_ino;
    arg.f[1].rule = 3;
    arg.f[1].flags = PR_RF_CONTENT;
    arg.f[1].size = (uint64_t)st.st_size;
  }
  /* rule 4: a copy of /bin/true with an argument it must not have */
  char argv_true[300], helper[4096];
  snprintf(argv_true, sizeof(argv_true), "%s/argv-true", dir);
  snprintf(cmd, sizeof(cmd), "cp /bin/true %s", argv_true);
  if (system(cmd) != 0) return 1;
  {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = 0;
    snprintf(helper, sizeof(helper), "%s/exec_rules_helper", dirname(self));
  }
  arg.r[4].action = PR_RULE_DENY;
  arg.r[4].match = PR_RM_PATH | PR_RM_ARGV;
  put_glob(arg.r[4].path, &arg.r[4].path_len, "/tmp/procrec-rules-*/argv-true");
  put_glob(arg.r[4].argv, &arg.r[4].argv_len, "--forbidden");
  rc = procrec_control(h, PR_CTL_EXEC_RULES, (const uint8_t *)&arg, sizeof(arg));
  procrec_last_error(h, why, sizeof(why));
  CHECK(rc == PR_OK, "set rules: %d %s", rc, why);
  rc = procrec_start(h);
  procrec_last_error(h, why, sizeof(why));
  CHECK(rc == PR_OK, "start: %d %s", rc, why);

  CHECK(run(NULL, copy) == EPERM, "the copy is denied by its path");
  CHECK(run(NULL, link_) == EPERM, "a symlink to it is denied");
  CHECK(run(dir, "./denied-true") == EPERM, "a relative path is denied");
  CHECK(run(NULL, hard) == EPERM, "a hard link is denied by the file rule");
  CHECK(run(NULL, other) == EPERM, "the file rule's own name is denied");
  CHECK(run(NULL, "/bin/true") == 0, "/bin/true still runs");
  CHECK(run(NULL, "/bin/echo") == 0, "the audit rule lets echo run");
  {
    struct procrec_stats s0, s1, s2;
    procrec_stats(h, &s0);
    CHECK(run(NULL, uniq) == EPERM, "the content rule's file is denied (by identity)");
    CHECK(run(NULL, "/bin/true") == 0, "/bin/true (another size) runs");
    procrec_stats(h, &s1);
    CHECK(s1.exec_hashed == s0.exec_hashed && s1.exec_hash_cached == s0.exec_hash_cached,
          "neither the rule's own file nor a file of another size is hashed (%llu hashed)",
          (unsigned long long)(s1.exec_hashed - s0.exec_hashed));
    CHECK(run(NULL, renamed) == EPERM, "a copy under another name in another folder is denied (by content)");
    CHECK(run(NULL, renamed) == EPERM, "... again");
    procrec_stats(h, &s2);
    CHECK(s2.exec_hashed - s1.exec_hashed == 1 && s2.exec_hash_cached - s1.exec_hash_cached == 1,
          "the copy was hashed once, then taken from the cache (%llu hashed, %llu cached)",
          (unsigned long long)(s2.exec_hashed - s1.exec_hashed),
          (unsigned long long)(s2.exec_hash_cached - s1.exec_hash_cached));
    printf("content rule: copy denied; exec_hashed %llu, exec_hash_cached %llu\n",
           (unsigned long long)s2.exec_hashed, (unsigned long long)s2.exec_hash_cached);
  }
  int argv_denials = 0;
  {
    static char big[5001], *many[310];
    int err = 0, code;
    memset(big, 'A', 5000);
    char *native[] = {argv_true, "--forbidden", NULL};
    char *fine[] = {helper, "ia32", argv_true, "--fine", NULL};
    char *ia32[] = {helper, "ia32", argv_true, "-x", "--forbidden", NULL};
    char *ia32at[] = {helper, "ia32at", argv_true, "--forbidden", NULL};
    char *longarg[] = {argv_true, big, "--forbidden", NULL};
    char *badargv[] = {helper, "badargv", argv_true, NULL};
    code = run_argv(native, &err);
    CHECK(code == 126 && err == EPERM, "a native execve with --forbidden is denied (%d, errno %d)", code, err);
    code = run_argv(fine, &err);
    CHECK(code == 0, "an ia32 execve without it runs (%d, errno %d)", code, err);
    code = run_argv(ia32, &err);
    CHECK(code == 126 && err == EPERM, "an ia32 execve (int $0x80) with --forbidden is denied (%d, errno %d)", code, err);
    code = run_argv(ia32at, &err);
    CHECK(code == 126 && err == EPERM, "an ia32 execveat with --forbidden is denied (%d, errno %d)", code, err);
    code = run_argv(longarg, &err);
    CHECK(code == 126 && err == EPERM, "--forbidden after a 5000-byte argument is denied (%d, errno %d)", code, err);
    many[0] = argv_true;
    for (int i = 1; i < 301; i++) many[i] = "x";
    many[301] = "--forbidden";
    many[302] = NULL;
    code = run_argv(many, &err);
    CHECK(code == 126 && err == EPERM, "--forbidden after 300 arguments is denied (%d, errno %d)", code, err);
    code = run_argv(badargv, &err);
    CHECK(code == 126 && err == EPERM, "arguments that cannot be read: denied, fail closed (%d, errno %d, EFAULT is %d)",
          code, err, EFAULT);
  }
  {
    int st = 0;
    (void)!write(go[1], "x", 1);
    close(go[1]);
    waitpid(exempt, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the exempt process runs the denied copy (status 0x%x)", st);
  }

  /* the decisions */
  static uint8_t buf[1 << 20];
  int denied = 0, audited = 0, marker = 0, exempted = 0, by_content = 0;
  for (int tries = 0; tries < 20 && denied + audited + argv_denials < 16; tries++) {
    int n = procrec_read(h, buf, sizeof(buf), 100);
    for (int off = 0; n > 0 && off < n;) {
      const struct pr_rec_header *rh = (const void *)(buf + off);
      if (rh->kind == PR_REC_EXEC_DECISION) {
        const struct pr_rec_exec_decision *d = (const void *)rh;
        char image[512] = "";
        snprintf(image, sizeof(image), "%.*s", (int)d->image.len, (const char *)rh + d->image.off);
        if (d->argv.len > 14 && memmem((const char *)rh + d->argv.off, d->argv.len, "--marker-arg", 12)) marker++;
        printf("decision: rule %u action %u pid %u image %s argc %u flags 0x%x\n", d->rule, d->action, rh->pid,
               image, d->argc, rh->flags);
        if (d->rule == 4) {
          const char *av = (const char *)rh + d->argv.off;
          argv_denials++;
          CHECK(d->action == PR_RULE_DENY && strcmp(image, argv_true) == 0, "rule 4 denies %s", image);
          if (d->argc == 0) /* badargv: unread */
            CHECK(d->argv.len == 0 && (rh->flags & PR_F_ARGV_TRUNCATED), "unread argv: absent, marked cut (flags 0x%x)",
                  rh->flags);
          else if (d->argc == 3 && d->argv.len > strlen(argv_true) + 1 && av[strlen(argv_true) + 1] == 'A')
            CHECK(d->argv.len <= 4096 && (rh->flags & PR_F_ARGV_TRUNCATED), "the long argv is stored cut (%u bytes)",
                  d->argv.len);
          else
            CHECK(memmem(av, d->argv.len, "--forbidden", 11) && !(rh->flags & PR_F_ARGV_TRUNCATED),
                  "the decision has the arguments (argc %u, %u bytes)", d->argc, d->argv.len);
        } else if (d->action == PR_RULE_DENY) {
          denied++;
          if (d->rule == 3) {
            int copy_ = strcmp(image, renamed) == 0;
            CHECK(copy_ ? (rh->flags & PR_F_BY_CONTENT) != 0 : strcmp(image, uniq) == 0 && !(rh->flags & PR_F_BY_CONTENT),
                  "the content rule's denial says how it matched: %s flags 0x%x", image, rh->flags);
            by_content += copy_;
          } else {
            CHECK(d->rule == 0 ? strcmp(image, copy) == 0 : d->rule == 1, "the denial names the file %s", image);
            CHECK(!(rh->flags & PR_F_BY_CONTENT), "an identity or path match is not by content");
          }
        } else if (rh->flags & PR_F_EXEMPT) {
          exempted++;
          CHECK(d->rule == 0 && rh->pid == (uint32_t)exempt, "the exemption names the deny rule and the process");
        } else {
          audited++;
          CHECK(d->rule == 2 && strstr(image, "/echo"), "the audit names echo: %s", image);
        }
      }
      off += (int)rh->size;
    }
  }
  CHECK(denied == 8, "8 denials recorded (%d)", denied);
  CHECK(by_content == 2, "2 denials of the copy by content (%d)", by_content);
  CHECK(audited == 1, "1 audit recorded (%d)", audited);
  CHECK(exempted == 1, "1 exemption recorded (%d)", exempted);
  CHECK(argv_denials == 6, "6 denials by the argv rule (%d)", argv_denials);
  CHECK(marker == 9, "every decision but the exemption's has the marker argument (%d)", marker);
  procrec_stop(h);
  procrec_close(h);
  CHECK(run(NULL, copy) == 0, "after close the copy runs again");
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  (void)!system(cmd);
  printf("test_rules: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
