/*
 * lib.c - libprocrec.so: every function of procrec_abi.h over a struct
 * pr_lib, and the services source.h offers the event sources.
 *
 * Threads: the API caller (open/start/stop/close/stats/control), one reader
 * blocked in procrec_read (a Deno FFI nonblocking call), the source's own
 * threads that call pr_lib_emit, and the image hash worker (hasher.c), fed
 * by pr_lib_emit with every exec and snapshot record stored, which emits
 * PR_REC_HASH records (unless PR_OPT_NO_HASH). The ring, the stats and the state flags are
 * guarded by lib->mu; procrec_read sleeps on lib->cv, which pr_lib_emit
 * signals.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/pr_ring.h"
#include "exec_rules.h"
#include "hash_cache_file.h"
#include "hasher.h"
#include "source.h"

#define PR_DEFAULT_RING (64u << 20)
#define PR_DEFAULT_RCVBUF (32u << 20)
#define PR_DEFAULT_MAX_STRING 4096u
#define PR_MAX_MAX_STRING (1u << 20)
#define PR_MIN_RING (1u << 16)
/* Wake-ups of a reader blocked in procrec_read are batched: a record wakes
 * it only once PR_WAKE_BYTES are waiting (or half its buffer, or a quarter
 * of the ring), otherwise it looks every PR_WAKE_MS. A wake-up per record
 * cost the caller (Deno) a context switch and a call per record; each batch
 * still costs it a call, a chunk and a write: on the storm (60,000 threads,
 * 1,500 execs) 256 KiB and 50 ms took about half the CPU of Deno's threads
 * that 64 KiB and 10 ms took. Losses and stop wake it at once. */
#define PR_WAKE_BYTES (256u << 10)
#define PR_WAKE_MS 50u

enum pr_lib_state { LIB_OPEN = 0, LIB_STARTED = 1, LIB_STOPPED = 2 };

struct pr_lib {
  struct procrec_options opts;
  const struct pr_source_ops *src;
  void *src_state;
  struct pr_hasher *hasher; /* NULL with PR_OPT_NO_HASH */
  char source_why[384];

  pthread_mutex_t mu; /* guards everything below */
  pthread_cond_t cv;  /* records arrived, or the state changed */
  struct pr_ring ring;
  void *ring_mem;
  struct procrec_stats stats;
  uint64_t ring_drops_seen; /* ring.dropped already added to stats */
  int state;
  uint32_t waiting;    /* readers blocked in procrec_read */
  uint32_t wake_bytes; /* ring bytes that wake them */
  char error[512];

  struct pr_snapshot_entry *snap; /* what pr_lib_snapshot emitted */
  size_t n_snap, cap_snap;

  int64_t utc_minus_mono;     /* CLOCK_REALTIME - the host's CLOCK_MONOTONIC at open, ns */
  int64_t boot_minus_mono;    /* CLOCK_BOOTTIME (this namespace's) - the host's CLOCK_MONOTONIC */

  struct pr_exec_rules *rules;  /* PR_CTL_EXEC_RULES, kept until close */
  struct pr_enforcer *enforcer; /* enforcing them, from start to stop */
  int hash_cache_dir_refused;   /* PR_CTL_HASH_CACHE_LOAD refused the file's directory */
};

static __thread char tls_error[512];

/* ---- clocks ----
 *
 * Every time in a record is the kernel's CLOCK_MONOTONIC as the initial
 * time namespace sees it: bpf_ktime_get_ns and the proc connector's
 * timestamps ignore time namespaces. Inside one (unshare --time, a container
 * restored with its clocks), clock_gettime adds the namespace's offsets, so
 * the library takes them off its own reads: pr_lib_mono_now is the host's
 * monotonic clock wherever the recorder runs. /proc/<pid>/stat's starttime
 * is shifted by the reader's boottime offset (the kernel adds it), so
 * boot_minus_mono is this namespace's CLOCK_BOOTTIME minus the host's
 * CLOCK_MONOTONIC, which puts a starttime back on the host's clock. */

#define PR_TIMENS_FILE "/proc/self/timens_offsets"

/* The offsets of this process's time namespace, read once (at the first
 * procrec_open): a process changes time namespace only by exec, which ends
 * the library, or by setns while it has a single thread. */
static struct {
  int64_t mono_ns, boot_ns;
  int ok;        /* the offsets are known (zero without time namespaces) */
  char why[256]; /* why not, when !ok */
} g_timens;
static pthread_once_t g_timens_once = PTHREAD_ONCE_INIT;

/* Parses the text of /proc/<pid>/timens_offsets (time_namespaces(7)): a line
 * "<clock> <seconds> <nanoseconds>" for each of monotonic and boottime (the
 * clock by name, or by its number 1 or 7). Other clocks are passed over.
 * Returns 0, or -1 with why naming the line at fault. */
