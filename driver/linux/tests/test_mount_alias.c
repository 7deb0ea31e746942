/*
 * test_mount_alias.c - a path rule's other paths of a file (mount_alias.c):
 * mountinfo lines parsed as proc(5) documents them (octal escapes, optional
 * tags, the "-" separator; other lines skipped and counted), a path through
 * a mount turned into the path within its file system (also from a chrooted
 * caller's table), and the names every mount of that file system gives it.
 *
 * With root, the same against the kernel: a child in a private mount
 * namespace bind-mounts a directory and opens a file through the bind; the
 * parent finds that file's mount (statx mount ID) in the child's table, not
 * in its own, and gets back the file's own path in its own namespace, as
 * the enforcer does. Once the child detaches the bind (umount -l), the
 * mount is in no table.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/test_check.h"
#include "../mount_alias.h"

static struct pr_mount_table table;

static int parse(const char *text) { return pr_mountinfo_parse(&table, text, strlen(text)); }

static int str_is(const char *s, size_t n, const char *want) { return n == strlen(want) && memcmp(s, want, n) == 0; }

static const char SAMPLE[] =
    "66 27 254:0 /opt/bin /srv/x rw,relatime shared:1 master:2 - ext4 /dev/vda rw\n"
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
    "70 27 254:0 /a\\040b /mnt/with\\040space\\134x rw - ext4 /dev/vda rw\n"
    "80 27 0:4 net:[4026531840] /run/netns/a rw - nsfs nsfs rw\n"
    "garbage\n"
    "\n"
    "90 27 254:0 /x\n"
    "91 27 254 / /y rw - ext4 /dev/vda rw\n"
    "92 27 1:2 / relative rw - ext4 /dev/vda rw\n"
    "93 27 1:2 / /no-separator rw ext4 /dev/vda rw\n"
    "94 27 1:99999999999 / /big rw - ext4 /dev/vda rw\n"
    "71 27 8:1 / /data rw - xfs /dev/sdb1 rw"; /* no newline at the end */

static int mountinfo_lines_are_parsed_as_documented(void) {
  const struct pr_mount *m;
  CHECK(parse(SAMPLE) == 0);
  CHECK(table.n == 5 && table.bad == 6); /* the empty line is neither */
  CHECK((m = pr_mount_find(&table, 66)) != NULL);
  CHECK(m->major == 254 && m->minor == 0 && str_is(m->root, m->root_len, "/opt/bin") &&
        str_is(m->point, m->point_len, "/srv/x"));
  CHECK((m = pr_mount_find(&table, 70)) != NULL);
  CHECK(str_is(m->root, m->root_len, "/a b") && str_is(m->point, m->point_len, "/mnt/with space\\x"));
  CHECK((m = pr_mount_find(&table, 80)) != NULL && str_is(m->root, m->root_len, "net:[4026531840]"));
  CHECK((m = pr_mount_find(&table, 71)) != NULL && m->major == 8 && m->minor == 1);
  CHECK(pr_mount_find(&table, 90) == NULL && pr_mount_find(&table, 1) == NULL);
  CHECK(table.m[0].id == 27 && table.m[4].id == 80); /* sorted by ID */
  CHECK(parse("") == 0 && table.n == 0 && pr_mount_find(&table, 27) == NULL); /* reused, replaced */
  return 0;
}

/* pr_mount_fs_path of `path` through mount `id` of SAMPLE, with `base`. */
static long fs(uint32_t id, const char *base, const char *path, char *out, size_t cap) {
  const struct pr_mount *m = pr_mount_find(&table, id);
  return m ? pr_mount_fs_path(m, base, strlen(base), path, strlen(path), out, cap) : -2;
}

static int a_path_through_a_mount_is_a_path_in_its_file_system(void) {
  char out[64];
  CHECK(parse(SAMPLE) == 0);
  CHECK(fs(27, "", "/usr/bin/ls", out, sizeof(out)) == 11 && strcmp(out, "/usr/bin/ls") == 0);
  CHECK(fs(27, "", "/", out, sizeof(out)) == 1 && strcmp(out, "/") == 0);
  CHECK(fs(66, "", "/srv/x/evil", out, sizeof(out)) == 13 && strcmp(out, "/opt/bin/evil") == 0);
  CHECK(fs(66, "", "/srv/x", out, sizeof(out)) == 8 && strcmp(out, "/opt/bin") == 0);
  CHECK(fs(66, "", "/srv/xy/evil", out, sizeof(out)) == -1); /* not below /srv/x: a name that starts alike */
  CHECK(fs(66, "", "/srv", out, sizeof(out)) == -1);
  CHECK(fs(66, "", "srv/x/evil", out, sizeof(out)) == -1);
  CHECK(fs(70, "", "/mnt/with space\\x/c", out, sizeof(out)) == 6 && strcmp(out, "/a b/c") == 0);
  CHECK(fs(80, "", "/run/netns/a", out, sizeof(out)) == -1); /* its root is not a path */
  CHECK(fs(66, "", "/srv/x/evil", out, 13) == -1);              /* does not fit */
  /* a chrooted caller's table: its mount points are below its root, /jail */
  CHECK(fs(66, "/jail", "/jail/srv/x/evil", out, sizeof(out)) == 13 && strcmp(out, "/opt/bin/evil") == 0);
  CHECK(fs(66, "/jail/", "/jail/srv/x/evil", out, sizeof(out)) == 13);
  CHECK(fs(66, "/jail", "/srv/x/evil", out, sizeof(out)) == -1);
  CHECK(fs(66, "/jail", "/jailbreak/srv/x/evil", out, sizeof(out)) == -1);
  CHECK(fs(27, "/jail", "/jail", out, sizeof(out)) == 1 && strcmp(out, "/") == 0);
  CHECK(fs(66, "/", "/srv/x/evil", out, sizeof(out)) == 13); /* "/": not chrooted */
  return 0;
}

