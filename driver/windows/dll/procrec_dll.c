/*
 * procrec_dll.c - procrec.dll: the procrec_abi.h functions over procrec.sys.
 *
 * procrec_open installs the driver as a kernel service through the Service
 * Control Manager (or reuses an installed one), starts it and opens its
 * device; procrec_close undoes exactly that (stops the service if it started
 * it, deletes it if it created it). The driver file is PROCREC_DRIVER when
 * set, else procrec.sys next to this DLL.
 *
 * Reads: one overlapped READ request is kept pending in the driver; when it
 * completes, its wire records are converted (pr_wire_convert.c: UTF-16 to
 * UTF-8, FILETIME to Unix-epoch ns) into this DLL's own ring (pr_ring.c),
 * from which procrec_read hands out whole records. A READ is only issued when
 * the ring has room for everything it can return, so the DLL ring does not
 * drop; if it ever did, the drop is counted and reported (PR_LOST_RING_FULL).
 * A wire record that does not convert becomes a PR_LOST_DECODE record.
 *
 * One thread reads; procrec_stats and procrec_control may come from others
 * (the pending READ is only touched under `io`, never while waiting on it).
 */
#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../common/pr_ring.h"
#include "../../common/pr_rule_patterns.h"
#include "../procrec_ioctl.h"
#include "pr_dll_core.h"
#include "pr_dll_hash.h"
#include "pr_dll_names.h"
#include "pr_wire_convert.h"

#define PR_DLL_READ_BYTES (256u * 1024u) /* one driver READ */
#define PR_DLL_REC_MAX (64u * 1024u)  /* largest converted record */
#define PR_DLL_TMP (3u * 32u * 1024u) /* UTF-8 of the longest wire string */

/* procrec_start once, from OPEN; procrec_stop from any state, once it acts. */
enum pr_dll_state { PR_DLL_OPEN = 0, PR_DLL_STARTED = 1, PR_DLL_STOPPED = 2 };

struct pr_handle {
  CRITICAL_SECTION cs; /* ring, counters, error text */
  CRITICAL_SECTION io; /* the pending READ: issue, collect, cancel */
  HANDLE dev;
  SC_HANDLE scm, svc;
  BOOL created_service, started_service, paused;
  volatile LONG state; /* enum pr_dll_state */
  uint32_t flags, max_string;
  struct pr_ring ring;
  uint8_t *ring_mem;
  uint8_t *rbuf;  /* driver READ buffer */
  uint8_t *conv;  /* one converted record */
  uint8_t *tmp;   /* one converted string */
  OVERLAPPED ov;  /* the pending READ */
  BOOL read_pending;
  uint64_t records, bytes, decode_errors, driver_records;
  struct pr_dll_hasher *hasher; /* NULL with PR_OPT_NO_HASH */
  char err[512];
};

static DWORD g_tls = TLS_OUT_OF_INDEXES;

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved) {
  (void)inst;
  (void)reserved;
  if (reason == DLL_PROCESS_ATTACH) {
    g_tls = TlsAlloc();
  } else if (reason == DLL_THREAD_DETACH || reason == DLL_PROCESS_DETACH) {
    if (g_tls != TLS_OUT_OF_INDEXES) {
      char *p = (char *)TlsGetValue(g_tls);
      if (p != NULL) HeapFree(GetProcessHeap(), 0, p);
      TlsSetValue(g_tls, NULL);
      if (reason == DLL_PROCESS_DETACH && reserved == NULL) TlsFree(g_tls);
    }
  }
  return TRUE;
}

/* The calling thread's error buffer (for failures without a handle). */
static char *thread_err(void) {
  char *p;
  if (g_tls == TLS_OUT_OF_INDEXES) return NULL;
  p = (char *)TlsGetValue(g_tls);
  if (p == NULL) {
    p = (char *)HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, 512);
    if (p != NULL) TlsSetValue(g_tls, p);
  }
  return p;
}

static void set_err(struct pr_handle *h, const char *fmt, ...) {
  char msg[512];
  char *t = thread_err();
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (t != NULL) memcpy(t, msg, sizeof(msg));
  if (h != NULL) {
    EnterCriticalSection(&h->cs);
    memcpy(h->err, msg, sizeof(msg));
    LeaveCriticalSection(&h->cs);
  }
}