int pr_timens_parse(const char *text, int64_t *mono_ns, int64_t *boot_ns, char *why, size_t n) {
  int have_mono = 0, have_boot = 0, line = 0;
  const char *p = text;
  while (*p) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char buf[128], name[32], extra[2];
    long long sec, nsec;
    line++;
    if (len >= sizeof(buf)) {
      snprintf(why, n, "line %d is %zu bytes long, not \"<clock> <seconds> <nanoseconds>\"", line, len);
      return -1;
    }
    memcpy(buf, p, len);
    buf[len] = 0;
    p += len + (end ? 1 : 0);
    if (strspn(buf, " \t") == len) continue;
    if (sscanf(buf, "%31s %lld %lld %1s", name, &sec, &nsec, extra) != 3) {
      snprintf(why, n, "line %d \"%s\" is not \"<clock> <seconds> <nanoseconds>\"", line, buf);
      return -1;
    }
    if (nsec < 0 || nsec > 999999999ll || sec < -(INT64_MAX / 1000000000ll) || sec > INT64_MAX / 1000000000ll - 1) {
      snprintf(why, n, "line %d \"%s\": the offset is out of range (nanoseconds 0 to 999999999)", line, buf);
      return -1;
    }
    if (strcmp(name, "monotonic") == 0 || strcmp(name, "1") == 0) {
      *mono_ns = (int64_t)sec * 1000000000ll + (int64_t)nsec;
      have_mono = 1;
    } else if (strcmp(name, "boottime") == 0 || strcmp(name, "7") == 0) {
      *boot_ns = (int64_t)sec * 1000000000ll + (int64_t)nsec;
      have_boot = 1;
    }
  }
  if (!have_mono || !have_boot) {
    snprintf(why, n, "no %s line (expected one for monotonic and one for boottime)",
             have_mono ? "boottime" : "monotonic");
    return -1;
  }
  return 0;
}

static void timens_read(void) {
  char text[1024], own[64], kids[64], why[200];
  ssize_t a, b;
  size_t len = 0;
  int fd = open(PR_TIMENS_FILE, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    /* a kernel without time namespaces (before 5.6, or CONFIG_TIME_NS off):
     * every clock is the host's */
    if (errno == ENOENT) {
      g_timens.ok = 1;
      return;
    }
    snprintf(g_timens.why, sizeof(g_timens.why), "cannot open \"%s\": %s", PR_TIMENS_FILE, strerror(errno));
    return;
  }
  for (;;) {
    ssize_t r = read(fd, text + len, sizeof(text) - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      snprintf(g_timens.why, sizeof(g_timens.why), "cannot read \"%s\": %s", PR_TIMENS_FILE, strerror(errno));
      close(fd);
      return;
    }
    if (r == 0 || len + (size_t)r == sizeof(text) - 1) {
      len += (size_t)r;
      break;
    }
    len += (size_t)r;
  }
  close(fd);
  text[len] = 0;
  if (pr_timens_parse(text, &g_timens.mono_ns, &g_timens.boot_ns, why, sizeof(why)) != 0) {
    snprintf(g_timens.why, sizeof(g_timens.why), "\"%s\": %s", PR_TIMENS_FILE, why);
    return;
  }
  /* The file shows the offsets of the namespace this process's children
   * get; they are its own unless it unshared a time namespace and has not
   * exec'd since. */
  a = readlink("/proc/self/ns/time", own, sizeof(own) - 1);
  b = readlink("/proc/self/ns/time_for_children", kids, sizeof(kids) - 1);
  if (a > 0 && b > 0 && (a != b || memcmp(own, kids, (size_t)a) != 0)) {
    own[a] = kids[b] = 0;
    snprintf(g_timens.why, sizeof(g_timens.why),
             "this process is in time namespace %s but \"%s\" shows the offsets of %s, its children's", own,
             PR_TIMENS_FILE, kids);
    return;
  }
  g_timens.ok = 1;
}

/* The offsets of this process's time namespace; 0 when they are known. */
static int timens_offsets(int64_t *mono_ns, int64_t *boot_ns) {
  pthread_once(&g_timens_once, timens_read);
  *mono_ns = g_timens.mono_ns;
  *boot_ns = g_timens.boot_ns;
  return g_timens.ok ? 0 : -1;
}

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t pr_lib_mono_now(void) {
  int64_t mono, boot;
  timens_offsets(&mono, &boot); /* unknown offsets: procrec_open refused */
  return clock_ns(CLOCK_MONOTONIC) - (uint64_t)mono;
}

/* Offset of clock id (as this namespace reads it) from the host's
 * CLOCK_MONOTONIC: the reading with the narrowest bracket of several. */
static int64_t clock_offset(clockid_t id) {
  int64_t best = 0;
  uint64_t best_span = UINT64_MAX;
  int i;
  for (i = 0; i < 5; i++) {
    uint64_t a = pr_lib_mono_now(), o = clock_ns(id), b = pr_lib_mono_now();
    if (b - a < best_span) {
      best_span = b - a;
      best = (int64_t)(o - (a + (b - a) / 2));
    }
  }
  return best;
}

uint64_t pr_lib_utc_ns(const struct pr_lib *lib, uint64_t mono_ns) {
  return (uint64_t)((int64_t)mono_ns + lib->utc_minus_mono);
}

