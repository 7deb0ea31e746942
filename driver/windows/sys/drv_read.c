/*
 * drv_read.c - READ requests: completed at once when the ring holds records,
 * else queued in a cancel-safe queue and completed by a worker thread
 * when records arrive (the callbacks set `wake`) or with 0 bytes after
 * PR_READ_TIMEOUT_MS (`read_timeout_ms`). Cancelling (CancelIoEx, handle close) takes a request
 * out of the queue without ever racing a completion.
 */
#include "drv.h"

/* DriverContext[0] of a queued READ: interrupt time when it was queued. */
#define PR_IRP_QUEUED_AT(irp) ((irp)->Tail.Overlay.DriverContext[0])

struct pr_peek {
  PFILE_OBJECT file; /* only requests of this file (NULL: any) */
  ULONG64 before;    /* only requests queued before this time (0: any) */
};

/*
 * The queue is the classic cancel-safe pattern (what IoCsq does; Wine's
 * ntoskrnl has IoCsqInsertIrp and IoCsqRemoveNextIrp only as stubs): whoever
 * clears the request's cancel routine first owns it. pr_take() skips a
 * request whose cancel routine already ran off with it; pr_cancel() removes
 * its request from the list under the queue lock and completes it.
 */
static VOID NTAPI pr_cancel(PDEVICE_OBJECT dev, PIRP irp) {
  KIRQL irql;
  UNREFERENCED_PARAMETER(dev);
  IoReleaseCancelSpinLock(irp->CancelIrql);
  KeAcquireSpinLock(&g_pr.csq_lock, &irql);
  RemoveEntryList(&irp->Tail.Overlay.ListEntry);
  KeReleaseSpinLock(&g_pr.csq_lock, irql);
  InterlockedIncrement64(&g_pr.cancelled);
  irp->IoStatus.Status = STATUS_CANCELLED;
  irp->IoStatus.Information = 0;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}

/* Queues a request; FALSE when it was already cancelled (not queued). */
static BOOLEAN pr_queue(PIRP irp) {
  KIRQL irql;
  KeAcquireSpinLock(&g_pr.csq_lock, &irql);
  IoSetCancelRoutine(irp, pr_cancel);
  if (irp->Cancel && IoSetCancelRoutine(irp, NULL) != NULL) {
    KeReleaseSpinLock(&g_pr.csq_lock, irql);
    return FALSE;
  }
  IoMarkIrpPending(irp);
  InsertTailList(&g_pr.pending, &irp->Tail.Overlay.ListEntry);
  KeReleaseSpinLock(&g_pr.csq_lock, irql);
  return TRUE;
}

/* Takes the first queued request that matches `want` (NULL: any). */
static PIRP pr_take(const struct pr_peek *want) {
  PIRP found = NULL;
  KIRQL irql;
  KeAcquireSpinLock(&g_pr.csq_lock, &irql);
  for (PLIST_ENTRY e = g_pr.pending.Flink; e != &g_pr.pending; e = e->Flink) {
    PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
    if (want != NULL && want->file != NULL && IoGetCurrentIrpStackLocation(irp)->FileObject != want->file) continue;
    if (want != NULL && want->before != 0 && (ULONG64)(ULONG_PTR)PR_IRP_QUEUED_AT(irp) >= want->before) continue;
    if (IoSetCancelRoutine(irp, NULL) == NULL) continue; /* being cancelled: pr_cancel owns it */
    RemoveEntryList(e);
    found = irp;
    break;
  }
  KeReleaseSpinLock(&g_pr.csq_lock, irql);
  return found;
}

/* Moves whole records into a READ request's buffer; returns bytes. */
static ULONG pr_fill(PIRP irp, ULONG cap) {
  ULONG n;
  KIRQL irql;
  KeAcquireSpinLock(&g_pr.lock, &irql);
  n = pr_ring_pop_batch(&g_pr.ring, irp->AssociatedIrp.SystemBuffer, cap);
  /* room now: drops that no later record follows are reported at once */
  pr_ring_flush_lost(&g_pr.ring);
  g_pr.read_bytes += n;
  KeReleaseSpinLock(&g_pr.lock, irql);
  return n;
}

static ULONG pr_next_size(void) {
  ULONG n;
  KIRQL irql;
  KeAcquireSpinLock(&g_pr.lock, &irql);
  pr_ring_flush_lost(&g_pr.ring); /* drops at the end (a full ring, no free scratch slot) */
  n = pr_ring_peek_size(&g_pr.ring);
  KeReleaseSpinLock(&g_pr.lock, irql);
  return n;
}

static VOID pr_complete(PIRP irp, NTSTATUS status, ULONG bytes) {
  irp->IoStatus.Status = status;
  irp->IoStatus.Information = bytes;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}

