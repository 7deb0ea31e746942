/*
 * drv_inject.c - test build only (PR_TEST_BUILD): IOCTL_PR_INJECT feeds
 * synthetic notifications to the driver's own callbacks. Wine accepts the
 * notify registrations but never calls them back, so this is how the record
 * path (scratch slots, ring, block rules, lost records, pending reads) is
 * exercised end to end. The part of each callback that asks the kernel about
 * a real process or thread is replaced by the item's fields; everything after
 * it is the code that real notifications run.
 */
#include "drv.h"

#ifdef PR_TEST_BUILD

static VOID pr_ustr(UNICODE_STRING *u, const UCHAR *p, ULONG bytes) {
  u->Buffer = (PWCH)(PVOID)p;
  u->Length = (USHORT)bytes;
  u->MaximumLength = (USHORT)bytes;
}

NTSTATUS pr_inject(PVOID buf, ULONG in_len, ULONG out_len, ULONG_PTR *info) {
  struct pr_inject_result res = {0, 0};
  const UCHAR *p = (const UCHAR *)buf;
  ULONG off = 0;
  while (off < in_len) {
    struct pr_inject it;
    UNICODE_STRING image, cmd;
    ULONG64 when;
    if (in_len - off < sizeof(it)) return STATUS_INVALID_PARAMETER;
    RtlCopyMemory(&it, p + off, sizeof(it));
    if (it.size < sizeof(it) || it.size > in_len - off || (it.size & 7u) != 0 || (it.image_bytes & 1u) != 0 ||
        (it.cmd_bytes & 1u) != 0 || it.image_bytes > 0xFFF0u || it.cmd_bytes > 0xFFF0u ||
        it.sid_bytes > 68u || it.image_bytes + it.cmd_bytes + it.sid_bytes > it.size - (ULONG)sizeof(it))
      return STATUS_INVALID_PARAMETER;
    pr_ustr(&image, p + off + sizeof(it), it.image_bytes);
    pr_ustr(&cmd, p + off + sizeof(it) + it.image_bytes, it.cmd_bytes);
    when = it.create_time != 0 ? it.create_time : pr_now_utc();
    switch (it.op) {
    case PR_INJ_PROCESS_CREATE: {
      PS_CREATE_NOTIFY_INFO ci;
      RtlZeroMemory(&ci, sizeof(ci));
      ci.Size = sizeof(ci);
      ci.FileOpenNameAvailable = 1;
      ci.ParentProcessId = (HANDLE)(ULONG_PTR)it.ppid;
      ci.CreatingThreadId.UniqueProcess = (HANDLE)(ULONG_PTR)it.creator_pid;
      ci.CreatingThreadId.UniqueThread = (HANDLE)(ULONG_PTR)it.creator_tid;
      ci.ImageFileName = &image;
      ci.CommandLine = it.cmd_bytes > 0 ? &cmd : NULL;
      ci.CreationStatus = STATUS_SUCCESS;
      {
        struct pr_token tok;
        RtlZeroMemory(&tok, sizeof(tok));
        if (it.token != 0) { /* the token as pr_token_of would read it */
          tok.session_known = TRUE;
          tok.session = it.session_id;
          tok.integrity = it.integrity_rid != 0 ? PR_INTEGRITY_KNOWN | it.integrity_rid : 0;
          tok.sid_units = pr_sid_text(p + off + sizeof(it) + it.image_bytes + it.cmd_bytes, it.sid_bytes, tok.sid,
                                      PR_SID_UNITS);
          tok.valid = TRUE;
        }
        pr_on_process(it.pid, &ci, when, 0, it.token != 0 ? &tok : NULL);
      }
      if (ci.CreationStatus == STATUS_ACCESS_DENIED) res.denied++;
      break;
    }
    case PR_INJ_PROCESS_EXIT:
      pr_on_process(it.pid, NULL, when, it.status, NULL);
      break;
    case PR_INJ_THREAD_CREATE:
      pr_on_thread(it.pid, it.tid, TRUE, it.creator_pid, it.creator_tid, 0, FALSE);
      break;
    case PR_INJ_THREAD_EXIT:
      pr_on_thread(it.pid, it.tid, FALSE, 0, 0, it.status, it.exiting != 0);
      break;
    case PR_INJ_IMAGE_LOAD: {
      IMAGE_INFO ii;
      RtlZeroMemory(&ii, sizeof(ii));
      ii.ImageBase = (PVOID)(ULONG_PTR)it.base;
      ii.ImageSize = (SIZE_T)it.image_size;
      pr_on_image(&image, it.pid, it.tid, &ii);
      break;
    }
    default:
      return STATUS_INVALID_PARAMETER;
    }
    res.items++;
    off += it.size;
  }
  if (out_len >= sizeof(res)) {
    RtlCopyMemory(buf, &res, sizeof(res));
    *info = sizeof(res);
  }
  return STATUS_SUCCESS;
}

#endif /* PR_TEST_BUILD */
