/*
 * drv.h - procrec.sys internals: the one global state and the functions the
 * driver's files share. Kernel mode only.
 *
 * Locking: `lock` (a spinlock) guards the ring, the rule-slot user counts and
 * the counters next to them. Callbacks run at PASSIVE_LEVEL: they build a
 * record in a preallocated scratch slot without any lock (the strings the
 * kernel hands them may be paged), then take the spinlock only to copy the
 * finished record into the ring. Nothing is allocated after DriverEntry
 * except in IOCTL paths (snapshot).
 */
#ifndef PR_DRV_H
#define PR_DRV_H

#ifdef PR_HOST_TEST
#include "../test/km_host.h" /* the host unit test's kernel primitives */
#else
#include <ntifs.h>
#endif

#include "../../common/pr_ring.h"
#include "../../common/pr_record.h"
#include "../procrec_ioctl.h"

#define PR_TAG 0x72705250u /* 'rpRP': "PRpr" in pool dumps */

#ifndef PR_RING_BYTES
#define PR_RING_BYTES (4u << 20) /* the test build uses a small ring */
#endif
#define PR_SCRATCH_SLOTS 16u
#define PR_MAX_UNITS 8192u     /* largest per-string limit, UTF-16 units */
#define PR_DEFAULT_UNITS 4096u /* default per-string limit */
/* A slot holds the largest record: fixed part and two strings. */
#define PR_SCRATCH_BYTES (256u + 2u * 2u * PR_MAX_UNITS)
#define PR_RULE_UNITS (PR_BLOCK_BYTES / 2u)
#define PR_WORKER_PERIOD_MS 50
#define PR_FIRST_NOTES 64u /* processes whose first thread is awaited */
#define PR_SID_UNITS 192u  /* "S-1-..." of the largest SID (15 subauthorities) */

/* Routines newer than Wine's ntoskrnl and old Windows: resolved at load. */
typedef NTSTATUS(NTAPI *pr_set_process_ex2_fn)(int type, PVOID routine, BOOLEAN remove);
typedef NTSTATUS(NTAPI *pr_set_thread_ex_fn)(int type, PVOID routine);
typedef VOID(NTAPI *pr_precise_time_fn)(PLARGE_INTEGER t);
typedef NTSTATUS(NTAPI *pr_thread_exit_status_fn)(PETHREAD thread);
typedef NTSTATUS(NTAPI *pr_process_exit_status_fn)(PEPROCESS process);
typedef LONGLONG(NTAPI *pr_process_create_time_fn)(PEPROCESS process);
typedef BOOLEAN(NTAPI *pr_process_exiting_fn)(PEPROCESS process);
typedef NTSTATUS(NTAPI *pr_open_token_fn)(HANDLE process, ULONG access, ULONG attributes, HANDLE *token);
typedef NTSTATUS(NTAPI *pr_query_token_fn)(HANDLE token, int cls, PVOID buf, ULONG len, PULONG ret);

/* What the token of a new process says (drv_token.c; injected in tests). */
struct pr_token {
  BOOLEAN valid;         /* anything below is known */
  BOOLEAN session_known;
  ULONG session;         /* TokenSessionId */
  ULONG integrity;       /* PR_INTEGRITY_KNOWN | mandatory label RID; 0: unknown */
  ULONG sid_units;       /* 0: unknown */
  WCHAR sid[PR_SID_UNITS]; /* the user's SID as text, "S-1-5-21-..." */
};

struct pr_rules {
  WCHAR text[PR_RULE_UNITS]; /* NUL-terminated patterns, back to back */
  ULONG units;               /* units used, 0: no rules */
  struct pr_file_id ids[PR_RULE_IDS]; /* files denied by identity */
  ULONG nids;
  ULONG kinds; /* 1 << kind of each identity held */
};

/* The identity of a process's image file (drv_fileid.c), each kind when
 * known (have & (1 << kind)). */
struct pr_image_id {
  ULONG have;
  ULONG serial32;    /* PR_ID_INDEX */
  ULONG64 index;
  ULONG64 serial64;  /* PR_ID_FILEID */
  UCHAR fileid[16];
};

struct pr_drv {
  PDEVICE_OBJECT dev;
  UNICODE_STRING link;
  BOOLEAN link_made;

  KSPIN_LOCK lock;
  struct pr_ring ring;
  PVOID ring_mem;
  PUCHAR scratch;                       /* PR_SCRATCH_SLOTS slots */
  volatile LONG slot_busy[PR_SCRATCH_SLOTS];

  /* START/STOP state (drv_ctl.c): changed under ctl_mutex only; the
   * callbacks read running, image_on and max_units with pr_load. */
  KMUTEX ctl_mutex;
  volatile LONG running;   /* 1 while at least one file is started */
  volatile LONG image_on;  /* 1 while a started file wants image loads */
  volatile LONG max_units; /* per-string limit while running */
  ULONG starts;            /* files started */
  ULONG image_users;       /* started files that want image loads */

