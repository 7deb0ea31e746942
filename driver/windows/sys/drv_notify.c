/*
 * drv_notify.c - the notify callbacks of procrec.sys and the wire records
 * they build (see procrec_ioctl.h for how wire records differ from ABI ones).
 *
 * A callback never allocates and never waits: it takes a preallocated
 * scratch slot with an interlocked exchange, builds its record there at
 * PASSIVE_LEVEL (the kernel's strings may be paged memory), then copies the
 * record into the ring under the spinlock. Without a free slot, or when the
 * ring is full, the record is counted as dropped and a lost record reports
 * the count at the next successful push.
 */
#include "drv.h"
#include "../pr_match.h"

ULONG64 pr_now_utc(void) {
  LARGE_INTEGER t;
  if (g_pr.precise_time != NULL) {
    g_pr.precise_time(&t);
  } else {
    KeQuerySystemTime(&t);
  }
  return (ULONG64)t.QuadPart;
}

ULONG64 pr_now_mono(void) { return (ULONG64)KeQueryInterruptTime(); }

BOOLEAN pr_cb_enter(void) {
  for (;;) {
    LONG v = pr_load(&g_pr.cb_refs);
    if ((v & PR_CB_DRAINING) != 0) return FALSE;
    if (InterlockedCompareExchange(&g_pr.cb_refs, v + 1, v) == v) return TRUE;
  }
}

VOID pr_cb_leave(void) { InterlockedDecrement(&g_pr.cb_refs); }

VOID pr_cb_drain(void) {
  LARGE_INTEGER ms;
  for (;;) {
    LONG v = pr_load(&g_pr.cb_refs);
    if (InterlockedCompareExchange(&g_pr.cb_refs, v | PR_CB_DRAINING, v) == v) break;
  }
  ms.QuadPart = -10000; /* 1 ms, relative */
  while ((pr_load(&g_pr.cb_refs) & ~PR_CB_DRAINING) != 0) KeDelayExecutionThread(KernelMode, FALSE, &ms);
}

PUCHAR pr_slot_get(LONG *index) {
  for (LONG i = 0; i < (LONG)PR_SCRATCH_SLOTS; i++) {
    if (InterlockedCompareExchange(&g_pr.slot_busy[i], 1, 0) == 0) {
      *index = i;
      return g_pr.scratch + (SIZE_T)i * PR_SCRATCH_BYTES;
    }
  }
  return NULL;
}

VOID pr_slot_put(LONG index) { InterlockedExchange(&g_pr.slot_busy[index], 0); }

/* Counts a record that could not even be built (no free slot) as a ring
 * drop (pr_ring_note_drop), so that the next lost record includes it. */
static VOID pr_count_drop(ULONG64 mono, ULONG64 utc) {
  struct pr_rec_header h;
  KIRQL irql;
  RtlZeroMemory(&h, sizeof(h));
  h.mono_ns = mono;
  h.utc_ns = utc;
  KeAcquireSpinLock(&g_pr.lock, &irql);
  pr_ring_note_drop(&g_pr.ring, &h);
  g_pr.scratch_drops++;
  KeReleaseSpinLock(&g_pr.lock, irql);
}

VOID pr_push(const void *rec, ULONG size) {
  KIRQL irql;
  int rc;
  KeAcquireSpinLock(&g_pr.lock, &irql);
  rc = pr_ring_push(&g_pr.ring, rec, size);
  KeReleaseSpinLock(&g_pr.lock, irql);
  if (rc == PR_RING_OK) KeSetEvent(&g_pr.wake, 0, FALSE);
}

int pr_add_wstr(struct pr_builder *b, ULONG field_off, const WCHAR *s, ULONG bytes, ULONG max_units) {
  ULONG units = bytes / 2u;
  ULONG keep = units;
  if (s == NULL || units == 0) return 0;
  if (keep > max_units) {
    keep = max_units;
    if (keep > 0 && s[keep - 1] >= 0xD800 && s[keep - 1] <= 0xDBFF) keep--; /* half a pair */
  }
  if (pr_rb_add_str(b, field_off, s, keep * 2u, 0) < 0) return 0;
  return keep < units;
}

