/*
 * procrec_abi.h - the one C ABI of every procrec event source.
 *
 * Included by the Linux library (libprocrec.so: proc connector and eBPF
 * sources), the Windows driver (procrec.sys) and its user-mode library
 * (procrec.dll). cli/native/ffi.ts binds exactly these functions and decodes
 * exactly these records; cli/log/SCHEMA.md documents both.
 *
 * Records are little-endian, 8-byte aligned and self-sized: a common header
 * (kind, flags, size, sequence, monotonic and UTC timestamps, pid, tid) then
 * kind-specific fixed fields, then string bytes. Strings are UTF-8 without a
 * terminating NUL, referenced as {offset from the record start, length}.
 * A reader skips kinds it does not know by their size.
 *
 * Nothing is dropped silently: every place that can lose an event counts it
 * and emits a PR_REC_LOST record into the stream where the loss happened.
 */
#ifndef PROCREC_ABI_H
#define PROCREC_ABI_H

#include <stddef.h>
#include <stdint.h>

#define PROCREC_ABI_VERSION 6u

#if defined(_WIN32)
#define PROCREC_API __declspec(dllexport)
#else
#define PROCREC_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- record kinds ---- */
enum pr_kind {
  PR_REC_PROCESS_CREATE = 1, /* a new process (Linux: fork of a group leader) */
  PR_REC_EXEC = 2,           /* a process replaced its image */
  PR_REC_PROCESS_EXIT = 3,   /* a process ended (last thread of the group) */
  PR_REC_THREAD_CREATE = 4,  /* a new thread in an existing process */
  PR_REC_THREAD_EXIT = 5,    /* a thread ended */
  PR_REC_COMM = 6,           /* a thread changed its name (Linux comm) */
  PR_REC_LOST = 7,           /* events were lost here; see pr_rec_lost */
  PR_REC_SNAPSHOT = 8,       /* a process already running at start */
  PR_REC_IMAGE_LOAD = 9,     /* an image was mapped (Windows, optional) */
  PR_REC_EXEC_DECISION = 10, /* ABI 3: an exec rule matched (Linux BPF LSM): denied or audited */
  PR_REC_HASH = 11,          /* ABI 4: the SHA-256 of an exec'd image, or why there is none */
};

/* ---- header flags ---- */
#define PR_F_ARGV_TRUNCATED 0x0001u  /* argv longer than the string limit */
#define PR_F_IMAGE_TRUNCATED 0x0002u /* image path longer than the limit */
#define PR_F_PROCESS_EXITING 0x0004u /* thread exit: its process is exiting */
#define PR_F_DENIED 0x0008u          /* process create: a block rule denied it */
#define PR_F_COUNT_UNKNOWN 0x0010u   /* lost: the count could not be known */
#define PR_F_CMDLINE 0x0020u         /* argv holds one command line (Windows) */
#define PR_F_GROUP_DEAD 0x0040u      /* thread exit is the last of its group */
#define PR_F_REMOTE 0x0080u          /* thread created by another process */
#define PR_F_EXEMPT 0x0100u          /* exec decision: a deny rule matched a process that is never
                                        denied (the recorder itself, PID 1): it was let run */
#define PR_F_BY_CONTENT 0x0200u      /* exec decision: its file: rule matched a copy (the same size and
                                        SHA-256 as the rule's file), not the file itself (ABI 5) */
#define PR_F_EXIT_INFERRED 0x0400u   /* process exit (ABI 6): not received; after a loss the source found the
                                        process ended (Linux proc connector: /proc/PID/task), and its time
                                        is when it looked, not when the process ended */

/* ---- where a field's value came from ---- */
enum pr_provenance {
  PR_PROV_NONE = 0,     /* not captured (not applicable or not attempted) */
  PR_PROV_KERNEL = 1,   /* from the kernel at the moment of the event */
  PR_PROV_PROC = 2,     /* read from /proc/<pid>/ after the event */
  PR_PROV_GONE = 3,     /* the process was gone before it could be read */
  PR_PROV_DENIED = 4,   /* reading it was refused (permissions) */
};

/* ---- why events were lost ---- */
enum pr_lost_reason {
  PR_LOST_ENOBUFS = 1,      /* socket receive buffer overflowed */
  PR_LOST_SEQ_GAP = 2,      /* per-CPU sequence gap in kernel messages */
  PR_LOST_RING_FULL = 3,    /* the library's ring was full */
  PR_LOST_BPF_RESERVE = 4,  /* BPF ring buffer reserve failed */
  PR_LOST_DRIVER_QUEUE = 5, /* the Windows driver's ring was full */
  PR_LOST_DECODE = 6,       /* a kernel message could not be decoded */
};
#define PR_LOST_REASON_MAX 6u /* the highest enum pr_lost_reason */

