/*
 * abi_layout.c - prints the layout of procrec_abi.h as the C compiler sees
 * it: every struct's size and field offsets, and the constants, as JSON.
 *
 * tests/abi_layout_test.ts compares this with cli/native/abi_layout.ts (the
 * table the TypeScript side decodes and encodes with), so neither side can
 * drift without a test failing. Built by `make -C driver/common`.
 */
#include <stddef.h>
#include <stdio.h>

#include "../include/procrec_abi.h"

static int first;

/* The fields printed of the current struct: every byte of it must belong to
 * one, so a field added in procrec_abi.h and not here fails the program. */
static struct {
  size_t off, size;
} seen[64];
static int n_seen;
static const char *cur;
static size_t cur_size;
static int holes;

static void begin(const char *name, size_t size) {
  printf("%s\n    \"%s\": {\"size\": %zu, \"fields\": {", first ? "" : ",", name, size);
  first = 0;
  cur = name;
  cur_size = size;
  n_seen = 0;
}

static void field(int *n, const char *name, size_t off, size_t size) {
  printf("%s\"%s\": %zu", (*n)++ ? ", " : "", name, off);
  seen[n_seen].off = off;
  seen[n_seen].size = size;
  n_seen++;
}

/* Checks that the fields printed cover the struct without gaps. */
static void end(void) {
  size_t at = 0;
  int progress = 1;
  printf("}}");
  while (progress && at < cur_size) {
    int i;
    progress = 0;
    for (i = 0; i < n_seen; i++)
      if (seen[i].off == at) {
        at += seen[i].size;
        progress = 1;
        break;
      }
  }
  if (at != cur_size) {
    fprintf(stderr, "abi_layout: struct %s: no field listed at offset %zu of %zu (a field of procrec_abi.h is missing from abi_layout.c, or padding)\n", cur, at, cur_size);
    holes++;
  }
}