/* Sets the error text "procrec.dll: WHAT: <system text> (Win32 error N)" and
 * returns the matching status. */
static int32_t win_err(struct pr_handle *h, DWORD code, const char *what) {
  char text[256] = "";
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code, 0, text,
                           sizeof(text), NULL);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' || text[n - 1] == '.'))
    text[--n] = 0;
  set_err(h, "procrec.dll: %s: %s (Win32 error %lu)", what, n > 0 ? text : "unknown error", (unsigned long)code);
  return code == ERROR_ACCESS_DENIED || code == ERROR_PRIVILEGE_NOT_HELD ? PR_E_PERM : PR_E_IO;
}

/* A DeviceIoControl that waits (the handle is opened for overlapped I/O). */
static BOOL ioctl_sync(struct pr_handle *h, DWORD code, const void *in, DWORD in_len, void *out, DWORD out_len,
                       DWORD *got) {
  OVERLAPPED ov;
  BOOL ok;
  memset(&ov, 0, sizeof(ov));
  ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (ov.hEvent == NULL) return FALSE;
  *got = 0;
  ok = DeviceIoControl(h->dev, code, (LPVOID)in, in_len, out, out_len, got, &ov);
  if (!ok && GetLastError() == ERROR_IO_PENDING) ok = GetOverlappedResult(h->dev, &ov, got, TRUE);
  {
    DWORD e = GetLastError();
    CloseHandle(ov.hEvent);
    SetLastError(e);
  }
  return ok;
}

PROCREC_API uint32_t procrec_abi_version(void) { return PROCREC_ABI_VERSION; }

/* %SystemRoot% ("C:\\Windows"), for comparing service image paths. */
static void system_root(WCHAR *root, DWORD cap) {
  DWORD n = GetSystemWindowsDirectoryW(root, cap);
  if (n == 0 || n >= cap) root[0] = 0;
}

static void to_utf8(const WCHAR *w, char *out, int cap) {
  if (WideCharToMultiByte(CP_UTF8, 0, w, -1, out, cap, NULL, NULL) == 0) out[0] = 0;
}

/*
 * The driver file: %SystemRoot%\System32\drivers\procrec.sys, a folder only
 * administrators (and SYSTEM) can write, so a process without them cannot
 * choose the kernel code an elevated procrec loads. Never this DLL's own
 * folder (it may be user-writable) nor an environment variable; only the test
 * build (procrec_test.dll, never shipped) takes PROCREC_DRIVER.
 */
static int32_t driver_path(struct pr_handle *h, WCHAR *path, DWORD cap) {
  DWORD n;
#ifdef PR_TEST_BUILD
  n = GetEnvironmentVariableW(L"PROCREC_DRIVER", path, cap);
  if (n > 0 && n < cap) {
    WCHAR full[MAX_PATH];
    DWORD m = GetFullPathNameW(path, MAX_PATH, full, NULL);
    if (m == 0 || m >= MAX_PATH) return win_err(h, GetLastError(), "GetFullPathName(PROCREC_DRIVER)");
    memcpy(path, full, (m + 1) * sizeof(WCHAR));
  } else
#endif
  {
    n = GetSystemDirectoryW(path, cap);
    if (n == 0 || n + 21 >= cap) return win_err(h, GetLastError(), "GetSystemDirectory");
    wcscpy(path + n, L"\\drivers\\procrec.sys");
  }
  if (GetFileAttributesW(path) == INVALID_FILE_ATTRIBUTES) {
    char p8[MAX_PATH * 3];
    to_utf8(path, p8, sizeof(p8));
    set_err(h, "procrec.dll: driver file \"%s\" not found (install procrec.sys there, as Administrator)", p8);
    return PR_E_NOSUP;
  }
  return PR_OK;
}

/* An existing procrec service must load our file: refuses (naming both
 * paths) one that points elsewhere, never repoints it. */
