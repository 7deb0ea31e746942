/* pr_dll_hash.c - see pr_dll_hash.h. */
#include <windows.h>

#include <string.h>

#include "../../common/pr_sha256.h"
#include "../../include/procrec_abi.h"
#include "pr_dll_hash.h"

/* pr_rec_hash.err of changed/gone (as driver/linux/hasher.c: SCHEMA.md) */
#define WHY_CTIME 2u
#define WHY_CHANGED_WHILE_READ 3u
#define WHY_NO_PATH 5u
#define WHY_PATH_MISSING 6u
/* errno numbers (Linux) the recording names */
#define PR_EACCES 13u
#define PR_EIO 5u
#define PR_ENOMEM 12u
#define PR_ECANCELED 125u

#define FILETIME_UNIX_EPOCH 116444736000000000ull

struct job {
  uint32_t pid, snapshot;
  uint64_t start_ns, exec_ns;
  uint64_t start_unix_ns; /* the process's start as a date (snapshot: same process; both: changed after) */
  WCHAR path[PR_DLL_HASH_PATH_UNITS]; /* create: the image; empty for a snapshot */
};

struct cached {
  uint64_t dev, ino, size;
  int64_t mtime, ctime;
  uint8_t sha[32];
  int used;
};

struct pr_dll_hasher {
  pr_dll_hash_emit_fn emit;
  void *ctx;
  CRITICAL_SECTION cs; /* the queue, paused, stopping, counters */
  CONDITION_VARIABLE cv;
  struct job *q;
  struct job *cur; /* the job the worker is on (jobs are large: not on its stack) */
  uint32_t head, count;
  int paused, stopping, started;
  ULONGLONG stop_deadline; /* GetTickCount64: after it, the rest is skipped */
  HANDLE thread;
  struct cached cache[PR_DLL_HASH_CACHE];
  struct pr_dll_hash_stats st;
  uint8_t buf[256 * 1024];
};

typedef VOID(WINAPI *interrupt_time_fn)(PULONGLONG t);

/* The clock of the driver's records: interrupt time (100 ns) as ns. */
static uint64_t mono_ns(void) {
  static interrupt_time_fn fn;
  static int looked;
  ULONGLONG t = 0;
  if (!looked) {
    HMODULE k = GetModuleHandleW(L"kernelbase.dll");
    if (k != NULL) fn = (interrupt_time_fn)(void (*)(void))GetProcAddress(k, "QueryInterruptTime");
    looked = 1;
  }
  if (fn != NULL) {
    fn(&t);
  } else {
    QueryUnbiasedInterruptTime(&t);
  }
  return (uint64_t)t * 100u;
}

static uint64_t ft_unix_ns(uint64_t ft) { return ft > FILETIME_UNIX_EPOCH ? (ft - FILETIME_UNIX_EPOCH) * 100u : 0; }

static uint64_t ft64(FILETIME f) { return ((uint64_t)f.dwHighDateTime << 32) | f.dwLowDateTime; }

struct ident {
  uint64_t dev, ino, size;
  int64_t mtime, ctime;
};

static void emit(struct pr_dll_hasher *hz, const struct job *j, uint32_t status, uint32_t flags, uint32_t err,
                 const struct ident *id, const uint8_t *sha) {
  struct pr_rec_hash r;
  FILETIME now;
  memset(&r, 0, sizeof(r));
  r.h.kind = PR_REC_HASH;
  r.h.size = sizeof(r);
  r.h.pid = j->pid;
  r.h.mono_ns = mono_ns();
  GetSystemTimeAsFileTime(&now);
  r.h.utc_ns = ft_unix_ns(ft64(now));
  r.start_ns = j->start_ns;
  r.exec_ns = j->exec_ns;
  r.status = status;
  r.hash_flags = flags;
  r.err = err;
  if (id != NULL) {
    r.dev = id->dev;
    r.ino = id->ino;
    r.size = id->size;
    r.mtime_ns = id->mtime;
    r.ctime_ns = id->ctime;
  }
  if (sha != NULL) memcpy(r.sha256, sha, 32);
  hz->emit(hz->ctx, &r, sizeof(r));
}

