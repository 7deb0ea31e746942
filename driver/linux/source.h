/*
 * source.h - the interface between libprocrec.so (lib.c) and its event
 * sources (netlink.c: the proc connector; source_ebpf.c: eBPF).
 *
 * lib.c owns the handle (struct pr_lib: options, the record ring and its
 * mutex, stats, clock offsets, errors) and implements procrec_abi.h. A source
 * turns kernel events into records and hands them to pr_lib_emit(); it never
 * touches the ring directly.
 *
 * Life cycle, all called from the API thread, never concurrently:
 *   open(lib, why, n)  check privilege and kernel support, allocate state
 *                      (pr_lib_set_state). On failure: return PR_E_PERM /
 *                      PR_E_NOSUP / PR_E_IO..., write a one-line reason into
 *                      why (NUL-terminated, n bytes): it becomes
 *                      procrec_last_error() and, on fallback, part of
 *                      procrec_source() ("netlink: eBPF unavailable: <why>").
 *                      open must undo everything it did when it fails.
 *                      On success it may write into why what it found (the
 *                      eBPF source: "kernel BTF present at ..., BPF programs
 *                      loaded"): PR_SOURCE_AUTO gives it as the reason
 *                      ("ebpf: chosen automatically: <why>").
 *   start(lib)         subscribe to the kernel FIRST (events start queueing
 *                      in the kernel), then call pr_lib_snapshot(lib) (it
 *                      emits one PR_REC_SNAPSHOT per running process unless
 *                      PR_OPT_NO_SNAPSHOT), THEN start the thread(s) that
 *                      drain the kernel and emit. So no process falls between
 *                      snapshot and live stream and every snapshot record
 *                      precedes every live record. Returns PR_OK or PR_E_*
 *                      (with pr_lib_set_error).
 *   control(lib, op)   PR_CTL_PAUSE_READER: stop draining the kernel until
 *                      PR_CTL_RESUME_READER (tests provoke losses with it).
 *                      Unknown ops: PR_E_NOSUP.
 *   stop(lib)          stop and join the threads; emits nothing more. Records
 *                      already emitted stay readable. Idempotent.
 *   close(lib)         free the state (after stop). Called once.
 *
 * Records: built with driver/common/pr_record.h; header.seq is assigned by
 * the ring (leave 0); header.utc_ns = pr_lib_utc_ns(lib, mono_ns).
 */
#ifndef PR_LINUX_SOURCE_H
#define PR_LINUX_SOURCE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../include/procrec_abi.h"

struct pr_lib; /* lib.c */

struct pr_source_ops {
  const char *name; /* "netlink", "ebpf": the prefix of procrec_source() */
  uint32_t id;      /* enum pr_source */
  int (*open)(struct pr_lib *lib, char *why, size_t n);
  int (*start)(struct pr_lib *lib);
  int (*stop)(struct pr_lib *lib);
  void (*close)(struct pr_lib *lib);
  int (*control)(struct pr_lib *lib, uint32_t op);
};

/* netlink.c */
extern const struct pr_source_ops pr_source_netlink;
/* source_ebpf.c (or source_ebpf_unavailable.c when eBPF cannot be built:
 * its open returns PR_E_NOSUP with the reason). */
extern const struct pr_source_ops pr_source_ebpf;

/* ---- what lib.c offers a source (thread-safe unless noted) ---- */

/* The sizes procrec_open accepts (it refuses others with PR_E_INVAL and a
 * text that states the range; it never clamps them):
 *  - rcvbuf_bytes: SO_RCVBUFFORCE's own range; the kernel doubles the value
 *    for its bookkeeping, raises one below about 2.3 KiB to its minimum
 *    and lowers one above INT_MAX / 2 to that, silently;
 *  - bpf_ring_bytes (0: the eBPF source's default): a BPF ring is a power
 *    of two of at least a page, and libbpf maps it twice. */
#define PR_RCVBUF_MIN 4096u
#define PR_RCVBUF_MAX 0x3fffffffu /* INT_MAX / 2 */
#define PR_BPF_RING_MAX (1u << 30)
/* The least: a ring must hold the largest exec record (168 bytes and the
 * caps of image, argv, cwd and cgroup: about 26 KiB; a smaller one lost
 * every such exec), and a page at least. */
#define PR_BPF_RING_MIN (32u << 10)

/* Options with defaults filled in: ring_bytes, rcvbuf_bytes, max_string are
 * never 0; bpf_ring_bytes stays 0 when the caller left the choice to the
 * source. */
const struct procrec_options *pr_lib_options(const struct pr_lib *lib);

/* The source's private state (not thread-safe: set in open, clear in close). */
void *pr_lib_state(const struct pr_lib *lib);
void pr_lib_set_state(struct pr_lib *lib, void *state);