static int32_t check_existing(struct pr_handle *h, const WCHAR *path) {
  union {
    QUERY_SERVICE_CONFIGW c;
    uint8_t mem[8192];
  } q;
  DWORD need = 0;
  WCHAR root[MAX_PATH];
  if (!QueryServiceConfigW(h->svc, &q.c, sizeof(q), &need)) return win_err(h, GetLastError(), "QueryServiceConfig(procrec)");
  system_root(root, MAX_PATH);
  if (q.c.dwServiceType != SERVICE_KERNEL_DRIVER || q.c.lpBinaryPathName == NULL ||
      !pr_same_driver_path((const uint16_t *)q.c.lpBinaryPathName, (const uint16_t *)path, (const uint16_t *)root)) {
    char have[MAX_PATH * 3], want[MAX_PATH * 3];
    to_utf8(q.c.lpBinaryPathName != NULL ? q.c.lpBinaryPathName : L"", have, sizeof(have));
    to_utf8(path, want, sizeof(want));
    set_err(h,
            "procrec.dll: a service named procrec already exists and loads \"%s\" (type %lu), not \"%s\": "
            "procrec.dll neither uses nor changes it (if it is not yours, remove it: sc delete procrec)",
            have, (unsigned long)q.c.dwServiceType, want);
    return PR_E_STATE;
  }
  return PR_OK;
}

/* The driver behind the device must be the build this DLL was made with
 * (an older procrec.sys may still be running from an earlier install). */
static int32_t check_driver_build(struct pr_handle *h) {
  struct pr_drv_stats d;
  DWORD got = 0;
  memset(&d, 0, sizeof(d));
  if (!ioctl_sync(h, IOCTL_PR_STATS, NULL, 0, &d, sizeof(d), &got)) return win_err(h, GetLastError(), "IOCTL stats");
  d.build[sizeof(d.build) - 1] = 0;
  if (got < sizeof(d) || d.version != PR_WIRE_VERSION || strcmp(d.build, PR_BUILD_ID) != 0) {
    set_err(h,
            "procrec.dll: the running procrec.sys is build \"%s\" (wire version %u), this procrec.dll needs build "
            "\"%s\": stop the old driver first (sc stop procrec), then install the matching procrec.sys",
            got < sizeof(d) ? "older" : d.build, d.version, PR_BUILD_ID);
    return PR_E_STATE;
  }
  return PR_OK;
}

/* Installs (or reuses) and starts the service, then opens the device. */
static int32_t install_and_open(struct pr_handle *h) {
  WCHAR path[MAX_PATH];
  int32_t rc = driver_path(h, path, MAX_PATH);
  if (rc != PR_OK) return rc;
  h->scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_ALL_ACCESS);
  if (h->scm == NULL) return win_err(h, GetLastError(), "OpenSCManager (Administrator needed)");
  for (int tries = 0;; tries++) {
    h->svc = CreateServiceW(h->scm, PR_SERVICE_NAME, L"procrec process recorder", SERVICE_ALL_ACCESS,
                            SERVICE_KERNEL_DRIVER, SERVICE_DEMAND_START, SERVICE_ERROR_NORMAL, path, NULL, NULL, NULL,
                            NULL, NULL);
    /* a service deleted by an earlier session goes once the last handle to
     * it closes and its driver unloads: wait for that, 30 s at most */
    if (h->svc != NULL || GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE) break;
    if (tries >= 300) {
      return win_err(h, ERROR_SERVICE_MARKED_FOR_DELETE,
                     "CreateService(procrec): the procrec service of an earlier session is still being deleted "
                     "(after 30 s; a handle to it is open, or its driver did not unload: close it or reboot)");
    }
    Sleep(100);
  }
  if (h->svc != NULL) {
    h->created_service = TRUE;
  } else {
    DWORD e = GetLastError();
    if (e != ERROR_SERVICE_EXISTS) return win_err(h, e, "CreateService(procrec)");
    h->svc = OpenServiceW(h->scm, PR_SERVICE_NAME, SERVICE_ALL_ACCESS);
    if (h->svc == NULL) return win_err(h, GetLastError(), "OpenService(procrec)");
    rc = check_existing(h, path);
    if (rc != PR_OK) return rc;
  }
  for (int tries = 0;; tries++) {
    DWORD e;
    if (StartServiceW(h->svc, 0, NULL)) {
      h->started_service = TRUE;
      break;
    }
    e = GetLastError();
    if (e == ERROR_SERVICE_ALREADY_RUNNING) break;
    if (e == ERROR_SERVICE_MARKED_FOR_DELETE)
      return win_err(h, e, "StartService(procrec): the existing procrec service is being deleted; try again");
    /* the SCM is busy (e.g. starting other services at boot): try for 10 s */
    if (e != ERROR_SERVICE_DATABASE_LOCKED || tries >= 100) return win_err(h, e, "StartService(procrec)");
    Sleep(100);
  }
  h->dev = CreateFileW(PR_WIN32_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED,
                       NULL);
  if (h->dev == INVALID_HANDLE_VALUE) {
    h->dev = NULL;
    return win_err(h, GetLastError(), "CreateFile(\\\\.\\procrec)");
  }
  return check_driver_build(h);
}