static int identity(HANDLE f, struct ident *id) {
  BY_HANDLE_FILE_INFORMATION bi;
  FILE_BASIC_INFO basic;
  if (!GetFileInformationByHandle(f, &bi)) return 0;
  if (!GetFileInformationByHandleEx(f, FileBasicInfo, &basic, sizeof(basic))) return 0;
  id->dev = bi.dwVolumeSerialNumber;
  id->ino = ((uint64_t)bi.nFileIndexHigh << 32) | bi.nFileIndexLow;
  id->size = ((uint64_t)bi.nFileSizeHigh << 32) | bi.nFileSizeLow;
  id->mtime = (int64_t)ft_unix_ns(ft64(bi.ftLastWriteTime));
  id->ctime = (int64_t)ft_unix_ns((uint64_t)basic.ChangeTime.QuadPart);
  return 1;
}

static int same(const struct ident *a, const struct ident *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime == b->mtime && a->ctime == b->ctime;
}

static struct cached *slot_of(struct pr_dll_hasher *hz, const struct ident *id) {
  uint64_t k = id->dev * 0x9E3779B97F4A7C15ull ^ id->ino * 0xC2B2AE3D27D4EB4Full ^ id->size;
  return &hz->cache[(k ^ (k >> 29)) % PR_DLL_HASH_CACHE];
}

/* The kernel's name of an image as a path CreateFileW opens. */
static void win32_path(const WCHAR *in, WCHAR *out, size_t cap) {
  static const WCHAR nt[] = L"\\??\\", dev[] = L"\\Device\\", root[] = L"\\SystemRoot\\";
  size_t n = wcslen(in);
  out[0] = 0;
  if (wcsncmp(in, nt, 4) == 0) {
    if (n + 1 <= cap) {
      wcscpy(out, L"\\\\?\\");
      wcscat(out, in + 4);
    }
  } else if (_wcsnicmp(in, dev, 8) == 0) {
    if (n + 15 <= cap) {
      wcscpy(out, L"\\\\?\\GLOBALROOT");
      wcscat(out, in);
    }
  } else if (_wcsnicmp(in, root, 12) == 0) {
    WCHAR sys[MAX_PATH];
    UINT k = GetWindowsDirectoryW(sys, MAX_PATH);
    if (k > 0 && k < MAX_PATH && k + n <= cap) {
      wcscpy(out, sys);
      wcscat(out, in + 11);
    }
  } else if (n < cap) {
    wcscpy(out, in);
  }
}

static uint32_t errno_of(DWORD e) {
  switch (e) {
  case ERROR_ACCESS_DENIED:
  case ERROR_SHARING_VIOLATION:
  case ERROR_LOCK_VIOLATION:
    return PR_EACCES;
  case ERROR_NOT_ENOUGH_MEMORY:
  case ERROR_OUTOFMEMORY:
    return PR_ENOMEM;
  default:
    return PR_EIO;
  }
}

static int past_deadline(struct pr_dll_hasher *hz) {
  int late;
  EnterCriticalSection(&hz->cs);
  late = hz->stopping && GetTickCount64() >= hz->stop_deadline;
  LeaveCriticalSection(&hz->cs);
  return late;
}

