/*
 * drv_snapshot.c - one PR_REC_SNAPSHOT record per process already running,
 * from ZwQuerySystemInformation(SystemProcessInformation), with the token's
 * user SID, session and integrity level of each process that can still be
 * looked up (as the create records have them). IOCTL path only: it may
 * allocate (tagged, freed before returning) and wait.
 */
#include "drv.h"

#define PR_SYSTEM_PROCESS_INFORMATION 5u

/* The stable prefix of SYSTEM_PROCESS_INFORMATION (x64 offsets). */
struct pr_spi {
  ULONG next;                 /* 0 */
  ULONG threads;              /* 4 */
  UCHAR reserved1[24];        /* 8 */
  LARGE_INTEGER create_time;  /* 32 */
  UCHAR reserved2[16];        /* 40 */
  UNICODE_STRING image;       /* 56: short name */
  LONG base_priority;         /* 72 */
  HANDLE pid;                 /* 80 */
  HANDLE parent;              /* 88 */
};

NTSTATUS pr_snapshot(ULONG *count) {
  ULONG len = 256u * 1024u, ret = 0;
  PUCHAR buf = NULL, rec;
  NTSTATUS st;
  ULONG64 mono = pr_now_mono(), utc = pr_now_utc();
  *count = 0;
  for (int tries = 0; tries < 6; tries++) {
    buf = (PUCHAR)ExAllocatePoolWithTag(PagedPool, len, PR_TAG);
    if (buf == NULL) return STATUS_INSUFFICIENT_RESOURCES;
    st = ZwQuerySystemInformation(PR_SYSTEM_PROCESS_INFORMATION, buf, len, &ret);
    if (st != STATUS_INFO_LENGTH_MISMATCH) break;
    ExFreePoolWithTag(buf, PR_TAG);
    buf = NULL;
    len = (ret > len ? ret : len) * 2u;
  }
  if (buf == NULL) return STATUS_INFO_LENGTH_MISMATCH;
  if (!NT_SUCCESS(st)) {
    ExFreePoolWithTag(buf, PR_TAG);
    return st;
  }
  rec = (PUCHAR)ExAllocatePoolWithTag(g_pr.pool, PR_SCRATCH_BYTES, PR_TAG);
  if (rec == NULL) {
    ExFreePoolWithTag(buf, PR_TAG);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  for (ULONG off = 0; off + sizeof(struct pr_spi) <= ret;) {
    const struct pr_spi *p = (const struct pr_spi *)(buf + off);
    struct pr_builder b;
    struct pr_rec_snapshot *r;
    ULONG size;
    pr_rb_init(&b, rec, PR_SCRATCH_BYTES, PR_REC_SNAPSHOT, sizeof(*r));
    r = (struct pr_rec_snapshot *)(void *)rec;
    r->h.mono_ns = mono;
    r->h.utc_ns = utc;
    r->h.pid = (ULONG)(ULONG_PTR)p->pid;
    r->parent_pid = (ULONG)(ULONG_PTR)p->parent;
    r->start_ns = (ULONG64)p->create_time.QuadPart;
    if (p->image.Buffer != NULL && p->image.Length > 0 &&
        (PUCHAR)p->image.Buffer >= buf && (PUCHAR)p->image.Buffer + p->image.Length <= buf + ret) {
      r->info.prov_comm = PR_PROV_KERNEL;
      if (pr_add_wstr(&b, offsetof(struct pr_rec_snapshot, info.comm), p->image.Buffer, p->image.Length,
                      PR_MAX_UNITS))
        r->h.flags |= PR_F_IMAGE_TRUNCATED;
    }
    if (p->pid != NULL) { /* the idle process (0) has no token */
      PEPROCESS proc;
      if (NT_SUCCESS(PsLookupProcessByProcessId(p->pid, &proc))) {
        struct pr_token tok;
        if (pr_token_of(proc, &tok)) pr_put_token(&b, offsetof(struct pr_rec_snapshot, info), &tok);
        ObDereferenceObject(proc);
      }
    }
    size = pr_rb_finish(&b);
    if (size != 0) {
      pr_push(rec, size);
      (*count)++;
    }
    if (p->next == 0) break;
    off += p->next;
  }
  ExFreePoolWithTag(rec, PR_TAG);
  ExFreePoolWithTag(buf, PR_TAG);
  return STATUS_SUCCESS;
}
