/*
 * conformance.c - one test of the contract of driver/include/procrec_abi.h,
 * built for both implementations of it:
 *
 *   Linux:   cc conformance.c -ldl -o conformance && ./conformance build/libprocrec.so
 *   Windows: x86_64-w64-mingw32-gcc conformance.c -o conformance.exe
 *            wine64 conformance.exe procrec.dll        (driver/windows: make test)
 *
 * It loads the library at run time (dlopen / LoadLibrary) and checks what
 * every source must do the same way: the option checks and their status
 * codes, procrec_last_error's return value (the message length, also with
 * no buffer), start/stop states (a second start is PR_E_STATE, a repeated
 * stop is PR_OK, start after stop is PR_E_STATE), NULL handles, unknown
 * controls (PR_E_NOSUP), reads that never split a record and keep sequence
 * numbers contiguous, a read after stop that returns at once once the stream
 * is drained, a buffer smaller than the next record refused without losing
 * that record. Opening a source needs privilege (root; an Administrator and
 * the driver on Windows): without it, the checks that need a handle are
 * reported as not run, with the reason, and the exit status is 3.
 * Exit status: 0 all checks passed, 1 a check failed, 2 set-up error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef _WIN32
#include <windows.h>
#define LIB_HANDLE HMODULE
#define LIB_OPEN(p) LoadLibraryA(p)
#define LIB_SYM(l, n) ((void *)GetProcAddress((l), (n)))
#else
#include <dlfcn.h>
#define LIB_HANDLE void *
#define LIB_OPEN(p) dlopen((p), RTLD_NOW | RTLD_LOCAL)
#define LIB_SYM(l, n) dlsym((l), (n))
#endif

#include "../include/procrec_abi.h"

static struct {
  uint32_t (*version)(void);
  int32_t (*open)(const struct procrec_options *, void **);
  int32_t (*start)(void *);
  int32_t (*read)(void *, uint8_t *, uint32_t, uint32_t);
  int32_t (*stats)(void *, struct procrec_stats *);
  int32_t (*stop)(void *);
  void (*close)(void *);
  int32_t (*last_error)(void *, char *, uint32_t);
  int32_t (*source)(void *, char *, uint32_t);
  int32_t (*control)(void *, uint32_t, const uint8_t *, uint32_t);
} abi;

static int checks, fails;

#define CHECK(cond, ...)                                                                                              \
  do {                                                                                                                \
    checks++;                                                                                                         \
    if (!(cond)) {                                                                                                    \
      fails++;                                                                                                        \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                                     \
      printf(__VA_ARGS__);                                                                                            \
      printf("\n");                                                                                                   \
    }                                                                                                                 \
  } while (0)

static double now_ms(void) {
#ifdef _WIN32
  return (double)GetTickCount64();
#else
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
#endif
}

static void options(struct procrec_options *o) {
  memset(o, 0, sizeof(*o));
  o->size = sizeof(*o);
  o->flags = PR_OPT_NO_SNAPSHOT;
}

/* procrec_open must fail with `want`, leave *out NULL and say why (per thread). */
static void open_fails(const struct procrec_options *o, int32_t want, const char *needle, const char *what) {
  void *h = (void *)&h;
  char msg[512] = "";
  int32_t rc = abi.open(o, &h), len;
  len = abi.last_error(NULL, msg, sizeof(msg));
  CHECK(rc == want && h == NULL, "%s: status %d (want %d), handle %s", what, (int)rc, (int)want, h ? "set" : "NULL");
  CHECK(len == (int32_t)strlen(msg) && len > 0 && strstr(msg, needle) != NULL,
        "%s: procrec_last_error(NULL) returned %d with \"%s\" (want its length, naming \"%s\")", what, (int)len, msg,
        needle);
  if (rc == PR_OK && h != NULL) abi.close(h);
}

