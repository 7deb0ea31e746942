// SPDX-License-Identifier: MIT
/*
 * test_min_btf - the build's minimal BTF (min_btf.c, ebpf/min_btf_header.sh)
 * relocates the programs exactly as the kernel's own BTF does: the skeleton
 * is loaded twice, once with libbpf's btf_custom_path set to the minimal BTF
 * (as source_ebpf.c does) and once against /sys/kernel/btf/vmlinux, and
 * every program's loaded instructions must be equal (map references compared
 * by map, not by descriptor). Also: the minimal BTF is used on this kernel
 * (the build's), and PROCREC_BPF_KERNEL_BTF turns it off.
 *
 * Exit 0 when equal, 1 when not; SKIPPED (exit 0) without root, or when the
 * library was built on another kernel or without kernel BTF (then the
 * library relocates against the kernel's BTF, as this test's reference does).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../min_btf.h"
#include "procrec.skel.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap) {
  return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Opens and loads the skeleton, relocated against btf_path (NULL: the kernel's BTF). */
static struct procrec_bpf *load(const char *btf_path) {
  LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_path);
  struct procrec_bpf *skel = procrec_bpf__open_opts(&oo);
  if (!skel) {
    fprintf(stderr, "test_min_btf: FAIL: cannot open the skeleton (%s): %s\n", btf_path ? btf_path : "kernel BTF",
            strerror(errno));
    exit(1);
  }
  int err = procrec_bpf__load(skel);
  if (err) {
    fprintf(stderr, "test_min_btf: FAIL: cannot load the programs (%s): %s\n", btf_path ? btf_path : "kernel BTF",
            strerror(-err));
    exit(1);
  }
  return skel;
}

/* The index of the map whose descriptor is fd in obj, or -1. */
static int map_index(struct bpf_object *obj, int fd) {
  struct bpf_map *m;
  int i = 0;
  bpf_object__for_each_map(m, obj) {
    if (bpf_map__fd(m) == fd) return i;
    i++;
  }
  return -1;
}

/* Equal instructions, a map reference (ld_imm64 of a map's fd or value) equal
 * when it names the same map of its object. Prints the first difference. */
static int same_insns(struct bpf_object *oa, const struct bpf_program *a, struct bpf_object *ob,
                      const struct bpf_program *b) {
  size_t n = bpf_program__insn_cnt(a);
  const struct bpf_insn *ia = bpf_program__insns(a), *ib = bpf_program__insns(b);
  if (n != bpf_program__insn_cnt(b) || !ia || !ib) {
    fprintf(stderr, "test_min_btf: %s: %zu instructions against %zu\n", bpf_program__name(a), n,
            bpf_program__insn_cnt(b));
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    struct bpf_insn x = ia[i], y = ib[i];
    if (x.code == (BPF_LD | BPF_IMM | BPF_DW) && x.src_reg == y.src_reg &&
        (x.src_reg == BPF_PSEUDO_MAP_FD || x.src_reg == BPF_PSEUDO_MAP_VALUE)) {
      x.imm = map_index(oa, x.imm);
      y.imm = map_index(ob, y.imm);
    }
    if (memcmp(&x, &y, sizeof(x)) != 0) {
      fprintf(stderr, "test_min_btf: %s: instruction %zu differs (code %02x dst %u src %u off %d imm %d against "
                      "code %02x dst %u src %u off %d imm %d)\n",
              bpf_program__name(a), i, x.code, x.dst_reg, x.src_reg, x.off, x.imm, y.code, y.dst_reg, y.src_reg,
              y.off, y.imm);
      return 0;
    }
  }
  return 1;
}

int main(void) {
  if (geteuid() != 0) {
    printf("test_min_btf: SKIPPED: loading BPF programs needs root (euid %u)\n", geteuid());
    return 0;
  }
  if (!pr_min_btf_usable()) {
    printf("test_min_btf: SKIPPED: the library was built on another kernel or without kernel BTF (notes or BTF "
           "size differ): it relocates against the kernel's BTF\n");
    return 0;
  }
  libbpf_set_print(quiet);
  if (setenv("PROCREC_BPF_KERNEL_BTF", "1", 1) != 0 || pr_min_btf_fd() != -1) {
    fprintf(stderr, "test_min_btf: FAIL: PROCREC_BPF_KERNEL_BTF does not turn the minimal BTF off\n");
    return 1;
  }
  unsetenv("PROCREC_BPF_KERNEL_BTF");
  int fd = pr_min_btf_fd();
  if (fd < 0) {
    fprintf(stderr, "test_min_btf: FAIL: no minimal BTF on the build's kernel\n");
    return 1;
  }
  char path[40];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  struct procrec_bpf *small = load(path);
  close(fd);
  struct procrec_bpf *full = load(NULL);
  struct bpf_program *a, *b = NULL;
  int programs = 0, ok = 1;
  bpf_object__for_each_program(a, small->obj) {
    b = bpf_object__next_program(full->obj, b);
    if (!b || strcmp(bpf_program__name(a), bpf_program__name(b)) != 0) {
      fprintf(stderr, "test_min_btf: FAIL: the two objects' programs differ\n");
      return 1;
    }
    ok &= same_insns(small->obj, a, full->obj, b);
    programs++;
  }
  procrec_bpf__destroy(small);
  procrec_bpf__destroy(full);
  if (!ok || programs == 0) {
    fprintf(stderr, "test_min_btf: FAIL: relocated against the minimal BTF, the programs differ\n");
    return 1;
  }
  printf("test_min_btf: ok: %d programs relocated the same against the build's minimal BTF and the kernel's\n",
         programs);
  return 0;
}