/* Starts a record in a fresh slot; NULL (drop counted) when none is free. */
static PUCHAR pr_begin(struct pr_builder *b, LONG *slot, USHORT kind, ULONG fixed, ULONG pid, ULONG tid,
                       ULONG64 mono, ULONG64 utc) {
  PUCHAR mem = pr_slot_get(slot);
  struct pr_rec_header *h;
  if (mem == NULL) {
    pr_count_drop(mono, utc);
    return NULL;
  }
  pr_rb_init(b, mem, PR_SCRATCH_BYTES, kind, fixed);
  h = pr_rb_header(b);
  h->mono_ns = mono;
  h->utc_ns = utc;
  h->pid = pid;
  h->tid = tid;
  return mem;
}

static VOID pr_finish(struct pr_builder *b, LONG slot) {
  ULONG size = pr_rb_finish(b);
  if (size != 0) {
    pr_push(b->buf, size);
  } else {
    pr_count_drop(pr_rb_header(b)->mono_ns, pr_rb_header(b)->utc_ns);
  }
  pr_slot_put(slot);
}

/*
 * The first thread of a new process is created by its creator (the parent),
 * in the creator's context: it is not a remote thread. The process-create
 * callback notes (pid, creator) here; the thread-create callback that finds
 * its (pid, creator) takes the note and leaves PR_F_REMOTE off. One 64-bit
 * word per note, claimed with a compare-exchange: no lock. With more than
 * PR_FIRST_NOTES creations whose first thread has not come yet, the oldest
 * note is overwritten and that first thread is reported remote.
 */
static LONG64 pr_note_first(ULONG pid, ULONG creator) {
  return (LONG64)(((ULONG64)pid << 32) | creator);
}

static VOID pr_first_thread_expected(ULONG pid, ULONG creator) {
  ULONG i = (ULONG)InterlockedIncrement(&g_pr.first_next) % PR_FIRST_NOTES;
  InterlockedExchange64(&g_pr.first_notes[i], pr_note_first(pid, creator));
}

/* TRUE (and the note taken) when this is the first thread of pid. */
static BOOLEAN pr_first_thread_take(ULONG pid, ULONG creator) {
  LONG64 want = pr_note_first(pid, creator);
  for (ULONG i = 0; i < PR_FIRST_NOTES; i++)
    if (InterlockedCompareExchange64(&g_pr.first_notes[i], 0, want) == want) return TRUE;
  return FALSE;
}

/* A process gone: a note of its pid (no first thread came) is dropped, so a
 * reused pid is not taken for it. */
static VOID pr_first_thread_forget(ULONG pid) {
  for (ULONG i = 0; i < PR_FIRST_NOTES; i++) {
    LONG64 v = InterlockedCompareExchange64(&g_pr.first_notes[i], 0, 0);
    if (v != 0 && (ULONG)((ULONG64)v >> 32) == pid) InterlockedCompareExchange64(&g_pr.first_notes[i], 0, v);
  }
}

/* Applies the block rules to an image name in its one spelling (pr_norm_path:
 * object-manager prefixes, UNC forms, separators, "." and ".."), as the
 * rules are kept: TRUE when creation is denied. The normalized name goes to
 * the stack, or, when longer, to a scratch slot; with no free slot, the name
 * is matched as given. */
#define PR_NORM_STACK_UNITS 520u
static BOOLEAN pr_denied_name(PCUNICODE_STRING image) {
  WCHAR small[PR_NORM_STACK_UNITS];
  ULONG units, k;
  LONG slot;
  PUCHAR mem;
  BOOLEAN hit;
  if (image == NULL || image->Buffer == NULL || image->Length == 0) return FALSE;
  units = image->Length / 2u;
  k = pr_norm_path((const uint16_t *)image->Buffer, units, (uint16_t *)small, PR_NORM_STACK_UNITS);
  if (k > 0) return pr_rules_match(small, k);
  mem = pr_slot_get(&slot);
  if (mem == NULL) return pr_rules_match(image->Buffer, units);
  k = pr_norm_path((const uint16_t *)image->Buffer, units, (uint16_t *)mem, PR_SCRATCH_BYTES / 2u);
  hit = k > 0 ? pr_rules_match((const WCHAR *)mem, k) : pr_rules_match(image->Buffer, units);
  pr_slot_put(slot);
  return hit;
}

