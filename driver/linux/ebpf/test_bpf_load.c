// SPDX-License-Identifier: MIT
/*
 * test_bpf_load OBJ - loads every program of a BPF object file into the
 * kernel (the verifier's check; nothing is attached) and prints how many
 * instructions it took to verify each. Exit 0 when all load, 1 when one
 * does not (the verifier's log is printed), 0 with SKIPPED without root.
 *
 * ebpf-test runs it on build/ebpf/procrec_unrolled.bpf.o: procrec.bpf.c
 * built with PR_UNROLLED_LOOPS=1, the programs a kernel without bpf_loop
 * (before 5.17) loads, which this machine's kernel would otherwise never
 * check.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char logs[8][1 << 16];

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap) {
  return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_bpf_load OBJ\n");
    return 2;
  }
  if (geteuid() != 0) {
    printf("test_bpf_load: SKIPPED: loading BPF programs needs root (euid %u)\n", geteuid());
    return 0;
  }
  libbpf_set_print(quiet);
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) {
    fprintf(stderr, "test_bpf_load: cannot open %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  struct bpf_program *p;
  int n = 0;
  bpf_object__for_each_program(p, obj) {
    if (n == 8) break;
    bpf_program__set_log_level(p, 4); /* statistics only */
    bpf_program__set_log_buf(p, logs[n], sizeof(logs[n]));
    n++;
  }
  int err = bpf_object__load(obj);
  n = 0;
  bpf_object__for_each_program(p, obj) {
    if (n == 8) break;
    const char *stats = strstr(logs[n], "processed ");
    printf("%s: %.*s\n", bpf_program__name(p), stats ? (int)strcspn(stats, "(") : 11,
           stats ? stats : "not checked");
    n++;
  }
  bpf_object__close(obj);
  if (err) {
    fprintf(stderr, "test_bpf_load: FAIL: %s does not load: %s\n", argv[1], strerror(-err));
    return 1;
  }
  printf("test_bpf_load: ok: every program of %s loads\n", argv[1]);
  return 0;
}