/* ---- pr_proc_info.image_flags (ABI 2) ---- */
#define PR_I_FILELESS 0x0001u      /* the image has no name in any file system (memfd, anonymous) */
#define PR_I_DELETED 0x0002u       /* the image file was unlinked when it was exec'd */
#define PR_I_CGROUP_TRUNCATED 0x0004u /* the cgroup path was longer than the limit */

/* ---- pr_rec_hash.status (ABI 4) ---- */
enum pr_hash_status {
  PR_HASH_OK = 1,      /* sha256 is the hash of the file that was exec'd */
  PR_HASH_CHANGED = 2, /* the file changed between the exec and the hashing (or while it was read):
                          no hash, never a hash of other contents */
  PR_HASH_GONE = 3,    /* the exec'd file could not be reached any more (deleted, memfd closed,
                          the process gone without a readable path) */
  PR_HASH_ERROR = 4,   /* opening or reading it failed: errno says why */
  PR_HASH_SKIPPED = 5, /* not attempted: the hash queue was full (counted, never silent) */
};
/* ---- pr_rec_hash.hash_flags ---- */
#define PR_H_CACHED 0x0001u   /* the hash came from the cache: the file was not read again */
#define PR_H_VIA_EXE 0x0002u  /* the process's own image: opened through /proc/PID/exe while it still ran it, or (cached) its key as the source saw it at the exec */
#define PR_H_VIA_PATH 0x0004u /* opened by its path (the process had ended or exec'd again) */

#define PR_ID_UNSET 0xffffffffu /* loginuid / sessionid never set (audit's -1) */
#define PR_INTEGRITY_KNOWN 0x80000000u /* pr_proc_info.integrity holds a RID (0x1000 low ... 0x4000 system) */

struct pr_str {
  uint32_t off; /* from the start of the record; 0 with len 0: absent */
  uint32_t len; /* bytes, no NUL */
};

struct pr_rec_header { /* 40 bytes */
  uint16_t kind;    /* enum pr_kind */
  uint16_t flags;   /* PR_F_* */
  uint32_t size;    /* whole record, header and strings, multiple of 8 */
  uint64_t seq;     /* per-source sequence number, +1 per record */
  uint64_t mono_ns; /* kernel monotonic clock (Windows: boot-relative) */
  uint64_t utc_ns;  /* UTC nanoseconds since 1970-01-01 */
  uint32_t pid;     /* process (Linux tgid) */
  uint32_t tid;     /* thread */
};

/* Process details shared by create, exec and snapshot records.
 * ABI 2 appended everything from euid on; a field whose provenance is
 * PR_PROV_NONE is 0 (or {0, 0}) and means nothing. */
struct pr_proc_info { /* 144 bytes */
  uint32_t uid;       /* real ids (Windows: 0) */
  uint32_t gid;
  uint8_t prov_image; /* enum pr_provenance, per field */
  uint8_t prov_argv;
  uint8_t prov_comm;
  uint8_t prov_cwd;
  uint8_t prov_cred;   /* uid, gid, euid, egid, loginuid, sessionid, integrity, user */
  uint8_t prov_file;   /* dev, ino, image_flags PR_I_FILELESS / PR_I_DELETED */
  uint8_t prov_ns;     /* ns_* */
  uint8_t prov_cgroup; /* cgroup_id, cgroup */
  uint32_t argv_full_len; /* bytes of the whole argv, even when truncated */
  uint32_t argc;          /* number of arguments in argv (NUL-separated) */
  struct pr_str image;    /* executable path (Linux: as d_path, "/memfd:x (deleted)") */
  struct pr_str argv;     /* arguments joined by NUL (Windows: the command line) */
  struct pr_str comm;     /* short name */
  struct pr_str cwd;      /* working directory */
  /* ---- ABI 2 ---- */
  uint32_t euid;        /* effective ids after the exec */
  uint32_t egid;
  uint32_t loginuid;    /* audit login uid; PR_ID_UNSET when never set */
  uint32_t sessionid;   /* audit session (Windows: token session id); PR_ID_UNSET when unset */
  uint32_t image_flags; /* PR_I_* */
  uint32_t integrity;   /* Windows: PR_INTEGRITY_KNOWN | the token's mandatory label RID; 0: unknown */
  uint64_t dev;         /* image file's device, as stat(2) st_dev */
  uint64_t ino;         /* image file's inode number */
  uint64_t cgroup_id;   /* cgroup v2 id (the kernfs inode of its directory) */
  uint32_t ns_pid;      /* namespace inode numbers, as /proc/PID/ns/NAME */
  uint32_t ns_mnt;
  uint32_t ns_net;
  uint32_t ns_user;
  uint32_t ns_cgroup;
  uint32_t reserved2;
  struct pr_str cgroup; /* cgroup v2 path from the hierarchy's root */
  struct pr_str user;   /* Windows: the token user's SID (S-1-...); Linux: absent */
};

