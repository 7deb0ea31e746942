/*
 * wine_e2e.c - end-to-end test of procrec.dll and the test build of
 * procrec.sys, run under Wine by `make -C driver/windows test`.
 *
 *   wine64 procrec_e2e.exe OUT.bin
 *
 * Loads procrec.dll (LoadLibrary: PROCREC_DRIVER names procrec_test.sys),
 * which installs and starts the driver service; sets a block rule; injects a
 * scripted sequence of synthetic notifications through the driver's own
 * callbacks (a process with image and command line, threads created locally
 * and remotely, an image load, a creation the rule denies, a command line
 * longer than the string limit, thread and process exits); then, with the
 * reader paused (which cancels the pending READ in the driver), enough thread
 * creations to overflow the driver's ring: after resuming, with nothing more
 * injected, the lost record must arrive with the exact count (then a marker
 * follows it); the same overflow once more at the very end, so the lost
 * record is the last of the stream. It
 * reads everything back through the ABI, compares it with the script (same
 * order, same fields, contiguous sequence numbers, the exact lost count),
 * checks that closing stopped and removed the service, and writes every ABI
 * record it read to OUT.bin for tests/windows_wine_test.ts.
 * Exit status 0 when all checks pass, 1 when one fails, 2 on set-up errors.
 */
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "../procrec_ioctl.h"

typedef uint32_t (*fn_version)(void);
typedef int32_t (*fn_open)(const struct procrec_options *, void **);
typedef int32_t (*fn_h)(void *);
typedef int32_t (*fn_read)(void *, uint8_t *, uint32_t, uint32_t);
typedef int32_t (*fn_stats)(void *, struct procrec_stats *);
typedef void (*fn_close)(void *);
typedef int32_t (*fn_err)(void *, char *, uint32_t);
typedef int32_t (*fn_control)(void *, uint32_t, const uint8_t *, uint32_t);

static struct {
  fn_version version;
  fn_open open;
  fn_h start, stop;
  fn_read read;
  fn_stats stats;
  fn_close close;
  fn_err last_error, source;
  fn_control control;
} abi;

static int failures;
static FILE *out_file;

#define CHECK(cond, ...)                                                                                              \
  do {                                                                                                                \
    if (!(cond)) {                                                                                                    \
      failures++;                                                                                                     \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                                     \
      printf(__VA_ARGS__);                                                                                            \
      printf("\n");                                                                                                   \
    }                                                                                                                 \
  } while (0)

static void die(void *h, const char *what, int32_t rc) {
  char msg[512];
  abi.last_error(h, msg, sizeof(msg));
  printf("ERROR %s: status %d: %s\n", what, (int)rc, msg);
  fflush(stdout);
  exit(2);
}

/* ---- the script ---- */

#define MAX_STRING 256u /* procrec_options.max_string in this test */

struct item {
  struct pr_inject it;
  const wchar_t *image, *cmd;
  const char *image8, *cmd8; /* expected UTF-8 (NULL: absent) */
  int denied, cmd_cut;
  int first; /* thread create: the first thread of a process its creator just created */
  const uint8_t *sid; /* process create: the token's user SID (binary), it.token set */
  uint32_t sid_len;
  const char *sid8; /* expected text */
};

/* S-1-5-21-123456789-1009719083-675233178-1001 */
static const uint8_t USER_SID[] = {1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x15, 0xcd, 0x5b, 0x07,
                                   0x2b, 0x17, 0x2f, 0x3c, 0x9a, 0x3d, 0x3f, 0x28, 0xe9, 0x03, 0, 0};

static uint8_t inj_buf[512 * 1024];
static uint32_t inj_len;

static void add(const struct item *x) {
  uint32_t ib = x->image ? (uint32_t)wcslen(x->image) * 2u : 0u;
  uint32_t cb = x->cmd ? (uint32_t)wcslen(x->cmd) * 2u : 0u;
  struct pr_inject it = x->it;
  it.image_bytes = ib;
  it.cmd_bytes = cb;
  it.sid_bytes = x->sid_len;
  it.size = (uint32_t)((sizeof(it) + ib + cb + x->sid_len + 7u) & ~7u);
  memset(inj_buf + inj_len, 0, it.size);
  memcpy(inj_buf + inj_len, &it, sizeof(it));
  if (ib) memcpy(inj_buf + inj_len + sizeof(it), x->image, ib);
  if (cb) memcpy(inj_buf + inj_len + sizeof(it) + ib, x->cmd, cb);
  if (x->sid_len) memcpy(inj_buf + inj_len + sizeof(it) + ib + cb, x->sid, x->sid_len);
  inj_len += it.size;
}

static void inject(void *h) {
  int32_t rc = abi.control(h, PR_CTL_INJECT, inj_buf, inj_len);
  if (rc != PR_OK) die(h, "inject", rc);
  inj_len = 0;
}

/* ---- reading ---- */

static uint8_t rbuf[1 << 20];
static uint8_t got[4 << 20]; /* every record read, in order */
static uint32_t got_len;
static uint64_t next_seq;

/* Reads until a read times out (quiet_ms) or `want` records arrived. */
static uint32_t read_some(void *h, uint32_t want, uint32_t quiet_ms, uint32_t *first_off) {
  uint32_t n_rec = 0;
  *first_off = got_len;
  for (;;) {
    int32_t n = abi.read(h, rbuf, sizeof(rbuf), quiet_ms);
    if (n < 0) die(h, "procrec_read", n);
    if (n == 0) break;
    for (uint32_t off = 0; off < (uint32_t)n;) {
      struct pr_rec_header hd;
      memcpy(&hd, rbuf + off, sizeof(hd));
      CHECK(hd.size >= sizeof(hd) && hd.size % 8 == 0 && off + hd.size <= (uint32_t)n, "record size %u", hd.size);
      if (hd.size < sizeof(hd)) die(h, "bad record", 0);
      CHECK(hd.seq == next_seq, "seq %llu, expected %llu", (unsigned long long)hd.seq, (unsigned long long)next_seq);
      next_seq = hd.seq + 1;
      off += hd.size;
      n_rec++;
    }
    if (got_len + (uint32_t)n > sizeof(got)) die(h, "too many records", 0);
    memcpy(got + got_len, rbuf, (size_t)n);
    fwrite(rbuf, 1, (size_t)n, out_file);
    got_len += (uint32_t)n;
    if (want != 0 && n_rec >= want) break;
  }
  return n_rec;
}

static const struct pr_rec_header *rec_at(uint32_t off) { return (const struct pr_rec_header *)(const void *)(got + off); }

static int str_eq(const void *rec, struct pr_str s, const char *want) {
  if (want == NULL) return s.len == 0 && s.off == 0;
  return s.len == strlen(want) && memcmp((const uint8_t *)rec + s.off, want, s.len) == 0;
}

/* This process's own token, as user mode reads it: the user's SID as text,
 * the session id, the mandatory label's RID (0 when a query fails). */
struct own_token {
  char sid[200];
  DWORD session, rid;
};

static int own_token(struct own_token *o) {
  HANDLE t;
  DWORD len = 0;
  union {
    TOKEN_USER u;
    TOKEN_MANDATORY_LABEL l;
    BYTE raw[512];
  } buf;
  memset(o, 0, sizeof(*o));
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &t)) return 0;
  if (GetTokenInformation(t, TokenUser, &buf, sizeof(buf), &len)) {
    const BYTE *sid = (const BYTE *)buf.u.User.Sid;
    uint64_t auth = 0;
    int n;
    for (int i = 2; i < 8; i++) auth = (auth << 8) | sid[i];
    n = snprintf(o->sid, sizeof(o->sid), "S-%u-%llu", sid[0], (unsigned long long)auth);
    for (int i = 0; i < sid[1] && n > 0 && (size_t)n < sizeof(o->sid); i++) {
      DWORD sub;
      memcpy(&sub, sid + 8 + 4 * i, 4);
      n += snprintf(o->sid + n, sizeof(o->sid) - (size_t)n, "-%lu", (unsigned long)sub);
    }
  }
  if (!GetTokenInformation(t, TokenSessionId, &o->session, sizeof(o->session), &len)) o->session = 0xffffffffu;
  if (GetTokenInformation(t, TokenIntegrityLevel, &buf, sizeof(buf), &len)) {
    const BYTE *sid = (const BYTE *)buf.l.Label.Sid;
    if (sid[1] > 0) memcpy(&o->rid, sid + 8 + 4 * (sid[1] - 1), 4);
  }
  CloseHandle(t);
  return o->sid[0] != 0;
}

static uint64_t now_unix_ns(void) {
  FILETIME ft;
  ULARGE_INTEGER u;
  GetSystemTimeAsFileTime(&ft);
  u.LowPart = ft.dwLowDateTime;
  u.HighPart = ft.dwHighDateTime;
  return (u.QuadPart - 116444736000000000ull) * 100u;
}

/* Where a FILETIME create time lands on the monotonic clock, by the
 * record's own (utc, mono) pair: what procrec.dll must compute. */
static uint64_t start_on_mono(const struct pr_rec_header *h, uint64_t created) {
  uint64_t boot_ft = h->utc_ns / 100u + 116444736000000000ull - h->mono_ns / 100u;
  return (created - boot_ft) * 100u;
}