static void hash_job(struct pr_dll_hasher *hz, const struct job *j) {
  WCHAR path[PR_DLL_HASH_PATH_UNITS + 16];
  struct ident id, id2;
  struct pr_sha256 sha;
  struct cached *c;
  uint8_t digest[32];
  FILETIME ft_now;
  uint64_t bytes = 0;
  HANDLE f;
  DWORD e;
  if (j->snapshot) {
    /* only the short name: the image of the process running now, if it is
     * the one the snapshot saw (same start) */
    HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, j->pid);
    FILETIME created, x1, x2, x3;
    DWORD n = PR_DLL_HASH_PATH_UNITS;
    int ok = 0;
    if (p != NULL) {
      if (GetProcessTimes(p, &created, &x1, &x2, &x3)) {
        uint64_t s = ft_unix_ns(ft64(created));
        uint64_t d = s > j->start_unix_ns ? s - j->start_unix_ns : j->start_unix_ns - s;
        ok = j->start_unix_ns == 0 || d <= 10000000u; /* 10 ms */
      }
      if (ok) ok = QueryFullProcessImageNameW(p, 0, path, &n) && n > 0;
      CloseHandle(p);
    }
    if (!ok) {
      emit(hz, j, PR_HASH_GONE, 0, WHY_NO_PATH, NULL, NULL);
      return;
    }
  } else {
    win32_path(j->path, path, sizeof(path) / sizeof(path[0]));
    if (path[0] == 0) {
      emit(hz, j, PR_HASH_GONE, 0, WHY_NO_PATH, NULL, NULL);
      return;
    }
  }
  f = CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                  FILE_FLAG_SEQUENTIAL_SCAN, NULL);
  if (f == INVALID_HANDLE_VALUE) {
    e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND || e == ERROR_BAD_NETPATH ||
        e == ERROR_INVALID_NAME)
      emit(hz, j, PR_HASH_GONE, PR_H_VIA_PATH, WHY_PATH_MISSING, NULL, NULL);
    else
      emit(hz, j, PR_HASH_ERROR, PR_H_VIA_PATH, errno_of(e), NULL, NULL);
    return;
  }
  if (!identity(f, &id)) {
    emit(hz, j, PR_HASH_ERROR, PR_H_VIA_PATH, errno_of(GetLastError()), NULL, NULL);
    CloseHandle(f);
    return;
  }
  /* The create record names no file identity: a file changed (written,
   * renamed into place, its attributes set) since the process started may
   * not be the one it runs. Its change time says so (a coarse clock: allow
   * a granule). */
  if (j->start_unix_ns != 0 && id.ctime >= (int64_t)j->start_unix_ns - PR_DLL_HASH_GRANULE_NS) {
    CloseHandle(f);
    emit(hz, j, PR_HASH_CHANGED, PR_H_VIA_PATH, WHY_CTIME, &id, NULL);
    return;
  }
  c = slot_of(hz, &id);
  if (c->used && c->dev == id.dev && c->ino == id.ino && c->size == id.size && c->mtime == id.mtime &&
      c->ctime == id.ctime) {
    EnterCriticalSection(&hz->cs);
    hz->st.cached++;
    LeaveCriticalSection(&hz->cs);
    emit(hz, j, PR_HASH_OK, PR_H_VIA_PATH | PR_H_CACHED, 0, &id, c->sha);
    CloseHandle(f);
    return;
  }
  GetSystemTimeAsFileTime(&ft_now);
  pr_sha256_init(&sha);
  for (;;) {
    DWORD got = 0;
    if (past_deadline(hz)) {
      emit(hz, j, PR_HASH_SKIPPED, 0, PR_ECANCELED, NULL, NULL);
      CloseHandle(f);
      return;
    }
    if (!ReadFile(f, hz->buf, sizeof(hz->buf), &got, NULL)) {
      emit(hz, j, PR_HASH_ERROR, PR_H_VIA_PATH, errno_of(GetLastError()), &id, NULL);
      CloseHandle(f);
      return;
    }
    if (got == 0) break;
    pr_sha256_update(&sha, hz->buf, got);
    bytes += got;
  }
  pr_sha256_final(&sha, digest);
  if (!identity(f, &id2) || !same(&id, &id2) || bytes != id.size) {
    CloseHandle(f);
    emit(hz, j, PR_HASH_CHANGED, PR_H_VIA_PATH, WHY_CHANGED_WHILE_READ, &id, NULL);
    return;
  }
  CloseHandle(f);
  EnterCriticalSection(&hz->cs);
  hz->st.read++;
  hz->st.bytes += bytes;
  LeaveCriticalSection(&hz->cs);
  /* a file changed less than PR_DLL_HASH_RACY_NS ago is not cached: a
   * rewrite within one timestamp tick would keep the key */
  if ((int64_t)ft_unix_ns(ft64(ft_now)) - id.ctime >= PR_DLL_HASH_RACY_NS) {
    c->used = 1;
    c->dev = id.dev;
    c->ino = id.ino;
    c->size = id.size;
    c->mtime = id.mtime;
    c->ctime = id.ctime;
    memcpy(c->sha, digest, 32);
  }
  emit(hz, j, PR_HASH_OK, PR_H_VIA_PATH, 0, &id, digest);
}

