/*
 * exec_rules_helper.c - execs a program the ways the exec rules' tests need
 * that a shell cannot (built by the Makefile for test_exec_rules.c and by
 * tests/exec_rules_argv_test.ts):
 *
 *   exec_rules_helper ia32 PATH ARG...     execve through int $0x80 (ia32
 *                                          syscall 11) from this 64-bit
 *                                          program, the path and arguments
 *                                          in memory below 4 GiB
 *   exec_rules_helper ia32at PATH ARG...   the same with ia32 execveat (358)
 *   exec_rules_helper badargv PATH         execve(PATH, an unmapped address,
 *                                          NULL): the kernel opens the file
 *                                          (the permission event) before it
 *                                          reads argv
 *
 * When the exec fails it prints "errno=N" and exits 126.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
static long int80(long nr, long a, long b, long c, long d, long e) {
  long ret;
  register long r8 __asm__("r8") = 0; /* int $0x80 clobbers r8-r11 */
  register long r9 __asm__("r9") = 0;
  register long r10 __asm__("r10") = 0;
  register long r11 __asm__("r11") = 0;
  __asm__ volatile("push %%rbp\n\tmov %[e], %%rbp\n\tint $0x80\n\tpop %%rbp"
                   : "=a"(ret), "+r"(r8), "+r"(r9), "+r"(r10), "+r"(r11)
                   : "0"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(0L), [e] "r"(e)
                   : "memory", "cc");
  (void)d;
  return ret;
}

/* Copies path and args below 4 GiB and execs them through int $0x80. */
static int exec_ia32(int at, int argc, char **argv) {
  uint8_t *low = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  uint32_t *ptrs;
  char *text;
  long r;
  if (low == MAP_FAILED) {
    printf("errno=%d (mmap MAP_32BIT)\n", errno);
    return 126;
  }
  ptrs = (uint32_t *)(void *)low;
  text = (char *)low + 4096;
  for (int i = 0; i < argc; i++) {
    size_t n = strlen(argv[i]) + 1;
    memcpy(text, argv[i], n);
    ptrs[i] = (uint32_t)(uintptr_t)text;
    text += n;
  }
  ptrs[argc] = 0;
  /* argv[0] is the path */
  if (at)
    r = int80(358, -100 /* AT_FDCWD */, (long)ptrs[0], (long)(uintptr_t)ptrs, (long)(uintptr_t)&ptrs[argc], 0);
  else
    r = int80(11, (long)ptrs[0], (long)(uintptr_t)ptrs, (long)(uintptr_t)&ptrs[argc], 0, 0);
  printf("errno=%ld\n", -r);
  return 126;
}
#endif

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: exec_rules_helper ia32|ia32at|badargv PATH [ARG...]\n");
    return 2;
  }
  fflush(stdout);
#if defined(__x86_64__)
  if (strcmp(argv[1], "ia32") == 0) return exec_ia32(0, argc - 2, argv + 2);
  if (strcmp(argv[1], "ia32at") == 0) return exec_ia32(1, argc - 2, argv + 2);
#endif
  if (strcmp(argv[1], "badargv") == 0) {
    /* an address below any mapping: argv cannot be read */
    long r = syscall(SYS_execve, argv[2], (char **)(uintptr_t)0x10000, (char **)NULL);
    printf("errno=%d\n", r < 0 ? errno : 0);
    return 126;
  }
  fprintf(stderr, "exec_rules_helper: unknown mode %s\n", argv[1]);
  return 2;
}