struct pr_rec_process_create { /* kind 1; header pid/tid are the new process */
  struct pr_rec_header h;
  uint32_t parent_pid;  /* the kernel's parent (never read from /proc) */
  uint32_t parent_tid;  /* the thread that forked (Linux) */
  uint32_t creator_pid; /* Windows: CreatingThreadId.UniqueProcess; Linux: = parent */
  uint32_t creator_tid;
  uint64_t start_ns;    /* process start, monotonic: part of its identity */
  uint32_t status;      /* Windows: CreationStatus written (denials) */
  uint32_t reserved;
  struct pr_proc_info info;
};

struct pr_rec_exec { /* kind 2 */
  struct pr_rec_header h;
  uint64_t start_ns; /* start of the process (0 when unknown) */
  struct pr_proc_info info;
};

struct pr_rec_process_exit { /* kind 3 */
  struct pr_rec_header h;
  uint32_t status;   /* Linux: wait status (code << 8 | signal); Windows: NTSTATUS */
  uint32_t reserved;
  uint64_t start_ns; /* 0 when unknown */
};

struct pr_rec_thread_create { /* kind 4; header pid/tid are the new thread */
  struct pr_rec_header h;
  uint32_t creator_pid;
  uint32_t creator_tid;
  uint64_t start_ns;
};

struct pr_rec_thread_exit { /* kind 5 */
  struct pr_rec_header h;
  uint32_t status;
  uint32_t reserved;
};

struct pr_rec_comm { /* kind 6 */
  struct pr_rec_header h;
  struct pr_str comm;
};

struct pr_rec_lost { /* kind 7; header pid/tid are 0 */
  struct pr_rec_header h;
  uint32_t reason; /* enum pr_lost_reason */
  uint32_t cpu;    /* CPU of a per-CPU count, else UINT32_MAX */
  uint64_t count;  /* events lost (0 with PR_F_COUNT_UNKNOWN) */
};

struct pr_rec_snapshot { /* kind 8 */
  struct pr_rec_header h;
  uint32_t parent_pid;
  uint32_t reserved;
  uint64_t start_ns; /* from /proc/<pid>/stat starttime, monotonic ns */
  struct pr_proc_info info;
};

struct pr_rec_image_load { /* kind 9 */
  struct pr_rec_header h;
  uint64_t base;
  uint64_t size;
  struct pr_str image;
};

/* ---- exec rules (ABI 3; Linux, see PR_OPT_EXEC_RULES and PR_CTL_EXEC_RULES) ---- */
enum pr_rule_action {
  PR_RULE_DENY = 1,  /* the exec fails with EPERM */
  PR_RULE_AUDIT = 2, /* the exec goes on; the decision is recorded */
};

/* pr_rule.match: the matchers a rule has; all of them must match. */
#define PR_RM_PATH 0x01u       /* path: glob on the kernel's path of the file being executed, or on another path of it in procrec's mount namespace (Linux: a bind mount) */
#define PR_RM_FILE 0x02u       /* file: the file is one of the pr_rule_file entries of this rule */
#define PR_RM_UID 0x04u        /* uid: the caller's real or effective uid */
#define PR_RM_PARENT 0x08u     /* parent: glob on the path of the caller's parent's executable */
#define PR_RM_CGROUP 0x10u     /* cgroup: glob on the caller's cgroup v2 path */
#define PR_RM_ARGV 0x20u       /* argv: the new arguments, joined by spaces, contain `argv` */
#define PR_RM_ARGV_REGEX 0x40u /* argv: ... match `argv`, a POSIX extended regular expression */

#define PR_RULES_MAX 32u       /* rules in one set */
#define PR_RULE_FILES_MAX 256u /* file identities in one set */
#define PR_RULE_GLOB 256u      /* bytes of a glob or argv text, NUL included */

/* Globs: '*' matches any run of bytes, '/' included (also none); '?' exactly
 * one byte; every other byte itself (case-sensitive). The same grammar as
 * the Windows driver's patterns (which compare letters without case). */
struct pr_rule { /* 1048 bytes */
  uint32_t action;     /* enum pr_rule_action */
  uint32_t match;      /* PR_RM_* */
  uint32_t uid;        /* PR_RM_UID */
  uint16_t path_len;   /* bytes of each text, NUL not counted */
  uint16_t parent_len;
  uint16_t cgroup_len;
  uint16_t argv_len;
  uint16_t reserved[2];
  char path[PR_RULE_GLOB];   /* each NUL-terminated */
  char parent[PR_RULE_GLOB];
  char cgroup[PR_RULE_GLOB];
  char argv[PR_RULE_GLOB];
};