  /* Block rules: two slots; callbacks use `rules[active]` with a user count
   * taken under `lock`; the IOCTL rewrites the other slot once unused. */
  struct pr_rules *rules; /* 2 slots, nonpaged */
  LONG rules_users[2];
  LONG rules_active;
  FAST_MUTEX rules_mutex; /* serialises writers (IOCTL path only) */
  PFILE_OBJECT rules_owner; /* the handle whose rules these are (NULL: none); under rules_mutex */

  /* Pending READ requests and the thread that completes them. */
  LIST_ENTRY pending;
  KSPIN_LOCK csq_lock;
  KEVENT wake;
  volatile LONG worker_stop;
  volatile LONG read_timeout_ms; /* PR_READ_TIMEOUT_MS; the test build can change it */
  PKTHREAD worker; /* referenced */
  BOOLEAN read_ready;

  /* Registrations, each undone at unload. */
  BOOLEAN process_ex2; /* registered with ...Ex2, else ...Ex */
  BOOLEAN process_registered;
  BOOLEAN thread_registered;
  BOOLEAN image_registered;

  pr_set_process_ex2_fn set_process_ex2;
  pr_set_thread_ex_fn set_thread_ex;
  pr_precise_time_fn precise_time;
  pr_thread_exit_status_fn thread_exit_status;
  /* Exported by Windows; stubs that abort in Wine's ntoskrnl, so never imported. */
  pr_process_exit_status_fn process_exit_status;
  pr_process_create_time_fn process_create_time;
  pr_process_exiting_fn process_exiting;
  pr_open_token_fn open_token;   /* ZwOpenProcessTokenEx */
  pr_query_token_fn query_token; /* ZwQueryInformationToken */
  ULONG features;
  POOL_TYPE pool; /* NonPagedPoolNx, or NonPagedPool before Windows 8 */

  /* Callback bodies in flight (drv_notify.c): their count, and
   * PR_CB_DRAINING once unload waits for them to leave. */
  volatile LONG cb_refs;

  /* First threads expected (drv_notify.c): (pid << 32 | creator pid), 0 free. */
  volatile LONG64 first_notes[PR_FIRST_NOTES];
  volatile LONG first_next;

  /* Counters (under lock). */
  ULONG64 scratch_drops;
  ULONG64 read_bytes;
  ULONG64 denied;
  volatile LONG64 id_denied;
  volatile LONG64 id_queries;
  volatile LONG64 id_unknown;
  volatile LONG64 cancelled;
  volatile LONG64 served;
  volatile LONG64 timed_out;
  volatile LONG64 cleanups;
  volatile LONG64 closes;
};

/* An atomic read of a LONG another thread changes with Interlocked*. */
#if defined(__GNUC__)
#define pr_load(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#else
#define pr_load(p) (*(p)) /* MSVC: volatile reads have acquire semantics */
#endif

extern struct pr_drv g_pr;

NTSYSAPI NTSTATUS NTAPI ZwQuerySystemInformation(ULONG cls, PVOID buf, ULONG len, PULONG ret);

#if defined(PR_HOST_TEST)
/* km_host.h defines pr_current_thread and pr_current_process */
#elif defined(__GNUC__)
/* mingw's x64 inlines of these read gs:[0x188] (the KPCR); Wine runs
 * drivers in user mode where gs is the TEB, so call ntoskrnl's exports. */
NTKERNELAPI PETHREAD NTAPI pr_current_thread(void) __asm__("PsGetCurrentThread");
NTKERNELAPI PEPROCESS NTAPI pr_current_process(void) __asm__("IoGetCurrentProcess");
#else /* the WDK */
#define pr_current_thread() PsGetCurrentThread()
#define pr_current_process() PsGetCurrentProcess()
#endif

/* drv_notify.c: callbacks and the records they build. */
#define PR_CB_DRAINING 0x40000000
/* Every callback body runs between these: enter fails (the body does
 * nothing) once the unload drains. */
BOOLEAN pr_cb_enter(void);
VOID pr_cb_leave(void);
/* Unload, after the callbacks are unregistered: no body starts any more,
 * and it waits until every body in flight has left, so that the memory the
 * bodies use can be freed. The kernel's removal of a notify routine is not
 * relied on to wait for callbacks already running (Wine's does not). */
VOID pr_cb_drain(void);
VOID NTAPI pr_process_notify(PEPROCESS process, HANDLE pid, PPS_CREATE_NOTIFY_INFO info);
VOID NTAPI pr_thread_notify(HANDLE pid, HANDLE tid, BOOLEAN create);
VOID NTAPI pr_image_notify(PUNICODE_STRING name, HANDLE pid, PIMAGE_INFO info);
/* The parts of the callbacks after they asked the kernel about the process
 * or thread; the test build's injection calls these with synthetic state. */
