/*
 * host_drv_test.c - procrec.sys's portable core on the host, with real
 * threads, under ThreadSanitizer (make -C driver/windows host-test).
 *
 * The driver's own files (sys/drv_ctl.c, sys/drv_notify.c, sys/drv_rules.c,
 * pr_match.c, the common ring) are compiled for Linux; the producers call the
 * callbacks' real entry points (pr_process_notify, pr_thread_notify,
 * pr_image_notify), which ask km_host.h who the current process is with test/km_host.h
 * giving the kernel primitives their real semantics on POSIX threads. Wine
 * runs one request at a time on one thread, so only here do the callbacks
 * run at once:
 *   1. sessions: 8 threads send START (with image loads) at the same moment,
 *      then STOP, 200 rounds: the image-load callback is never registered
 *      twice, and is gone after the last STOP (issue 10 defect 3);
 *   2. callbacks: 20 producer threads (more than the 16 scratch slots) run
 *      the process/thread/image callback bodies while a reader drains the
 *      ring, a writer replaces the block rules and a second session starts
 *      and stops: every record is stored or counted lost, each producer's
 *      order kept, sequence numbers contiguous, denials exactly the images
 *      the rules match (names in non-canonical spellings), first threads not
 *      remote, later ones remote;
 *   5. unload: 8 producers call the callbacks' entry points while the
 *      driver unloads (recording off, routines removed without waiting for
 *      calls in flight, the drain) and its memory is freed and poisoned:
 *      TSan sees no access to it after the drain.
 * TSan reports any data race; the checks report lost or reordered records.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sys/drv.h"

struct pr_drv g_pr;
__thread ULONG km_current_pid, km_current_tid;

static int fails, checks;
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

/* ---- the kernel's image-load notify table ---- */
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static PLOAD_IMAGE_NOTIFY_ROUTINE table[8];
static int table_n, table_max_same;

