/*
 * Runs a command in a sandbox made as procrec.service's directives make it
 * (systemd cannot start units here: it is not PID 1), so that the service
 * tests can show that each source still records under them:
 *
 *   --ro PATH        PATH and the mounts below it read-only (ProtectSystem=
 *                    strict, ProtectKernelTunables=, ReadOnlyPaths=)
 *   --rw PATH        PATH and the mounts below it writable again
 *                    (ReadWritePaths=, and the API file systems strict spares)
 *   --tmpfs PATH     an empty tmpfs on PATH (PrivateTmp=)
 *   --private-dev    a /dev of null, zero, full, random, urandom, tty and an
 *                    empty shm (PrivateDevices=)
 *   --deny NAME      the process is killed at a call of NAME (each name of
 *                    SystemCallFilter=~..., as systemd-analyze syscall-filter
 *                    lists its groups); calls of another ABI (ia32, x32) too
 *                    (SystemCallArchitectures=native)
 *   --restrict-ns    unshare/clone with a CLONE_NEW* flag and setns fail with
 *                    EPERM, clone3 with ENOSYS (RestrictNamespaces=yes)
 *   --family N       socket() of a family not named so fails with
 *                    EAFNOSUPPORT (RestrictAddressFamilies=)
 *   -- COMMAND ARGS  then runs COMMAND (setpriv, for the bounding set and
 *                    no new privileges)
 *
 * The filter is loaded through libseccomp (dlopen: the library is installed,
 * its header need not be), as systemd loads its own. Needs root.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

/* (from linux/mount.h and seccomp.h, whose headers need not be installed) */
struct mount_attr_arg {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#define ATTR_RDONLY 0x1ULL
#define RECURSIVE 0x8000
#define ACT_ALLOW 0x7fff0000U
#define ACT_KILL_PROCESS 0x80000000U
#define ACT_ERRNO(e) (0x00050000U | ((uint32_t)(e)&0xffffU))
#define CMP_EQ 4
#define CMP_GT 6
#define CMP_MASKED_EQ 7
struct arg_cmp {
  unsigned int arg;
  int op;
  uint64_t a, b;
};

static void *(*sc_new)(uint32_t);
static int (*sc_resolve)(const char *);
static int (*sc_rule)(void *, uint32_t, int, unsigned int, const struct arg_cmp *);
static int (*sc_load)(void *);

static void die(const char *what, const char *arg) {
  fprintf(stderr, "service_sandbox_helper: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(errno));
  exit(125);
}

/* Makes PATH and the mounts below it read-only (ro) or writable: PATH as
 * it is when it is a mount's root, else bound onto itself first (the flags
 * of the mount holding it are left alone). */
static void set_readonly(const char *path, int ro) {
  struct mount_attr_arg a = {0};
  struct statx sx;
  if (statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx) != 0) die("cannot stat", path);
  if (!(sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) || !(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) die("cannot bind", path);
  if (ro) a.attr_set = ATTR_RDONLY;
  else a.attr_clr = ATTR_RDONLY;
  if (syscall(SYS_mount_setattr, AT_FDCWD, path, RECURSIVE, &a, sizeof(a)) != 0) die("cannot set the mode of", path);
}

static void private_dev(void) {
  static const struct {
    const char *name;
    unsigned maj, min;
  } nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  char p[64];
  if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") != 0) die("cannot mount", "/dev");
  for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
    snprintf(p, sizeof(p), "/dev/%s", nodes[i].name);
    if (mknod(p, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)) != 0) die("cannot make", p);
  }
  if (mkdir("/dev/shm", 01777) != 0 || mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0)
    die("cannot mount", "/dev/shm");
  if (symlink("/proc/self/fd", "/dev/fd") != 0 || symlink("/proc/self/fd/0", "/dev/stdin") != 0 ||
      symlink("/proc/self/fd/1", "/dev/stdout") != 0 || symlink("/proc/self/fd/2", "/dev/stderr") != 0)
    die("cannot link", "/dev/fd");
}