/* The block rules applied to a creation: its name (pr_denied_name), then,
 * when the rules name files, the identity of its image file, so that no
 * other name of a file a rule names passes (a hard link or a junction made
 * after the rules were set, too). An image whose identity cannot be read is
 * decided by its name alone (counted: id_unknown). */
static BOOLEAN pr_denied(PPS_CREATE_NOTIFY_INFO info) {
  struct pr_image_id id;
  ULONG kinds;
  if (pr_denied_name(info->ImageFileName)) return TRUE;
  kinds = pr_rules_id_kinds();
  if (kinds == 0) return FALSE;
  InterlockedIncrement64(&g_pr.id_queries);
  if (!pr_image_identity((PFILE_OBJECT)info->FileObject, info->ImageFileName, kinds, &id)) {
    InterlockedIncrement64(&g_pr.id_unknown);
    return FALSE;
  }
  if (!pr_rules_match_id(&id)) return FALSE;
  InterlockedIncrement64(&g_pr.id_denied);
  return TRUE;
}

/* Appends decimal v to out[*o..cap); FALSE when it does not fit. */
static BOOLEAN pr_put_dec(WCHAR *out, ULONG cap, ULONG *o, ULONG64 v) {
  WCHAR d[20];
  ULONG n = 0;
  do {
    d[n++] = (WCHAR)('0' + v % 10u);
    v /= 10u;
  } while (v != 0);
  if (*o + n > cap) return FALSE;
  while (n > 0) out[(*o)++] = d[--n];
  return TRUE;
}

ULONG pr_sid_text(const UCHAR *sid, ULONG len, WCHAR *out, ULONG cap) {
  ULONG o = 0;
  ULONG64 auth = 0;
  if (len < 8 || sid[0] != 1 || sid[1] > 15 || len != 8u + 4u * sid[1] || cap < 2) return 0;
  for (int i = 2; i < 8; i++) auth = (auth << 8) | sid[i]; /* big-endian, 48 bits */
  out[o++] = 'S';
  out[o++] = '-';
  if (!pr_put_dec(out, cap, &o, sid[0])) return 0;
  if (o >= cap) return 0;
  out[o++] = '-';
  if (!pr_put_dec(out, cap, &o, auth)) return 0;
  for (ULONG i = 0; i < sid[1]; i++) {
    ULONG sub = (ULONG)sid[8 + 4 * i] | (ULONG)sid[9 + 4 * i] << 8 | (ULONG)sid[10 + 4 * i] << 16 |
                (ULONG)sid[11 + 4 * i] << 24;
    if (o >= cap) return 0;
    out[o++] = '-';
    if (!pr_put_dec(out, cap, &o, sub)) return 0;
  }
  return o;
}

VOID pr_put_token(struct pr_builder *b, ULONG info_off, const struct pr_token *token) {
  struct pr_proc_info *info = (struct pr_proc_info *)(void *)(b->buf + info_off);
  if (token == NULL || !token->valid) return;
  info->prov_cred = PR_PROV_KERNEL; /* uid, gid, euid, egid: 0 (none on Windows) */
  info->loginuid = PR_ID_UNSET;
  info->sessionid = token->session_known ? token->session : PR_ID_UNSET;
  info->integrity = token->integrity;
  pr_add_wstr(b, info_off + (ULONG)offsetof(struct pr_proc_info, user), token->sid, token->sid_units * 2u,
              PR_SID_UNITS);
}