int64_t pr_lib_boot_minus_mono(const struct pr_lib *lib) { return lib->boot_minus_mono; }

/* ---- services for sources ---- */

const struct procrec_options *pr_lib_options(const struct pr_lib *lib) { return &lib->opts; }
void *pr_lib_state(const struct pr_lib *lib) { return lib->src_state; }
void pr_lib_set_state(struct pr_lib *lib, void *state) { lib->src_state = state; }

static void vset_error(char *dst, size_t n, const char *fmt, va_list ap) {
  vsnprintf(dst, n, fmt, ap);
}

void pr_lib_set_error(struct pr_lib *lib, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  vset_error(tmp, sizeof(tmp), fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&lib->mu);
  memcpy(lib->error, tmp, sizeof(tmp));
  pthread_mutex_unlock(&lib->mu);
}

static void set_tls_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_tls_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vset_error(tls_error, sizeof(tls_error), fmt, ap);
  va_end(ap);
}

/* Adds ring drops not yet in the stats. Under lib->mu. */
static void sync_ring_drops(struct pr_lib *lib) {
  uint64_t d = lib->ring.dropped - lib->ring_drops_seen;
  lib->ring_drops_seen = lib->ring.dropped;
  lib->stats.lost_ring += d;
  lib->stats.lost_total += d;
}

int pr_lib_emit(struct pr_lib *lib, const void *rec, uint32_t size) { return pr_lib_emit_keyed(lib, rec, size, NULL); }

int pr_lib_emit_keyed(struct pr_lib *lib, const void *rec, uint32_t size, const struct pr_file_key *key) {
  int rc;
  pthread_mutex_lock(&lib->mu);
  rc = pr_ring_push(&lib->ring, rec, size);
  sync_ring_drops(lib);
  if (rc == PR_RING_OK && lib->waiting > 0 && pr_ring_used(&lib->ring) >= lib->wake_bytes)
    pthread_cond_broadcast(&lib->cv);
  pthread_mutex_unlock(&lib->mu);
  if (rc == PR_RING_OK && lib->hasher != NULL) pr_hasher_note(lib->hasher, rec, size, key);
  if (rc == PR_RING_E_INVAL) {
    /* A source bug or an oversized record: never silent. */
    pr_lib_emit_lost(lib, PR_LOST_DECODE, UINT32_MAX, 1, 0, pr_lib_mono_now());
    return PR_E_INVAL;
  }
  return rc == PR_RING_OK ? PR_OK : 1;
}

int pr_lib_emit_lost(struct pr_lib *lib, uint32_t reason, uint32_t cpu, uint64_t count, uint16_t flags,
                     uint64_t mono_ns) {
  int rc;
  pthread_mutex_lock(&lib->mu);
  switch (reason) {
  case PR_LOST_ENOBUFS: lib->stats.lost_enobufs++; break;
  case PR_LOST_SEQ_GAP: lib->stats.lost_seq_gap += count; break;
  case PR_LOST_RING_FULL: lib->stats.lost_ring += count; break;
  case PR_LOST_BPF_RESERVE: lib->stats.lost_bpf += count; break;
  case PR_LOST_DRIVER_QUEUE: lib->stats.lost_driver += count; break;
  default: break;
  }
  lib->stats.lost_total += count;
  /* Written now, or kept pending in the ring under its own reason and in
   * order with the ring's own drops (see pr_ring.h). */
  rc = pr_ring_lost(&lib->ring, reason, cpu, count, flags, mono_ns, pr_lib_utc_ns(lib, mono_ns));
  if (rc == PR_RING_E_INVAL) /* a reason the ring does not know: kept as a decode loss */
    rc = pr_ring_lost(&lib->ring, PR_LOST_DECODE, cpu, count, flags, mono_ns, pr_lib_utc_ns(lib, mono_ns));
  if (rc == PR_RING_OK) pthread_cond_broadcast(&lib->cv);
  pthread_mutex_unlock(&lib->mu);
  return rc == PR_RING_OK ? PR_OK : 1;
}

void pr_lib_count(struct pr_lib *lib, enum pr_counter which, uint64_t n) {
  pthread_mutex_lock(&lib->mu);
  switch (which) {
  case PR_CNT_KERNEL_MSGS: lib->stats.kernel_msgs += n; break;
  case PR_CNT_ENRICH_OK: lib->stats.enrich_ok += n; break;
  case PR_CNT_ENRICH_GONE: lib->stats.enrich_gone += n; break;
  case PR_CNT_HASH_READ: lib->stats.hash_read += n; break;
  case PR_CNT_HASH_CACHED: lib->stats.hash_cached += n; break;
  case PR_CNT_HASH_BYTES: lib->stats.hash_bytes += n; break;
  case PR_CNT_HASH_SKIPPED: lib->stats.hash_skipped += n; break;
  case PR_CNT_EXEC_HASHED: lib->stats.exec_hashed += n; break;
  case PR_CNT_EXEC_HASH_CACHED: lib->stats.exec_hash_cached += n; break;
  }
  pthread_mutex_unlock(&lib->mu);
}