NTSTATUS PsSetLoadImageNotifyRoutine(PLOAD_IMAGE_NOTIFY_ROUTINE fn) {
  int same = 0;
  usleep(200); /* the kernel takes its time: a racing START would get in here */
  pthread_mutex_lock(&table_mu);
  if (table_n == 8) {
    pthread_mutex_unlock(&table_mu);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  table[table_n++] = fn;
  for (int i = 0; i < table_n; i++) same += table[i] == fn;
  if (same > table_max_same) table_max_same = same;
  pthread_mutex_unlock(&table_mu);
  return STATUS_SUCCESS;
}

NTSTATUS PsRemoveLoadImageNotifyRoutine(PLOAD_IMAGE_NOTIFY_ROUTINE fn) {
  NTSTATUS st = STATUS_INVALID_PARAMETER;
  pthread_mutex_lock(&table_mu);
  for (int i = 0; i < table_n; i++)
    if (table[i] == fn) {
      table[i] = table[--table_n];
      st = STATUS_SUCCESS;
      break;
    }
  pthread_mutex_unlock(&table_mu);
  return st;
}

static int registrations(void) {
  int n;
  pthread_mutex_lock(&table_mu);
  n = table_n;
  pthread_mutex_unlock(&table_mu);
  return n;
}

/* ---- set-up ---- */
#define RING_BYTES (64u * 1024u)

static void drv_init(void) {
  memset(&g_pr, 0, sizeof(g_pr));
  pr_ctl_init();
  KeInitializeSpinLock(&g_pr.lock);
  ExInitializeFastMutex(&g_pr.rules_mutex);
  pthread_mutex_init(&g_pr.wake.mu, NULL);
  pthread_cond_init(&g_pr.wake.cv, NULL);
  g_pr.ring_mem = malloc(RING_BYTES);
  g_pr.scratch = malloc(PR_SCRATCH_SLOTS * PR_SCRATCH_BYTES);
  g_pr.rules = calloc(2, sizeof(struct pr_rules));
  pr_ring_init(&g_pr.ring, g_pr.ring_mem, RING_BYTES, PR_LOST_DRIVER_QUEUE);
  g_pr.max_units = PR_DEFAULT_UNITS;
}

static void drv_free(void) {
  free(g_pr.ring_mem);
  free(g_pr.scratch);
  free(g_pr.rules);
}

static struct pr_drv_start start_args(ULONG flags) {
  struct pr_drv_start s;
  memset(&s, 0, sizeof(s));
  s.version = PR_WIRE_VERSION;
  s.flags = flags;
  return s;
}

/* ---- 1. concurrent START/STOP ---- */
#define SESSIONS 8
static pthread_barrier_t bar;
static FILE_OBJECT files[SESSIONS];

static void *session(void *arg) {
  FILE_OBJECT *f = arg;
  struct pr_drv_start s = start_args(PR_OPT_IMAGE_LOAD);
  for (int round = 0; round < 200; round++) {
    pthread_barrier_wait(&bar);
    if (!NT_SUCCESS(pr_ctl_start(f, &s))) __atomic_add_fetch(&fails, 1, __ATOMIC_SEQ_CST);
    if (pr_ctl_start(f, &s) != STATUS_INVALID_DEVICE_STATE) __atomic_add_fetch(&fails, 1, __ATOMIC_SEQ_CST);
    pthread_barrier_wait(&bar);
    pr_ctl_stop(f);
    pr_ctl_stop(f); /* a second STOP (or the handle's close after STOP) changes nothing */
  }
  return NULL;
}

static void test_sessions(void) {
  pthread_t t[SESSIONS];
  int before = fails;
  drv_init();
  table_max_same = 0;
  pthread_barrier_init(&bar, NULL, SESSIONS);
  for (int i = 0; i < SESSIONS; i++) pthread_create(&t[i], NULL, session, &files[i]);
  for (int i = 0; i < SESSIONS; i++) pthread_join(t[i], NULL);
  pthread_barrier_destroy(&bar);
  CHECK(fails == before, "every START succeeded once per handle, the second one refused");
  CHECK(table_max_same == 1, "the image-load callback was registered %d times at once (want 1)", table_max_same);
  CHECK(registrations() == 0 && g_pr.running == 0 && g_pr.image_on == 0 && g_pr.starts == 0,
        "after the last STOP: %d registrations, running %d, image loads %d", registrations(), (int)g_pr.running,
        (int)g_pr.image_on);
  /* one session stopping leaves the other's recording and image loads on */
  {
    struct pr_drv_start img = start_args(PR_OPT_IMAGE_LOAD), plain = start_args(0);
    CHECK(pr_ctl_start(&files[0], &plain) == STATUS_SUCCESS && pr_ctl_start(&files[1], &img) == STATUS_SUCCESS,
          "two sessions start");
    pr_ctl_stop(&files[0]);
    CHECK(g_pr.running == 1 && g_pr.image_on == 1 && registrations() == 1, "the other session still records");
    pr_ctl_stop(&files[1]);
    CHECK(g_pr.running == 0 && registrations() == 0, "both stopped");
    pr_ctl_start(&files[2], &img);
    pr_ctl_shutdown();
    CHECK(g_pr.running == 0 && registrations() == 0, "unload unregisters a started session's callback");
  }
  drv_free();
  printf("sessions: %d STARTs at once, 200 rounds: at most %d image-load registration\n", SESSIONS, table_max_same);
}

/* ---- 2. callbacks on many threads ---- */
#define PRODUCERS 20
#define PER_PRODUCER 3000
#define PID0 10000u

static volatile int producing;

/* UTF-16 of an ASCII string into w (cap units); returns units. */
static USHORT w16(WCHAR *w, size_t cap, const char *s) {
  size_t n = strlen(s);
  if (n > cap) n = cap;
  for (size_t i = 0; i < n; i++) w[i] = (uint8_t)s[i];
  return (USHORT)n;
}

/* Producer k: process pid k creates itself as child of 4 (one record), then
 * threads alternately local and remote, image loads, and every 10th item a
 * child process whose image the rules deny. */
static void *producer(void *arg) {
  ULONG k = (ULONG)(uintptr_t)arg, pid = PID0 + k * 100u;
  WCHAR img[128], cmd[64];
  UNICODE_STRING ui, uc;
  PS_CREATE_NOTIFY_INFO ci;
  IMAGE_INFO ii;
  km_current_pid = 4;
  km_current_tid = 8;
  /* the process, from process 4; its first thread from 4 too (not remote) */
  memset(&ci, 0, sizeof(ci));
  ui.Buffer = img;
  ui.Length = (USHORT)(2u * w16(img, 128, k % 2 ? "\\Device\\HarddiskVolume2\\Windows\\notepad.EXE"
                                                 : "\\??\\c:/windows/system32/../notepad.exe"));
  uc.Buffer = cmd;
  uc.Length = (USHORT)(2u * w16(cmd, 64, "notepad.exe x"));
  ci.ImageFileName = &ui;
  ci.CommandLine = &uc;
  ci.CreatingThreadId.UniqueProcess = (HANDLE)4;
  /* the kernel's entry points themselves: they ask "the kernel" (km_host.h:
   * the calling thread's ids) who creates, as on Windows */
  pr_process_notify(NULL, (HANDLE)(ULONG_PTR)pid, &ci);
  pr_thread_notify((HANDLE)(ULONG_PTR)pid, (HANDLE)(ULONG_PTR)(pid + 1), TRUE);
  km_current_pid = pid;
  km_current_tid = pid + 1;
  for (ULONG i = 0; i < PER_PRODUCER; i++) {
    ULONG tid = 1000000u * (k + 1) + i;
    switch (i % 10) {
    case 9: { /* a child the rules deny: a device path, mixed case */
      PS_CREATE_NOTIFY_INFO c;
      memset(&c, 0, sizeof(c));
      ui.Length = (USHORT)(2u * w16(img, 128, i % 20 == 9 ? "\\Device\\HarddiskVolume2\\tmp\\EVIL.exe"
                                                           : "\\??\\C:\\TMP\\evil.EXE"));
      c.ImageFileName = &ui;
      c.CreatingThreadId.UniqueProcess = (HANDLE)(ULONG_PTR)pid;
      c.ParentProcessId = (HANDLE)(ULONG_PTR)pid;
      pr_on_process(tid, &c, 0, 0, NULL);
      break;
    }
    case 4:
      ui.Length = (USHORT)(2u * w16(img, 128, "\\SystemRoot\\System32\\ntdll.dll"));
      memset(&ii, 0, sizeof(ii));
      ii.ImageBase = (PVOID)(ULONG_PTR)(0x10000u * (i + 1));
      pr_image_notify(&ui, (HANDLE)(ULONG_PTR)pid, &ii);
      break;
    default: /* thread creations: odd ones by another process (remote) */
      km_current_pid = i % 2 ? 4u : pid; /* odd: created from process 4 */
      km_current_tid = i % 2 ? 8u : pid + 1;
      pr_thread_notify((HANDLE)(ULONG_PTR)pid, (HANDLE)(ULONG_PTR)tid, TRUE);
      km_current_pid = pid;
      km_current_tid = pid + 1;
    }
  }
  return NULL;
}

struct tally {
  uint64_t next_seq, lost, denied, remote, not_remote_first, stored[PRODUCERS], last_tid[PRODUCERS];
  uint64_t images, bad_order, bad_seq, bad_flags;
};

static void tally_batch(struct tally *t, const uint8_t *buf, uint32_t n) {
  for (uint32_t off = 0; off < n;) {
    const struct pr_rec_header *h = (const void *)(buf + off);
    if (h->seq != t->next_seq) t->bad_seq++;
    t->next_seq = h->seq + 1;
    if (h->kind == PR_REC_LOST) {
      t->lost += ((const struct pr_rec_lost *)(const void *)h)->count;
    } else if (h->pid >= PID0 && h->pid < PID0 + 100u * PRODUCERS) {
      ULONG k = (h->pid - PID0) / 100u;
      t->stored[k]++;
      if (h->kind == PR_REC_THREAD_CREATE) {
        const struct pr_rec_thread_create *r = (const void *)h;
        if (h->tid == h->pid + 1) { /* the first thread */
          if ((h->flags & PR_F_REMOTE) == 0) t->not_remote_first++;
        } else {
          int remote = r->creator_pid != h->pid;
          if (remote != ((h->flags & PR_F_REMOTE) != 0))
            printf("thread %u of %u by %u: flags 0x%x\n", h->tid, h->pid, r->creator_pid, h->flags);
          if (remote) t->remote++;
          if (remote != ((h->flags & PR_F_REMOTE) != 0)) t->bad_flags++;
          if (h->tid <= t->last_tid[k]) t->bad_order++;
          t->last_tid[k] = h->tid;
        }
      } else if (h->kind == PR_REC_IMAGE_LOAD) {
        t->images++;
      }
    } else if (h->kind == PR_REC_PROCESS_CREATE && (h->flags & PR_F_DENIED) != 0) {
      t->denied++;
      t->stored[(((const struct pr_rec_process_create *)(const void *)h)->parent_pid - PID0) / 100u]++;
    } else if (h->kind == PR_REC_PROCESS_CREATE) {
      t->bad_flags++; /* every child is denied */
      printf("process %u not denied\n", h->pid);
    }
    off += h->size;
  }
}

static struct tally tl;

static void *reader(void *arg) {
  static uint8_t buf[RING_BYTES];
  (void)arg;
  for (;;) {
    uint32_t n;
    KIRQL irql;
    int done = !__atomic_load_n(&producing, __ATOMIC_ACQUIRE);
    KeAcquireSpinLock(&g_pr.lock, &irql); /* as drv_read.c's pr_fill */
    pr_ring_flush_lost(&g_pr.ring);
    n = pr_ring_pop_batch(&g_pr.ring, buf, sizeof(buf));
    pr_ring_flush_lost(&g_pr.ring);
    KeReleaseSpinLock(&g_pr.lock, irql);
    tally_batch(&tl, buf, n);
    if (n == 0 && done) break;
    if (n == 0) usleep(50);
  }
  return NULL;
}

/* Replaces the rules while the callbacks match against them; starts and
 * stops a second session with image loads. */
static FILE_OBJECT rules_file;

static void *controller(void *arg) {
  static const char *sets[] = {"*\\evil.exe", "*\\EVIL.EXE\0*\\nothing", "*\\nothing\0*\\e?il.exe"};
  FILE_OBJECT other = {0, 0};
  struct pr_drv_start s = start_args(PR_OPT_IMAGE_LOAD);
  (void)arg;
  for (int i = 0; __atomic_load_n(&producing, __ATOMIC_ACQUIRE); i++) {
    WCHAR w[64];
    const char *p = sets[i % 3];
    size_t len = strlen(p) + 1;
    if (i % 3 != 0) len += strlen(p + len) + 1;
    for (size_t j = 0; j < len; j++) w[j] = (uint8_t)p[j];
    if (!NT_SUCCESS(pr_rules_set(&rules_file, w, (ULONG)(2u * len)))) __atomic_add_fetch(&fails, 1, __ATOMIC_SEQ_CST);
    if (i % 2 == 0) {
      pr_ctl_start(&other, &s);
    } else {
      pr_ctl_stop(&other);
    }
    usleep(100);
  }
  pr_ctl_stop(&other);
  return NULL;
}

static void test_callbacks(void) {
  pthread_t prod[PRODUCERS], rd, ctl;
  FILE_OBJECT session_file = {0, 0};
  struct pr_drv_start s = start_args(PR_OPT_IMAGE_LOAD);
  static const WCHAR rules[] = {'*', '\\', 'e', 'v', 'i', 'l', '.', 'e', 'x', 'e', 0};
  uint64_t stored = 0;
  drv_init();
  memset(&tl, 0, sizeof(tl));
  CHECK(pr_rules_set(&rules_file, rules, sizeof(rules)) == STATUS_SUCCESS, "rules set");
  CHECK(pr_ctl_start(&session_file, &s) == STATUS_SUCCESS, "session starts");
  producing = 1;
  pthread_create(&rd, NULL, reader, NULL);
  pthread_create(&ctl, NULL, controller, NULL);
  for (int k = 0; k < PRODUCERS; k++) pthread_create(&prod[k], NULL, producer, (void *)(uintptr_t)k);
  for (int k = 0; k < PRODUCERS; k++) pthread_join(prod[k], NULL);
  __atomic_store_n(&producing, 0, __ATOMIC_RELEASE);
  pthread_join(ctl, NULL);
  pthread_join(rd, NULL);
  pr_ctl_stop(&session_file);
  for (int k = 0; k < PRODUCERS; k++) stored += tl.stored[k];
  /* per producer: its process, its first thread, PER_PRODUCER items */
  CHECK(stored + tl.lost == (uint64_t)PRODUCERS * (PER_PRODUCER + 2), "%llu stored + %llu lost, expected %u",
        (unsigned long long)stored, (unsigned long long)tl.lost, PRODUCERS * (PER_PRODUCER + 2));
  CHECK(tl.lost > 0, "the 64 KiB ring overflowed (%llu lost)", (unsigned long long)tl.lost);
  CHECK(tl.bad_seq == 0 && tl.next_seq == g_pr.ring.pushed, "sequence numbers contiguous (%llu gaps)",
        (unsigned long long)tl.bad_seq);
  CHECK(tl.bad_order == 0, "%llu records out of their producer's order", (unsigned long long)tl.bad_order);
  CHECK(tl.bad_flags == 0, "%llu records with a wrong PR_F_REMOTE or a child not denied",
        (unsigned long long)tl.bad_flags);
  CHECK(tl.denied <= (uint64_t)g_pr.denied && g_pr.denied == (uint64_t)PRODUCERS * (PER_PRODUCER / 10),
        "denied: %llu records, %llu counted, %u attempted", (unsigned long long)tl.denied,
        (unsigned long long)g_pr.denied, PRODUCERS * (PER_PRODUCER / 10));
  CHECK(registrations() == 0 && g_pr.running == 0, "all stopped");
  printf("callbacks: %d producers x %d items with %u scratch slots: %llu stored, %llu counted lost (%llu with no "
         "slot), %llu denied, %llu remote threads, %llu first threads not remote, %llu image loads\n",
         PRODUCERS, PER_PRODUCER + 2, PR_SCRATCH_SLOTS, (unsigned long long)stored, (unsigned long long)tl.lost,
         (unsigned long long)g_pr.scratch_drops, (unsigned long long)tl.denied, (unsigned long long)tl.remote,
         (unsigned long long)tl.not_remote_first, (unsigned long long)tl.images);
  drv_free();
}

/* ---- 5. unload while callbacks are in flight ----
 * The host kernel's notify routines: a producer looks the routine up (the
 * flag) and calls it; the removal clears the flag and does not wait for
 * calls already made (as Wine's removal does not), so the driver's unload
 * must wait for them itself before it frees the ring, scratch and rules. */
#define UNLOAD_PRODUCERS 8
#define UNLOAD_ROUNDS 12
static volatile int km_registered;
static volatile LONG km_inflight;

static void *unload_producer(void *arg) {
  ULONG k = (ULONG)(uintptr_t)arg, pid = PID0 + k * 100u;
  WCHAR img[64];
  UNICODE_STRING ui;
  IMAGE_INFO ii;
  PS_CREATE_NOTIFY_INFO ci;
  memset(&ii, 0, sizeof(ii));
  memset(&ci, 0, sizeof(ci));
  ui.Buffer = img;
  ui.Length = (USHORT)(2u * w16(img, 64, "\\Device\\HarddiskVolume2\\Windows\\System32\\cmd.exe"));
  ci.ImageFileName = &ui;
  ci.CreatingThreadId.UniqueProcess = (HANDLE)4;
  km_current_pid = 4;
  km_current_tid = 8;
  for (ULONG i = 0; __atomic_load_n(&km_registered, __ATOMIC_ACQUIRE); i++) {
    InterlockedIncrement(&km_inflight);
    switch (i % 3) {
    case 0:
      pr_process_notify(NULL, (HANDLE)(ULONG_PTR)(pid + i % 50u), &ci);
      break;
    case 1:
      pr_thread_notify((HANDLE)(ULONG_PTR)pid, (HANDLE)(ULONG_PTR)(pid + 1u + i % 50u), TRUE);
      break;
    default:
      pr_image_notify(&ui, (HANDLE)(ULONG_PTR)pid, &ii);
    }
    InterlockedDecrement(&km_inflight);
  }
  return NULL;
}

/* Frees as the kernel's pool may: the memory is reused at once (poisoned). */
static void poison_free(void *p, size_t n) {
  memset(p, 0xDD, n);
  free(p);
}

static void test_unload(void) {
  LONG most = 0, total = 0;
  for (int round = 0; round < UNLOAD_ROUNDS; round++) {
    pthread_t t[UNLOAD_PRODUCERS];
    FILE_OBJECT f = {0, 0};
    struct pr_drv_start s = start_args(PR_OPT_IMAGE_LOAD);
    LONG inflight;
    drv_init();
    CHECK(pr_ctl_start(&f, &s) == STATUS_SUCCESS, "round %d: session starts", round);
    km_registered = 1;
    for (int k = 0; k < UNLOAD_PRODUCERS; k++) pthread_create(&t[k], NULL, unload_producer, (void *)(uintptr_t)k);
    usleep(20000);
    /* drv_main.c's pr_cleanup, in its order: recording off, the routines
     * removed (without waiting), the image-load callback, then the drain */
    InterlockedExchange(&g_pr.running, 0);
    __atomic_store_n(&km_registered, 0, __ATOMIC_RELEASE);
    inflight = InterlockedCompareExchange(&km_inflight, 0, 0);
    if (inflight > most) most = inflight;
    total += inflight;
    pr_ctl_shutdown();
    pr_cb_drain();
    CHECK(pr_load(&g_pr.cb_refs) == PR_CB_DRAINING, "round %d: no callback body left after the drain (refs 0x%x)",
          round, (unsigned)pr_load(&g_pr.cb_refs));
    /* then the memory goes, while the producers' last calls may still return */
    poison_free(g_pr.ring_mem, RING_BYTES);
    poison_free(g_pr.scratch, PR_SCRATCH_SLOTS * PR_SCRATCH_BYTES);
    poison_free(g_pr.rules, 2 * sizeof(struct pr_rules));
    g_pr.ring_mem = g_pr.scratch = NULL;
    g_pr.rules = NULL;
    for (int k = 0; k < UNLOAD_PRODUCERS; k++) pthread_join(t[k], NULL);
    CHECK(registrations() == 0, "round %d: the image-load callback unregistered", round);
  }
  CHECK(total > 0, "callbacks were in flight at some unload (%d seen)", (int)total);
  printf("unload: %d rounds, %d producers: %d callbacks in flight at unload (at most %d at once), none ran past it\n",
         UNLOAD_ROUNDS, UNLOAD_PRODUCERS, (int)total, (int)most);
}

/* ---- 6. a handle's CLEANUP (Windows only: Wine sends CLOSE alone) ----
 * pr_ctl_file_closed is what the CLEANUP and CLOSE dispatch runs. The queue
 * of pending READs (drv_read.c, IRPs) runs under Wine only: here its
 * cancellation is recorded, per file. */
static int denies(const char *image);
static PFILE_OBJECT cancelled_reads[4];
static int n_cancelled_reads;
VOID pr_read_cancel_file(PFILE_OBJECT file) {
  if (n_cancelled_reads < 4) cancelled_reads[n_cancelled_reads++] = file;
}

static void test_cleanup(void) {
  FILE_OBJECT a = {0, 0}, b = {0, 0};
  struct pr_drv_start img = start_args(PR_OPT_IMAGE_LOAD), plain = start_args(0);
  static const WCHAR ra[] = {'*', 'a', '.', 'e', 'x', 'e', 0};
  drv_init();
  n_cancelled_reads = 0;
  CHECK(pr_ctl_start(&a, &img) == STATUS_SUCCESS && pr_rules_set(&a, ra, sizeof(ra)) == STATUS_SUCCESS &&
            pr_ctl_start(&b, &plain) == STATUS_SUCCESS,
        "a records with image loads and rules, b records");
  pr_ctl_file_closed(&a, TRUE); /* IRP_MJ_CLEANUP of a */
  CHECK(g_pr.cleanups == 1 && g_pr.closes == 0, "one cleanup counted");
  CHECK(g_pr.running == 1 && g_pr.starts == 1, "b still records after a's cleanup");
  CHECK(g_pr.image_on == 0 && registrations() == 0, "a's image loads are off: nobody else wants them");
  CHECK(!denies("\\x\\a.exe") && g_pr.rules_owner == NULL, "a's rules are gone with its cleanup");
  CHECK(n_cancelled_reads == 1 && cancelled_reads[0] == &a, "a's pending reads are cancelled, not b's");
  pr_ctl_file_closed(&a, FALSE); /* then its CLOSE */
  CHECK(g_pr.closes == 1 && g_pr.running == 1 && g_pr.starts == 1, "a's close after its cleanup changes nothing");
  pr_ctl_file_closed(&b, TRUE);
  CHECK(g_pr.running == 0 && g_pr.starts == 0 && n_cancelled_reads == 3, "b's cleanup ends the recording");
  drv_free();
  printf("cleanup: IRP_MJ_CLEANUP ends its file's session, rules and reads; CLOSE after it changes nothing\n");
}

/* The kernel side of the token query is not run here (pr_process_notify,
 * the real callback entry, is not driven on the host). */
BOOLEAN pr_token_of(PEPROCESS process, struct pr_token *t) {
  (void)process;
  memset(t, 0, sizeof(*t));
  return FALSE;
}

/* ---- 4. SIDs as text ---- */
static int sid_is(const UCHAR *sid, ULONG len, const char *want) {
  WCHAR out[PR_SID_UNITS];
  ULONG n = pr_sid_text(sid, len, out, PR_SID_UNITS);
  if (n != strlen(want)) return 0;
  for (ULONG i = 0; i < n; i++)
    if (out[i] != (uint8_t)want[i]) return 0;
  return 1;
}

static void test_sid_text(void) {
  static const UCHAR system[] = {1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0};
  static const UCHAR user[] = {1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x15, 0xcd, 0x5b, 0x07, 0x2b, 0x17, 0x2f, 0x3c,
                               0x9a, 0x3d, 0x3f, 0x28, 0xe9, 0x03, 0, 0};
  static const UCHAR big_auth[] = {1, 1, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 1, 0, 0, 0};
  WCHAR out[8];
  CHECK(sid_is(system, sizeof(system), "S-1-5-18"), "LocalSystem");
  CHECK(sid_is(user, sizeof(user), "S-1-5-21-123456789-1009719083-675233178-1001"), "a domain user");
  CHECK(sid_is(big_auth, sizeof(big_auth), "S-1-20015998343868-1"), "a 48-bit authority in decimal");
  CHECK(pr_sid_text(system, sizeof(system) - 1, out, 8) == 0, "a length that does not match the count");
  CHECK(pr_sid_text(user, sizeof(user), out, 8) == 0, "too long for the buffer: refused, not cut");
}

/* ---- 3. rules belong to the handle that set them (issue 18 item 4) ---- */
static int denies(const char *image) {
  WCHAR w[64];
  USHORT n = w16(w, 64, image);
  return pr_rules_match(w, n);
}

static void test_rules_owner(void) {
  FILE_OBJECT a = {0, 0}, b = {0, 0};
  static const WCHAR ra[] = {'*', 'a', '.', 'e', 'x', 'e', 0}, rb[] = {'*', 'b', '.', 'e', 'x', 'e', 0};
  drv_init();
  CHECK(pr_rules_set(&a, ra, sizeof(ra)) == STATUS_SUCCESS && denies("\\x\\a.exe"), "handle a sets its rules");
  CHECK(pr_rules_set(&b, rb, sizeof(rb)) == STATUS_SHARING_VIOLATION && denies("\\x\\a.exe") && !denies("\\x\\b.exe"),
        "handle b can neither replace them");
  CHECK(pr_rules_set(&b, NULL, 0) == STATUS_SHARING_VIOLATION && denies("\\x\\a.exe"), "nor clear them");
  pr_rules_release(&b);
  CHECK(denies("\\x\\a.exe"), "b closing leaves a's rules");
  pr_rules_release(&a);
  CHECK(!denies("\\x\\a.exe") && g_pr.rules_owner == NULL, "a closing removes its rules");
  CHECK(pr_rules_set(&b, rb, sizeof(rb)) == STATUS_SUCCESS && denies("\\x\\b.exe"), "then b may set its own");
  CHECK(pr_rules_set(&b, NULL, 0) == STATUS_SUCCESS && !denies("\\x\\b.exe") && g_pr.rules_owner == NULL,
        "and clear them, which frees the rules for any handle");
  { /* non-ASCII letters match regardless of case (the kernel's upcase) */
    static const WCHAR re[] = {'*', '\\', 0xC9, 'V', 'I', 'L', '.', 'e', 'x', 'e', 0};
    static const WCHAR name[] = {'\\', 'x', '\\', 0xE9, 'v', 'i', 'l', '.', 'E', 'X', 'E'};
    CHECK(pr_rules_set(&a, re, sizeof(re)) == STATUS_SUCCESS && pr_rules_match(name, 11), "\\x\\\\u00e9vil.EXE denied by *\\\\u00c9VIL.exe");
    pr_rules_release(&a);
  }
  drv_free();
}

/* The host has no Windows file system: the identity the callback would read
 * is the image's last name's letters summed (so "\\x\\a.exe" and
 * "\\y\\a.exe" are one file: two hard links), on volume 7. */
BOOLEAN pr_image_identity(PFILE_OBJECT file, PCUNICODE_STRING name, ULONG kinds, struct pr_image_id *out) {
  ULONG n, i, sum = 0;
  (void)file;
  memset(out, 0, sizeof(*out));
  if (name == NULL || name->Length == 0) return FALSE;
  n = name->Length / 2u;
  for (i = n; i > 0 && name->Buffer[i - 1] != '\\'; i--) sum += name->Buffer[i - 1];
  out->serial32 = 7;
  out->index = sum;
  out->serial64 = 7;
  out->fileid[0] = (UCHAR)sum;
  out->fileid[1] = (UCHAR)(sum >> 8);
  out->have = kinds & ((1u << PR_ID_INDEX) | (1u << PR_ID_FILEID));
  return out->have != 0;
}

/* ---- 3b. file identities: set with the rules, matched, owned alike ---- */
static void test_rules_ids(void) {
  FILE_OBJECT a = {0, 0}, b = {0, 0};
  struct {
    struct pr_rules_in in;
    struct pr_file_id ids[2];
    WCHAR text[8];
  } m;
  struct pr_image_id id;
  UNICODE_STRING u;
  WCHAR w[64];
  ULONG sum = 'a' + '.' + 'e' + 'x' + 'e';
  drv_init();
  memset(&m, 0, sizeof(m));
  m.in.version = PR_WIRE_VERSION;
  m.in.ids = 2;
  m.in.text_bytes = 2u * 7u;
  m.ids[0].kind = PR_ID_INDEX;
  m.ids[0].volume = 7;
  m.ids[0].id[0] = (UCHAR)sum;
  m.ids[0].id[1] = (UCHAR)(sum >> 8);
  m.ids[1].kind = PR_ID_FILEID;
  m.ids[1].volume = 99; /* another volume: never matches */
  m.ids[1].id[0] = (UCHAR)sum;
  m.ids[1].id[1] = (UCHAR)(sum >> 8);
  { static const WCHAR t[] = {'*', 'z', '.', 'e', 'x', 'e', 0}; memcpy(m.text, t, sizeof(t)); }
  CHECK(pr_rules_set_in(&a, &m, (ULONG)(sizeof(m.in) + sizeof(m.ids) + m.in.text_bytes)) == STATUS_SUCCESS,
        "rules with identities set");
  CHECK(pr_rules_id_kinds() == ((1u << PR_ID_INDEX) | (1u << PR_ID_FILEID)), "kinds held: 0x%x", pr_rules_id_kinds());
  u.Buffer = w;
  u.Length = (USHORT)(2u * w16(w, 64, "\\y\\a.exe"));
  u.MaximumLength = u.Length;
  CHECK(pr_image_identity(NULL, &u, pr_rules_id_kinds(), &id) && pr_rules_match_id(&id), "another name of the file denied");
  u.Length = (USHORT)(2u * w16(w, 64, "\\y\\b.exe"));
  CHECK(pr_image_identity(NULL, &u, pr_rules_id_kinds(), &id) && !pr_rules_match_id(&id), "another file allowed");
  u.Length = (USHORT)(2u * w16(w, 64, "\\y\\a.exe"));
  pr_image_identity(NULL, &u, 1u << PR_ID_FILEID, &id);
  CHECK(!pr_rules_match_id(&id), "a kind of identity matches only its own kind (the 128-bit id is on another volume)");
  CHECK(pr_rules_set_in(&b, &m, (ULONG)(sizeof(m.in) + sizeof(m.ids) + m.in.text_bytes)) == STATUS_SHARING_VIOLATION,
        "another handle cannot replace them");
  CHECK(pr_rules_set_in(&a, &m, (ULONG)(sizeof(m.in) + sizeof(m.ids) + m.in.text_bytes) - 2u) ==
            STATUS_INVALID_PARAMETER, "a length that does not add up is refused");
  m.ids[0].kind = 9;
  CHECK(pr_rules_set_in(&a, &m, (ULONG)(sizeof(m.in) + sizeof(m.ids) + m.in.text_bytes)) == STATUS_INVALID_PARAMETER,
        "an unknown kind is refused");
  m.ids[0].kind = PR_ID_INDEX;
  m.in.text_bytes = 0;
  CHECK(pr_rules_set_in(&a, &m, (ULONG)(sizeof(m.in) + sizeof(m.ids))) == STATUS_SUCCESS && g_pr.rules_owner == &a,
        "identities without patterns are rules too (owned)");
  pr_rules_release(&a);
  u.Length = (USHORT)(2u * w16(w, 64, "\\y\\a.exe"));
  CHECK(pr_rules_id_kinds() == 0 && g_pr.rules_owner == NULL, "the handle closed: identities gone");
  drv_free();
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  test_rules_owner();
  test_rules_ids();
  test_sid_text();
  test_sessions();
  test_callbacks();
  test_unload();
  test_cleanup();
  printf("%s: %d checks, %d failures\n", fails ? "FAILED" : "passed", checks, fails);
  return fails ? 1 : 0;
}
