/*
 * drv_ctl.c - START and STOP, per open file of the device, serialised.
 *
 * Every START, STOP, handle cleanup/close and the unload take `ctl_mutex`
 * (a KMUTEX: the holder stays at PASSIVE_LEVEL, as PsSetLoadImageNotifyRoutine
 * and PsRemoveLoadImageNotifyRoutine require), so two sessions starting at
 * once can never both register the image-load callback (a second
 * registration of the same routine would outlive the unload's one removal
 * and call freed code). Each file object remembers in FsContext2 whether it
 * started recording and whether it asked for image loads; the driver records
 * while at least one file is started and keeps the image-load callback
 * registered while at least one started file wants it. A session's STOP, or
 * its handle closing without STOP, never stops another session.
 *
 * Portable between the kernel and the host unit test (test/km_host.h).
 */
#include "drv.h"

#define PR_FILE_STARTED 0x1u
#define PR_FILE_IMAGE 0x2u

static ULONG_PTR pr_file_state(PFILE_OBJECT file) { return file != NULL ? (ULONG_PTR)file->FsContext2 : 0; }
static VOID pr_file_set(PFILE_OBJECT file, ULONG_PTR state) {
  if (file != NULL) file->FsContext2 = (PVOID)state;
}

VOID pr_ctl_init(void) { KeInitializeMutex(&g_pr.ctl_mutex, 0); }

static VOID pr_ctl_lock(void) {
  KeWaitForSingleObject(&g_pr.ctl_mutex, Executive, KernelMode, FALSE, NULL);
}
static VOID pr_ctl_unlock(void) { KeReleaseMutex(&g_pr.ctl_mutex, FALSE); }

/* Under ctl_mutex: drops one image-load user; the last one unregisters. */
static VOID pr_image_release(void) {
  if (g_pr.image_users > 0 && --g_pr.image_users == 0 && g_pr.image_registered) {
    PsRemoveLoadImageNotifyRoutine(pr_image_notify);
    g_pr.image_registered = FALSE;
  }
  InterlockedExchange(&g_pr.image_on, g_pr.image_users > 0 ? 1 : 0);
}

NTSTATUS pr_ctl_start(PFILE_OBJECT file, const struct pr_drv_start *s) {
  ULONG units = s->max_string == 0 ? PR_DEFAULT_UNITS : s->max_string;
  ULONG_PTR state;
  NTSTATUS st = STATUS_SUCCESS;
  if (s->version != PR_WIRE_VERSION) return STATUS_REVISION_MISMATCH;
  if (units > PR_MAX_UNITS) units = PR_MAX_UNITS;
  pr_ctl_lock();
  state = pr_file_state(file);
  if ((state & PR_FILE_STARTED) != 0) {
    st = STATUS_INVALID_DEVICE_STATE; /* this handle started already */
  } else {
    if ((s->flags & PR_OPT_IMAGE_LOAD) != 0) {
      if (!g_pr.image_registered) {
        st = PsSetLoadImageNotifyRoutine(pr_image_notify);
        if (NT_SUCCESS(st)) g_pr.image_registered = TRUE;
      }
      if (NT_SUCCESS(st)) {
        g_pr.image_users++;
        state |= PR_FILE_IMAGE;
        InterlockedExchange(&g_pr.image_on, 1);
      }
    }
    if (NT_SUCCESS(st)) {
      /* the largest limit any started session asked for */
      if (g_pr.starts == 0 || units > (ULONG)pr_load(&g_pr.max_units)) InterlockedExchange(&g_pr.max_units, (LONG)units);
      g_pr.starts++;
      pr_file_set(file, state | PR_FILE_STARTED);
      InterlockedExchange(&g_pr.running, 1);
    }
  }
  pr_ctl_unlock();
  return st;
}

VOID pr_ctl_stop(PFILE_OBJECT file) {
  ULONG_PTR state;
  pr_ctl_lock();
  state = pr_file_state(file);
  if ((state & PR_FILE_STARTED) != 0) {
    if ((state & PR_FILE_IMAGE) != 0) pr_image_release();
    if (g_pr.starts > 0 && --g_pr.starts == 0) InterlockedExchange(&g_pr.running, 0);
    pr_file_set(file, 0);
  }
  pr_ctl_unlock();
}

VOID pr_ctl_shutdown(void) {
  pr_ctl_lock();
  InterlockedExchange(&g_pr.running, 0);
  g_pr.starts = 0;
  g_pr.image_users = 1;
  pr_image_release();
  pr_ctl_unlock();
}

VOID pr_ctl_file_closed(PFILE_OBJECT file, BOOLEAN cleanup) {
  InterlockedIncrement64(cleanup ? &g_pr.cleanups : &g_pr.closes);
  pr_ctl_stop(file);
  pr_rules_release(file);
  pr_read_cancel_file(file);
}