/* The source of a handle whose source failed and was closed. */
static int none_open(struct pr_lib *lib, char *why, size_t n) {
  (void)lib;
  snprintf(why, n, "no source");
  return PR_E_STATE;
}
static int none_op(struct pr_lib *lib) {
  (void)lib;
  return PR_OK;
}
static int none_start(struct pr_lib *lib) {
  pr_lib_set_error(lib, "procrec_start: this handle has no working source; close it");
  return PR_E_STATE;
}
static void none_close(struct pr_lib *lib) { (void)lib; }
static int none_control(struct pr_lib *lib, uint32_t op) {
  (void)lib;
  (void)op;
  return PR_E_STATE;
}
static const struct pr_source_ops pr_source_none = {
    .name = "none",
    .id = PR_SOURCE_AUTO,
    .open = none_open,
    .start = none_start,
    .stop = none_op,
    .close = none_close,
    .control = none_control,
};

/* ---- the ABI ---- */

PROCREC_API uint32_t procrec_abi_version(void) { return PROCREC_ABI_VERSION; }

static int normalize_options(const struct procrec_options *in, struct procrec_options *out) {
  memset(out, 0, sizeof(*out));
  if (in != NULL) {
    if (in->size < offsetof(struct procrec_options, reserved) || in->size > 4096) {
      set_tls_error("procrec_open: options size %u is not the size of struct procrec_options (%u)", in->size,
                    (unsigned)sizeof(*in));
      return PR_E_ABI;
    }
    memcpy(out, in, in->size < sizeof(*out) ? in->size : sizeof(*out));
  }
  out->size = sizeof(*out);
  if (out->ring_bytes == 0) out->ring_bytes = PR_DEFAULT_RING;
  if (out->rcvbuf_bytes == 0) out->rcvbuf_bytes = PR_DEFAULT_RCVBUF;
  if (out->max_string == 0) out->max_string = PR_DEFAULT_MAX_STRING;
  if (out->max_string > PR_MAX_MAX_STRING) {
    set_tls_error("procrec_open: max_string %u is above the limit of %u bytes", out->max_string,
                  PR_MAX_MAX_STRING);
    return PR_E_INVAL;
  }
  /* The ring must hold a few of the largest records (4 strings). */
  if (out->ring_bytes < PR_MIN_RING || out->ring_bytes / 8 < 4 * out->max_string + 256) {
    set_tls_error("procrec_open: ring_bytes %u is too small (at least %u for max_string %u)", out->ring_bytes,
                  (unsigned)((4 * out->max_string + 256) * 8 > PR_MIN_RING ? (4 * out->max_string + 256) * 8
                                                                           : PR_MIN_RING),
                  out->max_string);
    return PR_E_INVAL;
  }
  if (out->rcvbuf_bytes < PR_RCVBUF_MIN || out->rcvbuf_bytes > PR_RCVBUF_MAX) {
    set_tls_error("procrec_open: rcvbuf_bytes %u is out of range: the proc connector's receive buffer takes %u to "
                  "%u bytes (4 KiB to 1 GiB - 1)",
                  out->rcvbuf_bytes, PR_RCVBUF_MIN, PR_RCVBUF_MAX);
    return PR_E_INVAL;
  }
  if (out->bpf_ring_bytes != 0) {
    uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE), r = out->bpf_ring_bytes;
    uint32_t least = page > PR_BPF_RING_MIN ? page : PR_BPF_RING_MIN, below = least;
    if (r < least || r > PR_BPF_RING_MAX) {
      set_tls_error("procrec_open: bpf_ring_bytes %u is out of range: the eBPF ring takes a power of two from %u to "
                    "%u bytes (%u KiB, to hold the largest exec record, to 1 GiB)",
                    r, least, PR_BPF_RING_MAX, least / 1024);
      return PR_E_INVAL;
    }
    if ((r & (r - 1)) != 0) {
      while (below * 2 < r) below *= 2;
      set_tls_error("procrec_open: bpf_ring_bytes %u is not a power of two: the eBPF ring takes a power of two from "
                    "%u to %u bytes (%u KiB, to hold the largest exec record, to 1 GiB), such as %u or %u",
                    r, least, PR_BPF_RING_MAX, least / 1024, below, below * 2);
      return PR_E_INVAL;
    }
  }
  if (out->source > PR_SOURCE_WINDOWS) {
    set_tls_error("procrec_open: unknown source %u", out->source);
    return PR_E_INVAL;
  }
  if (out->source == PR_SOURCE_WINDOWS) {
    set_tls_error("procrec_open: the Windows source does not exist on Linux");
    return PR_E_NOSUP;
  }
  return PR_OK;
}

const struct pr_snapshot_entry *pr_lib_snapshot_entries(const struct pr_lib *lib, size_t *n) {
  *n = lib->n_snap;
  return lib->snap;
}