struct pr_rule_file { /* 64 bytes (24 before ABI 5) */
  uint64_t dev;  /* as stat(2) st_dev */
  uint64_t ino;
  uint32_t rule; /* index of the rule it belongs to */
  uint32_t flags; /* PR_RF_CONTENT: size and sha256 are the file's when the rules loaded */
  uint64_t size;
  uint8_t sha256[32];
};
/* pr_rule_file.flags: a file of this size whose SHA-256 is sha256 is this
 * file too (a copy under another name): the enforcer hashes only files of a
 * size some rule file has. */
#define PR_RF_CONTENT 0x1u

/* The argument of PR_CTL_EXEC_RULES: this, then `rules` struct pr_rule, then
 * `files` struct pr_rule_file. */
struct pr_rule_set { /* 16 bytes */
  uint32_t size;       /* sizeof(struct pr_rule_set) */
  uint32_t rules;      /* <= PR_RULES_MAX */
  uint32_t files;      /* <= PR_RULE_FILES_MAX */
  uint32_t exempt_pid; /* a process never denied besides PID 1 (the recorder) */
};

/* A decision of the exec rules: header pid/tid are the process and thread
 * that called execve (its image has not changed yet). Flags: PR_F_EXEMPT, PR_F_ARGV_TRUNCATED
 * (argv is cut: fewer than argc arguments or bytes), PR_F_IMAGE_TRUNCATED. */
struct pr_rec_exec_decision { /* kind 10 */
  struct pr_rec_header h;
  uint32_t rule;      /* index in the rule set */
  uint32_t action;    /* enum pr_rule_action: what was done */
  uint32_t ppid;      /* the caller's parent */
  uint32_t uid;       /* the caller's real and effective uid */
  uint32_t euid;
  uint32_t argc;      /* arguments execve was given (argv may hold fewer) */
  uint64_t dev;       /* the file to be executed, as stat(2) st_dev */
  uint64_t ino;
  uint64_t cgroup_id; /* the caller's cgroup v2 id */
  struct pr_str image;  /* the kernel's path of the file (not the name the caller passed) */
  struct pr_str argv;   /* the new arguments, NUL-separated; absent when unreadable */
  struct pr_str parent; /* the parent process's executable path */
  struct pr_str cgroup; /* the caller's cgroup v2 path */
};

/* kind 11 (ABI 4): written by the library's hash worker after the exec or
 * snapshot record it belongs to (never by the capture path). Header pid/tid
 * are those of that record; mono_ns/utc_ns when the hash was finished. The
 * exec is found by (pid, start_ns, exec_ns). dev..ctime_ns describe the file
 * as it was found when hashing (0 when not opened). */
struct pr_rec_hash {
  struct pr_rec_header h;
  uint64_t start_ns;   /* the process's start (its identity), as in the exec record */
  uint64_t exec_ns;    /* mono_ns of the exec (or snapshot) record hashed for */
  uint32_t status;     /* enum pr_hash_status */
  uint32_t hash_flags; /* PR_H_* */
  uint32_t err;        /* PR_HASH_ERROR: the errno; PR_HASH_CHANGED / GONE: which check (see SCHEMA.md) */
  uint32_t reserved;
  uint64_t dev;        /* stat(2) of the file hashed */
  uint64_t ino;
  uint64_t size;
  int64_t mtime_ns;    /* ns since 1970 */
  int64_t ctime_ns;
  uint8_t sha256[32];  /* PR_HASH_OK only; else zeros */
};

/* ---- options, stats, controls ---- */
enum pr_source {
  PR_SOURCE_AUTO = 0,    /* Linux: eBPF where possible, else netlink */
  PR_SOURCE_NETLINK = 1, /* Linux proc connector */
  PR_SOURCE_EBPF = 2,    /* Linux eBPF tracepoints */
  PR_SOURCE_WINDOWS = 3, /* procrec.sys */
};

#define PR_OPT_NO_SNAPSHOT 0x1u /* do not emit snapshot records at start */
#define PR_OPT_NO_ENRICH 0x2u   /* do not read /proc for exec events */
#define PR_OPT_IMAGE_LOAD 0x4u  /* Windows: image-load notifications */
#define PR_OPT_EXEC_RULES 0x8u  /* ABI 3, Linux: enforce exec rules (fanotify permission events,
                                   any source); open fails with PR_E_NOSUP or PR_E_PERM when
                                   the kernel or the privileges do not allow it */
#define PR_OPT_NO_HASH 0x10u    /* ABI 4: do not hash exec'd images (no PR_REC_HASH records) */