/* Undoes install_and_open: stops the service if this handle started it, and
 * deletes it if this handle created it, but only once it stopped (a service
 * whose driver still runs is left installed rather than marked for a delete
 * that would block every later session until reboot). */
static void uninstall(struct pr_handle *h) {
  BOOL stopped = !h->started_service;
  if (h->dev != NULL) CloseHandle(h->dev);
  h->dev = NULL;
  if (h->svc != NULL && h->started_service) {
    SERVICE_STATUS ss;
    if (ControlService(h->svc, SERVICE_CONTROL_STOP, &ss) || GetLastError() == ERROR_SERVICE_NOT_ACTIVE) {
      for (int i = 0; i < 100 && ss.dwCurrentState != SERVICE_STOPPED; i++) {
        Sleep(50);
        if (!QueryServiceStatus(h->svc, &ss)) break;
      }
      stopped = ss.dwCurrentState == SERVICE_STOPPED;
    }
  }
  if (h->svc != NULL && h->created_service && stopped) DeleteService(h->svc);
  if (h->svc != NULL) CloseServiceHandle(h->svc);
  if (h->scm != NULL) CloseServiceHandle(h->scm);
  h->svc = h->scm = NULL;
}

static void free_handle(struct pr_handle *h) {
  pr_dll_hash_destroy(h->hasher); /* its thread is gone before the ring */
  if (h->ov.hEvent != NULL) CloseHandle(h->ov.hEvent);
  HeapFree(GetProcessHeap(), 0, h->ring_mem);
  HeapFree(GetProcessHeap(), 0, h->rbuf);
  HeapFree(GetProcessHeap(), 0, h->conv);
  HeapFree(GetProcessHeap(), 0, h->tmp);
  DeleteCriticalSection(&h->cs);
  DeleteCriticalSection(&h->io);
  HeapFree(GetProcessHeap(), 0, h);
}

/* The hash worker's records go into the ring like the driver's (a full ring
 * counts them as lost). */
static void hash_emit(void *ctx, const void *rec, uint32_t size) {
  struct pr_handle *h = (struct pr_handle *)ctx;
  EnterCriticalSection(&h->cs);
  pr_ring_push(&h->ring, rec, size);
  LeaveCriticalSection(&h->cs);
}

PROCREC_API int32_t procrec_open(const struct procrec_options *opts, void **out) {
  struct pr_handle *h;
  struct pr_dll_opts o;
  char why[400];
  int32_t rc;
  if (out == NULL) {
    set_err(NULL, "procrec.dll: procrec_open: out is NULL");
    return PR_E_INVAL;
  }
  *out = NULL;
  rc = pr_dll_options(opts, &o, why, sizeof(why));
  if (rc != PR_OK) {
    set_err(NULL, "procrec.dll: %s", why);
    return rc;
  }
  h = (struct pr_handle *)HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof(*h));
  if (h == NULL) {
    set_err(NULL, "procrec.dll: out of memory");
    return PR_E_NOMEM;
  }
  InitializeCriticalSection(&h->cs);
  InitializeCriticalSection(&h->io);
  h->flags = o.flags;
  h->max_string = o.max_string;
  h->ring_mem = (uint8_t *)HeapAlloc(GetProcessHeap(), 0, o.ring_bytes);
  h->rbuf = (uint8_t *)HeapAlloc(GetProcessHeap(), 0, PR_DLL_READ_BYTES);
  h->conv = (uint8_t *)HeapAlloc(GetProcessHeap(), 0, PR_DLL_REC_MAX);
  h->tmp = (uint8_t *)HeapAlloc(GetProcessHeap(), 0, PR_DLL_TMP);
  h->ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (h->ring_mem == NULL || h->rbuf == NULL || h->conv == NULL || h->tmp == NULL || h->ov.hEvent == NULL) {
    set_err(NULL, "procrec.dll: out of memory");
    free_handle(h);
    return PR_E_NOMEM;
  }
  pr_ring_init(&h->ring, h->ring_mem, o.ring_bytes, PR_LOST_RING_FULL);
  if ((h->flags & PR_OPT_NO_HASH) == 0) {
    h->hasher = pr_dll_hash_create(hash_emit, h);
    if (h->hasher == NULL) {
      set_err(NULL, "procrec.dll: out of memory (image hash queue)");
      free_handle(h);
      return PR_E_NOMEM;
    }
  }
  rc = install_and_open(h);
  if (rc != PR_OK) {
    uninstall(h);
    free_handle(h);
    return rc;
  }
  *out = h;
  return PR_OK;
}