/* Hands records to queued requests, then ends requests that waited too long. */
static VOID pr_serve(ULONG64 now) {
  struct pr_peek old;
  PIRP irp;
  while (pr_next_size() != 0 && (irp = pr_take(NULL)) != NULL) {
    ULONG cap = IoGetCurrentIrpStackLocation(irp)->Parameters.DeviceIoControl.OutputBufferLength;
    ULONG n = pr_fill(irp, cap);
    if (n > 0) InterlockedIncrement64(&g_pr.served);
    pr_complete(irp, n == 0 && pr_next_size() > cap ? STATUS_BUFFER_TOO_SMALL : STATUS_SUCCESS, n);
  }
  old.file = NULL;
  {
    ULONG64 wait = (ULONG64)(ULONG)g_pr.read_timeout_ms * 10000u; /* 100 ns units */
    old.before = now > wait ? now - wait : 1u;
  }
  while ((irp = pr_take(&old)) != NULL) {
    InterlockedIncrement64(&g_pr.timed_out);
    pr_complete(irp, STATUS_SUCCESS, 0);
  }
}

static VOID NTAPI pr_worker(PVOID ctx) {
  LARGE_INTEGER period;
  UNREFERENCED_PARAMETER(ctx);
  period.QuadPart = -(LONGLONG)PR_WORKER_PERIOD_MS * 10000;
  while (!g_pr.worker_stop) {
    KeWaitForSingleObject(&g_pr.wake, Executive, KernelMode, FALSE, &period);
    if (g_pr.worker_stop) break;
    pr_serve(pr_now_mono());
  }
  PsTerminateSystemThread(STATUS_SUCCESS);
}

NTSTATUS pr_read_init(void) {
  HANDLE h;
  NTSTATUS st;
  InitializeListHead(&g_pr.pending);
  KeInitializeSpinLock(&g_pr.csq_lock);
  KeInitializeEvent(&g_pr.wake, SynchronizationEvent, FALSE);
  g_pr.read_ready = TRUE;
  st = PsCreateSystemThread(&h, THREAD_ALL_ACCESS, NULL, NULL, NULL, pr_worker, NULL);
  if (!NT_SUCCESS(st)) return st;
  st = ObReferenceObjectByHandle(h, SYNCHRONIZE, NULL, KernelMode, (PVOID *)&g_pr.worker, NULL);
  if (!NT_SUCCESS(st)) { /* cannot wait for it: stop it and give up */
    g_pr.worker_stop = 1;
    KeSetEvent(&g_pr.wake, 0, FALSE);
    ZwWaitForSingleObject(h, FALSE, NULL);
  }
  ZwClose(h);
  return st;
}

NTSTATUS pr_read_dispatch(PIRP irp, PIO_STACK_LOCATION sp) {
  ULONG cap = sp->Parameters.DeviceIoControl.OutputBufferLength;
  ULONG next = pr_next_size();
  if (cap == 0) return STATUS_BUFFER_TOO_SMALL;
  if (next > cap) {
    irp->IoStatus.Information = 0;
    return STATUS_BUFFER_TOO_SMALL;
  }
  if (next != 0) {
    irp->IoStatus.Information = pr_fill(irp, cap);
    return STATUS_SUCCESS;
  }
  PR_IRP_QUEUED_AT(irp) = (PVOID)(ULONG_PTR)pr_now_mono();
  if (!pr_queue(irp)) return STATUS_CANCELLED;
  KeSetEvent(&g_pr.wake, 0, FALSE); /* records may have arrived meanwhile */
  return STATUS_PENDING;
}

VOID pr_read_cancel_file(PFILE_OBJECT file) {
  struct pr_peek mine;
  PIRP irp;
  mine.file = file;
  mine.before = 0;
  while ((irp = pr_take(&mine)) != NULL) {
    InterlockedIncrement64(&g_pr.cancelled);
    pr_complete(irp, STATUS_CANCELLED, 0);
  }
}

VOID pr_read_shutdown(void) {
  PIRP irp;
  if (!g_pr.read_ready) return;
  if (g_pr.worker != NULL) {
    g_pr.worker_stop = 1;
    KeSetEvent(&g_pr.wake, 0, FALSE);
    KeWaitForSingleObject(g_pr.worker, Executive, KernelMode, FALSE, NULL);
    ObDereferenceObject(g_pr.worker);
    g_pr.worker = NULL;
  }
  pr_serve(pr_now_mono()); /* records still in the ring go to waiting readers */
  while ((irp = pr_take(NULL)) != NULL) pr_complete(irp, STATUS_CANCELLED, 0);
  g_pr.read_ready = FALSE;
}