/* Compares the record at *off with the script item; advances *off. */
static void expect(uint32_t *off, uint32_t end, const struct item *x, uint64_t t0_unix) {
  const struct pr_rec_header *h;
  const struct pr_inject *it = &x->it;
  uint64_t now = now_unix_ns();
  if (*off >= end) {
    CHECK(0, "record for op %u pid %u missing", it->op, it->pid);
    return;
  }
  h = rec_at(*off);
  *off += h->size;
  CHECK(h->utc_ns > t0_unix - 60000000000ull && h->utc_ns <= now + 1000000000ull, "utc_ns %llu not about now",
        (unsigned long long)h->utc_ns);
  CHECK(h->pid == it->pid, "pid %u, expected %u", h->pid, it->pid);
  switch (it->op) {
  case PR_INJ_PROCESS_CREATE: {
    const struct pr_rec_process_create *r = (const void *)h;
    uint16_t want_flags = PR_F_CMDLINE | (x->denied ? PR_F_DENIED : 0) | (x->cmd_cut ? PR_F_ARGV_TRUNCATED : 0);
    CHECK(h->kind == PR_REC_PROCESS_CREATE, "kind %u, expected process_create (pid %u)", h->kind, it->pid);
    if (h->kind != PR_REC_PROCESS_CREATE) return;
    CHECK(h->flags == want_flags, "pid %u flags 0x%x, expected 0x%x", it->pid, h->flags, want_flags);
    CHECK(r->parent_pid == it->ppid && r->creator_pid == it->creator_pid && r->creator_tid == it->creator_tid,
          "pid %u parent %u creator %u/%u", it->pid, r->parent_pid, r->creator_pid, r->creator_tid);
    CHECK(r->status == (x->denied ? 0xC0000022u : 0u), "pid %u status 0x%x", it->pid, r->status);
    CHECK(str_eq(r, r->info.image, x->image8), "pid %u image %.*s", it->pid, (int)r->info.image.len,
          (const char *)r + r->info.image.off);
    CHECK(str_eq(r, r->info.argv, x->cmd8), "pid %u argv \"%.*s\"", it->pid, (int)r->info.argv.len,
          (const char *)r + r->info.argv.off);
    CHECK(r->info.argc == 1 && r->info.prov_image == PR_PROV_KERNEL && r->info.prov_argv == PR_PROV_KERNEL,
          "pid %u argc %u prov %u/%u", it->pid, r->info.argc, r->info.prov_image, r->info.prov_argv);
    CHECK(r->info.argv_full_len == (x->cmd_cut ? wcslen(x->cmd) : strlen(x->cmd8)), "pid %u argv_full_len %u",
          it->pid, r->info.argv_full_len);
    if (it->token) { /* the creating token: session, integrity, the user's SID as text */
      CHECK(r->info.prov_cred == PR_PROV_KERNEL && r->info.sessionid == it->session_id &&
                r->info.integrity == (PR_INTEGRITY_KNOWN | it->integrity_rid) && r->info.loginuid == PR_ID_UNSET &&
                str_eq(r, r->info.user, x->sid8),
            "pid %u token: prov %u session %u integrity 0x%x user \"%.*s\"", it->pid, r->info.prov_cred,
            r->info.sessionid, r->info.integrity, (int)r->info.user.len, (const char *)r + r->info.user.off);
    } else {
      CHECK(r->info.prov_cred == PR_PROV_NONE && r->info.user.len == 0, "pid %u: no token, no credentials", it->pid);
    }
    CHECK(r->start_ns == start_on_mono(h, it->create_time), "pid %u start_ns %llu, expected %llu", it->pid,
          (unsigned long long)r->start_ns, (unsigned long long)start_on_mono(h, it->create_time));
    break;
  }
  case PR_INJ_PROCESS_EXIT: {
    const struct pr_rec_process_exit *r = (const void *)h;
    CHECK(h->kind == PR_REC_PROCESS_EXIT, "kind %u, expected process_exit (pid %u)", h->kind, it->pid);
    if (h->kind != PR_REC_PROCESS_EXIT) return;
    CHECK(r->status == it->status, "pid %u exit status 0x%x", it->pid, r->status);
    CHECK(it->create_time == 0 || r->start_ns == start_on_mono(h, it->create_time), "pid %u exit start_ns %llu",
          it->pid, (unsigned long long)r->start_ns);
    break;
  }
  case PR_INJ_THREAD_CREATE: {
    const struct pr_rec_thread_create *r = (const void *)h;
    CHECK(h->kind == PR_REC_THREAD_CREATE, "kind %u, expected thread_create (tid %u)", h->kind, it->tid);
    if (h->kind != PR_REC_THREAD_CREATE) return;
    CHECK(h->tid == it->tid && r->creator_pid == it->creator_pid && r->creator_tid == it->creator_tid,
          "thread %u creator %u/%u", h->tid, r->creator_pid, r->creator_tid);
    CHECK(h->flags == (it->creator_pid != it->pid && !x->first ? PR_F_REMOTE : 0), "thread %u flags 0x%x", h->tid,
          h->flags);
    break;
  }
  case PR_INJ_THREAD_EXIT: {
    const struct pr_rec_thread_exit *r = (const void *)h;
    CHECK(h->kind == PR_REC_THREAD_EXIT, "kind %u, expected thread_exit (tid %u)", h->kind, it->tid);
    if (h->kind != PR_REC_THREAD_EXIT) return;
    CHECK(h->tid == it->tid && r->status == it->status, "thread %u exit status 0x%x", h->tid, r->status);
    CHECK(h->flags == (it->exiting ? PR_F_PROCESS_EXITING : 0), "thread %u exit flags 0x%x", h->tid, h->flags);
    break;
  }
  case PR_INJ_IMAGE_LOAD: {
    const struct pr_rec_image_load *r = (const void *)h;
    CHECK(h->kind == PR_REC_IMAGE_LOAD, "kind %u, expected image_load", h->kind);
    if (h->kind != PR_REC_IMAGE_LOAD) return;
    CHECK(h->tid == it->tid && r->base == it->base && r->size == it->image_size, "image load base/size/tid");
    CHECK(str_eq(r, r->image, x->image8), "image load name %.*s", (int)r->image.len, (const char *)r + r->image.off);
    break;
  }
  }
}

static uint64_t filetime_now(void) {
  FILETIME ft;
  ULARGE_INTEGER u;
  GetSystemTimeAsFileTime(&ft);
  u.LowPart = ft.dwLowDateTime;
  u.HighPart = ft.dwHighDateTime;
  return u.QuadPart;
}

#define OVERFLOW_N 3000u
#define PRODUCERS 4u
#define PER_PRODUCER 600u

static uint32_t par_start; /* offset in got of the parallel phase */

/* Injects PER_PRODUCER thread creations of process 7000+k, tids increasing,
 * in batches, through its own handle to the device. */
static DWORD WINAPI producer(LPVOID arg) {
  uint32_t k = (uint32_t)(uintptr_t)arg;
  static uint8_t bufs[PRODUCERS][50 * sizeof(struct pr_inject)];
  HANDLE dev = CreateFileW(PR_WIN32_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
  if (dev == INVALID_HANDLE_VALUE) return 1;
  for (uint32_t i = 0; i < PER_PRODUCER; i += 50) {
    struct pr_inject_result res;
    DWORD n = 0;
    for (uint32_t j = 0; j < 50; j++) {
      struct pr_inject it;
      memset(&it, 0, sizeof(it));
      it.op = PR_INJ_THREAD_CREATE;
      it.size = sizeof(it);
      it.pid = 7000 + k;
      it.tid = 10000 * (k + 1) + i + j + 1;
      it.creator_pid = it.pid;
      memcpy(bufs[k] + j * sizeof(it), &it, sizeof(it));
    }
    if (!DeviceIoControl(dev, IOCTL_PR_INJECT, bufs[k], sizeof(bufs[k]), &res, sizeof(res), &n, NULL)) break;
  }
  CloseHandle(dev);
  return 0;
}

/* Sets the test driver's READ timeout, through a second handle. */
static void set_read_timeout(uint32_t ms) {
  DWORD n = 0;
  HANDLE dev = CreateFileW(PR_WIN32_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
  CHECK(dev != INVALID_HANDLE_VALUE && DeviceIoControl(dev, IOCTL_PR_TEST_TIMEOUT, &ms, sizeof(ms), NULL, 0, &n, NULL),
        "IOCTL_PR_TEST_TIMEOUT: Win32 error %lu", GetLastError());
  if (dev != INVALID_HANDLE_VALUE) CloseHandle(dev);
}

/* The driver's own counters, through a second handle to its device. */
static struct pr_drv_stats driver_stats(void) {
  struct pr_drv_stats st;
  DWORD n = 0;
  HANDLE dev = CreateFileW(PR_WIN32_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
  memset(&st, 0, sizeof(st));
  CHECK(dev != INVALID_HANDLE_VALUE, "open %ls: Win32 error %lu", PR_WIN32_PATH, GetLastError());
  if (dev == INVALID_HANDLE_VALUE) return st;
  CHECK(DeviceIoControl(dev, IOCTL_PR_STATS, NULL, 0, &st, sizeof(st), &n, NULL) && n == sizeof(st),
        "IOCTL_PR_STATS: Win32 error %lu", GetLastError());
  CloseHandle(dev);
  return st;
}

/* With the reader paused (nothing drains the driver's ring), injects
 * OVERFLOW_N thread creations of `pid` (tids tid0, tid0+1, ...), resumes and
 * reads until the stream is quiet, injecting nothing more: the records read
 * must be the first K creations in order and then, although no later record
 * follows, one lost record with exactly OVERFLOW_N - K. Returns K. */
static uint32_t overflow_and_drain(void *h, uint32_t pid, uint32_t tid0, const char *what) {
  uint32_t first, n, off, i = 0, stored;
  const struct pr_rec_lost *l = NULL;
  int32_t rc;
  for (uint32_t k = 0; k < OVERFLOW_N; k++) {
    struct item t = {.it = {.op = PR_INJ_THREAD_CREATE, .pid = pid, .tid = tid0 + k, .creator_pid = pid,
                            .creator_tid = tid0}};
    add(&t);
  }
  inject(h);
  rc = abi.control(h, PR_CTL_RESUME_READER, NULL, 0);
  if (rc != PR_OK) die(h, "resume", rc);
  n = read_some(h, 0, 500, &first);
  stored = n > 0 ? n - 1 : 0;
  for (off = first; off < got_len; off += rec_at(off)->size, i++) {
    const struct pr_rec_header *r = rec_at(off);
    if (i + 1 == n) {
      l = (const struct pr_rec_lost *)(const void *)r;
      break;
    }
    CHECK(r->kind == PR_REC_THREAD_CREATE && r->pid == pid && r->tid == tid0 + i, "%s: record %u: kind %u tid %u",
          what, i, r->kind, r->tid);
  }
  CHECK(stored > 0 && stored < OVERFLOW_N, "%s: %u of %u stored: the ring did not overflow", what, stored,
        OVERFLOW_N);
  CHECK(l != NULL && l->h.kind == PR_REC_LOST && l->reason == PR_LOST_DRIVER_QUEUE &&
            l->count == OVERFLOW_N - stored && l->h.pid == 0 && (l->h.flags & PR_F_COUNT_UNKNOWN) == 0,
        "%s: the last record read (no later record injected) is kind %u reason %u count %llu, expected a lost "
        "record counting %u",
        what, l ? l->h.kind : 0, l ? l->reason : 0, l ? (unsigned long long)l->count : 0ull, OVERFLOW_N - stored);
  if (l != NULL && l->h.kind == PR_REC_LOST)
    printf("%s: %u stored, %u dropped and reported in one lost record with no later record\n", what, stored,
           OVERFLOW_N - stored);
  return stored;
}

/* What the driver decides its pool type by (run_wine.sh sets Windows 10). */
static int windows_8_or_later(void) {
  typedef LONG(WINAPI * get_version_fn)(OSVERSIONINFOW *);
  get_version_fn get = (get_version_fn)(void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "RtlGetVersion");
  OSVERSIONINFOW v;
  memset(&v, 0, sizeof(v));
  v.dwOSVersionInfoSize = sizeof(v);
  if (get == NULL || get(&v) != 0) return 0;
  printf("windows version %lu.%lu\n", v.dwMajorVersion, v.dwMinorVersion);
  return v.dwMajorVersion > 6 || (v.dwMajorVersion == 6 && v.dwMinorVersion >= 2);
}

static int service_gone(void) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  SC_HANDLE svc = scm ? OpenServiceW(scm, PR_SERVICE_NAME, SERVICE_QUERY_STATUS) : NULL;
  DWORD e = GetLastError();
  if (svc) CloseServiceHandle(svc);
  if (scm) CloseServiceHandle(scm);
  return scm != NULL && svc == NULL && e == ERROR_SERVICE_DOES_NOT_EXIST;
}

/* Waits until the procrec service is gone (deleted and unloaded). */
static void wait_service_gone(void) {
  for (int i = 0; i < 600 && !service_gone(); i++) Sleep(50); /* 30 s: a loaded machine */
  CHECK(service_gone(), "the test's procrec service went away");
}

/* Creates the procrec service loading `path` (started when `start`). */
static SC_HANDLE make_service(SC_HANDLE scm, const wchar_t *path, int start) {
  SC_HANDLE svc = CreateServiceW(scm, PR_SERVICE_NAME, L"someone else's procrec", SERVICE_ALL_ACCESS,
                                 SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, path, NULL, NULL,
                                 NULL, NULL, NULL);
  CHECK(svc != NULL, "CreateService: Win32 error %lu", GetLastError());
  if (svc != NULL && start) CHECK(StartServiceW(svc, 0, NULL), "StartService: Win32 error %lu", GetLastError());
  return svc;
}

/* defect 5: a procrec service that loads another file is refused, named,
 * and left exactly as it was (never repointed) */
static void check_foreign_service(void) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS), svc;
  union {
    QUERY_SERVICE_CONFIGW c;
    uint8_t mem[8192];
  } q;
  DWORD need = 0;
  void *h = NULL;
  char text[512];
  int32_t rc;
  if (scm == NULL) die(NULL, "OpenSCManager", 0);
  /* the service of the runs before (release check, conformance) is deleted
   * once its driver has unloaded, which a loaded machine can delay */
  wait_service_gone();
  svc = make_service(scm, L"C:\\Users\\Public\\procrec.sys", 0);
  rc = abi.open(NULL, &h);
  abi.last_error(NULL, text, sizeof(text));
  CHECK(rc == PR_E_STATE && h == NULL && strstr(text, "C:\\Users\\Public\\procrec.sys") != NULL &&
            strstr(text, "procrec_test.sys") != NULL,
        "a procrec service loading another file: %d %s", (int)rc, text);
  CHECK(svc != NULL && QueryServiceConfigW(svc, &q.c, sizeof(q), &need) &&
            wcscmp(q.c.lpBinaryPathName, L"C:\\Users\\Public\\procrec.sys") == 0,
        "the existing service still loads its own file");
  if (h != NULL) abi.close(h);
  if (svc != NULL) {
    DeleteService(svc);
    CloseServiceHandle(svc);
  }
  CloseServiceHandle(scm);
  wait_service_gone();
  printf("foreign service: refused (%s)\n", text);
}