VOID pr_on_process(ULONG pid, PPS_CREATE_NOTIFY_INFO info, ULONG64 create_time, ULONG status,
                   const struct pr_token *token);
/* The SID (binary, len bytes) as "S-R-A-S1-S2..." in out (cap units, no NUL);
 * returns the units written, 0 when malformed or too long. Portable. */
ULONG pr_sid_text(const UCHAR *sid, ULONG len, WCHAR *out, ULONG cap);
/* The token's user SID, session and integrity into the pr_proc_info at
 * info_off of the record being built (nothing when token is NULL or not
 * valid: provenance none). */
VOID pr_put_token(struct pr_builder *b, ULONG info_off, const struct pr_token *token);
/* drv_token.c: the token of a process being created (FALSE: unknown). */
BOOLEAN pr_token_of(PEPROCESS process, struct pr_token *t);
VOID pr_on_thread(ULONG pid, ULONG tid, BOOLEAN create, ULONG creator_pid, ULONG creator_tid, ULONG status,
                  BOOLEAN exiting);
VOID pr_on_image(PUNICODE_STRING name, ULONG pid, ULONG tid, PIMAGE_INFO info);
ULONG64 pr_now_utc(void);
ULONG64 pr_now_mono(void);
/* Copies a finished record into the ring under the lock; wakes readers. */
VOID pr_push(const void *rec, ULONG size);
/* Takes a free scratch slot (NULL when none: the caller counts the drop). */
PUCHAR pr_slot_get(LONG *index);
VOID pr_slot_put(LONG index);
/* Appends a UTF-16 string cut to max_units (never inside a surrogate pair);
 * returns 1 when it was cut. */
int pr_add_wstr(struct pr_builder *b, ULONG field_off, const WCHAR *s, ULONG bytes, ULONG max_units);

/* drv_ctl.c: START/STOP per file object, serialised (see there). */
VOID pr_ctl_init(void);
NTSTATUS pr_ctl_start(PFILE_OBJECT file, const struct pr_drv_start *s);
VOID pr_ctl_stop(PFILE_OBJECT file); /* STOP, or the file's cleanup/close */
VOID pr_ctl_shutdown(void);          /* unload: everything off */
/* The file's CLEANUP (Windows: its last handle closed) or CLOSE (once no
 * request of it is left; Wine sends only this): its session ends as if it
 * sent STOP, its rules are removed, its pending READs complete now. A
 * second call (CLOSE after CLEANUP) changes nothing but the count. */
VOID pr_ctl_file_closed(PFILE_OBJECT file, BOOLEAN cleanup);

/* drv_rules.c */
/* Sets file's rules (empty: clears them); STATUS_SHARING_VIOLATION while
 * another handle's rules are set. */
NTSTATUS pr_rules_set(PFILE_OBJECT file, const WCHAR *text, ULONG bytes);
/* The same with file identities (ids may be NULL when nids is 0). */
NTSTATUS pr_rules_set_ids(PFILE_OBJECT file, const WCHAR *text, ULONG bytes, const struct pr_file_id *ids,
                          ULONG nids);
/* IOCTL_PR_SET_RULES: a struct pr_rules_in and what follows it. */
NTSTATUS pr_rules_set_in(PFILE_OBJECT file, const void *buf, ULONG len);
/* The kinds of identity (1 << kind) the active rules hold: 0 when the image
 * need not be identified. */
ULONG pr_rules_id_kinds(void);
/* TRUE when the active rules hold one of the image's identities. */
BOOLEAN pr_rules_match_id(const struct pr_image_id *id);
/* The handle closed: its rules, if any, are removed. */
VOID pr_rules_release(PFILE_OBJECT file);
BOOLEAN pr_rules_match(const WCHAR *image, ULONG units);

/* drv_fileid.c: the identity (the kinds asked for) of the image of a
 * process being created: through its file object when the kernel gives one,
 * else opened by its name (PASSIVE_LEVEL). FALSE when none could be read. */
BOOLEAN pr_image_identity(PFILE_OBJECT file, PCUNICODE_STRING name, ULONG kinds, struct pr_image_id *out);

/* drv_read.c: pending reads. */
NTSTATUS pr_read_init(void);
NTSTATUS pr_read_dispatch(PIRP irp, PIO_STACK_LOCATION sp);
VOID pr_read_cancel_file(PFILE_OBJECT file);
VOID pr_read_shutdown(void);

/* drv_snapshot.c */
NTSTATUS pr_snapshot(ULONG *count);

/* drv_inject.c (test build) */
NTSTATUS pr_inject(PVOID buf, ULONG in_len, ULONG out_len, ULONG_PTR *info);

#endif /* PR_DRV_H */