PROCREC_API int32_t procrec_start(void *hv) {
  struct pr_handle *h = (struct pr_handle *)hv;
  struct pr_drv_start s;
  DWORD got;
  uint32_t n = 0;
  if (h == NULL) return PR_E_INVAL;
  if (h->state != PR_DLL_OPEN) {
    set_err(h, "procrec.dll: procrec_start: already %s", h->state == PR_DLL_STARTED ? "started" : "stopped");
    return PR_E_STATE;
  }
  memset(&s, 0, sizeof(s));
  s.version = PR_WIRE_VERSION;
  s.flags = h->flags & PR_OPT_IMAGE_LOAD;
  s.max_string = h->max_string; /* UTF-16 units: at least as many UTF-8 bytes */
  if (h->hasher != NULL && pr_dll_hash_start(h->hasher) != 0)
    return win_err(h, GetLastError(), "image hash thread");
  if (!ioctl_sync(h, IOCTL_PR_START, &s, sizeof(s), NULL, 0, &got)) return win_err(h, GetLastError(), "IOCTL start");
  InterlockedExchange(&h->state, PR_DLL_STARTED);
  if ((h->flags & PR_OPT_NO_SNAPSHOT) == 0 && !ioctl_sync(h, IOCTL_PR_SNAPSHOT, NULL, 0, &n, sizeof(n), &got))
    return win_err(h, GetLastError(), "IOCTL snapshot");
  return PR_OK;
}

PROCREC_API int32_t procrec_stop(void *hv) {
  struct pr_handle *h = (struct pr_handle *)hv;
  DWORD got;
  LONG was;
  if (h == NULL) return PR_E_INVAL;
  was = InterlockedExchange(&h->state, PR_DLL_STOPPED);
  if (was != PR_DLL_STARTED) return PR_OK; /* never started, or stopped already: nothing to do */
  if (!ioctl_sync(h, IOCTL_PR_STOP, NULL, 0, NULL, 0, &got)) return win_err(h, GetLastError(), "IOCTL stop");
  /* what the driver still holds comes in through READs after this; the
   * images of the records already converted are hashed now (for up to
   * PR_DLL_HASH_STOP_MS; the rest recorded as skipped) */
  pr_dll_hash_stop(h->hasher);
  return PR_OK;
}

/* Converts a completed READ's wire records into the ring. */
static void take_batch(struct pr_handle *h, uint32_t n) {
  uint32_t off = 0;
  EnterCriticalSection(&h->cs);
  while (off < n) {
    uint32_t wire = 0;
    int32_t size = pr_wire_convert(h->rbuf + off, n - off, h->conv, PR_DLL_REC_MAX, h->tmp, PR_DLL_TMP,
                                   h->max_string, &wire);
    h->driver_records++;
    /* a full ring counts the drop itself; a record it can never hold cannot
     * come from the driver (the ring is >= 1 MiB) but is reported all the same */
    if (size > 0) {
      int pushed = pr_ring_push(&h->ring, h->conv, (uint32_t)size);
      if (pushed == PR_RING_E_INVAL) size = -1;
      /* a stored create or snapshot: its image is hashed off this path */
      if (pushed == PR_RING_OK) pr_dll_hash_note(h->hasher, h->conv, (uint32_t)size);
    }
    if (size <= 0) {
      /* say so in the stream, under its own reason even when the ring is
       * full (pr_ring_lost keeps it pending, in order): a decode loss of one
       * record, or of an unknown count when the batch cannot be framed past
       * here */
      h->decode_errors++;
      pr_ring_lost(&h->ring, PR_LOST_DECODE, UINT32_MAX, wire == 0 ? 0u : 1u, wire == 0 ? PR_F_COUNT_UNKNOWN : 0u, 0,
                   0);
      if (wire == 0) break; /* cannot find the next record */
    }
    off += wire;
  }
  LeaveCriticalSection(&h->cs);
}