/* defect 6: an older procrec.sys already running (another build) is not
 * reused; the service this session did not create or start stays running */
static void check_old_driver(void) {
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS), svc;
  wchar_t mine[MAX_PATH], old[MAX_PATH], *slash;
  SERVICE_STATUS ss;
  void *h = NULL;
  char text[512];
  int32_t rc;
  if (scm == NULL || GetEnvironmentVariableW(L"PROCREC_DRIVER", mine, MAX_PATH) == 0) die(NULL, "set-up", 0);
  wcscpy(old, mine);
  slash = wcsrchr(old, L'\\');
  if (slash == NULL) die(NULL, "PROCREC_DRIVER", 0);
  wcscpy(slash + 1, L"procrec_old.sys");
  svc = make_service(scm, old, 1);
  SetEnvironmentVariableW(L"PROCREC_DRIVER", old); /* same file: only the build differs */
  rc = abi.open(NULL, &h);
  abi.last_error(NULL, text, sizeof(text));
  SetEnvironmentVariableW(L"PROCREC_DRIVER", mine);
  CHECK(rc == PR_E_STATE && h == NULL && strstr(text, "\"old-test\"") != NULL && strstr(text, "sc stop procrec") != NULL,
        "an older driver already running: %d %s", (int)rc, text);
  CHECK(svc != NULL && QueryServiceStatus(svc, &ss) && ss.dwCurrentState == SERVICE_RUNNING,
        "the service procrec.dll did not start is left running");
  if (h != NULL) abi.close(h);
  if (svc != NULL) {
    ControlService(svc, SERVICE_CONTROL_STOP, &ss);
    for (int i = 0; i < 100 && QueryServiceStatus(svc, &ss) && ss.dwCurrentState != SERVICE_STOPPED; i++) Sleep(50);
    DeleteService(svc);
    CloseServiceHandle(svc);
  }
  CloseServiceHandle(scm);
  wait_service_gone();
  printf("older driver running: refused (%s)\n", text);
}

/* --release: the release driver (PROCREC_DRIVER=procrec.sys) loads, starts,
 * takes its snapshot, refuses injection, stops and is removed. */
static int release_check(void) {
  struct procrec_options o;
  struct procrec_stats st;
  char text[512];
  void *h = NULL;
  uint32_t first, n;
  int32_t rc;
  uint8_t item[sizeof(struct pr_inject)];
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  rc = abi.open(&o, &h);
  if (rc != PR_OK) die(NULL, "procrec_open (release driver)", rc);
  rc = abi.start(h);
  if (rc != PR_OK) die(h, "procrec_start (release driver)", rc);
  n = read_some(h, 0, 500, &first);
  CHECK(n >= 1 && rec_at(first)->kind == PR_REC_SNAPSHOT, "release driver: %u snapshot records", n);
  memset(item, 0, sizeof(item));
  rc = abi.control(h, PR_CTL_INJECT, item, sizeof(item));
  abi.last_error(h, text, sizeof(text));
  CHECK(rc == PR_E_NOSUP && strstr(text, "test build") != NULL, "release driver refuses injection: %d %s", (int)rc,
        text);
  CHECK(abi.stats(h, &st) == PR_OK && st.records == n && st.lost_total == 0, "release driver stats");
  CHECK(abi.stop(h) == PR_OK, "procrec_stop (release driver)");
  abi.close(h);
  fclose(out_file);
  CHECK(service_gone(), "release driver's service removed");
  {
    uint32_t hashes = 0, ok = 0;
    for (uint32_t off = first; off < got_len; off += rec_at(off)->size) {
      const struct pr_rec_header *r = rec_at(off);
      if (r->kind != PR_REC_HASH) continue;
      hashes++;
      ok += ((const struct pr_rec_hash *)(const void *)r)->status == PR_HASH_OK;
    }
    printf("release driver: %u image hashes of snapshot processes read, %u ok\n", hashes, ok);
  }
  printf("%s: release driver: %u records, injection refused, %d failures\n", failures ? "FAILED" : "PASSED", n,
         failures);
  return failures ? 1 : 0;
}