struct procrec_options {
  uint32_t size;           /* sizeof(struct procrec_options) */
  uint32_t source;         /* enum pr_source */
  uint32_t flags;          /* PR_OPT_* */
  uint32_t ring_bytes;     /* library ring; 0: 64 MiB */
  uint32_t rcvbuf_bytes;   /* netlink SO_RCVBUFFORCE; 0: 32 MiB */
  uint32_t bpf_ring_bytes; /* BPF ring buffer; 0: the source's default */
  uint32_t max_string;     /* per-string byte limit; 0: 4096 */
  uint32_t reserved[9];
};

struct procrec_stats {
  uint64_t records;      /* records handed to procrec_read */
  uint64_t bytes;        /* bytes handed to procrec_read */
  uint64_t lost_total;   /* events known lost, all reasons */
  uint64_t lost_enobufs; /* number of ENOBUFS occurrences */
  uint64_t lost_seq_gap; /* events lost per sequence gaps */
  uint64_t lost_ring;    /* events dropped because the ring was full */
  uint64_t lost_bpf;     /* BPF reserve failures */
  uint64_t lost_driver;  /* Windows driver queue drops */
  uint64_t ring_used;    /* bytes in the library ring now */
  uint64_t ring_size;
  uint64_t enrich_ok;    /* /proc reads that succeeded */
  uint64_t enrich_gone;  /* /proc reads too late */
  uint64_t kernel_msgs;  /* messages received from the kernel */
  /* ---- ABI 4: the image hash worker ---- */
  uint64_t hash_read;    /* files read and hashed */
  uint64_t hash_cached;  /* hashes taken from the cache (file not read) */
  uint64_t hash_bytes;   /* bytes read for hashing */
  uint64_t hash_skipped; /* hash jobs not attempted: the queue was full */
  /* ---- ABI 5: file: rules matching copies ---- */
  uint64_t exec_hashed;      /* files the exec rules hashed (their size was a rule file's) */
  uint64_t exec_hash_cached; /* ... whose hash came from the enforcer's cache */
  uint64_t reserved[1];
};

enum pr_control {
  PR_CTL_PAUSE_READER = 1,  /* test: stop draining the kernel source */
  PR_CTL_RESUME_READER = 2, /* test: resume draining */
  PR_CTL_INJECT = 3,        /* Windows test build: inject synthetic notifications */
  PR_CTL_BLOCK_RULES = 4,   /* Windows: arg = image path patterns ('*', '?'), UTF-8,
                               NUL-separated; creations they match are denied and
                               recorded with PR_F_DENIED; len 0 clears */
  PR_CTL_EXEC_RULES = 5,    /* ABI 3, Linux, opened with PR_OPT_EXEC_RULES, before start:
                               arg = struct pr_rule_set and its rules; enforced from start
                               until stop, close or the end of the process */
  PR_CTL_PAUSE_HASHER = 6,  /* test (ABI 4): the hash worker waits; jobs queue */
  PR_CTL_RESUME_HASHER = 7, /* test: the hash worker goes on */
  PR_CTL_HASH_CACHE_LOAD = 8, /* Linux, before procrec_start: arg = the path of an image hash cache
                                 file (UTF-8, no NUL); its entries fill the hash worker's cache
                                 (hashes from it are PR_H_CACHED). Returns the entries loaded
                                 (0 when the file does not exist), or PR_E_PERM (owner, mode,
                                 link, directory), PR_E_INVAL (malformed, another boot), PR_E_IO
                                 with procrec_last_error naming the file and why: the file is
                                 then ignored (driver/linux/hash_cache_file.h) */
  PR_CTL_HASH_CACHE_SAVE = 9, /* Linux, once started (running or after procrec_stop; libraries
                                 before 2026-12-03 answer PR_E_STATE while running): arg = that
                                 path; the worker's cache
                                 is written there atomically (temp + rename), 0600. Returns the
                                 entries written (0, nothing written, when the load refused the
                                 file's directory), or PR_E_* with procrec_last_error */
};

/* ---- status codes (negative) ---- */
#define PR_OK 0
#define PR_E_INVAL (-1)   /* bad argument */
#define PR_E_PERM (-2)    /* missing privilege */
#define PR_E_NOSUP (-3)   /* kernel or OS lacks the mechanism */
#define PR_E_NOMEM (-4)   /* out of memory */
#define PR_E_IO (-5)      /* an OS call failed */
#define PR_E_STATE (-6)   /* call not valid in this state */
#define PR_E_ABI (-7)     /* version or size mismatch */

/* ---- the layout, checked at compile time ----
 * Every record, options and stats struct: its size and each field's offset.
 * A change here must change these lines, driver/common/abi_layout.c (which
 * prints the layout) and cli/native/abi_layout.ts (the TypeScript table):
 * tests/abi_layout_test.ts fails until all three agree. */