static DWORD WINAPI worker(LPVOID arg) {
  struct pr_dll_hasher *hz = (struct pr_dll_hasher *)arg;
  struct job *mine = hz->cur;
  for (;;) {
    int skip;
    EnterCriticalSection(&hz->cs);
    /* paused (tests) until resumed or stopped; at stop, what is queued goes on */
    while (!hz->stopping && (hz->count == 0 || hz->paused)) SleepConditionVariableCS(&hz->cv, &hz->cs, INFINITE);
    if (hz->count == 0) {
      LeaveCriticalSection(&hz->cs);
      break; /* stopping, nothing left */
    }
    *mine = hz->q[hz->head];
    hz->head = (hz->head + 1) % PR_DLL_HASH_QUEUE;
    hz->count--;
    skip = hz->stopping && GetTickCount64() >= hz->stop_deadline;
    if (skip) hz->st.skipped++;
    LeaveCriticalSection(&hz->cs);
    if (skip) {
      emit(hz, mine, PR_HASH_SKIPPED, 0, PR_ECANCELED, NULL, NULL);
    } else {
      hash_job(hz, mine);
    }
  }
  return 0;
}

struct pr_dll_hasher *pr_dll_hash_create(pr_dll_hash_emit_fn emit_fn, void *ctx) {
  struct pr_dll_hasher *hz = (struct pr_dll_hasher *)HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*hz));
  if (hz == NULL) return NULL;
  hz->q = (struct job *)HeapAlloc(GetProcessHeap(), 0, sizeof(struct job) * (PR_DLL_HASH_QUEUE + 1u));
  if (hz->q == NULL) {
    HeapFree(GetProcessHeap(), 0, hz);
    return NULL;
  }
  hz->cur = &hz->q[PR_DLL_HASH_QUEUE];
  hz->emit = emit_fn;
  hz->ctx = ctx;
  InitializeCriticalSection(&hz->cs);
  InitializeConditionVariable(&hz->cv);
  return hz;
}

int pr_dll_hash_start(struct pr_dll_hasher *hz) {
  if (hz->started) return 0;
  hz->thread = CreateThread(NULL, 0, worker, hz, 0, NULL);
  if (hz->thread == NULL) return -1;
  hz->started = 1;
  return 0;
}

/* UTF-8 of a record's string into WCHAR (NUL-terminated); 0 when absent or too long. */
static int utf16_of(const uint8_t *rec, uint32_t size, struct pr_str s, WCHAR *out, int cap) {
  int n;
  if (s.len == 0 || s.off > size || s.len > size - s.off) return 0;
  n = MultiByteToWideChar(CP_UTF8, 0, (const char *)rec + s.off, (int)s.len, out, cap - 1);
  if (n <= 0) return 0;
  out[n] = 0;
  return 1;
}