int main(int argc, char **argv) {
  struct procrec_options o;
  struct procrec_stats st;
  void *h = NULL;
  int32_t rc;
  char text[256];
  uint32_t first, n, off;
  uint64_t t0_unix = now_unix_ns(), created = filetime_now() - 50000000ull; /* 5 s ago */
  static wchar_t long_cmd[301];
  static char long_cmd8[MAX_STRING + 1];
  HMODULE dll;

  int release = argc == 3 && strcmp(argv[1], "--release") == 0;
  if (argc != 2 && !release) {
    printf("usage: procrec_e2e.exe OUT.bin | procrec_e2e.exe --release OUT.bin\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IONBF, 0);
  out_file = fopen(argv[argc - 1], "wb");
  if (out_file == NULL) {
    printf("ERROR cannot write %s\n", argv[1]);
    return 2;
  }
  /* the release DLL (system driver folder only) or the test DLL (PROCREC_DRIVER) */
  dll = LoadLibraryW(release ? L"procrec.dll" : L"procrec_test.dll");
  if (dll == NULL) {
    printf("ERROR LoadLibrary(%s): Win32 error %lu\n", release ? "procrec.dll" : "procrec_test.dll", GetLastError());
    return 2;
  }
#define LOAD(field, name)                                                                                             \
  abi.field = (void *)GetProcAddress(dll, name);                                                                      \
  if (abi.field == NULL) {                                                                                            \
    printf("ERROR procrec.dll lacks %s\n", name);                                                                     \
    return 2;                                                                                                         \
  }
  LOAD(version, "procrec_abi_version");
  LOAD(open, "procrec_open");
  LOAD(start, "procrec_start");
  LOAD(stop, "procrec_stop");
  LOAD(read, "procrec_read");
  LOAD(stats, "procrec_stats");
  LOAD(close, "procrec_close");
  LOAD(last_error, "procrec_last_error");
  LOAD(source, "procrec_source");
  LOAD(control, "procrec_control");
  CHECK(abi.version() == PROCREC_ABI_VERSION, "abi version %u", abi.version());
  if (release) return release_check();

  check_foreign_service();
  check_old_driver();

  /* An unsupported source fails with a message and no handle. */
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = PR_SOURCE_EBPF;
  rc = abi.open(&o, &h);
  abi.last_error(NULL, text, sizeof(text));
  CHECK(rc == PR_E_NOSUP && h == NULL && strstr(text, "not available on Windows") != NULL, "ebpf source: %d %s",
        (int)rc, text);

  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = PR_SOURCE_WINDOWS;
  /* hashing has its own session (5d): this one's records come in order */
  o.flags = PR_OPT_IMAGE_LOAD | PR_OPT_NO_HASH;
  o.max_string = MAX_STRING;
  rc = abi.open(&o, &h);
  if (rc != PR_OK) die(NULL, "procrec_open", rc);
  CHECK(abi.source(h, text, sizeof(text)) == PR_SOURCE_WINDOWS && strncmp(text, "windows:", 8) == 0, "source %s",
        text);
  { /* defect 4: rules that fill the driver's 2048 units exactly, then one more
     * pattern: refused with a message (procrec.dll wrote past its stack
     * buffer here, and the driver then refused the oversized list) */
    static char big[5000];
    memset(big, 'x', sizeof(big));
    big[2046] = 0; /* 2046 units and their NUL: 2047 of 2048 */
    rc = abi.control(h, PR_CTL_BLOCK_RULES, (const uint8_t *)big, sizeof(big));
    abi.last_error(h, text, sizeof(text));
    CHECK(rc == PR_E_INVAL && strstr(text, "longer than 2048 UTF-16 units") != NULL,
          "block rules past the driver's limit: %d %s", (int)rc, text);
    memset(big, 'x', sizeof(big));
    big[2047] = 0; /* 2047 units and their NUL: exactly 2048, accepted */
    rc = abi.control(h, PR_CTL_BLOCK_RULES, (const uint8_t *)big, 2048);
    abi.last_error(h, text, sizeof(text));
    CHECK(rc == PR_OK, "block rules of exactly 2048 units: %d %s", (int)rc, text);
  }
  {
    static const char rules[] = "*\\nothing-matches.exe\0*\\BLOCKED.exe\0*\\\xc3\x89VIL.exe\0";
    rc = abi.control(h, PR_CTL_BLOCK_RULES, (const uint8_t *)rules, sizeof(rules) - 1);
    if (rc != PR_OK) die(h, "block rules", rc);
  }
  rc = abi.start(h);
  if (rc != PR_OK) die(h, "procrec_start", rc);
  /* READs stay pending (until records come, or cancelled) however slow this
   * machine is; the checks of the timeout itself shorten it again */
  set_read_timeout(600000);

  /* 1. the snapshot of processes already running (Wine's own) */
  n = read_some(h, 0, 500, &first);
  {
    uint32_t snaps = 0, named = 0, with_token = 0, own = 0;
    struct own_token me;
    CHECK(own_token(&me), "this process's token cannot be read in user mode");
    for (off = first; off < got_len; off += rec_at(off)->size) {
      const struct pr_rec_snapshot *s = (const void *)rec_at(off);
      CHECK(s->h.kind == PR_REC_SNAPSHOT, "kind %u before the script, expected snapshots", s->h.kind);
      snaps++;
      if (s->info.comm.len > 0) named++;
      if (s->info.prov_cred == PR_PROV_KERNEL) with_token++;
      if (s->h.pid == GetCurrentProcessId()) {
        /* the driver's reading of this process's token is user mode's */
        own++;
        CHECK(s->info.prov_cred == PR_PROV_KERNEL && str_eq(s, s->info.user, me.sid) &&
                  s->info.sessionid == me.session && s->info.loginuid == PR_ID_UNSET &&
                  s->info.integrity == (me.rid != 0 ? (PR_INTEGRITY_KNOWN | me.rid) : 0u),
              "own snapshot token: prov %u user \"%.*s\" (want %s) session %u (want %lu) integrity 0x%x (want rid "
              "0x%lx)",
              s->info.prov_cred, (int)s->info.user.len, (const char *)s + s->info.user.off, me.sid,
              s->info.sessionid, (unsigned long)me.session, s->info.integrity, (unsigned long)me.rid);
      }
    }
    CHECK(snaps >= 1 && named >= 1, "snapshot: %u records, %u named", snaps, named);
    CHECK(own == 1, "this process (%lu) is in the snapshot %u times", (unsigned long)GetCurrentProcessId(), own);
    printf("snapshot: %u records of running processes, %u with their token (user, session, integrity); this "
           "process: user %s, session %lu, integrity rid 0x%lx\n",
           snaps, with_token, me.sid, (unsigned long)me.session, (unsigned long)me.rid);
  }

  /* 2. the script: one READ is pending in the driver while it is injected */
  for (int i = 0; i < 300; i++) long_cmd[i] = (wchar_t)('a' + i % 26);
  long_cmd[300] = 0;
  for (uint32_t i = 0; i < MAX_STRING; i++) long_cmd8[i] = (char)('a' + i % 26);
  {
    struct item s[] = {
        {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 4100, .ppid = 700, .creator_pid = 700, .creator_tid = 701,
                .create_time = created, .token = 1, .session_id = 1, .integrity_rid = 0x3000},
         .sid = USER_SID, .sid_len = sizeof(USER_SID), .sid8 = "S-1-5-21-123456789-1009719083-675233178-1001",
         .image = L"\\??\\C:\\Windows\\System32\\cmd.exe",
         .cmd = L"cmd.exe /c echo \u00fcn\u00efc\u00f6d\u00e9 \U0001D11E",
         .image8 = "\\??\\C:\\Windows\\System32\\cmd.exe",
         .cmd8 = "cmd.exe /c echo \xc3\xbc" "n\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xf0\x9d\x84\x9e"},
        /* the first thread, created by the creator: not remote */
        {.it = {.op = PR_INJ_THREAD_CREATE, .pid = 4100, .tid = 4104, .creator_pid = 700, .creator_tid = 701},
         .first = 1},
        {.it = {.op = PR_INJ_THREAD_CREATE, .pid = 4100, .tid = 4108, .creator_pid = 4100, .creator_tid = 4104}},
        /* a later thread that process 700 creates in 4100: remote */
        {.it = {.op = PR_INJ_THREAD_CREATE, .pid = 4100, .tid = 4112, .creator_pid = 700, .creator_tid = 701}},
        {.it = {.op = PR_INJ_IMAGE_LOAD, .pid = 4100, .tid = 4104, .base = 0x7ff800000000ull, .image_size = 0x1f0000},
         /* an unpaired low surrogate in its name: kept as its value (WTF-8) */
         .image = L"\\SystemRoot\\System32\\ntdll\xDC00.dll",
         .image8 = "\\SystemRoot\\System32\\ntdll\xed\xb0\x80.dll"},
        {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 4200, .ppid = 4100, .creator_pid = 4100, .creator_tid = 4108,
                .create_time = created},
         .image = L"\\??\\C:\\evil\\blocked.exe", .cmd = L"blocked.exe --payload",
         .image8 = "\\??\\C:\\evil\\blocked.exe", .cmd8 = "blocked.exe --payload", .denied = 1},
        {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 4300, .ppid = 4100, .creator_pid = 4100, .creator_tid = 4104,
                .create_time = created},
         .image = L"\\??\\C:\\Windows\\System32\\find.exe", .cmd = long_cmd,
         .image8 = "\\??\\C:\\Windows\\System32\\find.exe", .cmd8 = long_cmd8, .cmd_cut = 1},
        {.it = {.op = PR_INJ_PROCESS_EXIT, .pid = 4300, .status = 1, .create_time = created}},
        {.it = {.op = PR_INJ_THREAD_EXIT, .pid = 4100, .tid = 4108, .status = 0}},
        {.it = {.op = PR_INJ_THREAD_EXIT, .pid = 4100, .tid = 4104, .status = 0xC000013Au, .exiting = 1}},
        {.it = {.op = PR_INJ_PROCESS_EXIT, .pid = 4100, .status = 0xC000013Au, .create_time = created}},
        /* names as the kernel may really give them: a device path in mixed
         * case (still denied by "*\\BLOCKED.exe"), forward slashes, a short
         * 8.3 name and an unpaired surrogate (kept as its value, WTF-8:
         * bytes that are not UTF-8, flagged by the recording) */
        {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 4400, .ppid = 700, .creator_pid = 700, .creator_tid = 701,
                .create_time = created},
         .image = L"\\Device\\HarddiskVolume3\\EVIL\\Blocked.EXE", .cmd = L"Blocked.EXE",
         .image8 = "\\Device\\HarddiskVolume3\\EVIL\\Blocked.EXE", .cmd8 = "Blocked.EXE", .denied = 1},
        {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 4500, .ppid = 700, .creator_pid = 700, .creator_tid = 701,
                .create_time = created},
         .image = L"\\??\\c:/Temp/PROGRA~1/x\xD800y.exe", .cmd = L"x\xDC00",
         .image8 = "\\??\\c:/Temp/PROGRA~1/x\xed\xa0\x80y.exe", .cmd8 = "x\xed\xb0\x80"},
        /* a non-ASCII name in another case: denied by "*\\\u00c9VIL.exe" */
        {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 4600, .ppid = 700, .creator_pid = 700, .creator_tid = 701,
                .create_time = created},
         .image = L"\\??\\C:\\Temp\\\u00e9vil.EXE", .cmd = L"x",
         .image8 = "\\??\\C:\\Temp\\\xc3\xa9vil.EXE", .cmd8 = "x", .denied = 1},
    };
    uint32_t count = sizeof(s) / sizeof(s[0]);
    struct pr_drv_stats before, after;
    for (uint32_t i = 0; i < count; i++) add(&s[i]);
    /* an empty read leaves a READ pending in the driver ... */
    CHECK(abi.read(h, rbuf, sizeof(rbuf), 10) == 0, "read before the script is empty");
    before = driver_stats();
    inject(h);
    n = read_some(h, count, 30000, &first);
    after = driver_stats();
    /* ... which the driver completes as the records arrive */
    CHECK(after.served >= before.served + 1 && after.timed_out == before.timed_out,
          "pending READ: served %llu -> %llu, timed out %llu -> %llu", (unsigned long long)before.served,
          (unsigned long long)after.served, (unsigned long long)before.timed_out, (unsigned long long)after.timed_out);
    CHECK(n == count, "script: read %u records, expected %u", n, count);
    off = first;
    for (uint32_t i = 0; i < count; i++) expect(&off, got_len, &s[i], t0_unix);
    printf("script: %u records compared\n", n);
  }

  /* 3. overflow: no READ pending (pausing cancels it), the ring fills up */
  {
    struct pr_drv_stats before, after;
    CHECK(abi.read(h, rbuf, sizeof(rbuf), 10) == 0, "read before the overflow is empty");
    before = driver_stats();
    rc = abi.control(h, PR_CTL_PAUSE_READER, NULL, 0);
    if (rc != PR_OK) die(h, "pause", rc);
    after = driver_stats();
    CHECK(after.cancelled == before.cancelled + 1, "pausing cancelled %llu pending READs in the driver, expected 1",
          (unsigned long long)(after.cancelled - before.cancelled));
    CHECK(after.test_build == 1 && after.denied == 3 && after.running == 1 && (after.features & PR_FEAT_PROCESS_EX) &&
              (after.features & PR_FEAT_POOL_NX) == (windows_8_or_later() ? PR_FEAT_POOL_NX : 0),
          "driver stats: test build %u, denied %llu, running %u, features 0x%x", after.test_build,
          (unsigned long long)after.denied, after.running, after.features);
  }
  {
    struct item marker = {.it = {.op = PR_INJ_PROCESS_EXIT, .pid = 5000, .status = 7}};
    uint32_t stored = overflow_and_drain(h, 5000, 6000, "overflow");
    /* a later record comes after the lost record, alone */
    add(&marker);
    inject(h);
    n = read_some(h, 1, 30000, &first);
    CHECK(n == 1, "after overflow: %u records, expected the marker alone", n);
    off = first;
    expect(&off, got_len, &marker, t0_unix);
    rc = abi.stats(h, &st);
    if (rc != PR_OK) die(h, "procrec_stats", rc);
    CHECK(st.lost_driver == OVERFLOW_N - stored && st.lost_total == st.lost_driver && st.lost_ring == 0,
          "stats: lost_driver %llu lost_total %llu lost_ring %llu", (unsigned long long)st.lost_driver,
          (unsigned long long)st.lost_total, (unsigned long long)st.lost_ring);
    CHECK(st.records == next_seq, "stats: records %llu, read %llu", (unsigned long long)st.records,
          (unsigned long long)next_seq);
  }

  /* 4. a READ pending when its handle closes is cancelled at once (the
   * driver's READ timeout is 10 minutes here): on Windows by IRP_MJ_CLEANUP;
   * Wine 8 sends no cleanup request, only IRP_MJ_CLOSE, which does the same */
  {
    struct pr_drv_stats before, after;
    OVERLAPPED ov;
    DWORD got = 0;
    HANDLE dev = CreateFileW(PR_WIN32_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                             FILE_FLAG_OVERLAPPED, NULL);
    BOOL ok;
    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    rc = abi.control(h, PR_CTL_PAUSE_READER, NULL, 0); /* so that this READ is the only one */
    if (rc != PR_OK) die(h, "pause", rc);
    before = driver_stats();
    ok = DeviceIoControl(dev, IOCTL_PR_READ, NULL, 0, rbuf, sizeof(rbuf), &got, &ov);
    CHECK(!ok && GetLastError() == ERROR_IO_PENDING, "READ on an empty ring is pending (ok %d, error %lu)", ok,
          GetLastError());
    CloseHandle(dev);
    {
      DWORD t0 = GetTickCount();
      CHECK(WaitForSingleObject(ov.hEvent, 10000) == WAIT_OBJECT_0, "READ completed within 10 s of its handle closing");
      after = driver_stats();
      printf("close with a READ pending: completed after %lu ms; cleanups %llu -> %llu, closes %llu -> %llu, "
             "cancelled %llu -> %llu, timed out %llu -> %llu\n",
             GetTickCount() - t0, (unsigned long long)before.cleanups, (unsigned long long)after.cleanups,
             (unsigned long long)before.closes, (unsigned long long)after.closes,
             (unsigned long long)before.cancelled, (unsigned long long)after.cancelled,
             (unsigned long long)before.timed_out, (unsigned long long)after.timed_out);
    }
    CHECK(after.cancelled == before.cancelled + 1 && after.timed_out == before.timed_out &&
              (after.cleanups + after.closes) > (before.cleanups + before.closes),
          "closing the handle: %llu READs cancelled (want 1), %llu timed out (want 0), cleanup/close requests %llu",
          (unsigned long long)(after.cancelled - before.cancelled),
          (unsigned long long)(after.timed_out - before.timed_out),
          (unsigned long long)((after.cleanups + after.closes) - (before.cleanups + before.closes)));
    CloseHandle(ov.hEvent);
    rc = abi.control(h, PR_CTL_RESUME_READER, NULL, 0);
    if (rc != PR_OK) die(h, "resume", rc);
  }

  /* 5. producers on several threads at once while the reader drains: every
   * record stored or counted lost, each producer's order kept */
  {
    HANDLE threads[PRODUCERS];
    uint32_t seen[PRODUCERS], stored = 0, lost = 0, bad_order = 0;
    par_start = got_len;
    for (uint32_t k = 0; k < PRODUCERS; k++) {
      seen[k] = 0;
      threads[k] = CreateThread(NULL, 0, producer, (LPVOID)(uintptr_t)k, 0, NULL);
      if (threads[k] == NULL) die(h, "CreateThread", 0);
    }
    for (;;) { /* read while they inject */
      DWORD w = WaitForMultipleObjects(PRODUCERS, threads, TRUE, 0);
      read_some(h, 1, 50, &first);
      if (w != WAIT_TIMEOUT) break;
    }
    for (uint32_t k = 0; k < PRODUCERS; k++) CloseHandle(threads[k]);
    {
      uint32_t from = got_len;
      struct item marker = {.it = {.op = PR_INJ_PROCESS_EXIT, .pid = 7999, .status = 0}};
      add(&marker); /* flushes a pending lost count, if any */
      inject(h);
      for (;;) { /* until the marker, however slow the machine */
        const struct pr_rec_header *last = NULL;
        for (uint32_t o = from; o < got_len; o += rec_at(o)->size) last = rec_at(o);
        if (last != NULL && last->kind == PR_REC_PROCESS_EXIT && last->pid == 7999) break;
        if (read_some(h, 1, 30000, &from) == 0) {
          CHECK(0, "parallel: the marker never came");
          break;
        }
      }
    }
    for (off = par_start; off < got_len; off += rec_at(off)->size) {
      const struct pr_rec_header *r = rec_at(off);
      if (r->kind == PR_REC_LOST) {
        lost += (uint32_t)((const struct pr_rec_lost *)(const void *)r)->count;
      } else if (r->kind == PR_REC_THREAD_CREATE && r->pid >= 7000 && r->pid < 7000 + PRODUCERS) {
        uint32_t k = r->pid - 7000;
        if (r->tid <= seen[k] + 10000 * (k + 1) && seen[k] != 0) bad_order++;
        seen[k] = r->tid - 10000 * (k + 1);
        stored++;
      }
    }
    CHECK(bad_order == 0, "%u records out of their producer's order", bad_order);
    CHECK(stored + lost == PRODUCERS * PER_PRODUCER, "parallel: %u stored + %u lost, expected %u", stored, lost,
          PRODUCERS * PER_PRODUCER);
    printf("parallel: %u producers, %u records stored, %u counted lost\n", PRODUCERS, stored, lost);
  }

  /* 5b. a second session on the same driver (defect 3): it starts with image
   * loads, stops and closes; the first session keeps recording, image loads
   * included (its own START asked for them) */
  {
    struct procrec_options o2;
    struct pr_drv_stats mid, after;
    void *h2 = NULL;
    uint32_t from;
    struct item probe[] = {
        {.it = {.op = PR_INJ_THREAD_CREATE, .pid = 7900, .tid = 7901, .creator_pid = 7900, .creator_tid = 7901}},
        {.it = {.op = PR_INJ_IMAGE_LOAD, .pid = 7900, .tid = 7901, .base = 0x10000, .image_size = 0x1000},
         .image = L"\\x.dll", .image8 = "\\x.dll"},
        {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 7950, .ppid = 7900, .creator_pid = 7900, .creator_tid = 7901,
                .create_time = created},
         .image = L"\\??\\C:\\x2.exe", .cmd = L"x2.exe", .image8 = "\\??\\C:\\x2.exe", .cmd8 = "x2.exe"},
    };
    memset(&o2, 0, sizeof(o2));
    o2.size = sizeof(o2);
    o2.flags = PR_OPT_IMAGE_LOAD | PR_OPT_NO_SNAPSHOT;
    rc = abi.open(&o2, &h2);
    if (rc != PR_OK) die(NULL, "procrec_open (second session)", rc);
    { /* issue 18 item 4: block rules belong to the handle that set them */
      static const char rules2[] = "*\\x2.exe";
      char msg[512];
      rc = abi.control(h2, PR_CTL_BLOCK_RULES, (const uint8_t *)rules2, sizeof(rules2));
      abi.last_error(h2, msg, sizeof(msg));
      CHECK(rc == PR_E_STATE && strstr(msg, "another procrec session holds") != NULL,
            "rules of the second session while the first holds its own: %d %s", (int)rc, msg);
      CHECK(abi.control(h, PR_CTL_BLOCK_RULES, NULL, 0) == PR_OK, "the first session clears its rules");
      rc = abi.control(h2, PR_CTL_BLOCK_RULES, (const uint8_t *)rules2, sizeof(rules2));
      CHECK(rc == PR_OK, "then the second session sets its own: %d", (int)rc);
    }
    CHECK(abi.start(h2) == PR_OK, "second session starts");
    mid = driver_stats();
    CHECK(abi.stop(h2) == PR_OK, "second session stops");
    abi.close(h2);
    after = driver_stats();
    CHECK(mid.running == 1 && after.running == 1 && after.image_on == 1,
          "after the second session's stop and close: running %u, image loads %u (want 1, 1)", after.running,
          after.image_on);
    for (uint32_t i = 0; i < 3; i++) add(&probe[i]);
    inject(h);
    n = read_some(h, 3, 30000, &from);
    CHECK(n == 3, "first session after the second one stopped: %u records, expected 3", n);
    off = from;
    /* ... and its rules went with its handle: x2.exe is not denied */
    for (uint32_t i = 0; i < 3 && off < got_len; i++) expect(&off, got_len, &probe[i], t0_unix);
  }

  /* 5c. the spellings of one path (issue 18 item 4): rules and names are
   * matched in one normalized form, so no object-manager prefix, UNC form,
   * separator or ".." bypasses a rule */
  {
    static const char rules[] = "\\??\\C:\\tmp\\evil.exe\0\\\\srv\\share\\evil.exe\0"
                                "\\Device\\HarddiskVolume9\\x\\evil.exe\0";
    static const wchar_t *const denied[] = {
        L"C:\\tmp\\evil.exe",
        L"\\??\\C:\\TMP\\EVIL.EXE",
        L"\\\\?\\C:\\tmp\\evil.exe",
        L"\\\\.\\c:\\tmp\\evil.exe",
        L"\\DosDevices\\C:\\tmp\\evil.exe",
        L"\\GLOBAL??\\C:\\tmp\\evil.exe",
        L"\\??\\GLOBALROOT\\??\\C:\\tmp\\evil.exe",
        L"\\??\\C:/tmp//./sub/../evil.exe",
        L"\\??\\UNC\\srv\\share\\evil.exe",
        L"\\\\?\\UNC\\SRV\\share\\evil.exe",
        L"\\Device\\Mup\\srv\\share\\evil.exe",
        L"\\??\\GLOBALROOT\\Device\\Mup\\srv\\share\\evil.exe",
        L"//srv/share/a/../evil.exe",
        L"\\??\\GLOBALROOT\\Device\\HarddiskVolume9\\x\\evil.exe",
        L"\\\\?\\GLOBALROOT\\Device\\HarddiskVolume9\\y\\..\\x\\evil.exe",
    };
    static const wchar_t *const allowed[] = {
        L"\\??\\C:\\tmp\\evil.exe.txt", L"\\??\\C:\\tmp2\\evil.exe", L"\\??\\UNC\\srv\\other\\evil.exe",
        L"\\??\\C:\\tmp\\x\\..\\..\\evil.exe",
    };
    uint32_t nd = sizeof(denied) / sizeof(denied[0]), na = sizeof(allowed) / sizeof(allowed[0]), from, hits = 0;
    uint32_t bad = 0;
    rc = abi.control(h, PR_CTL_BLOCK_RULES, (const uint8_t *)rules, sizeof(rules) - 1);
    CHECK(rc == PR_OK, "rules in three spellings: %d", (int)rc);
    for (uint32_t i = 0; i < nd + na; i++) {
      struct item x = {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 8000 + 4 * i, .ppid = 700, .creator_pid = 700,
                              .creator_tid = 701, .create_time = created},
                       .image = i < nd ? denied[i] : allowed[i - nd], .cmd = L"x"};
      add(&x);
    }
    inject(h);
    n = read_some(h, nd + na, 30000, &from);
    CHECK(n == nd + na, "name forms: %u records, expected %u", n, nd + na);
    for (off = from; off < got_len; off += rec_at(off)->size) {
      const struct pr_rec_header *r = rec_at(off);
      uint32_t i = (r->pid - 8000) / 4;
      int want = i < nd;
      if (r->kind != PR_REC_PROCESS_CREATE || r->pid < 8000 || i >= nd + na) continue;
      if (((r->flags & PR_F_DENIED) != 0) != want) {
        bad++;
        printf("FAIL name form %ls: %s\n", i < nd ? denied[i] : allowed[i - nd], want ? "not denied" : "denied");
      }
      hits += (r->flags & PR_F_DENIED) != 0;
    }
    CHECK(bad == 0, "%u name forms decided wrongly", bad);
    CHECK(abi.control(h, PR_CTL_BLOCK_RULES, NULL, 0) == PR_OK, "rules cleared");
    printf("name forms: %u spellings of 3 rules denied, %u other paths allowed\n", hits, na);
  }

  /* 5e. a rule that names a file denies every other name of it (issue 18
   * item 4): its 8.3 short name and its \Device form (names procrec.dll adds
   * when the rules are set), and, by the file's identity, which the driver
   * compares with each image's: a hard link and a junction to its folder
   * made AFTER the rules were set. Another file in the folder is allowed. */
  {
    static const WCHAR dir[] = L"C:\\users\\public\\prnames";
    static const WCHAR file[] = L"C:\\users\\public\\prnames\\a_long_evil_name.exe";
    static const WCHAR link[] = L"C:\\users\\public\\prnames\\innocent.exe";
    static const WCHAR other[] = L"C:\\users\\public\\prnames\\other.exe";
    static const WCHAR jdir[] = L"C:\\users\\public\\prjunction";
    static const char rule[] = "C:\\users\\public\\prnames\\a_long_evil_name.exe";
    /* run_wine.sh makes this a Unix symbolic link to prnames, the folder
     * link Wine has (its file system has no junctions) */
    static const WCHAR dirlink[] = L"C:\\users\\public\\prdirlink";
    WCHAR shortp[MAX_PATH], nt[MAX_PATH], forms[6][MAX_PATH + 8];
    const char *what[6] = {"8.3 short name", "hard link made after the rules", "\\Device form",
                           "junction made after the rules", "another file", "folder symbolic link"};
    int want[6] = {1, 1, 1, 1, 0, 1}, linked, junction = 0, dirlinked;
    DWORD junction_err = 0;
    uint32_t from, k = 0, bad = 0, nforms = 6;
    struct pr_drv_stats before, after;
    HANDLE f;
    DWORD wrote;
    CreateDirectoryW(dir, NULL);
    f = CreateFileW(file, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    CHECK(f != INVALID_HANDLE_VALUE && WriteFile(f, "MZ", 2, &wrote, NULL), "file made");
    CloseHandle(f);
    f = CreateFileW(other, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
    CloseHandle(f);
    DeleteFileW(link);
    RemoveDirectoryW(jdir);
    CHECK(GetShortPathNameW(file, shortp, MAX_PATH) > 0 && wcscmp(shortp, file) != 0, "a short name for %ls",
          file);
    f = CreateFileW(file, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                    OPEN_EXISTING, 0, NULL);
    nt[0] = 0;
    CHECK(f != INVALID_HANDLE_VALUE && GetFinalPathNameByHandleW(f, nt, MAX_PATH, VOLUME_NAME_NT) > 0,
          "the file's \\Device form");
    CloseHandle(f);
    rc = abi.control(h, PR_CTL_BLOCK_RULES, (const uint8_t *)rule, sizeof(rule));
    CHECK(rc == PR_OK, "a rule naming a file: %d", (int)rc);
    before = driver_stats();
    /* the other names, made now that the rules are set */
    linked = CreateHardLinkW(link, file, NULL) != 0;
    CHECK(linked, "CreateHardLinkW after the rules: Win32 error %lu", GetLastError());
    if (CreateDirectoryW(jdir, NULL)) { /* a mount point (junction) to the rule's folder */
      static const WCHAR sub[] = L"\\??\\C:\\users\\public\\prnames\\", print[] = L"C:\\users\\public\\prnames";
      struct {
        DWORD tag;
        WORD data_len, reserved, sub_off, sub_len, print_off, print_len;
        WCHAR path[128];
      } rp;
      DWORD got = 0;
      HANDLE d = CreateFileW(jdir, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                             FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
      memset(&rp, 0, sizeof(rp));
      rp.tag = 0xA0000003u; /* IO_REPARSE_TAG_MOUNT_POINT */
      rp.sub_off = 0;
      rp.sub_len = (WORD)(wcslen(sub) * 2u);
      rp.print_off = (WORD)(rp.sub_len + 2u);
      rp.print_len = (WORD)(wcslen(print) * 2u);
      memcpy(rp.path, sub, rp.sub_len);
      memcpy((BYTE *)rp.path + rp.print_off, print, rp.print_len);
      rp.data_len = (WORD)(8u + rp.sub_len + 2u + rp.print_len + 2u);
      if (d == INVALID_HANDLE_VALUE) {
        junction_err = GetLastError();
      } else {
        junction = DeviceIoControl(d, FSCTL_SET_REPARSE_POINT, &rp, 8u + rp.data_len, NULL, 0, &got, NULL) != 0;
        if (!junction) junction_err = GetLastError();
        CloseHandle(d);
      }
      if (junction) { /* the junction leads to the file */
        WCHAR via[MAX_PATH];
        swprintf(via, MAX_PATH, L"%ls\\a_long_evil_name.exe", jdir);
        f = CreateFileW(via, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                        OPEN_EXISTING, 0, NULL);
        CHECK(f != INVALID_HANDLE_VALUE, "the file through the junction: Win32 error %lu", GetLastError());
        if (f != INVALID_HANDLE_VALUE) CloseHandle(f);
      }
    } else {
      junction_err = GetLastError();
    }
    swprintf(forms[0], MAX_PATH + 8, L"\\??\\%ls", shortp);
    swprintf(forms[1], MAX_PATH + 8, L"\\??\\%ls", link);
    swprintf(forms[2], MAX_PATH + 8, L"%ls", nt);
    swprintf(forms[3], MAX_PATH + 8, L"\\??\\%ls\\a_long_evil_name.exe", jdir);
    swprintf(forms[4], MAX_PATH + 8, L"\\??\\%ls", other);
    swprintf(forms[5], MAX_PATH + 8, L"\\??\\%ls\\a_long_evil_name.exe", dirlink);
    dirlinked = GetFileAttributesW(dirlink) != INVALID_FILE_ATTRIBUTES;
    if (!dirlinked) want[5] = 0;
    if (!linked) want[1] = 0;
    if (!junction) want[3] = 0; /* no junction: the path does not exist */
    for (uint32_t i = 0; i < nforms; i++) {
      struct item x = {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 8600 + 4 * i, .ppid = 700, .creator_pid = 700,
                              .creator_tid = 701, .create_time = created},
                       .image = forms[i], .cmd = L"x"};
      add(&x);
    }
    inject(h);
    n = read_some(h, nforms, 30000, &from);
    CHECK(n == nforms, "other names: %u records, expected %u", n, nforms);
    for (off = from; off < got_len; off += rec_at(off)->size) {
      const struct pr_rec_header *r = rec_at(off);
      uint32_t i = (r->pid - 8600) / 4;
      int denied = (r->flags & PR_F_DENIED) != 0;
      if (r->kind != PR_REC_PROCESS_CREATE || r->pid < 8600 || i >= nforms) continue;
      if (denied != want[i]) {
        bad++;
        printf("FAIL %s %ls: %s\n", what[i], forms[i], denied ? "denied" : "not denied");
      }
      k += denied;
    }
    CHECK(bad == 0, "%u other names decided wrongly", bad);
    after = driver_stats();
    /* the names made after the rules are denied by identity only; the
     * others by name (no identity read for them) */
    CHECK(after.id_denied - before.id_denied == (uint64_t)(linked + junction + dirlinked),
          "denied by identity: %llu, expected %d (hard link, junction, folder link)",
          (unsigned long long)(after.id_denied - before.id_denied), linked + junction + dirlinked);
    CHECK(after.id_unknown - before.id_unknown == (uint64_t)(!junction + !dirlinked),
          "identities not read: %llu (only paths that do not exist)",
          (unsigned long long)(after.id_unknown - before.id_unknown));
    CHECK(abi.control(h, PR_CTL_BLOCK_RULES, NULL, 0) == PR_OK, "rules cleared");
    printf("other names of a rule's file: %u of %d denied (short %ls, device %ls; made after the rules: hard link %s, "
           "junction %s; folder symbolic link %s); %llu by identity, %llu identities read\n",
           k, 2 + linked + junction + dirlinked, shortp, nt, linked ? "made" : "not made",
           junction ? "made" : "not made", dirlinked ? "made" : "not made",
           (unsigned long long)(after.id_denied - before.id_denied),
           (unsigned long long)(after.id_queries - before.id_queries));
    if (!junction)
      printf("junction: not made here: DeviceIoControl(FSCTL_SET_REPARSE_POINT, IO_REPARSE_TAG_MOUNT_POINT) on %ls "
             "failed with Win32 error %lu\n",
             jdir, junction_err);
    RemoveDirectoryW(jdir);
  }

  /* 5f. the one rule language through procrec.dll (PR_CTL_EXEC_RULES,
   * issue 18 item 1): deny rules with path globs become the driver's rules,
   * a rule naming a file brings its identity (a hard link made after is
   * denied); a rule the driver cannot enforce is refused, naming the rule and
   * field; the rules belong to the handle: closed, they are gone. */
  {
    struct {
      struct pr_rule_set set;
      struct pr_rule r[2];
    } rs;
    static const char p0[] = "*\\exec_rules_denied.exe", p1[] = "C:\\users\\public\\prnames\\other.exe";
    static const WCHAR other_link[] = L"C:\\users\\public\\prnames\\other_link.exe";
    static const wchar_t *const imgs[] = {L"\\??\\C:\\x\\EXEC_RULES_DENIED.exe",
                                          L"\\??\\C:\\users\\public\\prnames\\other.exe",
                                          L"\\??\\C:\\users\\public\\prnames\\other_link.exe",
                                          L"\\??\\C:\\x\\allowed.exe"};
    const int want[4] = {1, 1, 1, 0};
    struct procrec_options o2;
    void *h2 = NULL;
    char msg[512];
    uint32_t from, bad = 0, denied_n = 0, round;
    memset(&rs, 0, sizeof(rs));
    rs.set.size = sizeof(rs.set);
    rs.set.rules = 2;
    rs.r[0].action = PR_RULE_DENY;
    rs.r[0].match = PR_RM_PATH;
    rs.r[0].path_len = (uint16_t)strlen(p0);
    memcpy(rs.r[0].path, p0, strlen(p0));
    rs.r[1].action = PR_RULE_DENY;
    rs.r[1].match = PR_RM_PATH;
    rs.r[1].path_len = (uint16_t)strlen(p1);
    memcpy(rs.r[1].path, p1, strlen(p1));
    memset(&o2, 0, sizeof(o2));
    o2.size = sizeof(o2);
    o2.flags = PR_OPT_NO_SNAPSHOT;
    rc = abi.open(&o2, &h2);
    if (rc != PR_OK) die(NULL, "procrec_open (exec rules session)", rc);
    rs.r[1].action = PR_RULE_AUDIT;
    rc = abi.control(h2, PR_CTL_EXEC_RULES, (const uint8_t *)&rs, sizeof(rs));
    abi.last_error(h2, msg, sizeof(msg));
    CHECK(rc == PR_E_NOSUP && strstr(msg, "rule 1: field action") != NULL, "an audit rule refused: %d %s", (int)rc,
          msg);
    rs.r[1].action = PR_RULE_DENY;
    rc = abi.control(h2, PR_CTL_EXEC_RULES, (const uint8_t *)&rs, sizeof(rs));
    abi.last_error(h2, msg, sizeof(msg));
    CHECK(rc == PR_OK, "exec rules set through procrec.dll: %d %s", (int)rc, msg);
    DeleteFileW(other_link);
    CHECK(CreateHardLinkW(other_link, L"C:\\users\\public\\prnames\\other.exe", NULL),
          "a hard link made after the exec rules: Win32 error %lu", GetLastError());
    for (round = 0; round < 2; round++) { /* with the rules, then with their handle closed */
      uint32_t denied_round = 0;
      for (uint32_t i = 0; i < 4; i++) {
        struct item x = {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 8700 + 40 * round + 4 * i, .ppid = 700,
                                .creator_pid = 700, .creator_tid = 701, .create_time = created},
                         .image = imgs[i], .cmd = L"x"};
        add(&x);
      }
      inject(h);
      n = read_some(h, 4, 30000, &from);
      CHECK(n == 4, "exec rules round %u: %u records, expected 4", round, n);
      for (off = from; off < got_len; off += rec_at(off)->size) {
        const struct pr_rec_header *r = rec_at(off);
        uint32_t i = (r->pid - 8700 - 40 * round) / 4;
        int denied = (r->flags & PR_F_DENIED) != 0;
        if (r->kind != PR_REC_PROCESS_CREATE || r->pid < 8700 + 40 * round || i > 3) continue;
        denied_round += denied;
        if (denied != (round == 0 ? want[i] : 0)) {
          bad++;
          printf("FAIL exec rules round %u %ls: %s\n", round, imgs[i], denied ? "denied" : "not denied");
        }
      }
      if (round == 0) {
        denied_n = denied_round;
        abi.close(h2); /* the handle that set the rules closes: they go */
      }
    }
    CHECK(bad == 0, "%u exec-rule decisions wrong", bad);
    CHECK(abi.control(h, PR_CTL_BLOCK_RULES, (const uint8_t *)p0, sizeof(p0)) == PR_OK &&
              abi.control(h, PR_CTL_BLOCK_RULES, NULL, 0) == PR_OK,
          "after the close another handle may set rules");
    printf("exec rules through procrec.dll: %u of 3 denied (a glob, a file by name, its hard link made after), "
           "0 of 4 once the handle closed; an audit rule refused\n",
           denied_n);
  }

  /* 5d. image hashes (issue 12 item 5): a session with hashing on reads
   * while this one's reader pauses. Three creations: this program's own
   * image (hashed), the same image again (from the cache), a file that does
   * not exist (gone). procrec.dll's worker writes one PR_REC_HASH each, after
   * the create it belongs to; the Deno test compares the hash with its own
   * SHA-256 of build/procrec_e2e.exe. */
  {
    struct procrec_options o3;
    void *h3 = NULL;
    WCHAR self[MAX_PATH], img[MAX_PATH + 8];
    uint64_t saved_seq = next_seq;
    uint32_t from, creates = 0, hashes = 0, cached = 0, gone = 0;
    uint64_t create_mono[3] = {0, 0, 0}, create_start[3] = {0, 0, 0};
    uint8_t first_sha[32];
    struct procrec_stats hs;
    DWORD len = GetModuleFileNameW(NULL, self, MAX_PATH);
    CHECK(len > 0 && len < MAX_PATH, "own path");
    swprintf(img, MAX_PATH + 8, L"\\??\\%ls", self);
    memset(first_sha, 0, sizeof(first_sha));
    CHECK(abi.control(h, PR_CTL_PAUSE_READER, NULL, 0) == PR_OK, "first session's reader paused");
    memset(&o3, 0, sizeof(o3));
    o3.size = sizeof(o3);
    o3.flags = PR_OPT_NO_SNAPSHOT;
    rc = abi.open(&o3, &h3);
    if (rc != PR_OK) die(NULL, "procrec_open (hash session)", rc);
    CHECK(abi.start(h3) == PR_OK, "hash session starts");
    {
      /* created now (create_time 0): the worker refuses a file changed
       * since its process started, and this program may be younger than
       * `created` */
      struct item x[] = {
          {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 9000, .ppid = 700, .creator_pid = 700, .creator_tid = 701},
           .image = img, .cmd = L"procrec_e2e.exe"},
          {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 9004, .ppid = 700, .creator_pid = 700, .creator_tid = 701},
           .image = img, .cmd = L"procrec_e2e.exe"},
          {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 9008, .ppid = 700, .creator_pid = 700, .creator_tid = 701},
           .image = L"\\??\\C:\\no\\such\\file.exe", .cmd = L"file.exe"},
      };
      for (int i = 0; i < 3; i++) add(&x[i]);
    }
    inject(h3);
    next_seq = 0; /* the hash session's own ring */
    n = read_some(h3, 6, 30000, &from);
    CHECK(n == 6, "hash session: %u records, expected 3 creates and 3 hashes", n);
    for (off = from; off < got_len; off += rec_at(off)->size) {
      const struct pr_rec_header *r = rec_at(off);
      uint32_t i = (r->pid - 9000) / 4;
      if (r->pid < 9000 || i > 2) continue;
      if (r->kind == PR_REC_PROCESS_CREATE) {
        const struct pr_rec_process_create *c = (const void *)r;
        creates++;
        create_mono[i] = r->mono_ns;
        create_start[i] = c->start_ns;
      } else if (r->kind == PR_REC_HASH) {
        const struct pr_rec_hash *hr = (const void *)r;
        hashes++;
        CHECK(create_mono[i] != 0 && hr->exec_ns == create_mono[i] && hr->start_ns == create_start[i],
              "pid %u: the hash names its create (exec_ns %llu, start %llu)", r->pid,
              (unsigned long long)hr->exec_ns, (unsigned long long)hr->start_ns);
        if (i == 0) {
          CHECK(hr->status == PR_HASH_OK && hr->hash_flags == PR_H_VIA_PATH && hr->size > 0 && hr->ino != 0,
                "own image hashed: status %u flags 0x%x size %llu", hr->status, hr->hash_flags,
                (unsigned long long)hr->size);
          memcpy(first_sha, hr->sha256, 32);
        } else if (i == 1) {
          CHECK(hr->status == PR_HASH_OK && (hr->hash_flags & PR_H_CACHED) != 0 &&
                    memcmp(hr->sha256, first_sha, 32) == 0,
                "the same image again: from the cache, the same hash (status %u flags 0x%x)", hr->status,
                hr->hash_flags);
          cached += (hr->hash_flags & PR_H_CACHED) != 0;
        } else {
          CHECK(hr->status == PR_HASH_GONE && hr->err == 6u, "a missing file: gone (path-missing), got %u/%u",
                hr->status, hr->err);
          gone += hr->status == PR_HASH_GONE;
        }
      }
    }
    CHECK(creates == 3 && hashes == 3, "hash session: %u creates, %u hashes", creates, hashes);
    CHECK(abi.stats(h3, &hs) == PR_OK && hs.hash_read == 1 && hs.hash_cached == 1 && hs.hash_bytes > 0,
          "hash stats: read %llu, cached %llu, bytes %llu", (unsigned long long)hs.hash_read,
          (unsigned long long)hs.hash_cached, (unsigned long long)hs.hash_bytes);
    /* Then, with the worker paused between the creations and their hashing:
     * a fresh copy of this program (pid 9012: read, the same hash), another
     * copy written to after its creation (9016: changed, ctime-after-exec,
     * never the hash of what it holds now) and a third that another handle
     * holds without sharing (9020: error, EACCES). */
    {
      WCHAR tmp[MAX_PATH], copy[3][MAX_PATH], nt[3][MAX_PATH + 8];
      uint32_t seen = 0;
      HANDLE w, lock;
      DWORD put = 0;
      DWORD tl = GetTempPathW(MAX_PATH, tmp);
      CHECK(tl > 0 && tl < MAX_PATH - 32, "temp path");
      for (int i = 0; i < 3; i++) {
        swprintf(copy[i], MAX_PATH, L"%lshash%d-%lu.exe", tmp, i, (unsigned long)GetCurrentProcessId());
        swprintf(nt[i], MAX_PATH + 8, L"\\??\\%ls", copy[i]);
        CHECK(CopyFileW(self, copy[i], FALSE), "copy %ls: Win32 error %lu", copy[i], GetLastError());
      }
      Sleep(200); /* the copies' change times well before the creations */
      CHECK(abi.control(h3, PR_CTL_PAUSE_HASHER, NULL, 0) == PR_OK, "hash worker paused");
      for (int i = 0; i < 3; i++) {
        struct item x = {.it = {.op = PR_INJ_PROCESS_CREATE, .pid = 9012 + 4u * (uint32_t)i, .ppid = 700,
                                .creator_pid = 700, .creator_tid = 701},
                         .image = nt[i], .cmd = L"hash.exe"};
        add(&x);
      }
      inject(h3);
      n = read_some(h3, 3, 30000, &from);
      CHECK(n == 3, "paused hash worker: %u records, expected the 3 creates", n);
      Sleep(100); /* the write below a granule after the creation */
      w = CreateFileW(copy[1], GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
      CHECK(w != INVALID_HANDLE_VALUE && SetFilePointer(w, 0, NULL, FILE_END) != INVALID_SET_FILE_POINTER &&
                WriteFile(w, "x", 1, &put, NULL) && put == 1,
            "write to the second copy: Win32 error %lu", GetLastError());
      if (w != INVALID_HANDLE_VALUE) CloseHandle(w);
      lock = CreateFileW(copy[2], GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
      CHECK(lock != INVALID_HANDLE_VALUE, "the third copy held unshared: Win32 error %lu", GetLastError());
      CHECK(abi.control(h3, PR_CTL_RESUME_HASHER, NULL, 0) == PR_OK, "hash worker resumed");
      n = read_some(h3, 3, 30000, &from);
      CHECK(n == 3, "resumed hash worker: %u records, expected 3 hashes", n);
      for (off = from; off < got_len; off += rec_at(off)->size) {
        const struct pr_rec_hash *hr = (const void *)rec_at(off);
        if (hr->h.kind != PR_REC_HASH || hr->h.pid < 9012 || hr->h.pid > 9020) continue;
        seen |= 1u << ((hr->h.pid - 9012) / 4);
        if (hr->h.pid == 9012) {
          CHECK(hr->status == PR_HASH_OK && hr->hash_flags == PR_H_VIA_PATH && memcmp(hr->sha256, first_sha, 32) == 0,
                "a fresh copy: read, the same hash (status %u flags 0x%x)", hr->status, hr->hash_flags);
        } else if (hr->h.pid == 9016) {
          CHECK(hr->status == PR_HASH_CHANGED && hr->err == 2u, "written after its creation: changed/2, got %u/%u",
                hr->status, hr->err);
        } else {
          CHECK(hr->status == PR_HASH_ERROR && hr->err == 13u, "held unshared: error/EACCES, got %u/%u", hr->status,
                hr->err);
        }
      }
      CHECK(seen == 7u, "hashes of 9012, 9016, 9020: mask %u", seen);
      if (lock != INVALID_HANDLE_VALUE) CloseHandle(lock);
      for (int i = 0; i < 3; i++) DeleteFileW(copy[i]);
      CHECK(abi.stats(h3, &hs) == PR_OK && hs.hash_read == 2 && hs.hash_cached == 1,
            "hash stats after the copies: read %llu, cached %llu", (unsigned long long)hs.hash_read,
            (unsigned long long)hs.hash_cached);
      printf("hashes: a fresh copy read, a copy written after its creation changed, one held unshared error\n");
    }
    CHECK(abi.stop(h3) == PR_OK, "hash session stops");
    abi.close(h3);
    next_seq = saved_seq;
    CHECK(abi.control(h, PR_CTL_RESUME_READER, NULL, 0) == PR_OK, "first session's reader resumed");
    printf("hashes: own image %02x%02x%02x%02x... (%llu bytes read), %u from the cache, %u gone\n", first_sha[0],
           first_sha[1], first_sha[2], first_sha[3], (unsigned long long)hs.hash_bytes, cached, gone);
  }

  /* 6. an overflow at the very end: the lost record is the last record of
   * the stream (no record follows it, before or after stop) */
  {
    struct procrec_stats before;
    uint32_t stored;
    rc = abi.stats(h, &before);
    if (rc != PR_OK) die(h, "procrec_stats", rc);
    rc = abi.control(h, PR_CTL_PAUSE_READER, NULL, 0);
    if (rc != PR_OK) die(h, "pause", rc);
    stored = overflow_and_drain(h, 5100, 8000, "overflow at the end");
    rc = abi.stats(h, &st);
    if (rc != PR_OK) die(h, "procrec_stats", rc);
    CHECK(st.lost_driver == before.lost_driver + (OVERFLOW_N - stored) && st.records == next_seq,
          "stats at the end: lost_driver %llu -> %llu, records %llu, read %llu",
          (unsigned long long)before.lost_driver, (unsigned long long)st.lost_driver, (unsigned long long)st.records,
          (unsigned long long)next_seq);
  }

  /* 7. stop, close: the service is stopped, the driver unloaded and removed */
  rc = abi.stop(h);
  if (rc != PR_OK) die(h, "procrec_stop", rc);
  {
    struct item late = {.it = {.op = PR_INJ_THREAD_CREATE, .pid = 5000, .tid = 9999, .creator_pid = 5000}};
    add(&late);
    inject(h); /* the callbacks record nothing once stopped */
    n = read_some(h, 0, 300, &first);
    CHECK(n == 0, "after stop: %u records", n);
  }
  { /* a READ that finds nothing completes empty after the driver's timeout */
    struct pr_drv_stats before, after;
    set_read_timeout(300);
    before = driver_stats();
    DWORD got = 1;
    HANDLE dev = CreateFileW(PR_WIN32_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    BOOL ok = DeviceIoControl(dev, IOCTL_PR_READ, NULL, 0, rbuf, sizeof(rbuf), &got, NULL);
    CloseHandle(dev);
    after = driver_stats();
    CHECK(ok && got == 0 && after.timed_out >= before.timed_out + 1, "empty READ: ok %d, %lu bytes, timed out %llu",
          ok, got, (unsigned long long)(after.timed_out - before.timed_out));
  }
  abi.close(h);
  fclose(out_file);
  {
    HANDLE dev;
    CHECK(service_gone(), "service removed after procrec_close");
    dev = CreateFileW(PR_WIN32_PATH, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    CHECK(dev == INVALID_HANDLE_VALUE, "device still opens after close");
    if (dev != INVALID_HANDLE_VALUE) CloseHandle(dev);
  }
  { /* 8. a service whose driver does not stop is left installed, not
     * deleted (deleting it would leave it marked for deletion, blocking
     * every later session until reboot) */
    struct procrec_options o3;
    void *h3 = NULL;
    DWORD got = 0;
    HANDLE dev;
    SC_HANDLE scm, svc;
    SERVICE_STATUS ss;
    memset(&o3, 0, sizeof(o3));
    o3.size = sizeof(o3);
    o3.flags = PR_OPT_NO_SNAPSHOT;
    rc = abi.open(&o3, &h3);
    if (rc != PR_OK) die(NULL, "procrec_open (a driver that will not stop)", rc);
    dev = CreateFileW(PR_WIN32_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    CHECK(dev != INVALID_HANDLE_VALUE && DeviceIoControl(dev, IOCTL_PR_TEST_PIN, NULL, 0, NULL, 0, &got, NULL),
          "IOCTL_PR_TEST_PIN: Win32 error %lu", GetLastError());
    if (dev != INVALID_HANDLE_VALUE) CloseHandle(dev);
    abi.close(h3);
    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
    svc = scm ? OpenServiceW(scm, PR_SERVICE_NAME, SERVICE_ALL_ACCESS) : NULL;
    CHECK(svc != NULL && QueryServiceStatus(svc, &ss) && ss.dwCurrentState != SERVICE_STOPPED,
          "a service that did not stop is still installed (Win32 error %lu)", GetLastError());
    /* not marked for deletion either: its configuration can still change */
    CHECK(svc != NULL && ChangeServiceConfigW(svc, SERVICE_NO_CHANGE, SERVICE_NO_CHANGE, SERVICE_NO_CHANGE, NULL, NULL,
                                              NULL, NULL, NULL, NULL, NULL),
          "the service that did not stop is not marked for deletion (Win32 error %lu)", GetLastError());
    printf("a driver that does not stop: service %s\n", svc != NULL ? "left installed" : "gone");
    if (svc != NULL) CloseServiceHandle(svc);
    if (scm != NULL) CloseServiceHandle(scm);
  }
  printf("%s: %llu records written, %d failures\n", failures ? "FAILED" : "PASSED", (unsigned long long)next_seq,
         failures);
  return failures ? 1 : 0;
}