/* snapshot.c: notes one snapshot record (API thread, during start). */
void pr_lib_note_snapshot(struct pr_lib *lib, uint32_t pid, uint64_t read_ns, uint64_t start_ns) {
  if (lib->n_snap == lib->cap_snap) {
    size_t c = lib->cap_snap ? lib->cap_snap * 2 : 1024;
    struct pr_snapshot_entry *n = realloc(lib->snap, c * sizeof(*n));
    if (n == NULL) return; /* then that process is not deduplicated */
    lib->snap = n;
    lib->cap_snap = c;
  }
  lib->snap[lib->n_snap].pid = pid;
  lib->snap[lib->n_snap].reserved = 0;
  lib->snap[lib->n_snap].read_ns = read_ns;
  lib->snap[lib->n_snap].start_ns = start_ns;
  lib->n_snap++;
}

static void lib_free(struct pr_lib *lib) {
  pr_enforcer_stop(lib->enforcer);
  if (lib->rules) pr_exec_rules_free(lib->rules);
  free(lib->rules);
  pr_hasher_destroy(lib->hasher);
  free(lib->snap);
  pthread_cond_destroy(&lib->cv);
  pthread_mutex_destroy(&lib->mu);
  free(lib->ring_mem);
  free(lib);
}

PROCREC_API int32_t procrec_open(const struct procrec_options *opts, void **out) {
  struct pr_lib *lib;
  pthread_condattr_t ca;
  char why_ebpf[256] = "", why_nl[256] = "";
  int rc;

  if (out == NULL) {
    set_tls_error("procrec_open: out is NULL");
    return PR_E_INVAL;
  }
  *out = NULL;
  {
    /* without the offsets every time the library reads would be off the
     * kernel's by an unknown amount: refuse rather than date events wrongly */
    int64_t mono, boot;
    if (timens_offsets(&mono, &boot) != 0) {
      set_tls_error("procrec_open: cannot put this process's clocks on the kernel's: %s", g_timens.why);
      return PR_E_NOSUP;
    }
  }
  lib = calloc(1, sizeof(*lib));
  if (lib == NULL) {
    set_tls_error("procrec_open: out of memory");
    return PR_E_NOMEM;
  }
  rc = normalize_options(opts, &lib->opts);
  if (rc != PR_OK) {
    free(lib);
    return rc;
  }
  lib->ring_mem = malloc(lib->opts.ring_bytes);
  if (lib->ring_mem == NULL) {
    set_tls_error("procrec_open: cannot allocate a ring of %u bytes", lib->opts.ring_bytes);
    free(lib);
    return PR_E_NOMEM;
  }
  pr_ring_init(&lib->ring, lib->ring_mem, lib->opts.ring_bytes, PR_LOST_RING_FULL);
  lib->stats.ring_size = lib->ring.cap;
  pthread_mutex_init(&lib->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&lib->cv, &ca);
  pthread_condattr_destroy(&ca);
  lib->utc_minus_mono = clock_offset(CLOCK_REALTIME);
  lib->boot_minus_mono = clock_offset(CLOCK_BOOTTIME);
  if (!(lib->opts.flags & PR_OPT_NO_HASH) && pr_hasher_create(lib, &lib->hasher) != PR_OK) {
    set_tls_error("procrec_open: cannot allocate the image hash worker");
    lib_free(lib);
    return PR_E_NOMEM;
  }

  if (lib->opts.flags & PR_OPT_EXEC_RULES) {
    char why[256] = "";
    rc = pr_enforcer_probe(why, sizeof(why));
    if (rc != PR_OK) {
      set_tls_error("procrec_open: %s", why);
      lib_free(lib);
      return rc;
    }
  }
  switch (lib->opts.source) {
  case PR_SOURCE_EBPF:
    rc = pr_source_ebpf.open(lib, why_ebpf, sizeof(why_ebpf));
    if (rc == PR_OK) {
      lib->src = &pr_source_ebpf;
      snprintf(lib->source_why, sizeof(lib->source_why), "ebpf: requested");
    } else {
      set_tls_error("%s", why_ebpf[0] ? why_ebpf : "cannot open the eBPF source");
    }
    break;
  case PR_SOURCE_NETLINK:
    rc = pr_source_netlink.open(lib, why_nl, sizeof(why_nl));
    if (rc == PR_OK) {
      lib->src = &pr_source_netlink;
      snprintf(lib->source_why, sizeof(lib->source_why), "netlink: requested");
    } else {
      set_tls_error("%s", why_nl[0] ? why_nl : "cannot open the proc connector");
    }
    break;
  default: /* PR_SOURCE_AUTO */
    rc = pr_source_ebpf.open(lib, why_ebpf, sizeof(why_ebpf));
    if (rc == PR_OK) {
      lib->src = &pr_source_ebpf;
      snprintf(lib->source_why, sizeof(lib->source_why), "ebpf: chosen automatically: %s (attached at start)",
               why_ebpf[0] ? why_ebpf : "the eBPF source opened");
      break;
    }
    rc = pr_source_netlink.open(lib, why_nl, sizeof(why_nl));
    if (rc == PR_OK) {
      lib->src = &pr_source_netlink;
      snprintf(lib->source_why, sizeof(lib->source_why), "netlink: eBPF unavailable: %s",
               why_ebpf[0] ? why_ebpf : "unknown reason");
    } else {
      set_tls_error("%s (eBPF unavailable too: %s)", why_nl[0] ? why_nl : "cannot open the proc connector",
                    why_ebpf[0] ? why_ebpf : "unknown reason");
    }
    break;
  }
  if (rc != PR_OK) {
    lib_free(lib);
    return rc;
  }
  *out = lib;
  return PR_OK;
}

