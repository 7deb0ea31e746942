/*
 * source_ebpf_unavailable.c - the eBPF source of a build without eBPF
 * (driver/linux/source_ebpf.c absent, or clang/bpftool/libbpf missing):
 * open reports PR_E_NOSUP with the reason, so PR_SOURCE_AUTO falls back to
 * the proc connector and procrec_source() says why.
 */
#include <stdio.h>

#include "source.h"

#ifndef PR_EBPF_UNAVAILABLE_WHY
#define PR_EBPF_UNAVAILABLE_WHY "this libprocrec.so was built without the eBPF source"
#endif

static int ebpf_open(struct pr_lib *lib, char *why, size_t n) {
  (void)lib;
  snprintf(why, n, "%s", PR_EBPF_UNAVAILABLE_WHY);
  return PR_E_NOSUP;
}

static int ebpf_nop(struct pr_lib *lib) {
  (void)lib;
  return PR_E_NOSUP;
}

static void ebpf_close(struct pr_lib *lib) { (void)lib; }

static int ebpf_control(struct pr_lib *lib, uint32_t op) {
  (void)lib;
  (void)op;
  return PR_E_NOSUP;
}

const struct pr_source_ops pr_source_ebpf = {
    .name = "ebpf",
    .id = PR_SOURCE_EBPF,
    .open = ebpf_open,
    .start = ebpf_nop,
    .stop = ebpf_nop,
    .close = ebpf_close,
    .control = ebpf_control,
};
