/*
 * km_host.h - the kernel primitives procrec.sys's portable core uses, for the
 * host unit test (test/host_drv_test.c, built with -DPR_HOST_TEST under
 * ThreadSanitizer). Each is the real thing's semantics on POSIX threads:
 * spinlocks and the KMUTEX are pthread mutexes, Interlocked* are sequentially
 * consistent atomics, events wake waiters. The image-load registrations are a
 * table like the kernel's, which allows the same routine to be registered
 * twice (the blue screen of issue 10 defect 3) and removes one entry per
 * removal; the test reads it (km_image_registrations).
 */
#ifndef PR_KM_HOST_H
#define PR_KM_HOST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

typedef int32_t NTSTATUS;
typedef uint32_t ULONG, *PULONG;
typedef int32_t LONG;
typedef uint16_t USHORT;
typedef uint8_t UCHAR, *PUCHAR;
typedef uint64_t ULONG64;
typedef int64_t LONG64, LONGLONG;
typedef uintptr_t ULONG_PTR;
typedef size_t SIZE_T;
typedef uint8_t BOOLEAN;
typedef void VOID, *PVOID;
typedef void *HANDLE;
typedef uint16_t WCHAR, *PWCH;
typedef const uint16_t *PCWSTR;
typedef uint8_t KIRQL;
typedef int POOL_TYPE;
typedef pthread_mutex_t KSPIN_LOCK, FAST_MUTEX;
typedef struct {
  pthread_mutex_t mu;
} KMUTEX;
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int set;
} KEVENT;
typedef struct _LIST_ENTRY {
  struct _LIST_ENTRY *Flink, *Blink;
} LIST_ENTRY;
typedef void *PKTHREAD, *PEPROCESS, *PETHREAD, *PDEVICE_OBJECT, *PIRP, *PIO_STACK_LOCATION;
typedef union {
  LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;
typedef struct {
  USHORT Length, MaximumLength;
  PWCH Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;
typedef struct {
  HANDLE UniqueProcess, UniqueThread;
} CLIENT_ID;
typedef struct {
  SIZE_T Size;
  ULONG Flags;
  HANDLE ParentProcessId;
  CLIENT_ID CreatingThreadId;
  void *FileObject;
  PCUNICODE_STRING ImageFileName;
  PCUNICODE_STRING CommandLine;
  NTSTATUS CreationStatus;
} PS_CREATE_NOTIFY_INFO, *PPS_CREATE_NOTIFY_INFO;
typedef struct {
  ULONG Properties;
  PVOID ImageBase;
  ULONG ImageSelector;
  SIZE_T ImageSize;
  ULONG ImageSectionNumber;
} IMAGE_INFO, *PIMAGE_INFO;
typedef struct {
  PVOID FsContext, FsContext2;
} FILE_OBJECT, *PFILE_OBJECT;
typedef VOID (*PLOAD_IMAGE_NOTIFY_ROUTINE)(PUNICODE_STRING, HANDLE, PIMAGE_INFO);

#define NTAPI
#define NTSYSAPI
#define NTKERNELAPI
#define TRUE 1
#define FALSE 0
#define NT_SUCCESS(s) ((NTSTATUS)(s) >= 0)
#define STATUS_SUCCESS ((NTSTATUS)0)
#define STATUS_ACCESS_DENIED ((NTSTATUS)0xC0000022u)
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000Du)
#define STATUS_INVALID_DEVICE_STATE ((NTSTATUS)0xC0000184u)
#define STATUS_REVISION_MISMATCH ((NTSTATUS)0xC0000059u)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009Au)
#define STATUS_SHARING_VIOLATION ((NTSTATUS)0xC0000043u)
#define NonPagedPool 0
#define NonPagedPoolNx 512
#define Executive 0
#define KernelMode 0
#define UNREFERENCED_PARAMETER(x) (void)(x)
#define RtlZeroMemory(p, n) memset((p), 0, (n))
#define RtlCopyMemory(d, s, n) memcpy((d), (s), (n))
#define RtlCompareMemory(a, b, n) (memcmp((a), (b), (n)) == 0 ? (SIZE_T)(n) : (SIZE_T)0)

#define InterlockedExchange(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define InterlockedExchange64(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define InterlockedIncrement(p) __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
#define InterlockedIncrement64(p) __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
#define InterlockedDecrement(p) __atomic_sub_fetch((p), 1, __ATOMIC_SEQ_CST)
static inline LONG km_cas32(volatile LONG *p, LONG v, LONG cmp) {
  __atomic_compare_exchange_n(p, &cmp, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return cmp;
}
static inline LONG64 km_cas64(volatile LONG64 *p, LONG64 v, LONG64 cmp) {
  __atomic_compare_exchange_n(p, &cmp, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return cmp;
}
#define InterlockedCompareExchange(p, v, c) km_cas32((p), (v), (c))
#define InterlockedCompareExchange64(p, v, c) km_cas64((p), (v), (c))

#define KeInitializeSpinLock(l) pthread_mutex_init((l), NULL)
#define ExInitializeFastMutex(m) pthread_mutex_init((m), NULL)
#define KeAcquireSpinLock(l, irql) (*(irql) = 0, pthread_mutex_lock(l))
#define KeReleaseSpinLock(l, irql) ((void)(irql), pthread_mutex_unlock(l))
#define ExAcquireFastMutex(m) pthread_mutex_lock(m)
#define ExReleaseFastMutex(m) pthread_mutex_unlock(m)
#define KeInitializeMutex(m, level) ((void)(level), pthread_mutex_init(&(m)->mu, NULL))
#define KeWaitForSingleObject(m, reason, mode, alert, timeout) pthread_mutex_lock(&(m)->mu)
#define KeReleaseMutex(m, wait) ((void)(wait), pthread_mutex_unlock(&(m)->mu))

static inline LONG KeSetEvent(KEVENT *e, LONG incr, BOOLEAN wait) {
  (void)incr;
  (void)wait;
  pthread_mutex_lock(&e->mu);
  e->set = 1;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
  return 0;
}
static inline NTSTATUS KeDelayExecutionThread(int mode, BOOLEAN alert, PLARGE_INTEGER t) {
  struct timespec ts = {0, (long)(-t->QuadPart * 100)};
  (void)mode;
  (void)alert;
  nanosleep(&ts, NULL);
  return STATUS_SUCCESS;
}
static inline ULONG64 km_now_100ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (ULONG64)ts.tv_sec * 10000000u + (ULONG64)ts.tv_nsec / 100u;
}
#define KeQueryInterruptTime() km_now_100ns(CLOCK_MONOTONIC)
#define KeQuerySystemTime(t) ((t)->QuadPart = (LONGLONG)(km_now_100ns(CLOCK_REALTIME) + 116444736000000000ull))

/* Upcase of the host test: ASCII, Latin-1 and Greek/Cyrillic lower-case
 * letters (enough to see non-ASCII rules match regardless of case). */
static inline WCHAR RtlUpcaseUnicodeChar(WCHAR c) {
  if ((c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7) || (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) ||
      (c >= 0x430 && c <= 0x44F))
    return (WCHAR)(c - 0x20);
  return c;
}

/* The calling thread's ids, as the test sets them for each of its threads. */
extern __thread ULONG km_current_pid, km_current_tid;
#define PsGetCurrentProcessId() ((HANDLE)(ULONG_PTR)km_current_pid)
#define PsGetCurrentThreadId() ((HANDLE)(ULONG_PTR)km_current_tid)
#define pr_current_thread() ((PETHREAD)NULL)
#define pr_current_process() ((PEPROCESS)NULL)

/* The kernel's image-load notify table (test/host_drv_test.c). */
NTSTATUS PsSetLoadImageNotifyRoutine(PLOAD_IMAGE_NOTIFY_ROUTINE fn);
NTSTATUS PsRemoveLoadImageNotifyRoutine(PLOAD_IMAGE_NOTIFY_ROUTINE fn);

#endif /* PR_KM_HOST_H */