static void check_options(int windows) {
  struct procrec_options o;
  char small[4];
  int32_t len;
  CHECK(abi.version() == PROCREC_ABI_VERSION, "procrec_abi_version %u", abi.version());
  CHECK(abi.open(NULL, NULL) == PR_E_INVAL, "procrec_open with out NULL");
  options(&o);
  o.size = 8;
  open_fails(&o, PR_E_ABI, "options size 8", "options size 8");
  o.size = 5000;
  open_fails(&o, PR_E_ABI, "options size 5000", "options size 5000");
  options(&o);
  o.source = 99;
  open_fails(&o, PR_E_INVAL, "unknown source 99", "source 99");
  options(&o);
  o.source = windows ? PR_SOURCE_EBPF : PR_SOURCE_WINDOWS;
  open_fails(&o, PR_E_NOSUP, windows ? "not available on Windows" : "does not exist on Linux", "the other OS's source");
  options(&o);
  o.max_string = 0x7fffffffu;
  open_fails(&o, PR_E_INVAL, "max_string 2147483647", "max_string too large");
  options(&o);
  o.ring_bytes = 4096;
  open_fails(&o, PR_E_INVAL, "ring_bytes 4096", "ring_bytes too small");
  /* the message length, also without a buffer or with a short one */
  len = abi.last_error(NULL, NULL, 0);
  CHECK(len > 4, "procrec_last_error(NULL, NULL, 0) returned %d, want the message length", (int)len);
  memset(small, 'x', sizeof(small));
  CHECK(abi.last_error(NULL, small, sizeof(small)) == len && small[3] == 0 && strlen(small) == 3,
        "procrec_last_error with 4 bytes: cut and NUL-terminated, returns the full length");
  /* NULL handles */
  CHECK(abi.start(NULL) == PR_E_INVAL && abi.stop(NULL) == PR_E_INVAL, "start/stop(NULL)");
  CHECK(abi.read(NULL, (uint8_t *)small, sizeof(small), 0) == PR_E_INVAL, "read(NULL)");
  CHECK(abi.stats(NULL, NULL) == PR_E_INVAL, "stats(NULL)");
  CHECK(abi.source(NULL, small, sizeof(small)) == PR_E_INVAL, "source(NULL)");
  CHECK(abi.control(NULL, PR_CTL_PAUSE_READER, NULL, 0) == PR_E_INVAL, "control(NULL)");
  abi.close(NULL);
}

static uint8_t buf[1 << 20];

/* Reads until a read returns 0; checks framing and sequence numbers. */
static uint32_t drain(void *h, uint32_t timeout_ms, uint64_t *next_seq, int *have_seq) {
  uint32_t records = 0, bad = 0;
  int32_t n = 0;
  for (int i = 0; i < 100000 && bad == 0; i++) {
    n = abi.read(h, buf, sizeof(buf), timeout_ms);
    if (n <= 0) break;
    if (n % 8 != 0) bad++;
    for (uint32_t off = 0; bad == 0 && off + sizeof(struct pr_rec_header) <= (uint32_t)n;) {
      struct pr_rec_header hd;
      memcpy(&hd, buf + off, sizeof(hd));
      if (hd.size < sizeof(hd) || hd.size % 8 != 0 || off + hd.size > (uint32_t)n) {
        printf("record of %u bytes at %u of a %d-byte read\n", hd.size, off, (int)n);
        bad++;
        break;
      }
      if (*have_seq && hd.seq != *next_seq) {
        printf("seq %llu after %llu\n", (unsigned long long)hd.seq, (unsigned long long)*next_seq - 1);
        bad++;
      }
      *next_seq = hd.seq + 1;
      *have_seq = 1;
      off += hd.size;
      records++;
    }
  }
  CHECK(n >= 0, "procrec_read: status %d", (int)n);
  CHECK(bad == 0, "reads return whole records with contiguous sequence numbers (%u records)", records);
  return records;
}

/* procrec_read never splits a record: a buffer smaller than the next one is
 * refused (PR_E_INVAL, the handle's error names the sizes) and the record
 * stays for the next read, so nothing is lost and sequence numbers start at
 * 0. The snapshot of running processes gives records at once. */
static void check_small_buffer(uint32_t extra_flags) {
  struct procrec_options o;
  struct pr_rec_header hd;
  void *h = NULL;
  char msg[512];
  uint8_t tiny[8];
  int32_t rc;
  double t0;
  options(&o);
  o.flags = extra_flags; /* with the snapshot */
  if (abi.open(&o, &h) != PR_OK) return; /* reported by check_handle */
  CHECK(abi.start(h) == PR_OK, "procrec_start (snapshot)");
  t0 = now_ms();
  rc = abi.read(h, tiny, sizeof(tiny), 2000);
  abi.last_error(h, msg, sizeof(msg));
  CHECK(rc == PR_E_INVAL && strstr(msg, "smaller than the next record") != NULL,
        "a read into 8 bytes: status %d, error \"%s\" (want PR_E_INVAL naming the record's size)", (int)rc, msg);
  CHECK(now_ms() - t0 < 1500, "a read into 8 bytes with a record waiting returns at once (%.0f ms)", now_ms() - t0);
  rc = abi.read(h, buf, sizeof(buf), 2000);
  memcpy(&hd, buf, sizeof(hd));
  CHECK(rc >= (int32_t)sizeof(hd) && hd.seq == 0 && hd.kind == PR_REC_SNAPSHOT,
        "after the refused read, the next read starts with the same record: %d bytes, seq %llu, kind %u", (int)rc,
        (unsigned long long)(rc > 0 ? hd.seq : 0), rc > 0 ? hd.kind : 0);
  t0 = now_ms();
  rc = abi.read(h, buf, sizeof(buf), 0);
  CHECK(rc >= 0 && now_ms() - t0 < 1000, "a read with timeout 0 returns at once: %d after %.0f ms", (int)rc,
        now_ms() - t0);
  CHECK(abi.stop(h) == PR_OK, "procrec_stop (snapshot)");
  abi.close(h);
}