static int every_mount_of_the_file_system_gives_a_name(void) {
  static struct pr_path_aliases a;
  static char many[PR_ALIASES_MAX * 2 * 64];
  size_t at = 0;
  CHECK(parse("27 1 254:0 / / rw - ext4 /dev/vda rw\n"
              "66 27 254:0 /opt/bin /srv/x rw - ext4 /dev/vda rw\n"
              "67 27 254:0 /opt /mnt/o rw - ext4 /dev/vda rw\n"
              "68 27 254:0 /opt/b /mnt/b rw - ext4 /dev/vda rw\n"       /* not a directory of the path */
              "69 27 254:0 /opt/bin/evil /usr/local/bin/e rw - ext4 /dev/vda rw\n" /* the file itself */
              "71 27 8:1 / /data rw - xfs /dev/sdb1 rw\n"               /* another file system */
              "72 27 254:0 / / rw - ext4 /dev/vda rw\n"                 /* mounted again on / */
              "73 27 0:4 net:[1] /run/netns/a rw - nsfs nsfs rw\n") == 0);
  CHECK(pr_mount_aliases(&table, 254, 0, "/opt/bin/evil", 13, &a) == 4 && !a.cut);
  CHECK(strcmp(a.p[0], "/opt/bin/evil") == 0 && a.len[0] == 13);
  CHECK(strcmp(a.p[1], "/srv/x/evil") == 0 && a.len[1] == 11);
  CHECK(strcmp(a.p[2], "/mnt/o/bin/evil") == 0);
  CHECK(strcmp(a.p[3], "/usr/local/bin/e") == 0);
  CHECK(pr_mount_aliases(&table, 254, 0, "/", 1, &a) == 1 && strcmp(a.p[0], "/") == 0);
  CHECK(pr_mount_aliases(&table, 254, 1, "/opt/bin/evil", 13, &a) == 0 && !a.cut);
  CHECK(pr_mount_aliases(&table, 8, 1, "/x", 2, &a) == 1 && strcmp(a.p[0], "/data/x") == 0);
  CHECK(pr_mount_aliases(&table, 254, 0, "opt", 3, &a) == 0);
  /* more mounts of it than PR_ALIASES_MAX: the names are cut, and say so */
  for (int i = 0; i < PR_ALIASES_MAX + 3; i++)
    at += (size_t)snprintf(many + at, sizeof(many) - at, "%d 1 9:9 /d /m%d rw - ext4 x rw\n", 100 + i, i);
  CHECK(parse(many) == 0 && table.n == PR_ALIASES_MAX + 3);
  CHECK(pr_mount_aliases(&table, 9, 9, "/d/f", 4, &a) == PR_ALIASES_MAX && a.cut);
  CHECK(strcmp(a.p[0], "/m0/f") == 0);
  return 0;
}

/* ---- against the kernel (root) ---- */

static long read_all(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t len = 0;
  ssize_t n;
  if (fd < 0) return -1;
  while (len < cap && (n = read(fd, buf + len, cap - len)) > 0) len += (size_t)n;
  close(fd);
  return len < cap ? (long)len : -1;
}

static int mount_id(int fd, uint32_t *id) {
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) != 0 || !(sx.stx_mask & STATX_MNT_ID)) return -1;
  *id = (uint32_t)sx.stx_mnt_id;
  return 0;
}

/* A child in its own mount namespace: binds dir/opt on dir/srv, holds
 * dir/srv/evil open as fd 3, says so on `ready`; with `detach`, then
 * detaches the bind (it keeps the file open). Waits to be killed. */