/* PR_SOURCE_AUTO: the eBPF source opened but could not start (say, a
 * tracepoint would not attach): use the proc connector instead, as long as
 * nothing was handed to a reader yet (the ring starts over). */
static int fall_back(struct pr_lib *lib) {
  char ebpf_err[512], why[256] = "";
  int rc, handed;
  pthread_mutex_lock(&lib->mu);
  memcpy(ebpf_err, lib->error, sizeof(ebpf_err));
  handed = lib->stats.records > 0;
  pthread_mutex_unlock(&lib->mu);
  if (handed) return PR_E_STATE;
  lib->src->stop(lib);
  lib->src->close(lib);
  lib->src_state = NULL;
  rc = pr_source_netlink.open(lib, why, sizeof(why));
  if (rc != PR_OK) {
    lib->src = &pr_source_none; /* the eBPF source is closed */
    pr_lib_set_error(lib, "%s; the proc connector could not be opened either: %s", ebpf_err, why);
    return rc;
  }
  if (lib->hasher != NULL) pr_hasher_clear(lib->hasher); /* its jobs were for the records dropped here */
  pthread_mutex_lock(&lib->mu);
  pr_ring_init(&lib->ring, lib->ring_mem, lib->opts.ring_bytes, PR_LOST_RING_FULL);
  lib->n_snap = 0;
  memset(&lib->stats, 0, sizeof(lib->stats));
  lib->stats.ring_size = lib->ring.cap;
  lib->ring_drops_seen = 0;
  pthread_mutex_unlock(&lib->mu);
  lib->src = &pr_source_netlink;
  snprintf(lib->source_why, sizeof(lib->source_why), "netlink: eBPF failed to start: %.300s", ebpf_err);
  return lib->src->start(lib);
}

PROCREC_API int32_t procrec_start(void *h) {
  struct pr_lib *lib = h;
  int rc, state;
  if (lib == NULL) return PR_E_INVAL;
  pthread_mutex_lock(&lib->mu);
  state = lib->state;
  pthread_mutex_unlock(&lib->mu);
  if (state != LIB_OPEN) {
    pr_lib_set_error(lib, "procrec_start: already %s", state == LIB_STARTED ? "started" : "stopped");
    return PR_E_STATE;
  }
  if ((lib->opts.flags & PR_OPT_EXEC_RULES) && lib->rules == NULL) {
    pr_lib_set_error(lib, "procrec_start: opened with PR_OPT_EXEC_RULES but no rules were set (PR_CTL_EXEC_RULES)");
    return PR_E_STATE;
  }
  rc = lib->src->start(lib);
  if (rc != PR_OK && lib->opts.source == PR_SOURCE_AUTO && lib->src == &pr_source_ebpf) rc = fall_back(lib);
  if (rc == PR_OK && lib->opts.source == PR_SOURCE_AUTO && lib->src == &pr_source_ebpf) {
    /* started: the programs are attached now */
    char *at = strstr(lib->source_why, " (attached at start)");
    if (at != NULL) snprintf(at, sizeof(lib->source_why) - (size_t)(at - lib->source_why), " and attached");
  }
  /* The rules after the source: their decisions follow the snapshot. */
  if (rc == PR_OK && lib->rules != NULL) {
    rc = pr_enforcer_start(lib, lib->rules, &lib->enforcer);
    if (rc != PR_OK) lib->src->stop(lib);
  }
  /* The hash worker after the source: the snapshot's jobs wait in its
   * queue rather than compete with the snapshot's walk of /proc. */
  if (rc == PR_OK && lib->hasher != NULL && pr_hasher_start(lib->hasher) != PR_OK) {
    pr_enforcer_stop(lib->enforcer);
    lib->enforcer = NULL;
    lib->src->stop(lib);
    rc = PR_E_IO;
  }
  if (rc == PR_OK) {
    pthread_mutex_lock(&lib->mu);
    lib->state = LIB_STARTED;
    pthread_mutex_unlock(&lib->mu);
  }
  return rc;
}

/* Counts the records in a batch. */
static uint64_t count_records(const uint8_t *buf, uint32_t n) {
  uint64_t k = 0;
  uint32_t off = 0;
  while (off < n) {
    uint32_t size;
    memcpy(&size, buf + off + 4, 4);
    off += size;
    k++;
  }
  return k;
}