static void rule(void *ctx, uint32_t action, const char *name, unsigned int n, const struct arg_cmp *c) {
  int nr = sc_resolve(name);
  if (nr < 0) return; /* not a call of this architecture */
  if (sc_rule(ctx, action, nr, n, c) != 0) {
    errno = EINVAL;
    die("cannot filter", name);
  }
}

int main(int argc, char **argv) {
  static const uint64_t ns_flags[] = {0x20000,    0x02000000, 0x04000000, 0x08000000,
                                      0x10000000, 0x20000000, 0x40000000, 0x80};
  const char *deny[512];
  int n_deny = 0, restrict_ns = 0, families = 0, i;
  uint64_t family_ok = 0;
  if (unshare(CLONE_NEWNS) != 0) die("cannot unshare", "the mount namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) die("cannot make slave", "/");
  for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
    if (!strcmp(argv[i], "--ro") && i + 1 < argc) set_readonly(argv[++i], 1);
    else if (!strcmp(argv[i], "--rw") && i + 1 < argc) set_readonly(argv[++i], 0);
    else if (!strcmp(argv[i], "--tmpfs") && i + 1 < argc) {
      if (mount("tmpfs", argv[i + 1], "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0) die("cannot mount", argv[i + 1]);
      i++;
    } else if (!strcmp(argv[i], "--private-dev")) private_dev();
    else if (!strcmp(argv[i], "--deny") && i + 1 < argc && n_deny < 512) deny[n_deny++] = argv[++i];
    else if (!strcmp(argv[i], "--restrict-ns")) restrict_ns = 1;
    else if (!strcmp(argv[i], "--family") && i + 1 < argc) {
      family_ok |= 1ULL << (atoi(argv[++i]) & 63);
      families = 1;
    } else {
      fprintf(stderr, "service_sandbox_helper: unknown or incomplete option %s\n", argv[i]);
      return 125;
    }
  }
  if (i + 1 >= argc) {
    fprintf(stderr, "service_sandbox_helper: no command after --\n");
    return 125;
  }
  void *lib = dlopen("libseccomp.so.2", RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "service_sandbox_helper: %s\n", dlerror());
    return 125;
  }
  sc_new = (void *(*)(uint32_t))dlsym(lib, "seccomp_init");
  sc_resolve = (int (*)(const char *))dlsym(lib, "seccomp_syscall_resolve_name");
  sc_rule = (int (*)(void *, uint32_t, int, unsigned int, const struct arg_cmp *))dlsym(lib, "seccomp_rule_add_array");
  sc_load = (int (*)(void *))dlsym(lib, "seccomp_load");
  if (!sc_new || !sc_resolve || !sc_rule || !sc_load) {
    fprintf(stderr, "service_sandbox_helper: libseccomp lacks a function\n");
    return 125;
  }
  /* (a context holds the native architecture only: a call of another ABI
   * meets its default for a foreign architecture, a kill) */
  void *ctx = sc_new(ACT_ALLOW);
  if (!ctx) die("cannot make", "a seccomp filter");
  for (int k = 0; k < n_deny; k++) rule(ctx, ACT_KILL_PROCESS, deny[k], 0, NULL);
  if (restrict_ns) {
    for (size_t k = 0; k < sizeof(ns_flags) / sizeof(ns_flags[0]); k++) {
      struct arg_cmp c = {0, CMP_MASKED_EQ, ns_flags[k], ns_flags[k]};
      rule(ctx, ACT_ERRNO(EPERM), "unshare", 1, &c);
      rule(ctx, ACT_ERRNO(EPERM), "clone", 1, &c);
    }
    rule(ctx, ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
    rule(ctx, ACT_ERRNO(EPERM), "setns", 0, NULL);
  }
  if (families) {
    for (uint64_t f = 0; f < 64; f++) {
      if (family_ok & (1ULL << f)) continue;
      struct arg_cmp c = {0, CMP_EQ, f, 0};
      rule(ctx, ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &c);
    }
    struct arg_cmp above = {0, CMP_GT, 63, 0};
    rule(ctx, ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &above);
  }
  if (sc_load(ctx) != 0) die("cannot load", "the seccomp filter");
  execvp(argv[i + 1], argv + i + 1);
  die("cannot run", argv[i + 1]);
  return 125;
}
