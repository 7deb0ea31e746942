/*
 * min_btf.c - CO-RE relocations against the build's minimal BTF.
 *
 * libbpf relocates the programs' reads of kernel structs (CO-RE) by searching
 * the kernel's BTF (~126,000 types here) once per struct the programs read:
 * about 30 ms of each start. The build (ebpf/min_btf_header.sh) keeps the
 * minimal BTF of its machine's kernel for these programs (`bpftool gen
 * min_core_btf`: those structs and members, as that kernel lays them out)
 * with what identifies that kernel: /sys/kernel/notes (its GNU build id) and
 * the size of its BTF. When the running kernel shows exactly those, it is the
 * same kernel image, and libbpf computes the same relocations from the small
 * BTF; on any other kernel libbpf searches the kernel's own BTF as before.
 * (Attaching still looks the tracepoints up in the kernel's BTF.) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "min_btf.h"
#include "procrec_min_btf.h" /* generated: build/ebpf, see ebpf/min_btf_header.sh */

#define BTF_PATH "/sys/kernel/btf/vmlinux"
#define NOTES_PATH "/sys/kernel/notes"

/* A GNU build-id note (type 3, name "GNU") among the notes. */
static int has_build_id(const unsigned char *p, size_t n) {
  size_t off = 0;
  while (n - off >= 12) {
    uint32_t namesz, descsz, type;
    memcpy(&namesz, p + off, 4);
    memcpy(&descsz, p + off + 4, 4);
    memcpy(&type, p + off + 8, 4);
    size_t name = off + 12, nlen = ((size_t)namesz + 3) & ~(size_t)3, dlen = ((size_t)descsz + 3) & ~(size_t)3;
    if (nlen > n - name || dlen > n - name - nlen) return 0;
    if (type == 3 && namesz == 4 && memcmp(p + name, "GNU", 4) == 0 && descsz >= 8) return 1;
    off = name + nlen + dlen;
  }
  return 0;
}

/* The running kernel is the build's: same notes (with a build id), same BTF size. */
int pr_min_btf_usable(void) {
  unsigned char now[4096];
  struct stat st;
  ssize_t got;
  size_t n = 0;
  int fd;
  if (pr_min_btf_len == 0 || pr_min_btf_notes_len == 0 || pr_min_btf_notes_len > sizeof(now)) return 0;
  if (!has_build_id(pr_min_btf_notes, pr_min_btf_notes_len)) return 0;
  if (stat(BTF_PATH, &st) != 0 || (unsigned long long)st.st_size != pr_min_btf_vmlinux_size) return 0;
  fd = open(NOTES_PATH, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  while (n < sizeof(now) && (got = read(fd, now + n, sizeof(now) - n)) > 0) n += (size_t)got;
  close(fd);
  return n == pr_min_btf_notes_len && memcmp(now, pr_min_btf_notes, n) == 0;
}

/* A memfd holding the build's minimal BTF when this kernel is the build's
 * (libbpf takes a path: /proc/self/fd/N), else -1. */
int pr_min_btf_fd(void) {
  size_t off = 0;
  int fd;
  if (getenv("PROCREC_BPF_KERNEL_BTF") || !pr_min_btf_usable()) return -1;
  fd = memfd_create("procrec-min-btf", MFD_CLOEXEC);
  if (fd < 0) return -1;
  while (off < pr_min_btf_len) {
    ssize_t w = write(fd, pr_min_btf + off, pr_min_btf_len - off);
    if (w <= 0) {
      close(fd);
      return -1;
    }
    off += (size_t)w;
  }
  return fd;
}