#ifdef __cplusplus
#define PR_ABI_ASSERT(c, m) static_assert(c, m)
#else
#define PR_ABI_ASSERT(c, m) _Static_assert(c, m)
#endif
#define PR_ABI_AT(t, f, o) PR_ABI_ASSERT(offsetof(struct t, f) == (o), "procrec ABI: " #t "." #f " at " #o)
#define PR_ABI_SIZE(t, n) PR_ABI_ASSERT(sizeof(struct t) == (n), "procrec ABI: sizeof " #t " is " #n)

PR_ABI_SIZE(pr_str, 8);
PR_ABI_AT(pr_str, off, 0);
PR_ABI_AT(pr_str, len, 4);

PR_ABI_SIZE(pr_rec_header, 40);
PR_ABI_AT(pr_rec_header, kind, 0);
PR_ABI_AT(pr_rec_header, flags, 2);
PR_ABI_AT(pr_rec_header, size, 4);
PR_ABI_AT(pr_rec_header, seq, 8);
PR_ABI_AT(pr_rec_header, mono_ns, 16);
PR_ABI_AT(pr_rec_header, utc_ns, 24);
PR_ABI_AT(pr_rec_header, pid, 32);
PR_ABI_AT(pr_rec_header, tid, 36);

PR_ABI_SIZE(pr_proc_info, 144);
PR_ABI_AT(pr_proc_info, uid, 0);
PR_ABI_AT(pr_proc_info, gid, 4);
PR_ABI_AT(pr_proc_info, prov_image, 8);
PR_ABI_AT(pr_proc_info, prov_argv, 9);
PR_ABI_AT(pr_proc_info, prov_comm, 10);
PR_ABI_AT(pr_proc_info, prov_cwd, 11);
PR_ABI_AT(pr_proc_info, prov_cred, 12);
PR_ABI_AT(pr_proc_info, prov_file, 13);
PR_ABI_AT(pr_proc_info, prov_ns, 14);
PR_ABI_AT(pr_proc_info, prov_cgroup, 15);
PR_ABI_AT(pr_proc_info, argv_full_len, 16);
PR_ABI_AT(pr_proc_info, argc, 20);
PR_ABI_AT(pr_proc_info, image, 24);
PR_ABI_AT(pr_proc_info, argv, 32);
PR_ABI_AT(pr_proc_info, comm, 40);
PR_ABI_AT(pr_proc_info, cwd, 48);
PR_ABI_AT(pr_proc_info, euid, 56);
PR_ABI_AT(pr_proc_info, egid, 60);
PR_ABI_AT(pr_proc_info, loginuid, 64);
PR_ABI_AT(pr_proc_info, sessionid, 68);
PR_ABI_AT(pr_proc_info, image_flags, 72);
PR_ABI_AT(pr_proc_info, integrity, 76);
PR_ABI_AT(pr_proc_info, dev, 80);
PR_ABI_AT(pr_proc_info, ino, 88);
PR_ABI_AT(pr_proc_info, cgroup_id, 96);
PR_ABI_AT(pr_proc_info, ns_pid, 104);
PR_ABI_AT(pr_proc_info, ns_mnt, 108);
PR_ABI_AT(pr_proc_info, ns_net, 112);
PR_ABI_AT(pr_proc_info, ns_user, 116);
PR_ABI_AT(pr_proc_info, ns_cgroup, 120);
PR_ABI_AT(pr_proc_info, reserved2, 124);
PR_ABI_AT(pr_proc_info, cgroup, 128);
PR_ABI_AT(pr_proc_info, user, 136);

PR_ABI_SIZE(pr_rec_process_create, 216);
PR_ABI_AT(pr_rec_process_create, h, 0);
PR_ABI_AT(pr_rec_process_create, parent_pid, 40);
PR_ABI_AT(pr_rec_process_create, parent_tid, 44);
PR_ABI_AT(pr_rec_process_create, creator_pid, 48);
PR_ABI_AT(pr_rec_process_create, creator_tid, 52);
PR_ABI_AT(pr_rec_process_create, start_ns, 56);
PR_ABI_AT(pr_rec_process_create, status, 64);
PR_ABI_AT(pr_rec_process_create, reserved, 68);
PR_ABI_AT(pr_rec_process_create, info, 72);

PR_ABI_SIZE(pr_rec_exec, 192);
PR_ABI_AT(pr_rec_exec, h, 0);
PR_ABI_AT(pr_rec_exec, start_ns, 40);
PR_ABI_AT(pr_rec_exec, info, 48);

PR_ABI_SIZE(pr_rec_process_exit, 56);
PR_ABI_AT(pr_rec_process_exit, status, 40);
PR_ABI_AT(pr_rec_process_exit, reserved, 44);
PR_ABI_AT(pr_rec_process_exit, start_ns, 48);