void pr_dll_hash_note(struct pr_dll_hasher *hz, const void *recv, uint32_t size) {
  const uint8_t *rec = (const uint8_t *)recv;
  struct pr_rec_header h;
  struct job *j;
  int full = 0;
  uint32_t why = 0; /* queue-full; ECANCELED: stopped */
  if (hz == NULL || size < sizeof(h)) return;
  memcpy(&h, rec, sizeof(h));
  if (h.kind == PR_REC_PROCESS_CREATE) {
    struct pr_rec_process_create r;
    if (size < sizeof(r) || (h.flags & (PR_F_DENIED | PR_F_IMAGE_TRUNCATED)) != 0) return;
    memcpy(&r, rec, sizeof(r));
    if (r.info.image.len == 0) return;
    EnterCriticalSection(&hz->cs);
    if (hz->count == PR_DLL_HASH_QUEUE || hz->stopping) {
      full = 1;
      why = hz->stopping ? PR_ECANCELED : 0;
    } else {
      j = &hz->q[(hz->head + hz->count) % PR_DLL_HASH_QUEUE];
      j->pid = h.pid;
      j->snapshot = 0;
      j->start_ns = r.start_ns;
      j->exec_ns = h.mono_ns;
      /* the start as a date (the record's own utc/mono pair), else the
       * notification's date */
      j->start_unix_ns = r.start_ns != 0 && r.start_ns <= h.mono_ns && h.utc_ns >= h.mono_ns
                             ? h.utc_ns - h.mono_ns + r.start_ns
                             : h.utc_ns;
      if (!utf16_of(rec, size, r.info.image, j->path, PR_DLL_HASH_PATH_UNITS)) j->path[0] = 0;
      hz->count++;
      WakeConditionVariable(&hz->cv);
    }
    if (full) hz->st.skipped++;
    LeaveCriticalSection(&hz->cs);
    if (full) {
      struct job k;
      k.pid = h.pid;
      k.start_ns = r.start_ns;
      k.exec_ns = h.mono_ns;
      emit(hz, &k, PR_HASH_SKIPPED, 0, why, NULL, NULL);
    }
  } else if (h.kind == PR_REC_SNAPSHOT) {
    struct pr_rec_snapshot r;
    if (size < sizeof(r) || h.pid == 0) return;
    memcpy(&r, rec, sizeof(r));
    EnterCriticalSection(&hz->cs);
    if (hz->count == PR_DLL_HASH_QUEUE || hz->stopping) {
      full = 1;
      why = hz->stopping ? PR_ECANCELED : 0;
      hz->st.skipped++;
    } else {
      j = &hz->q[(hz->head + hz->count) % PR_DLL_HASH_QUEUE];
      j->pid = h.pid;
      j->snapshot = 1;
      j->start_ns = r.start_ns;
      j->exec_ns = h.mono_ns;
      /* the start as a date: the record's own (utc, mono) pair */
      j->start_unix_ns = r.start_ns != 0 && h.utc_ns >= h.mono_ns ? h.utc_ns - h.mono_ns + r.start_ns : 0;
      j->path[0] = 0;
      hz->count++;
      WakeConditionVariable(&hz->cv);
    }
    LeaveCriticalSection(&hz->cs);
    if (full) {
      struct job k;
      k.pid = h.pid;
      k.start_ns = r.start_ns;
      k.exec_ns = h.mono_ns;
      emit(hz, &k, PR_HASH_SKIPPED, 0, why, NULL, NULL);
    }
  }
}

void pr_dll_hash_pause(struct pr_dll_hasher *hz, int paused) {
  if (hz == NULL) return;
  EnterCriticalSection(&hz->cs);
  hz->paused = paused;
  WakeAllConditionVariable(&hz->cv);
  LeaveCriticalSection(&hz->cs);
}

void pr_dll_hash_stop(struct pr_dll_hasher *hz) {
  if (hz == NULL) return;
  EnterCriticalSection(&hz->cs);
  if (!hz->stopping) {
    hz->stopping = 1;
    hz->stop_deadline = GetTickCount64() + PR_DLL_HASH_STOP_MS;
  }
  WakeAllConditionVariable(&hz->cv);
  LeaveCriticalSection(&hz->cs);
  if (hz->thread != NULL) {
    WaitForSingleObject(hz->thread, INFINITE);
    CloseHandle(hz->thread);
    hz->thread = NULL;
  }
}

void pr_dll_hash_stats(struct pr_dll_hasher *hz, struct pr_dll_hash_stats *out) {
  memset(out, 0, sizeof(*out));
  if (hz == NULL) return;
  EnterCriticalSection(&hz->cs);
  *out = hz->st;
  LeaveCriticalSection(&hz->cs);
}

void pr_dll_hash_destroy(struct pr_dll_hasher *hz) {
  if (hz == NULL) return;
  pr_dll_hash_stop(hz);
  DeleteCriticalSection(&hz->cs);
  HeapFree(GetProcessHeap(), 0, hz->q);
  HeapFree(GetProcessHeap(), 0, hz);
}