/* Collects the pending READ if it completed (wait: block until it does). */
static int32_t collect(struct pr_handle *h, BOOL wait) {
  DWORD got = 0;
  if (!h->read_pending) return PR_OK;
  if (!GetOverlappedResult(h->dev, &h->ov, &got, wait)) {
    DWORD e = GetLastError();
    if (e == ERROR_IO_INCOMPLETE) return PR_OK;
    h->read_pending = FALSE;
    if (e == ERROR_OPERATION_ABORTED) return PR_OK; /* cancelled by us */
    return win_err(h, e, "IOCTL read");
  }
  h->read_pending = FALSE;
  if (got > 0) take_batch(h, got);
  return PR_OK;
}

/* Issues a READ when none is pending and the ring has room for its result. */
static int32_t issue(struct pr_handle *h) {
  DWORD got = 0;
  uint32_t room;
  if (h->read_pending || h->paused) return PR_OK;
  EnterCriticalSection(&h->cs);
  room = h->ring.cap - pr_ring_used(&h->ring);
  LeaveCriticalSection(&h->cs);
  if (room < 2u * PR_DLL_READ_BYTES) return PR_OK; /* UTF-8 may be 1.5x the UTF-16 */
  ResetEvent(h->ov.hEvent);
  if (DeviceIoControl(h->dev, IOCTL_PR_READ, NULL, 0, h->rbuf, PR_DLL_READ_BYTES, &got, &h->ov)) {
    if (got > 0) take_batch(h, got);
    return PR_OK;
  }
  if (GetLastError() != ERROR_IO_PENDING) return win_err(h, GetLastError(), "IOCTL read");
  h->read_pending = TRUE;
  return PR_OK;
}

PROCREC_API int32_t procrec_read(void *hv, uint8_t *buf, uint32_t cap, uint32_t timeout_ms) {
  struct pr_handle *h = (struct pr_handle *)hv;
  ULONGLONG deadline = GetTickCount64() + timeout_ms;
  if (h == NULL || (buf == NULL && cap > 0)) return PR_E_INVAL;
  for (;;) {
    uint32_t n, next;
    ULONGLONG now;
    int32_t rc;
    EnterCriticalSection(&h->cs);
    /* drops that no later record followed (the ring was full, then drained)
     * go into the stream now, not only before a next record */
    pr_ring_flush_lost(&h->ring);
    next = pr_ring_peek_size(&h->ring);
    n = next != 0 && next <= cap ? pr_ring_pop_batch(&h->ring, buf, cap) : 0;
    pr_ring_flush_lost(&h->ring); /* room now */
    if (n > 0) {
      uint32_t off = 0;
      while (off < n) {
        uint32_t size;
        memcpy(&size, buf + off + 4, 4);
        off += size;
        h->records++;
      }
      h->bytes += n;
    }
    LeaveCriticalSection(&h->cs);
    if (n > 0) return (int32_t)n;
    if (next > cap) {
      set_err(h, "procrec.dll: procrec_read: buffer of %u bytes is smaller than the next record (%u bytes)", cap, next);
      return PR_E_INVAL;
    }
    EnterCriticalSection(&h->io);
    rc = collect(h, FALSE);
    if (rc == PR_OK) rc = issue(h);
    LeaveCriticalSection(&h->io);
    if (rc != PR_OK) return rc;
    EnterCriticalSection(&h->cs);
    next = pr_ring_peek_size(&h->ring);
    LeaveCriticalSection(&h->cs);
    if (next != 0) continue;
    /* stopped: the driver records nothing more; a READ left pending found
     * its ring empty, so everything recorded has been handed out */
    if (h->state == PR_DLL_STOPPED && (h->read_pending || h->paused)) return 0;
    now = GetTickCount64();
    if (now >= deadline) return 0;
    if (h->read_pending) {
      WaitForSingleObject(h->ov.hEvent, (DWORD)(deadline - now));
    } else {
      Sleep((DWORD)(deadline - now < 20 ? deadline - now : 20)); /* paused, or the ring is full */
    }
  }
}

