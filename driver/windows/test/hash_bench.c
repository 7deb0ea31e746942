/*
 * hash_bench.c - the image hash worker of procrec.dll (dll/pr_dll_hash.c)
 * measured on its own, under Wine (test/hash_bench.sh; make bench-hash).
 * Not a test: it prints figures and checks only that every hash came back
 * ok with the right digest.
 *
 *   hash_bench.exe [MIB [CACHED]]     defaults: a 64 MiB file, 2000 cached hashes
 *
 * It writes a file of MIB MiB (pseudo-random bytes) in the temp folder and
 * waits until it is old enough to be cached (PR_DLL_HASH_RACY_NS), then
 * hands the worker process-create records naming it, as procrec.dll's
 * reader does (pr_dll_hash_note):
 *   - first-time: one creation; the file is read and hashed. MB/s of wall
 *     time from the note to the PR_REC_HASH record, and MB/s of this
 *     process's CPU time (the worker's: the main thread waits);
 *   - cached: CACHED creations of the same file; each is opened, its
 *     identity read and the digest taken from the cache. Wall and CPU time
 *     per hash, in microseconds;
 *   - the SHA-256 code alone on the same bytes in memory (MB/s of CPU), to
 *     tell the hashing from the file reading.
 */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/pr_record.h"
#include "../../common/pr_sha256.h"
#include "../../include/procrec_abi.h"
#include "../dll/pr_dll_hash.h"

#define FILETIME_UNIX_EPOCH 116444736000000000ull

static volatile LONG got_n, bad_n;
static LONGLONG last_qpc;
static HANDLE done_ev;
static LONG want_n;
static uint8_t want_sha[32];

static void on_hash(void *ctx, const void *rec, uint32_t size) {
  struct pr_rec_hash r;
  LARGE_INTEGER now;
  (void)ctx;
  QueryPerformanceCounter(&now);
  if (size < sizeof(r)) return;
  memcpy(&r, rec, sizeof(r));
  if (r.status != PR_HASH_OK || memcmp(r.sha256, want_sha, 32) != 0) {
    if (InterlockedIncrement(&bad_n) <= 3) printf("hash_bench: pid %u: status %u err %u\n", r.h.pid, r.status, r.err);
  }
  last_qpc = now.QuadPart;
  if (InterlockedIncrement(&got_n) == want_n) SetEvent(done_ev);
}

static double cpu_seconds(void) {
  FILETIME c, e, k, u;
  GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &u);
  return ((double)(((uint64_t)k.dwHighDateTime << 32) | k.dwLowDateTime) +
          (double)(((uint64_t)u.dwHighDateTime << 32) | u.dwLowDateTime)) /
         1e7;
}

static uint64_t unix_now_ns(void) {
  FILETIME f;
  uint64_t t;
  GetSystemTimeAsFileTime(&f);
  t = ((uint64_t)f.dwHighDateTime << 32) | f.dwLowDateTime;
  return (t - FILETIME_UNIX_EPOCH) * 100u;
}

/* A process-create record naming image (UTF-8, \??\ form) as the DLL's
 * reader stores it: started now. */
static uint32_t create_record(uint8_t *buf, uint32_t cap, uint32_t pid, const char *image) {
  struct pr_builder b;
  struct pr_rec_header *h;
  struct pr_rec_process_create *r;
  ULONGLONG it = 0;
  QueryUnbiasedInterruptTime(&it);
  if (pr_rb_init(&b, buf, cap, PR_REC_PROCESS_CREATE, sizeof(*r)) != 0) return 0;
  h = pr_rb_header(&b);
  h->pid = pid;
  h->mono_ns = (uint64_t)it * 100u;
  h->utc_ns = unix_now_ns();
  r = (struct pr_rec_process_create *)(void *)buf;
  r->start_ns = h->mono_ns;
  if (pr_rb_add_str(&b, offsetof(struct pr_rec_process_create, info.image), image, (uint32_t)strlen(image), 0) != 0)
    return 0;
  return pr_rb_finish(&b);
}

/* Notes n creations of image and waits for their n hashes: wall seconds from
 * the first note to the last hash, CPU seconds of this process. */
static int run(struct pr_dll_hasher *hz, const char *image, LONG n, uint32_t pid0, double *wall, double *cpu) {
  static uint8_t rec[4096];
  LARGE_INTEGER f, t0;
  double c0;
  uint32_t size;
  got_n = 0;
  want_n = n;
  ResetEvent(done_ev);
  QueryPerformanceFrequency(&f);
  c0 = cpu_seconds();
  QueryPerformanceCounter(&t0);
  for (LONG i = 0; i < n; i++) {
    size = create_record(rec, sizeof(rec), pid0 + 4u * (uint32_t)i, image);
    if (size == 0) return 0;
    pr_dll_hash_note(hz, rec, size);
  }
  if (WaitForSingleObject(done_ev, 600000) != WAIT_OBJECT_0) return 0;
  *wall = (double)(last_qpc - t0.QuadPart) / (double)f.QuadPart;
  *cpu = cpu_seconds() - c0;
  return 1;
}