static VOID pr_process_body(ULONG pid, PPS_CREATE_NOTIFY_INFO info, ULONG64 create_time, ULONG status,
                            const struct pr_token *token) {
  ULONG64 mono = pr_now_mono(), utc = pr_now_utc();
  ULONG max = (ULONG)pr_load(&g_pr.max_units);
  struct pr_builder b;
  LONG slot;
  if (!pr_load(&g_pr.running)) return;

  if (info == NULL) {
    struct pr_rec_process_exit *r;
    if (pr_begin(&b, &slot, PR_REC_PROCESS_EXIT, sizeof(*r), pid, 0, mono, utc) == NULL) return;
    r = (struct pr_rec_process_exit *)(void *)b.buf;
    r->status = status;
    r->start_ns = create_time;
    pr_finish(&b, slot);
    pr_first_thread_forget(pid);
    return;
  }

  {
    struct pr_rec_process_create *r;
    USHORT flags = 0;
    if (pr_denied(info)) {
      info->CreationStatus = STATUS_ACCESS_DENIED;
      flags |= PR_F_DENIED;
      InterlockedIncrement64((LONG64 *)&g_pr.denied);
    }
    if ((flags & PR_F_DENIED) == 0)
      pr_first_thread_expected(pid, (ULONG)(ULONG_PTR)info->CreatingThreadId.UniqueProcess);
    if (pr_begin(&b, &slot, PR_REC_PROCESS_CREATE, sizeof(*r), pid, 0, mono, utc) == NULL) return;
    r = (struct pr_rec_process_create *)(void *)b.buf;
    r->parent_pid = (ULONG)(ULONG_PTR)info->ParentProcessId;
    r->creator_pid = (ULONG)(ULONG_PTR)info->CreatingThreadId.UniqueProcess;
    r->creator_tid = (ULONG)(ULONG_PTR)info->CreatingThreadId.UniqueThread;
    r->start_ns = create_time;
    r->status = (ULONG)info->CreationStatus;
    if (info->ImageFileName != NULL && info->ImageFileName->Length > 0) {
      r->info.prov_image = PR_PROV_KERNEL;
      if (pr_add_wstr(&b, offsetof(struct pr_rec_process_create, info.image), info->ImageFileName->Buffer,
                      info->ImageFileName->Length, max))
        flags |= PR_F_IMAGE_TRUNCATED;
    }
    if (info->CommandLine != NULL && info->CommandLine->Buffer != NULL) {
      r = (struct pr_rec_process_create *)(void *)b.buf;
      r->info.prov_argv = PR_PROV_KERNEL;
      r->info.argv_full_len = info->CommandLine->Length;
      r->info.argc = info->CommandLine->Length > 0 ? 1u : 0u;
      flags |= PR_F_CMDLINE;
      if (pr_add_wstr(&b, offsetof(struct pr_rec_process_create, info.argv), info->CommandLine->Buffer,
                      info->CommandLine->Length, max))
        flags |= PR_F_ARGV_TRUNCATED;
    }
    pr_put_token(&b, offsetof(struct pr_rec_process_create, info), token);
    pr_rb_header(&b)->flags = flags;
    pr_finish(&b, slot);
  }
}

VOID pr_on_process(ULONG pid, PPS_CREATE_NOTIFY_INFO info, ULONG64 create_time, ULONG status,
                   const struct pr_token *token) {
  if (!pr_cb_enter()) return;
  pr_process_body(pid, info, create_time, status, token);
  pr_cb_leave();
}

VOID NTAPI pr_process_notify(PEPROCESS process, HANDLE pid, PPS_CREATE_NOTIFY_INFO info) {
  ULONG64 created;
  ULONG status = 0;
  struct pr_token token;
  if (!pr_load(&g_pr.running)) return;
  created = g_pr.process_create_time != NULL ? (ULONG64)g_pr.process_create_time(process) : 0;
  if (info == NULL && g_pr.process_exit_status != NULL) status = (ULONG)g_pr.process_exit_status(process);
  if (info != NULL) pr_token_of(process, &token);
  pr_on_process((ULONG)(ULONG_PTR)pid, info, created, status, info != NULL ? &token : NULL);
}