/* Returns 0 when a handle could be opened, else 3 (not run, reason printed). */
static int check_handle(int windows, uint32_t extra_flags) {
  struct procrec_options o;
  struct procrec_stats st;
  void *h = NULL, *h2 = NULL;
  char msg[512];
  uint64_t next_seq = 0;
  int have_seq = 0;
  int32_t rc, src;
  double t0;
  uint32_t n;

  options(&o);
  o.flags |= extra_flags;
  rc = abi.open(&o, &h);
  if (rc != PR_OK) {
    abi.last_error(NULL, msg, sizeof(msg));
    printf("NOT RUN: the checks of an open handle: procrec_open: status %d: %s\n", (int)rc, msg);
    return 3;
  }
  src = abi.source(h, msg, sizeof(msg));
  CHECK(windows ? src == PR_SOURCE_WINDOWS : (src == PR_SOURCE_NETLINK || src == PR_SOURCE_EBPF),
        "procrec_source: %d (%s)", (int)src, msg);
  CHECK(abi.source(h, NULL, 0) == src, "procrec_source without a buffer returns the source");
  CHECK(abi.stats(h, NULL) == PR_E_INVAL, "stats(h, NULL)");
  rc = abi.control(h, 9999, NULL, 0);
  CHECK(rc == PR_E_NOSUP, "control 9999: status %d, want PR_E_NOSUP", (int)rc);
  n = (uint32_t)abi.last_error(h, msg, sizeof(msg));
  CHECK(n == strlen(msg) && strstr(msg, "9999") != NULL, "control 9999: the handle's error \"%s\" (%u)", msg, n);

  CHECK(abi.start(h) == PR_OK, "procrec_start");
  rc = abi.start(h);
  abi.last_error(h, msg, sizeof(msg));
  CHECK(rc == PR_E_STATE && strstr(msg, "already started") != NULL, "a second start: %d \"%s\"", (int)rc, msg);
  drain(h, 200, &next_seq, &have_seq);
  CHECK(abi.stats(h, &st) == PR_OK, "procrec_stats");
  CHECK(abi.stop(h) == PR_OK, "procrec_stop");
  CHECK(abi.stop(h) == PR_OK, "a repeated procrec_stop is PR_OK");
  rc = abi.start(h);
  abi.last_error(h, msg, sizeof(msg));
  CHECK(rc == PR_E_STATE && strstr(msg, "already stopped") != NULL, "start after stop: %d \"%s\"", (int)rc, msg);
  drain(h, 200, &next_seq, &have_seq); /* what was recorded before stop */
  t0 = now_ms();
  rc = abi.read(h, buf, sizeof(buf), 5000);
  CHECK(rc == 0 && now_ms() - t0 < 2500, "a read after stop, drained: %d after %.0f ms (want 0 at once)", (int)rc,
        now_ms() - t0);
  CHECK(abi.stats(h, &st) == PR_OK && (!have_seq || st.records == next_seq), "stats after stop: records %llu, read %llu",
        (unsigned long long)st.records, (unsigned long long)next_seq);
  abi.close(h);

  /* stop before start: a later start is refused */
  rc = abi.open(&o, &h2);
  CHECK(rc == PR_OK, "procrec_open again: %d", (int)rc);
  if (rc == PR_OK) {
    CHECK(abi.stop(h2) == PR_OK, "procrec_stop before start");
    CHECK(abi.start(h2) == PR_E_STATE, "start after a stop without start");
    abi.close(h2);
  }
  return 0;
}

int main(int argc, char **argv) {
  LIB_HANDLE lib;
  int windows, rc;
  uint32_t flags = 0;
  if (argc < 2) {
    printf("usage: conformance LIBRARY [--image-load]\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  if (argc > 2 && strcmp(argv[2], "--image-load") == 0) flags |= PR_OPT_IMAGE_LOAD;
  lib = LIB_OPEN(argv[1]);
  if (lib == NULL) {
    printf("ERROR: cannot load %s\n", argv[1]);
    return 2;
  }
#define LOAD(field, name)                                                                                             \
  *(void **)&abi.field = LIB_SYM(lib, name);                                                                          \
  if (abi.field == NULL) {                                                                                            \
    printf("ERROR: %s lacks %s\n", argv[1], name);                                                                    \
    return 2;                                                                                                         \
  }
  LOAD(version, "procrec_abi_version");
  LOAD(open, "procrec_open");
  LOAD(start, "procrec_start");
  LOAD(read, "procrec_read");
  LOAD(stats, "procrec_stats");
  LOAD(stop, "procrec_stop");
  LOAD(close, "procrec_close");
  LOAD(last_error, "procrec_last_error");
  LOAD(source, "procrec_source");
  LOAD(control, "procrec_control");
#ifdef _WIN32
  windows = 1;
#else
  windows = 0;
#endif
  check_options(windows);
  rc = check_handle(windows, flags);
  if (rc == 0) check_small_buffer(flags);
  printf("%s: %s: %d checks, %d failures%s\n", fails ? "FAILED" : "passed", argv[1], checks, fails,
         rc == 3 ? " (handle checks not run)" : "");
  return fails ? 1 : rc;
}