/* Pushes one whole record (size = header.size, a multiple of 8) into the
 * ring under the lock and wakes the reader. Returns PR_OK when stored, 1 when
 * the ring was full (the record is dropped and counted; a PR_LOST_RING_FULL
 * record appears at the next stored record), PR_E_INVAL for a malformed or
 * oversized record (counted as lost with PR_LOST_DECODE). */
int pr_lib_emit(struct pr_lib *lib, const void *rec, uint32_t size);

/* pr_lib_emit for an exec record with the image's file key (procfs.h: the
 * size and times of the file exec'd, with the record's device and inode, as
 * the source saw them while the process ran it): the hash worker's cache is
 * looked up with it at once, so a cached image costs no file access and no
 * wake-up of the worker (hasher.h). key NULL: as pr_lib_emit. */
struct pr_file_key;
int pr_lib_emit_keyed(struct pr_lib *lib, const void *rec, uint32_t size, const struct pr_file_key *key);

/* Emits a PR_REC_LOST record (header pid/tid 0, times from mono_ns) and adds
 * count to the stats of that reason (PR_LOST_ENOBUFS: counts occurrences,
 * pass count 0 and PR_F_COUNT_UNKNOWN). cpu: UINT32_MAX when not per-CPU.
 * When it cannot go in now (the ring is full, or earlier losses are still
 * pending), the ring keeps it pending under its own reason, in order with the
 * ring's own drops, and writes it before the next stored record or when the
 * reader makes room (driver/common/pr_ring.h): its count is never folded into
 * ring_full, and no later loss goes in front of it. Returns PR_OK when stored
 * now, 1 when pending. */
int pr_lib_emit_lost(struct pr_lib *lib, uint32_t reason, uint32_t cpu, uint64_t count, uint16_t flags,
                     uint64_t mono_ns);

/* Counters of struct procrec_stats a source maintains. */
enum pr_counter {
  PR_CNT_KERNEL_MSGS = 1, /* messages received from the kernel */
  PR_CNT_ENRICH_OK = 2,   /* /proc reads that succeeded */
  PR_CNT_ENRICH_GONE = 3, /* /proc reads too late */
  PR_CNT_HASH_READ = 4,   /* hasher.c: files read and hashed */
  PR_CNT_HASH_CACHED = 5, /* hasher.c: hashes from the cache */
  PR_CNT_HASH_BYTES = 6,  /* hasher.c: bytes read */
  PR_CNT_HASH_SKIPPED = 7, /* hasher.c: jobs not attempted (queue full) */
  PR_CNT_EXEC_HASHED = 8,  /* exec_rules.c: files hashed for file: rules (their size was a rule file's) */
  PR_CNT_EXEC_HASH_CACHED = 9, /* exec_rules.c: ... hashes from its cache */
};
void pr_lib_count(struct pr_lib *lib, enum pr_counter which, uint64_t n);

/* UTC ns for a CLOCK_MONOTONIC ns value: mono + (REALTIME - MONOTONIC)
 * measured at open. */
uint64_t pr_lib_utc_ns(const struct pr_lib *lib, uint64_t mono_ns);

/* CLOCK_BOOTTIME - CLOCK_MONOTONIC at open, ns, of the host (to put
 * /proc/<pid>/stat starttime, which counts boot time, on the monotonic
 * clock; in a time namespace both are the host's, as the kernel's event
 * times are, from /proc/self/timens_offsets). */
int64_t pr_lib_boot_minus_mono(const struct pr_lib *lib);

/* The host's CLOCK_MONOTONIC now, ns: the kernel's event clock (in a time
 * namespace, this process's CLOCK_MONOTONIC less the namespace's offset). */
uint64_t pr_lib_mono_now(void);

/* Emits the snapshot of running processes (unless PR_OPT_NO_SNAPSHOT).
 * Call from start, after subscribing and before draining. Returns PR_OK or
 * PR_E_IO (with an error set). */
int pr_lib_snapshot(struct pr_lib *lib);

/* The processes pr_lib_snapshot emitted: pid, when /proc was read for it
 * (monotonic ns) and the start_ns of its snapshot record. Valid after
 * pr_lib_snapshot, until close; read it from the source's threads after
 * start (no locking: the snapshot runs before they start). A live create
 * of such a pid with a timestamp up to read_ns is the same process (it was
 * created between the subscription and the snapshot): not a new one. */
struct pr_snapshot_entry {
  uint32_t pid;
  uint32_t reserved;
  uint64_t read_ns;
  uint64_t start_ns;
};
const struct pr_snapshot_entry *pr_lib_snapshot_entries(const struct pr_lib *lib, size_t *n);

/* Starts a source thread with every signal blocked (start_thread.c): the
 * host's signal handlers run on its own threads. Returns pthread_create's
 * status. */
int pr_start_thread(pthread_t *t, void *(*fn)(void *), void *arg);

/* Sets the handle's last error (printf format). */
void pr_lib_set_error(struct pr_lib *lib, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* PR_LINUX_SOURCE_H */