PROCREC_API int32_t procrec_read(void *h, uint8_t *buf, uint32_t cap, uint32_t timeout_ms) {
  struct pr_lib *lib = h;
  struct timespec deadline;
  uint32_t n;
  if (lib == NULL || (buf == NULL && cap > 0)) return PR_E_INVAL;
  if (cap > INT32_MAX) cap = INT32_MAX & ~7u;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout_ms / 1000;
  deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&lib->mu);
  for (;;) {
    uint32_t next;
    /* Losses no later record follows (at the end, or while the ring was
     * full) go into the stream now. */
    pr_ring_flush_lost(&lib->ring);
    next = pr_ring_peek_size(&lib->ring);
    if (next > 0) {
      if (next > cap) {
        snprintf(lib->error, sizeof(lib->error),
                 "procrec_read: the buffer of %u bytes is smaller than the next record (%u bytes)", cap, next);
        pthread_mutex_unlock(&lib->mu);
        return PR_E_INVAL;
      }
      break;
    }
    /* Empty: wait unless stopped (nothing more will come) or out of time,
     * looking every PR_WAKE_MS (see PR_WAKE_BYTES). */
    if (lib->state == LIB_STOPPED || timeout_ms == 0) break;
    {
      struct timespec now, slice;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) break;
      slice = now;
      slice.tv_nsec += (long)PR_WAKE_MS * 1000000L;
      if (slice.tv_nsec >= 1000000000L) {
        slice.tv_sec++;
        slice.tv_nsec -= 1000000000L;
      }
      if (slice.tv_sec > deadline.tv_sec || (slice.tv_sec == deadline.tv_sec && slice.tv_nsec > deadline.tv_nsec))
        slice = deadline;
      lib->wake_bytes = PR_WAKE_BYTES;
      if (lib->ring.cap / 4 < lib->wake_bytes) lib->wake_bytes = lib->ring.cap / 4;
      if (cap / 2 < lib->wake_bytes) lib->wake_bytes = cap / 2;
      if (lib->wake_bytes == 0) lib->wake_bytes = 1;
      lib->waiting++;
      pthread_cond_timedwait(&lib->cv, &lib->mu, &slice);
      lib->waiting--;
    }
  }
  n = pr_ring_pop_batch(&lib->ring, buf, cap);
  pr_ring_flush_lost(&lib->ring); /* room now: pending losses go in before anything new */
  if (n > 0) {
    lib->stats.records += count_records(buf, n);
    lib->stats.bytes += n;
  }
  pthread_mutex_unlock(&lib->mu);
  return (int32_t)n;
}

PROCREC_API int32_t procrec_stats(void *h, struct procrec_stats *out) {
  struct pr_lib *lib = h;
  if (lib == NULL || out == NULL) return PR_E_INVAL;
  pthread_mutex_lock(&lib->mu);
  sync_ring_drops(lib);
  lib->stats.ring_used = pr_ring_used(&lib->ring);
  *out = lib->stats;
  pthread_mutex_unlock(&lib->mu);
  return PR_OK;
}

PROCREC_API int32_t procrec_stop(void *h) {
  struct pr_lib *lib = h;
  int state, rc = PR_OK;
  if (lib == NULL) return PR_E_INVAL;
  pthread_mutex_lock(&lib->mu);
  state = lib->state;
  pthread_mutex_unlock(&lib->mu);
  if (state == LIB_STOPPED) return PR_OK;
  pr_enforcer_stop(lib->enforcer); /* the rules end first: nothing is denied unrecorded */
  lib->enforcer = NULL;
  if (state == LIB_STARTED) rc = lib->src->stop(lib);
  /* The source emits nothing more: hash what it emitted, then stop. */
  if (lib->hasher != NULL) pr_hasher_stop(lib->hasher);
  pthread_mutex_lock(&lib->mu);
  lib->state = LIB_STOPPED;
  pthread_cond_broadcast(&lib->cv);
  pthread_mutex_unlock(&lib->mu);
  return rc;
}

PROCREC_API void procrec_close(void *h) {
  struct pr_lib *lib = h;
  if (lib == NULL) return;
  procrec_stop(lib);
  lib->src->close(lib);
  lib_free(lib);
}

/* Returns the length of the whole text, also when cut (as procrec_abi.h says). */
static int32_t copy_out(char *buf, uint32_t cap, const char *s) {
  size_t n = strlen(s), k = n;
  if (buf == NULL || cap == 0) return (int32_t)n;
  if (k >= cap) k = cap - 1;
  memcpy(buf, s, k);
  buf[k] = 0;
  return (int32_t)n;
}

PROCREC_API int32_t procrec_last_error(void *h, char *buf, uint32_t cap) {
  struct pr_lib *lib = h;
  char tmp[512];
  if (lib == NULL) return copy_out(buf, cap, tls_error);
  pthread_mutex_lock(&lib->mu);
  memcpy(tmp, lib->error, sizeof(tmp));
  pthread_mutex_unlock(&lib->mu);
  return copy_out(buf, cap, tmp);
}

PROCREC_API int32_t procrec_source(void *h, char *buf, uint32_t cap) {
  struct pr_lib *lib = h;
  if (lib == NULL) return PR_E_INVAL;
  copy_out(buf, cap, lib->source_why);
  return (int32_t)lib->src->id;
}