PROCREC_API int32_t procrec_stats(void *hv, struct procrec_stats *out) {
  struct pr_handle *h = (struct pr_handle *)hv;
  struct pr_drv_stats d;
  DWORD got = 0;
  if (h == NULL || out == NULL) return PR_E_INVAL;
  memset(&d, 0, sizeof(d));
  if (!ioctl_sync(h, IOCTL_PR_STATS, NULL, 0, &d, sizeof(d), &got) || got < sizeof(d))
    return win_err(h, GetLastError(), "IOCTL stats");
  memset(out, 0, sizeof(*out));
  EnterCriticalSection(&h->cs);
  out->records = h->records;
  out->bytes = h->bytes;
  out->lost_ring = h->ring.dropped;
  out->ring_used = pr_ring_used(&h->ring);
  out->ring_size = h->ring.cap;
  out->kernel_msgs = h->driver_records;
  out->lost_driver = d.dropped;
  out->lost_total = d.dropped + h->ring.dropped + h->decode_errors;
  LeaveCriticalSection(&h->cs);
  {
    struct pr_dll_hash_stats hs;
    pr_dll_hash_stats(h->hasher, &hs);
    out->hash_read = hs.read;
    out->hash_cached = hs.cached;
    out->hash_bytes = hs.bytes;
    out->hash_skipped = hs.skipped;
  }
  return PR_OK;
}

/* Stops issuing READs; a pending one is cancelled (records it already got
 * are kept). */
static int32_t pause_reader(struct pr_handle *h) {
  int32_t rc = PR_OK;
  EnterCriticalSection(&h->io);
  h->paused = TRUE;
  if (h->read_pending) {
    CancelIoEx(h->dev, &h->ov);
    rc = collect(h, TRUE);
  }
  LeaveCriticalSection(&h->io);
  return rc;
}

/* UTF-8 patterns, NUL-separated, to the driver's UTF-16 rule list, with the
 * identities of the files they name (IOCTL_PR_SET_RULES). */
static int32_t set_rules(struct pr_handle *h, const uint8_t *arg, uint32_t len) {
  uint16_t w[PR_BLOCK_BYTES / 2];
  struct rules_msg {
    struct pr_rules_in in;
    struct pr_file_id ids[PR_RULE_IDS];
    uint16_t all[PR_BLOCK_BYTES / 2];
  } *m;
  uint32_t units = 0, all_units = 0;
  struct pr_names_stats ns;
  char why[300];
  DWORD got;
  int32_t rc = PR_OK;
  if (pr_rules_to_utf16(arg, len, w, PR_BLOCK_BYTES / 2, &units, why, sizeof(why)) != PR_OK) {
    set_err(h, "procrec.dll: %s", why);
    return PR_E_INVAL;
  }
  m = (struct rules_msg *)calloc(1, sizeof(*m));
  if (m == NULL) {
    set_err(h, "procrec.dll: block rules: out of memory");
    return PR_E_NOMEM;
  }
  /* a rule that names a file also denies its other names: 8.3, hard links,
   * the path without junctions, the \Device form; and its identity, so that
   * names made later are denied too */
  switch (pr_rule_names(w, units, m->all, PR_BLOCK_BYTES / 2, &all_units, m->ids, PR_RULE_IDS, &ns)) {
  case 0: break;
  case -1:
    set_err(h, "procrec.dll: block rules: with the other names of the %u files they name (short names, hard links, "
               "final paths) they are longer than %u UTF-16 units, the driver's limit: name fewer files",
            ns.files, (unsigned)(PR_BLOCK_BYTES / 2));
    rc = PR_E_INVAL;
    break;
  default:
    set_err(h, "procrec.dll: block rules: the files they name have more than %u identities (the driver's limit): "
               "name fewer files",
            (unsigned)PR_RULE_IDS);
    rc = PR_E_INVAL;
  }
  if (rc == PR_OK) {
    uint32_t ids_bytes = ns.ids * (uint32_t)sizeof(struct pr_file_id);
    m->in.version = PR_WIRE_VERSION;
    m->in.ids = ns.ids;
    m->in.text_bytes = all_units * 2u;
    /* the patterns right after the identities used */
    memmove((uint8_t *)m->ids + ids_bytes, m->all, all_units * 2u);
    if (!ioctl_sync(h, IOCTL_PR_SET_RULES, m, (DWORD)(sizeof(m->in) + ids_bytes + all_units * 2u), NULL, 0,
                    &got)) {
      DWORD e = GetLastError();
      if (e == ERROR_SHARING_VIOLATION) {
        set_err(h, "procrec.dll: block rules: another procrec session holds the driver's rules (one session at a "
                   "time; they go when it clears them or closes)");
        rc = PR_E_STATE;
      } else {
        rc = win_err(h, e, "IOCTL set block rules");
      }
    }
  }
  free(m);
  return rc;
}