#define STRUCT(t, ...)                          \
  do {                                          \
    int n_ = 0;                                 \
    typedef struct t T_;                        \
    begin(#t, sizeof(T_));                      \
    __VA_ARGS__                                 \
    (void)n_;                                   \
    end();                                      \
  } while (0)
#define F(f) field(&n_, #f, offsetof(T_, f), sizeof(((T_ *)0)->f));

static void constant(const char *name, long long v) {
  printf("%s\n    \"%s\": %lld", first ? "" : ",", name, v);
  first = 0;
}
#define C(c) constant(#c, (long long)(c))

int main(void) {
  printf("{\n  \"abi_version\": %u,\n  \"structs\": {", PROCREC_ABI_VERSION);
  first = 1;
  STRUCT(pr_str, F(off) F(len));
  STRUCT(pr_rec_header, F(kind) F(flags) F(size) F(seq) F(mono_ns) F(utc_ns) F(pid) F(tid));
  STRUCT(pr_proc_info, F(uid) F(gid) F(prov_image) F(prov_argv) F(prov_comm) F(prov_cwd) F(prov_cred)
                           F(prov_file) F(prov_ns) F(prov_cgroup) F(argv_full_len) F(argc) F(image) F(argv)
                               F(comm) F(cwd) F(euid) F(egid) F(loginuid) F(sessionid) F(image_flags) F(integrity)
                                   F(dev) F(ino) F(cgroup_id) F(ns_pid) F(ns_mnt) F(ns_net) F(ns_user) F(ns_cgroup)
                                       F(reserved2) F(cgroup) F(user));
  STRUCT(pr_rec_process_create, F(h) F(parent_pid) F(parent_tid) F(creator_pid) F(creator_tid) F(start_ns)
                                    F(status) F(reserved) F(info));
  STRUCT(pr_rec_exec, F(h) F(start_ns) F(info));
  STRUCT(pr_rec_process_exit, F(h) F(status) F(reserved) F(start_ns));
  STRUCT(pr_rec_thread_create, F(h) F(creator_pid) F(creator_tid) F(start_ns));
  STRUCT(pr_rec_thread_exit, F(h) F(status) F(reserved));
  STRUCT(pr_rec_comm, F(h) F(comm));
  STRUCT(pr_rec_lost, F(h) F(reason) F(cpu) F(count));
  STRUCT(pr_rec_snapshot, F(h) F(parent_pid) F(reserved) F(start_ns) F(info));
  STRUCT(pr_rec_image_load, F(h) F(base) F(size) F(image));
  STRUCT(pr_rule, F(action) F(match) F(uid) F(path_len) F(parent_len) F(cgroup_len) F(argv_len) F(reserved) F(path)
                      F(parent) F(cgroup) F(argv));
  STRUCT(pr_rule_file, F(dev) F(ino) F(rule) F(flags) F(size) F(sha256));
  STRUCT(pr_rule_set, F(size) F(rules) F(files) F(exempt_pid));
  STRUCT(pr_rec_exec_decision, F(h) F(rule) F(action) F(ppid) F(uid) F(euid) F(argc) F(dev) F(ino)
                                   F(cgroup_id) F(image) F(argv) F(parent) F(cgroup));
  STRUCT(pr_rec_hash, F(h) F(start_ns) F(exec_ns) F(status) F(hash_flags) F(err) F(reserved) F(dev) F(ino)
                          F(size) F(mtime_ns) F(ctime_ns) F(sha256));
  STRUCT(procrec_options,
         F(size) F(source) F(flags) F(ring_bytes) F(rcvbuf_bytes) F(bpf_ring_bytes) F(max_string) F(reserved));
  STRUCT(procrec_stats, F(records) F(bytes) F(lost_total) F(lost_enobufs) F(lost_seq_gap) F(lost_ring)
                            F(lost_bpf) F(lost_driver) F(ring_used) F(ring_size) F(enrich_ok) F(enrich_gone)
                                F(kernel_msgs) F(hash_read) F(hash_cached) F(hash_bytes)
                                    F(hash_skipped) F(exec_hashed) F(exec_hash_cached) F(reserved));
  printf("\n  },\n  \"constants\": {");
  first = 1;
  C(PR_REC_PROCESS_CREATE); C(PR_REC_EXEC); C(PR_REC_PROCESS_EXIT); C(PR_REC_THREAD_CREATE);
  C(PR_REC_THREAD_EXIT); C(PR_REC_COMM); C(PR_REC_LOST); C(PR_REC_SNAPSHOT); C(PR_REC_IMAGE_LOAD);
  C(PR_REC_EXEC_DECISION);
  C(PR_REC_HASH);
  C(PR_F_ARGV_TRUNCATED); C(PR_F_IMAGE_TRUNCATED); C(PR_F_PROCESS_EXITING); C(PR_F_DENIED);
  C(PR_F_COUNT_UNKNOWN); C(PR_F_CMDLINE); C(PR_F_GROUP_DEAD); C(PR_F_REMOTE); C(PR_F_EXEMPT);
  C(PR_F_BY_CONTENT); C(PR_F_EXIT_INFERRED); C(PR_RF_CONTENT);
  C(PR_RULE_DENY); C(PR_RULE_AUDIT); C(PR_RM_PATH); C(PR_RM_FILE); C(PR_RM_UID); C(PR_RM_PARENT);
  C(PR_RM_CGROUP); C(PR_RM_ARGV); C(PR_RM_ARGV_REGEX); C(PR_RULES_MAX); C(PR_RULE_FILES_MAX); C(PR_RULE_GLOB);
  C(PR_PROV_NONE); C(PR_PROV_KERNEL); C(PR_PROV_PROC); C(PR_PROV_GONE); C(PR_PROV_DENIED);
  C(PR_LOST_ENOBUFS); C(PR_LOST_SEQ_GAP); C(PR_LOST_RING_FULL); C(PR_LOST_BPF_RESERVE);
  C(PR_LOST_DRIVER_QUEUE); C(PR_LOST_DECODE);
  C(PR_SOURCE_AUTO); C(PR_SOURCE_NETLINK); C(PR_SOURCE_EBPF); C(PR_SOURCE_WINDOWS);
  C(PR_OPT_NO_SNAPSHOT); C(PR_OPT_NO_ENRICH); C(PR_OPT_IMAGE_LOAD); C(PR_OPT_EXEC_RULES);
  C(PR_CTL_PAUSE_READER); C(PR_CTL_RESUME_READER); C(PR_CTL_INJECT); C(PR_CTL_BLOCK_RULES); C(PR_CTL_EXEC_RULES);
  C(PR_OPT_NO_HASH);
  C(PR_CTL_PAUSE_HASHER); C(PR_CTL_RESUME_HASHER); C(PR_CTL_HASH_CACHE_LOAD); C(PR_CTL_HASH_CACHE_SAVE);
  C(PR_HASH_OK); C(PR_HASH_CHANGED); C(PR_HASH_GONE); C(PR_HASH_ERROR); C(PR_HASH_SKIPPED);
  C(PR_H_CACHED); C(PR_H_VIA_EXE); C(PR_H_VIA_PATH);
  C(PR_OK); C(PR_E_INVAL); C(PR_E_PERM); C(PR_E_NOSUP); C(PR_E_NOMEM); C(PR_E_IO); C(PR_E_STATE); C(PR_E_ABI);
  printf("\n  }\n}\n");
  return holes ? 1 : 0;
}