PR_ABI_SIZE(pr_rec_thread_create, 56);
PR_ABI_AT(pr_rec_thread_create, creator_pid, 40);
PR_ABI_AT(pr_rec_thread_create, creator_tid, 44);
PR_ABI_AT(pr_rec_thread_create, start_ns, 48);

PR_ABI_SIZE(pr_rec_thread_exit, 48);
PR_ABI_AT(pr_rec_thread_exit, status, 40);
PR_ABI_AT(pr_rec_thread_exit, reserved, 44);

PR_ABI_SIZE(pr_rec_comm, 48);
PR_ABI_AT(pr_rec_comm, comm, 40);

PR_ABI_SIZE(pr_rec_lost, 56);
PR_ABI_AT(pr_rec_lost, reason, 40);
PR_ABI_AT(pr_rec_lost, cpu, 44);
PR_ABI_AT(pr_rec_lost, count, 48);

PR_ABI_SIZE(pr_rec_snapshot, 200);
PR_ABI_AT(pr_rec_snapshot, parent_pid, 40);
PR_ABI_AT(pr_rec_snapshot, reserved, 44);
PR_ABI_AT(pr_rec_snapshot, start_ns, 48);
PR_ABI_AT(pr_rec_snapshot, info, 56);

PR_ABI_SIZE(pr_rec_image_load, 64);
PR_ABI_AT(pr_rec_image_load, base, 40);
PR_ABI_AT(pr_rec_image_load, size, 48);
PR_ABI_AT(pr_rec_image_load, image, 56);

PR_ABI_SIZE(pr_rule, 1048);
PR_ABI_AT(pr_rule, action, 0);
PR_ABI_AT(pr_rule, match, 4);
PR_ABI_AT(pr_rule, uid, 8);
PR_ABI_AT(pr_rule, path_len, 12);
PR_ABI_AT(pr_rule, parent_len, 14);
PR_ABI_AT(pr_rule, cgroup_len, 16);
PR_ABI_AT(pr_rule, argv_len, 18);
PR_ABI_AT(pr_rule, reserved, 20);
PR_ABI_AT(pr_rule, path, 24);
PR_ABI_AT(pr_rule, parent, 280);
PR_ABI_AT(pr_rule, cgroup, 536);
PR_ABI_AT(pr_rule, argv, 792);

PR_ABI_SIZE(pr_rule_file, 64);
PR_ABI_AT(pr_rule_file, dev, 0);
PR_ABI_AT(pr_rule_file, ino, 8);
PR_ABI_AT(pr_rule_file, rule, 16);
PR_ABI_AT(pr_rule_file, flags, 20);
PR_ABI_AT(pr_rule_file, size, 24);
PR_ABI_AT(pr_rule_file, sha256, 32);

PR_ABI_SIZE(pr_rule_set, 16);
PR_ABI_AT(pr_rule_set, size, 0);
PR_ABI_AT(pr_rule_set, rules, 4);
PR_ABI_AT(pr_rule_set, files, 8);
PR_ABI_AT(pr_rule_set, exempt_pid, 12);

PR_ABI_SIZE(pr_rec_exec_decision, 120);
PR_ABI_AT(pr_rec_exec_decision, h, 0);
PR_ABI_AT(pr_rec_exec_decision, rule, 40);
PR_ABI_AT(pr_rec_exec_decision, action, 44);
PR_ABI_AT(pr_rec_exec_decision, ppid, 48);
PR_ABI_AT(pr_rec_exec_decision, uid, 52);
PR_ABI_AT(pr_rec_exec_decision, euid, 56);
PR_ABI_AT(pr_rec_exec_decision, argc, 60);
PR_ABI_AT(pr_rec_exec_decision, dev, 64);
PR_ABI_AT(pr_rec_exec_decision, ino, 72);
PR_ABI_AT(pr_rec_exec_decision, cgroup_id, 80);
PR_ABI_AT(pr_rec_exec_decision, image, 88);
PR_ABI_AT(pr_rec_exec_decision, argv, 96);
PR_ABI_AT(pr_rec_exec_decision, parent, 104);
PR_ABI_AT(pr_rec_exec_decision, cgroup, 112);
PR_ABI_SIZE(pr_rec_hash, 144);
PR_ABI_AT(pr_rec_hash, start_ns, 40);
PR_ABI_AT(pr_rec_hash, exec_ns, 48);
PR_ABI_AT(pr_rec_hash, status, 56);
PR_ABI_AT(pr_rec_hash, hash_flags, 60);
PR_ABI_AT(pr_rec_hash, err, 64);
PR_ABI_AT(pr_rec_hash, reserved, 68);
PR_ABI_AT(pr_rec_hash, dev, 72);
PR_ABI_AT(pr_rec_hash, ino, 80);
PR_ABI_AT(pr_rec_hash, size, 88);
PR_ABI_AT(pr_rec_hash, mtime_ns, 96);
PR_ABI_AT(pr_rec_hash, ctime_ns, 104);
PR_ABI_AT(pr_rec_hash, sha256, 112);