int main(int argc, char **argv) {
  uint32_t mib = argc > 1 ? (uint32_t)atoi(argv[1]) : 64u;
  LONG cached = argc > 2 ? atol(argv[2]) : 2000;
  size_t bytes;
  uint8_t *data;
  WCHAR tmp[MAX_PATH], path[MAX_PATH];
  char image[3 * MAX_PATH + 8];
  struct pr_sha256 c;
  struct pr_dll_hasher *hz;
  struct pr_dll_hash_stats st;
  HANDLE fh;
  DWORD put;
  double wall, cpu, c0;
  uint32_t x = 2463534242u;
  if (mib == 0 || mib > 1024 || cached <= 0 || cached > (LONG)PR_DLL_HASH_QUEUE) {
    fprintf(stderr, "usage: hash_bench.exe [MIB (1-1024) [CACHED (1-%u)]]\n", PR_DLL_HASH_QUEUE);
    return 2;
  }
  bytes = (size_t)mib << 20;
  data = malloc(bytes);
  if (data == NULL) return 2;
  for (size_t i = 0; i < bytes; i += 4) { /* xorshift32: no run-length shortcuts anywhere */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    memcpy(data + i, &x, 4);
  }
  c0 = cpu_seconds();
  pr_sha256_init(&c);
  pr_sha256_update(&c, data, bytes);
  pr_sha256_final(&c, want_sha);
  cpu = cpu_seconds() - c0;
  printf("sha256 in memory: %.0f MB/s of CPU (%u MiB in %.3f s)\n", (double)bytes / 1e6 / cpu, mib, cpu);

  GetTempPathW(MAX_PATH, tmp);
  swprintf(path, MAX_PATH, L"%lsprocrec-hash-bench-%lu.bin", tmp, (unsigned long)GetCurrentProcessId());
  fh = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, 0, NULL);
  if (fh == INVALID_HANDLE_VALUE || !WriteFile(fh, data, (DWORD)bytes, &put, NULL) || put != bytes) {
    fprintf(stderr, "hash_bench: cannot write %ls: Win32 error %lu\n", path, GetLastError());
    return 2;
  }
  CloseHandle(fh);
  free(data);
  strcpy(image, "\\??\\");
  WideCharToMultiByte(CP_UTF8, 0, path, -1, image + 4, (int)sizeof(image) - 4, NULL, NULL);
  /* old enough to be cached (a file changed less than 2 s before it is
   * hashed is not) */
  Sleep((DWORD)(PR_DLL_HASH_RACY_NS / 1000000) + 200u);

  done_ev = CreateEventW(NULL, TRUE, FALSE, NULL);
  hz = pr_dll_hash_create(on_hash, NULL);
  if (hz == NULL || done_ev == NULL || pr_dll_hash_start(hz) != 0) {
    fprintf(stderr, "hash_bench: cannot start the hash worker\n");
    return 2;
  }
  if (!run(hz, image, 1, 1000, &wall, &cpu)) {
    fprintf(stderr, "hash_bench: the first-time hash did not come\n");
    return 2;
  }
  printf("first-time hash: %u MiB in %.3f s from the creation to its hash = %.0f MB/s; %.3f s of CPU = %.0f MB/s of "
         "CPU\n",
         mib, wall, (double)bytes / 1e6 / wall, cpu, (double)bytes / 1e6 / cpu);
  if (!run(hz, image, cached, 100000, &wall, &cpu)) {
    fprintf(stderr, "hash_bench: the cached hashes did not all come\n");
    return 2;
  }
  pr_dll_hash_stats(hz, &st);
  printf("cached: %ld hashes of the same file in %.3f s = %.1f us each (wall), %.1f us of CPU each\n", cached, wall,
         wall * 1e6 / (double)cached, cpu * 1e6 / (double)cached);
  printf("worker counters: %llu files read, %llu from the cache, %llu bytes, %llu skipped; %ld not ok\n",
         (unsigned long long)st.read, (unsigned long long)st.cached, (unsigned long long)st.bytes,
         (unsigned long long)st.skipped, (long)bad_n);
  pr_dll_hash_destroy(hz);
  DeleteFileW(path);
  return bad_n == 0 && st.read == 1 && st.cached == (uint64_t)cached ? 0 : 1;
}