static VOID pr_thread_body(ULONG pid, ULONG tid, BOOLEAN create, ULONG creator_pid, ULONG creator_tid,
                           ULONG status, BOOLEAN exiting) {
  ULONG64 mono = pr_now_mono(), utc = pr_now_utc();
  struct pr_builder b;
  LONG slot;
  if (!pr_load(&g_pr.running)) return;
  if (create) {
    struct pr_rec_thread_create *r;
    /* decided before the record may be dropped: the note goes either way */
    BOOLEAN remote = creator_pid != pid && !pr_first_thread_take(pid, creator_pid);
    if (pr_begin(&b, &slot, PR_REC_THREAD_CREATE, sizeof(*r), pid, tid, mono, utc) == NULL) return;
    r = (struct pr_rec_thread_create *)(void *)b.buf;
    r->creator_pid = creator_pid;
    r->creator_tid = creator_tid;
    if (remote) r->h.flags |= PR_F_REMOTE;
  } else {
    struct pr_rec_thread_exit *r;
    if (pr_begin(&b, &slot, PR_REC_THREAD_EXIT, sizeof(*r), pid, tid, mono, utc) == NULL) return;
    r = (struct pr_rec_thread_exit *)(void *)b.buf;
    r->status = status;
    if (exiting) r->h.flags |= PR_F_PROCESS_EXITING;
  }
  pr_finish(&b, slot);
}

VOID pr_on_thread(ULONG pid, ULONG tid, BOOLEAN create, ULONG creator_pid, ULONG creator_tid, ULONG status,
                  BOOLEAN exiting) {
  if (!pr_cb_enter()) return;
  pr_thread_body(pid, tid, create, creator_pid, creator_tid, status, exiting);
  pr_cb_leave();
}

/* Runs in the creating thread (create) or in the exiting thread (exit). */
VOID NTAPI pr_thread_notify(HANDLE pid, HANDLE tid, BOOLEAN create) {
  ULONG status = 0;
  BOOLEAN exiting = FALSE;
  if (!pr_load(&g_pr.running)) return;
  if (!create) {
    if (g_pr.thread_exit_status != NULL) status = (ULONG)g_pr.thread_exit_status(pr_current_thread());
    if (g_pr.process_exiting != NULL) exiting = g_pr.process_exiting(pr_current_process());
  }
  pr_on_thread((ULONG)(ULONG_PTR)pid, (ULONG)(ULONG_PTR)tid, create, (ULONG)(ULONG_PTR)PsGetCurrentProcessId(),
               (ULONG)(ULONG_PTR)PsGetCurrentThreadId(), status, exiting);
}

VOID NTAPI pr_image_notify(PUNICODE_STRING name, HANDLE pid, PIMAGE_INFO info) {
  pr_on_image(name, (ULONG)(ULONG_PTR)pid, (ULONG)(ULONG_PTR)PsGetCurrentThreadId(), info);
}

static VOID pr_image_body(PUNICODE_STRING name, ULONG pid, ULONG tid, PIMAGE_INFO info) {
  ULONG64 mono = pr_now_mono(), utc = pr_now_utc();
  struct pr_rec_image_load *r;
  struct pr_builder b;
  LONG slot;
  if (!pr_load(&g_pr.running) || !pr_load(&g_pr.image_on)) return;
  if (pr_begin(&b, &slot, PR_REC_IMAGE_LOAD, sizeof(*r), pid, tid, mono, utc) == NULL) return;
  r = (struct pr_rec_image_load *)(void *)b.buf;
  if (info != NULL) {
    r->base = (ULONG64)(ULONG_PTR)info->ImageBase;
    r->size = (ULONG64)info->ImageSize;
  }
  if (name != NULL && pr_add_wstr(&b, offsetof(struct pr_rec_image_load, image), name->Buffer, name->Length,
                                  (ULONG)pr_load(&g_pr.max_units)))
    pr_rb_header(&b)->flags |= PR_F_IMAGE_TRUNCATED;
  pr_finish(&b, slot);
}

VOID pr_on_image(PUNICODE_STRING name, ULONG pid, ULONG tid, PIMAGE_INFO info) {
  if (!pr_cb_enter()) return;
  pr_image_body(name, pid, tid, info);
  pr_cb_leave();
}