/* PR_CTL_EXEC_RULES: checks and keeps the rules; procrec_start enforces them. */
static int set_exec_rules(struct pr_lib *lib, const uint8_t *arg, uint32_t len) {
  struct pr_exec_rules *rs;
  char err[256] = "";
  int state, rc;
  if (!(lib->opts.flags & PR_OPT_EXEC_RULES)) {
    pr_lib_set_error(lib, "procrec_control: exec rules need a handle opened with PR_OPT_EXEC_RULES");
    return PR_E_STATE;
  }
  pthread_mutex_lock(&lib->mu);
  state = lib->state;
  pthread_mutex_unlock(&lib->mu);
  if (state != LIB_OPEN) {
    pr_lib_set_error(lib, "procrec_control: exec rules are set before procrec_start");
    return PR_E_STATE;
  }
  rs = calloc(1, sizeof(*rs));
  if (!rs) return PR_E_NOMEM;
  rc = pr_exec_rules_init(rs, arg, len, err, sizeof(err));
  if (rc != PR_OK) {
    free(rs);
    pr_lib_set_error(lib, "procrec_control: %s", err);
    return rc;
  }
  if (lib->rules) {
    pr_exec_rules_free(lib->rules);
    free(lib->rules);
  }
  lib->rules = rs;
  return PR_OK;
}

/* PR_CTL_HASH_CACHE_LOAD (before start) and PR_CTL_HASH_CACHE_SAVE (while
 * running or after stop): the image hash cache kept between runs
 * (hash_cache_file.h). */
static int hash_cache_file(struct pr_lib *lib, uint32_t op, const uint8_t *arg, uint32_t len) {
  char path[PATH_MAX], why[1024];
  struct pr_hash_entry *e = NULL;
  int state, rc;
  size_t n;
  if (lib->hasher == NULL) {
    pr_lib_set_error(lib, "procrec_control: no image hash worker (opened with PR_OPT_NO_HASH)");
    return PR_E_STATE;
  }
  if (arg == NULL || len == 0 || len >= sizeof(path) || memchr(arg, 0, len) != NULL) {
    pr_lib_set_error(lib, "procrec_control: the hash cache path must be 1 to %zu bytes without NUL", sizeof(path) - 1);
    return PR_E_INVAL;
  }
  memcpy(path, arg, len);
  path[len] = 0;
  pthread_mutex_lock(&lib->mu);
  state = lib->state;
  pthread_mutex_unlock(&lib->mu);
  if (op == PR_CTL_HASH_CACHE_LOAD) {
    if (state != LIB_OPEN) {
      pr_lib_set_error(lib, "procrec_control: the hash cache is loaded before procrec_start");
      return PR_E_STATE;
    }
    rc = pr_hash_file_load(path, &e, why, sizeof(why), &lib->hash_cache_dir_refused);
    if (rc > 0) rc = (int)pr_hasher_cache_add(lib->hasher, e, (size_t)rc);
  } else {
    /* while running (a long recorder saves now and then, so that other
     * recorders of this boot find what it hashed) or after procrec_stop */
    if (state == LIB_OPEN) {
      pr_lib_set_error(lib, "procrec_control: the hash cache is saved once started (running or stopped)");
      return PR_E_STATE;
    }
    /* its directory was refused at load (and said so): not written there */
    if (lib->hash_cache_dir_refused) return 0;
    n = pr_hasher_cache_export(lib->hasher, &e);
    if (e == NULL) {
      pr_lib_set_error(lib, "Cannot save the image hash cache \"%s\": out of memory", path);
      return PR_E_NOMEM;
    }
    rc = pr_hash_file_save(path, e, n, why, sizeof(why));
  }
  free(e);
  if (rc < 0) pr_lib_set_error(lib, "%s", why);
  return rc;
}

PROCREC_API int32_t procrec_control(void *h, uint32_t op, const uint8_t *arg, uint32_t len) {
  struct pr_lib *lib = h;
  if (lib == NULL) return PR_E_INVAL;
  if (op == PR_CTL_EXEC_RULES) return set_exec_rules(lib, arg, len);
  if (op == PR_CTL_HASH_CACHE_LOAD || op == PR_CTL_HASH_CACHE_SAVE) return hash_cache_file(lib, op, arg, len);
  if (op == PR_CTL_PAUSE_HASHER || op == PR_CTL_RESUME_HASHER) {
    if (lib->hasher == NULL) {
      pr_lib_set_error(lib, "procrec_control: no image hash worker (opened with PR_OPT_NO_HASH)");
      return PR_E_STATE;
    }
    pr_hasher_pause(lib->hasher, op == PR_CTL_PAUSE_HASHER);
    return PR_OK;
  }
  if (op != PR_CTL_PAUSE_READER && op != PR_CTL_RESUME_READER) {
    pr_lib_set_error(lib, "procrec_control: operation %u is not supported by the %s source", op, lib->src->name);
    return PR_E_NOSUP;
  }
  if (lib->src->control == NULL) return PR_E_NOSUP;
  return lib->src->control(lib, op);
}
