/*
 * drv_rules.c - block rules: image path patterns whose creation is denied.
 *
 * The rules belong to the handle (file object) that set them: another handle
 * can neither replace nor clear them (STATUS_SHARING_VIOLATION) until the
 * owner clears them or its handle closes, which removes them, so a recorder
 * that crashed leaves no rules denying process creation with nobody reading.
 *
 * A rule that names a file also comes with the file's identity (volume serial
 * and file id, read by procrec.dll when the rules are set): a creation whose
 * image file has that identity is denied by whatever name it is created
 * (hard links and junctions made before or after the rules, 8.3 names).
 *
 * Two preallocated slots. A callback takes the active slot's user count under
 * the spinlock, matches without any lock (the image name may be paged), and
 * gives the count back. The IOCTL writer (serialised by a fast mutex, never in
 * a callback) waits until the inactive slot has no users, rewrites it, then
 * makes it active: a callback never waits for a writer.
 */
#include "drv.h"
#include "../pr_match.h"

/* Copies the NUL-terminated patterns of text[0..units) into out (room for
 * units), each in the one spelling names are matched in (pr_norm_path: a
 * rule given as \??\C:\x or \\?\UNC\srv\... matches every spelling of
 * that path); a pattern with no normalized form stays as given. Returns the
 * units written (never more than units: normalizing only shortens). */
static ULONG pr_rules_normalize(const WCHAR *text, ULONG units, WCHAR *out) {
  ULONG i = 0, o = 0;
  while (i < units) {
    ULONG start = i, k;
    while (i < units && text[i] != 0) i++;
    k = pr_norm_path((const uint16_t *)&text[start], i - start, (uint16_t *)&out[o], units - o - 1u);
    if (k == 0) { /* empty, or no shorter form: as given */
      k = i - start;
      RtlCopyMemory(&out[o], &text[start], k * sizeof(WCHAR));
    }
    o += k;
    out[o++] = 0;
    i++; /* the NUL */
  }
  return o;
}

/* Under rules_mutex: writes text and ids into the inactive slot and
 * activates it. */
static VOID pr_rules_write(const WCHAR *text, ULONG bytes, const struct pr_file_id *ids, ULONG nids) {
  ULONG units = bytes / 2u;
  LONG next;
  KIRQL irql;
  next = 1 - g_pr.rules_active;
  for (;;) { /* wait for callbacks still matching against the old rules */
    LONG users;
    KeAcquireSpinLock(&g_pr.lock, &irql);
    users = g_pr.rules_users[next];
    KeReleaseSpinLock(&g_pr.lock, irql);
    if (users == 0) break;
    {
      LARGE_INTEGER ms;
      ms.QuadPart = -10000; /* 1 ms, relative */
      KeDelayExecutionThread(KernelMode, FALSE, &ms);
    }
  }
  g_pr.rules[next].units = units > 0 ? pr_rules_normalize(text, units, g_pr.rules[next].text) : 0;
  g_pr.rules[next].nids = nids;
  g_pr.rules[next].kinds = 0;
  for (ULONG i = 0; i < nids; i++) {
    g_pr.rules[next].ids[i] = ids[i];
    g_pr.rules[next].kinds |= 1u << ids[i].kind;
  }
  KeAcquireSpinLock(&g_pr.lock, &irql);
  g_pr.rules_active = next;
  KeReleaseSpinLock(&g_pr.lock, irql);
}

NTSTATUS pr_rules_set_ids(PFILE_OBJECT file, const WCHAR *text, ULONG bytes, const struct pr_file_id *ids,
                          ULONG nids) {
  ULONG units = bytes / 2u;
  NTSTATUS st = STATUS_SUCCESS;
  if ((bytes & 1u) != 0 || bytes > PR_BLOCK_BYTES || nids > PR_RULE_IDS) return STATUS_INVALID_PARAMETER;
  if (units > 0 && text[units - 1] != 0) return STATUS_INVALID_PARAMETER; /* last pattern unterminated */
  for (ULONG i = 0; i < nids; i++)
    if (ids[i].kind != PR_ID_INDEX && ids[i].kind != PR_ID_FILEID) return STATUS_INVALID_PARAMETER;
  ExAcquireFastMutex(&g_pr.rules_mutex);
  if (g_pr.rules_owner != NULL && g_pr.rules_owner != file) {
    st = STATUS_SHARING_VIOLATION; /* another handle's rules */
  } else {
    pr_rules_write(text, bytes, ids, nids);
    g_pr.rules_owner = units > 0 || nids > 0 ? file : NULL;
  }
  ExReleaseFastMutex(&g_pr.rules_mutex);
  return st;
}