/* PR_CTL_EXEC_RULES: the one rule language (deny rules on the image path)
 * as the driver's block patterns; what the driver cannot enforce is refused. */
static int32_t set_exec_rules(struct pr_handle *h, const uint8_t *arg, uint32_t len) {
  char pats[PR_BLOCK_BYTES];
  char why[300];
  uint32_t n = 0;
  int rc = pr_rule_patterns(arg, len, pats, sizeof(pats), &n, why, sizeof(why));
  if (rc != PR_OK) {
    set_err(h, "procrec.dll: %s", why);
    return rc;
  }
  return set_rules(h, (const uint8_t *)pats, n);
}

PROCREC_API int32_t procrec_control(void *hv, uint32_t op, const uint8_t *arg, uint32_t len) {
  struct pr_handle *h = (struct pr_handle *)hv;
  struct pr_inject_result res;
  DWORD got;
  if (h == NULL) return PR_E_INVAL;
  switch (op) {
  case PR_CTL_PAUSE_READER: return pause_reader(h);
  case PR_CTL_RESUME_READER: h->paused = FALSE; return PR_OK;
  case PR_CTL_BLOCK_RULES: return set_rules(h, arg, len);
  case PR_CTL_PAUSE_HASHER: pr_dll_hash_pause(h->hasher, 1); return PR_OK;
  case PR_CTL_RESUME_HASHER: pr_dll_hash_pause(h->hasher, 0); return PR_OK;
  case PR_CTL_EXEC_RULES: return set_exec_rules(h, arg, len);
  case PR_CTL_INJECT:
    if (arg == NULL || len == 0) return PR_E_INVAL;
    if (!ioctl_sync(h, IOCTL_PR_INJECT, arg, len, &res, sizeof(res), &got)) {
      DWORD e = GetLastError();
      if (e == ERROR_INVALID_FUNCTION) {
        set_err(h, "procrec.dll: injection needs the test build of the driver (procrec_test.sys)");
        return PR_E_NOSUP;
      }
      return win_err(h, e, "IOCTL inject");
    }
    return PR_OK;
  default:
    set_err(h, "procrec.dll: procrec_control: operation %u is not supported by the windows source", op);
    return PR_E_NOSUP;
  }
}

PROCREC_API void procrec_close(void *hv) {
  struct pr_handle *h = (struct pr_handle *)hv;
  if (h == NULL) return;
  pause_reader(h);
  uninstall(h);
  free_handle(h);
}

PROCREC_API int32_t procrec_last_error(void *hv, char *buf, uint32_t cap) {
  struct pr_handle *h = (struct pr_handle *)hv;
  const char *src;
  int32_t n;
  if (h != NULL) EnterCriticalSection(&h->cs);
  src = h != NULL ? h->err : thread_err();
  n = pr_copy_text(buf, cap, src != NULL ? src : "");
  if (h != NULL) LeaveCriticalSection(&h->cs);
  return n;
}

PROCREC_API int32_t procrec_source(void *hv, char *buf, uint32_t cap) {
  if (hv == NULL) return PR_E_INVAL;
  pr_copy_text(buf, cap, "windows: procrec.sys kernel driver through the Service Control Manager");
  return PR_SOURCE_WINDOWS;
}
