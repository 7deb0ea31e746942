/*
 * min_btf.h - the build's minimal kernel BTF for the eBPF programs' CO-RE
 * relocations (min_btf.c).
 */
#ifndef PROCREC_MIN_BTF_H
#define PROCREC_MIN_BTF_H

/* 1 when the running kernel is the one the library was built on (same
 * /sys/kernel/notes with a GNU build id, same BTF size) and the build kept a
 * minimal BTF for it; 0 otherwise. */
int pr_min_btf_usable(void);

/* A memfd holding that minimal BTF (give libbpf "/proc/self/fd/N" as
 * btf_custom_path; close it after loading), or -1 when it is not usable or
 * PROCREC_BPF_KERNEL_BTF is set (relocate against the kernel's own BTF). */
int pr_min_btf_fd(void);

#endif