NTSTATUS pr_rules_set(PFILE_OBJECT file, const WCHAR *text, ULONG bytes) {
  return pr_rules_set_ids(file, text, bytes, NULL, 0);
}

NTSTATUS pr_rules_set_in(PFILE_OBJECT file, const void *buf, ULONG len) {
  struct pr_rules_in in;
  const UCHAR *p = (const UCHAR *)buf;
  ULONG64 need;
  if (buf == NULL || len < sizeof(in)) return STATUS_INVALID_PARAMETER;
  RtlCopyMemory(&in, p, sizeof(in));
  need = (ULONG64)sizeof(in) + (ULONG64)in.ids * sizeof(struct pr_file_id) + in.text_bytes;
  if (in.version != PR_WIRE_VERSION || in.ids > PR_RULE_IDS || in.text_bytes > PR_BLOCK_BYTES || need != len)
    return STATUS_INVALID_PARAMETER;
  /* the ids are 8-aligned after the 16-byte header; the text after them */
  return pr_rules_set_ids(file, (const WCHAR *)(const void *)(p + sizeof(in) + in.ids * sizeof(struct pr_file_id)),
                          in.text_bytes, (const struct pr_file_id *)(const void *)(p + sizeof(in)), in.ids);
}

VOID pr_rules_release(PFILE_OBJECT file) {
  ExAcquireFastMutex(&g_pr.rules_mutex);
  if (g_pr.rules_owner != NULL && g_pr.rules_owner == file) {
    pr_rules_write(NULL, 0, NULL, 0);
    g_pr.rules_owner = NULL;
  }
  ExReleaseFastMutex(&g_pr.rules_mutex);
}

/* The kernel's Unicode upcase (the table NTFS compares names with). */
static uint16_t pr_upcase(uint16_t c) { return (uint16_t)RtlUpcaseUnicodeChar((WCHAR)c); }

BOOLEAN pr_rules_match(const WCHAR *image, ULONG units) {
  BOOLEAN hit = FALSE;
  const struct pr_rules *r;
  LONG slot;
  KIRQL irql;
  ULONG i = 0;
  KeAcquireSpinLock(&g_pr.lock, &irql);
  slot = g_pr.rules_active;
  g_pr.rules_users[slot]++;
  KeReleaseSpinLock(&g_pr.lock, irql);

  r = &g_pr.rules[slot];
  while (i < r->units && !hit) {
    ULONG start = i;
    while (i < r->units && r->text[i] != 0) i++;
    if (i > start)
      hit = pr_match((const uint16_t *)&r->text[start], i - start, (const uint16_t *)image, units, pr_upcase) != 0;
    i++; /* the NUL */
  }

  KeAcquireSpinLock(&g_pr.lock, &irql);
  g_pr.rules_users[slot]--;
  KeReleaseSpinLock(&g_pr.lock, irql);
  return hit;
}

ULONG pr_rules_id_kinds(void) {
  ULONG kinds;
  KIRQL irql;
  KeAcquireSpinLock(&g_pr.lock, &irql);
  kinds = g_pr.rules[g_pr.rules_active].kinds;
  KeReleaseSpinLock(&g_pr.lock, irql);
  return kinds;
}

/* 1 when the rule's identity is one the image has (the same kind). */
static BOOLEAN pr_id_equal(const struct pr_file_id *r, const struct pr_image_id *id) {
  if (r->kind >= 32u || (id->have & (1u << r->kind)) == 0) return FALSE;
  if (r->kind == PR_ID_INDEX) {
    ULONG64 index = 0;
    for (int i = 7; i >= 0; i--) index = index << 8 | r->id[i];
    return r->volume == id->serial32 && index == id->index;
  }
  return r->volume == id->serial64 && RtlCompareMemory(r->id, id->fileid, 16) == 16;
}

BOOLEAN pr_rules_match_id(const struct pr_image_id *id) {
  BOOLEAN hit = FALSE;
  const struct pr_rules *r;
  LONG slot;
  KIRQL irql;
  KeAcquireSpinLock(&g_pr.lock, &irql);
  slot = g_pr.rules_active;
  g_pr.rules_users[slot]++;
  KeReleaseSpinLock(&g_pr.lock, irql);
  r = &g_pr.rules[slot];
  for (ULONG i = 0; i < r->nids && !hit; i++) hit = pr_id_equal(&r->ids[i], id);
  KeAcquireSpinLock(&g_pr.lock, &irql);
  g_pr.rules_users[slot]--;
  KeReleaseSpinLock(&g_pr.lock, irql);
  return hit;
}
