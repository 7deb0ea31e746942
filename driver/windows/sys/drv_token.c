/*
 * drv_token.c - the token of a process being created: its user's SID, its
 * session id and its integrity level (mandatory label RID), read in the
 * process-create callback (PASSIVE_LEVEL, the creator's context) through
 * kernel handles. ZwOpenProcessTokenEx and ZwQueryInformationToken are
 * resolved at load (MmGetSystemRoutineAddress); without them, or when a query
 * fails, the record carries no credentials (provenance none), never a guess.
 * Kernel only (the host test feeds pr_on_process a struct pr_token).
 */
#include "drv.h"

#define PR_TOKEN_QUERY 0x0008u
#define PR_PROCESS_QUERY_LIMITED 0x1000u
#define PR_TOKEN_USER 1
#define PR_TOKEN_SESSION_ID 12
#define PR_TOKEN_INTEGRITY_LEVEL 25

/* TOKEN_USER and TOKEN_MANDATORY_LABEL: one SID_AND_ATTRIBUTES. */
struct pr_sid_attr {
  PVOID sid;
  ULONG attributes;
};

/* Length of the SID at p (inside buf[0..n)), 0 when it does not fit. */
static ULONG pr_sid_len(const UCHAR *buf, ULONG n, const UCHAR *p) {
  ULONG len;
  if (p < buf || p + 8 > buf + n) return 0;
  len = 8u + 4u * p[1];
  return p + len <= buf + n ? len : 0;
}

BOOLEAN pr_token_of(PEPROCESS process, struct pr_token *t) {
  HANDLE hp = NULL, ht = NULL;
  ULONG64 mem[64]; /* 512 bytes, 8-aligned: the largest SID is 68 */
  UCHAR *buf = (UCHAR *)mem;
  ULONG len = 0, session = 0;
  NTSTATUS st;
  RtlZeroMemory(t, sizeof(*t));
  if (g_pr.open_token == NULL || g_pr.query_token == NULL) return FALSE;
  st = ObOpenObjectByPointer(process, OBJ_KERNEL_HANDLE, NULL, PR_PROCESS_QUERY_LIMITED, NULL, KernelMode, &hp);
  if (!NT_SUCCESS(st)) return FALSE;
  st = g_pr.open_token(hp, PR_TOKEN_QUERY, OBJ_KERNEL_HANDLE, &ht);
  ZwClose(hp);
  if (!NT_SUCCESS(st)) return FALSE;
  st = g_pr.query_token(ht, PR_TOKEN_USER, buf, sizeof(mem), &len);
  if (NT_SUCCESS(st) && len >= sizeof(struct pr_sid_attr) && len <= sizeof(mem)) {
    const UCHAR *sid = (const UCHAR *)((const struct pr_sid_attr *)(const void *)buf)->sid;
    ULONG n = pr_sid_len(buf, len, sid);
    if (n != 0) t->sid_units = pr_sid_text(sid, n, t->sid, PR_SID_UNITS);
  }
  if (NT_SUCCESS(g_pr.query_token(ht, PR_TOKEN_SESSION_ID, &session, sizeof(session), &len))) {
    t->session = session;
    t->session_known = TRUE;
  }
  st = g_pr.query_token(ht, PR_TOKEN_INTEGRITY_LEVEL, buf, sizeof(mem), &len);
  if (NT_SUCCESS(st) && len >= sizeof(struct pr_sid_attr) && len <= sizeof(mem)) {
    const UCHAR *sid = (const UCHAR *)((const struct pr_sid_attr *)(const void *)buf)->sid;
    ULONG n = pr_sid_len(buf, len, sid);
    if (n > 8) { /* the RID: the last subauthority */
      ULONG rid;
      RtlCopyMemory(&rid, sid + n - 4, sizeof(rid));
      t->integrity = PR_INTEGRITY_KNOWN | (rid & 0xffffu);
    }
  }
  ZwClose(ht);
  t->valid = t->sid_units > 0 || t->session_known || t->integrity != 0;
  return t->valid;
}