static pid_t child_with_bind(const char *dir, int detach, int *ready_fd) {
  int p[2];
  pid_t pid;
  if (pipe(p) != 0) return -1;
  pid = fork();
  if (pid == 0) {
    char opt[300], srv[300], evil[320];
    int fd;
    snprintf(opt, sizeof(opt), "%s/opt", dir);
    snprintf(srv, sizeof(srv), "%s/srv", dir);
    snprintf(evil, sizeof(evil), "%s/evil", srv);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount(opt, srv, NULL, MS_BIND, NULL) != 0 || (fd = open(evil, O_RDONLY)) < 0 || dup2(fd, 3) != 3)
      _exit(1);
    if (detach && umount2(srv, MNT_DETACH) != 0) _exit(1);
    (void)!write(p[1], "r", 1);
    pause();
    _exit(0);
  }
  close(p[1]);
  *ready_fd = p[0];
  return pid;
}

static int the_kernel_tables_give_the_file_its_own_path(void) {
  static char text[1 << 20], other[1 << 20];
  static struct pr_mount_table own, theirs;
  static struct pr_path_aliases a;
  char dir[] = "/tmp/procrec-alias-XXXXXX", path[400], image[4096], root[4096], fsp[8192], want[4200];
  const struct pr_mount *m;
  long len;
  ssize_t n, rn;
  int ready, fd, detached_ok = 0, found = 0;
  uint32_t id;
  if (geteuid() != 0) {
    printf("     (skipped against the kernel: needs root)\n");
    return 0;
  }
  /* this namespace's own table parses whole */
  CHECK((len = read_all("/proc/self/mountinfo", text, sizeof(text))) > 0);
  CHECK(pr_mountinfo_parse(&own, text, (size_t)len) == 0 && own.bad == 0 && own.n > 0);
  CHECK((fd = open("/", O_RDONLY | O_DIRECTORY)) >= 0 && mount_id(fd, &id) == 0);
  close(fd);
  CHECK((m = pr_mount_find(&own, id)) != NULL && str_is(m->point, m->point_len, "/"));

  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof(path), "mkdir %s/opt %s/srv && cp /bin/true %s/opt/evil", dir, dir, dir);
  CHECK(system(path) == 0);
  CHECK(realpath(dir, root) != NULL);
  snprintf(want, sizeof(want), "%s/opt/evil", root);
  for (int detach = 0; detach < 2; detach++) {
    char c;
    pid_t pid = child_with_bind(dir, detach, &ready);
    int ok = pid > 0 && read(ready, &c, 1) == 1;
    close(ready);
    if (!ok) {
      if (pid > 0) waitpid(pid, NULL, 0);
      printf("     (skipped against the kernel: cannot make a bind mount in a private mount namespace)\n");
      break;
    }
    /* the file through the child's bind, as the enforcer gets it */
    snprintf(path, sizeof(path), "/proc/%d/fd/3", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    n = fd >= 0 ? readlink(path, image, sizeof(image) - 1) : -1;
    snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
    rn = readlink(path, root, sizeof(root) - 1);
    snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
    len = read_all(path, other, sizeof(other));
    ok = fd >= 0 && n > 0 && rn > 0 && len > 0 && mount_id(fd, &id) == 0 &&
         pr_mountinfo_parse(&theirs, other, (size_t)len) == 0;
    if (fd >= 0) close(fd);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK(ok);
    image[n] = 0;
    root[rn] = 0;
    CHECK(pr_mount_find(&own, id) == NULL); /* a mount of the child's namespace only */
    m = pr_mount_find(&theirs, id);
    if (detach) {
      CHECK(m == NULL); /* detached: in no table */
      detached_ok = 1;
      continue;
    }
    CHECK(m != NULL && strstr(image, "/srv/evil") != NULL && strcmp(root, "/") == 0);
    CHECK((len = pr_mount_fs_path(m, root, strlen(root), image, (size_t)n, fsp, sizeof(fsp))) > 0);
    CHECK(strcmp(fsp, want) == 0);
    CHECK(pr_mount_aliases(&own, m->major, m->minor, fsp, (size_t)len, &a) >= 1 && !a.cut);
    for (size_t i = 0; i < a.n; i++) found |= strcmp(a.p[i], want) == 0;
    CHECK(found);
  }
  snprintf(path, sizeof(path), "rm -rf %s", dir);
  (void)!system(path);
  pr_mount_table_free(&own);
  pr_mount_table_free(&theirs);
  if (found && detached_ok)
    printf("     (against the kernel: %s found through a bind; a detached bind in no table)\n", want);
  return 0;
}

int main(void) {
  t_run("mountinfo lines are parsed as documented", mountinfo_lines_are_parsed_as_documented);
  t_run("a path through a mount is a path in its file system", a_path_through_a_mount_is_a_path_in_its_file_system);
  t_run("every mount of the file system gives a name", every_mount_of_the_file_system_gives_a_name);
  t_run("the kernel's tables give the file its own path", the_kernel_tables_give_the_file_its_own_path);
  pr_mount_table_free(&table);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