PR_ABI_SIZE(procrec_options, 64);
PR_ABI_AT(procrec_options, size, 0);
PR_ABI_AT(procrec_options, source, 4);
PR_ABI_AT(procrec_options, flags, 8);
PR_ABI_AT(procrec_options, ring_bytes, 12);
PR_ABI_AT(procrec_options, rcvbuf_bytes, 16);
PR_ABI_AT(procrec_options, bpf_ring_bytes, 20);
PR_ABI_AT(procrec_options, max_string, 24);
PR_ABI_AT(procrec_options, reserved, 28);

PR_ABI_SIZE(procrec_stats, 160);
PR_ABI_AT(procrec_stats, records, 0);
PR_ABI_AT(procrec_stats, bytes, 8);
PR_ABI_AT(procrec_stats, lost_total, 16);
PR_ABI_AT(procrec_stats, lost_enobufs, 24);
PR_ABI_AT(procrec_stats, lost_seq_gap, 32);
PR_ABI_AT(procrec_stats, lost_ring, 40);
PR_ABI_AT(procrec_stats, lost_bpf, 48);
PR_ABI_AT(procrec_stats, lost_driver, 56);
PR_ABI_AT(procrec_stats, ring_used, 64);
PR_ABI_AT(procrec_stats, ring_size, 72);
PR_ABI_AT(procrec_stats, enrich_ok, 80);
PR_ABI_AT(procrec_stats, enrich_gone, 88);
PR_ABI_AT(procrec_stats, kernel_msgs, 96);
PR_ABI_AT(procrec_stats, hash_read, 104);
PR_ABI_AT(procrec_stats, hash_cached, 112);
PR_ABI_AT(procrec_stats, hash_bytes, 120);
PR_ABI_AT(procrec_stats, hash_skipped, 128);
PR_ABI_AT(procrec_stats, exec_hashed, 136);
PR_ABI_AT(procrec_stats, exec_hash_cached, 144);
PR_ABI_AT(procrec_stats, reserved, 152);

/* ---- functions ----
 * The contract every source keeps (driver/tests/conformance.c checks it
 * against libprocrec.so and, under Wine, procrec.dll):
 *   - a NULL handle (or a NULL required pointer): PR_E_INVAL;
 *   - procrec_open checks opts: size below offsetof(reserved) or above 4096:
 *     PR_E_ABI; an unknown source, a max_string above the source's limit or a
 *     ring_bytes below its minimum: PR_E_INVAL (never silently clamped); a
 *     source of another OS: PR_E_NOSUP;
 *   - states: open -> started -> stopped. procrec_start only from open (else
 *     PR_E_STATE, "already started" / "already stopped"); procrec_stop from
 *     any state, PR_OK also when repeated or before start;
 *   - after stop, procrec_read hands out what was recorded, then returns 0 at
 *     once (it does not wait for timeout_ms);
 *   - procrec_control: an operation the source does not support: PR_E_NOSUP
 *     with the handle's error text naming it. */
PROCREC_API uint32_t procrec_abi_version(void);
/* Opens a source. On failure *out is NULL and procrec_last_error(NULL, ...)
 * describes the failure (per calling thread). */
PROCREC_API int32_t procrec_open(const struct procrec_options *opts, void **out);
PROCREC_API int32_t procrec_start(void *h);
/* Copies whole records into buf. Returns bytes (> 0), 0 on timeout, < 0 on
 * error. Blocks up to timeout_ms. Never splits a record. */
PROCREC_API int32_t procrec_read(void *h, uint8_t *buf, uint32_t cap, uint32_t timeout_ms);
PROCREC_API int32_t procrec_stats(void *h, struct procrec_stats *out);
PROCREC_API int32_t procrec_stop(void *h);
PROCREC_API void procrec_close(void *h);
/* Copies the last error message (h NULL: the calling thread's last failed
 * procrec_open) into buf, NUL-terminated, cut to cap (nothing when buf is
 * NULL or cap 0). Returns the length of the whole message (as snprintf: a
 * return >= cap means it was cut). */
PROCREC_API int32_t procrec_last_error(void *h, char *buf, uint32_t cap);
/* Writes "SOURCE: reason" (e.g. "netlink: eBPF unavailable: ...") as
 * procrec_last_error writes its text. Returns the enum pr_source in use. */
PROCREC_API int32_t procrec_source(void *h, char *buf, uint32_t cap);
PROCREC_API int32_t procrec_control(void *h, uint32_t op, const uint8_t *arg, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif /* PROCREC_ABI_H */
