/*
 * drv_main.c - procrec.sys: DriverEntry, unload, the device and its IOCTLs.
 *
 * Load order: state and memory, newer routines resolved, the device (with a
 * DACL for SYSTEM and Administrators only) and its link, the worker for
 * pending reads, and only then the notify callbacks. Unload undoes it in
 * reverse: every callback unregistered first, then pending reads completed,
 * then the device removed and the memory freed. pr_cleanup() serves both,
 * undoing only what was done.
 */
#include "drv.h"

struct pr_drv g_pr;

DRIVER_INITIALIZE DriverEntry;

/* S-1-5-18 (LocalSystem) and S-1-5-32-544 (BUILTIN\Administrators). */
static const struct {
  UCHAR rev, count, auth[6];
  ULONG sub[1];
} SID_SYSTEM = {1, 1, {0, 0, 0, 0, 0, 5}, {18}};
static const struct {
  UCHAR rev, count, auth[6];
  ULONG sub[2];
} SID_ADMINS = {1, 2, {0, 0, 0, 0, 0, 5}, {32, 544}};

/* Sets the device's DACL: full access for SYSTEM and Administrators only. */
static NTSTATUS pr_secure_device(PDEVICE_OBJECT dev) {
  SECURITY_DESCRIPTOR sd;
  UCHAR acl_mem[128];
  PACL acl = (PACL)acl_mem;
  HANDLE h;
  NTSTATUS st;
  st = RtlCreateSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION);
  if (NT_SUCCESS(st)) st = RtlCreateAcl(acl, sizeof(acl_mem), ACL_REVISION);
  if (NT_SUCCESS(st)) st = RtlAddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, (PSID)&SID_SYSTEM);
  if (NT_SUCCESS(st)) st = RtlAddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, (PSID)&SID_ADMINS);
  if (NT_SUCCESS(st)) st = RtlSetDaclSecurityDescriptor(&sd, TRUE, acl, FALSE);
  if (!NT_SUCCESS(st)) return st;
  st = ObOpenObjectByPointer(dev, OBJ_KERNEL_HANDLE, NULL, WRITE_DAC, NULL, KernelMode, &h);
  if (!NT_SUCCESS(st)) return st;
  st = ZwSetSecurityObject(h, DACL_SECURITY_INFORMATION, &sd);
  ZwClose(h);
  return st;
}

static PVOID pr_routine(PCWSTR name) {
  UNICODE_STRING u;
  RtlInitUnicodeString(&u, name);
  return MmGetSystemRoutineAddress(&u);
}

static VOID pr_resolve(void) {
  g_pr.set_process_ex2 = (pr_set_process_ex2_fn)pr_routine(L"PsSetCreateProcessNotifyRoutineEx2");
  g_pr.set_thread_ex = (pr_set_thread_ex_fn)pr_routine(L"PsSetCreateThreadNotifyRoutineEx");
  g_pr.precise_time = (pr_precise_time_fn)pr_routine(L"KeQuerySystemTimePrecise");
  g_pr.thread_exit_status = (pr_thread_exit_status_fn)pr_routine(L"PsGetThreadExitStatus");
  g_pr.process_exit_status = (pr_process_exit_status_fn)pr_routine(L"PsGetProcessExitStatus");
  g_pr.process_create_time = (pr_process_create_time_fn)pr_routine(L"PsGetProcessCreateTimeQuadPart");
  g_pr.process_exiting = (pr_process_exiting_fn)pr_routine(L"PsGetProcessExitProcessCalled");
  g_pr.open_token = (pr_open_token_fn)pr_routine(L"ZwOpenProcessTokenEx");
  g_pr.query_token = (pr_query_token_fn)pr_routine(L"ZwQueryInformationToken");
  {
    /* no-execute nonpaged pool where the kernel has it (Windows 8 and later;
     * Windows 7 refuses the NonPagedPoolNx type) */
    RTL_OSVERSIONINFOW v;
    RtlZeroMemory(&v, sizeof(v));
    v.dwOSVersionInfoSize = sizeof(v);
    g_pr.pool = NonPagedPool;
    if (NT_SUCCESS(RtlGetVersion(&v)) && (v.dwMajorVersion > 6 || (v.dwMajorVersion == 6 && v.dwMinorVersion >= 2))) {
      g_pr.pool = NonPagedPoolNx;
      g_pr.features |= PR_FEAT_POOL_NX;
    }
  }
  if (g_pr.set_process_ex2 != NULL) g_pr.features |= PR_FEAT_PROCESS_EX2;
  if (g_pr.set_thread_ex != NULL) g_pr.features |= PR_FEAT_THREAD_EX;
  if (g_pr.precise_time != NULL) g_pr.features |= PR_FEAT_PRECISE_TIME;
}

/* PsCreateProcessNotifySubsystems, PsCreateThreadNotifySubsystems: the
 * classic callbacks plus WSL (pico) processes and threads. */
#define PR_PROCESS_SUBSYSTEMS 0
#define PR_THREAD_SUBSYSTEMS 1

static NTSTATUS pr_register(void) {
  NTSTATUS st = STATUS_UNSUCCESSFUL;
  if (g_pr.set_process_ex2 != NULL) {
    st = g_pr.set_process_ex2(PR_PROCESS_SUBSYSTEMS, (PVOID)pr_process_notify, FALSE);
    g_pr.process_ex2 = NT_SUCCESS(st);
  }
  if (!NT_SUCCESS(st)) st = PsSetCreateProcessNotifyRoutineEx(pr_process_notify, FALSE);
  if (!NT_SUCCESS(st)) return st;
  g_pr.process_registered = TRUE;
  g_pr.features |= PR_FEAT_PROCESS_EX;

  st = STATUS_UNSUCCESSFUL;
  if (g_pr.set_thread_ex != NULL) st = g_pr.set_thread_ex(PR_THREAD_SUBSYSTEMS, (PVOID)pr_thread_notify);
  if (!NT_SUCCESS(st)) st = PsSetCreateThreadNotifyRoutine(pr_thread_notify);
  if (!NT_SUCCESS(st)) return st;
  g_pr.thread_registered = TRUE;
  return STATUS_SUCCESS;
}

static VOID pr_cleanup(void) {
  InterlockedExchange(&g_pr.running, 0);
  /* 1. callbacks: none runs once these return */
  if (g_pr.process_registered) {
    if (g_pr.process_ex2) {
      g_pr.set_process_ex2(PR_PROCESS_SUBSYSTEMS, (PVOID)pr_process_notify, TRUE);
    } else {
      PsSetCreateProcessNotifyRoutineEx(pr_process_notify, TRUE);
    }
    g_pr.process_registered = FALSE;
  }
  if (g_pr.thread_registered) {
    PsRemoveCreateThreadNotifyRoutine(pr_thread_notify);
    g_pr.thread_registered = FALSE;
  }
  pr_ctl_shutdown(); /* the image-load callback, under the START/STOP mutex */
  /* and no callback body runs on: those in flight have left (a removal need
   * not wait for them), so the ring, scratch and rules may go */
  pr_cb_drain();
  /* 2. pending reads, and the worker that serves them */
  pr_read_shutdown();
  /* 3. the device, then memory */
  if (g_pr.link_made) {
    IoDeleteSymbolicLink(&g_pr.link);
    g_pr.link_made = FALSE;
  }
  if (g_pr.dev != NULL) {
    IoDeleteDevice(g_pr.dev);
    g_pr.dev = NULL;
  }
  if (g_pr.rules != NULL) ExFreePoolWithTag(g_pr.rules, PR_TAG);
  if (g_pr.scratch != NULL) ExFreePoolWithTag(g_pr.scratch, PR_TAG);
  if (g_pr.ring_mem != NULL) ExFreePoolWithTag(g_pr.ring_mem, PR_TAG);
  g_pr.rules = NULL;
  g_pr.scratch = NULL;
  g_pr.ring_mem = NULL;
}

static VOID NTAPI pr_unload(PDRIVER_OBJECT drv) {
  UNREFERENCED_PARAMETER(drv);
  pr_cleanup();
}

static VOID pr_stats(struct pr_drv_stats *s) {
  KIRQL irql;
  RtlZeroMemory(s, sizeof(*s));
  s->version = PR_WIRE_VERSION;
  s->running = (ULONG)pr_load(&g_pr.running);
  s->features = g_pr.features;
  RtlCopyMemory(s->build, PR_BUILD_ID, sizeof(PR_BUILD_ID) < sizeof(s->build) ? sizeof(PR_BUILD_ID) : sizeof(s->build) - 1);
#ifdef PR_TEST_BUILD
  s->test_build = 1;
#endif
  KeAcquireSpinLock(&g_pr.lock, &irql);
  s->records = g_pr.ring.pushed;
  s->dropped = g_pr.ring.dropped;
  s->scratch_drops = g_pr.scratch_drops;
  s->read_bytes = g_pr.read_bytes;
  s->ring_used = pr_ring_used(&g_pr.ring);
  s->ring_size = g_pr.ring.cap;
  KeReleaseSpinLock(&g_pr.lock, irql);
  s->denied = (ULONG64)InterlockedCompareExchange64((LONG64 *)&g_pr.denied, 0, 0);
  s->cancelled = (ULONG64)InterlockedCompareExchange64(&g_pr.cancelled, 0, 0);
  s->served = (ULONG64)InterlockedCompareExchange64(&g_pr.served, 0, 0);
  s->timed_out = (ULONG64)InterlockedCompareExchange64(&g_pr.timed_out, 0, 0);
  s->cleanups = (ULONG64)InterlockedCompareExchange64(&g_pr.cleanups, 0, 0);
  s->closes = (ULONG64)InterlockedCompareExchange64(&g_pr.closes, 0, 0);
  s->image_on = (ULONG)pr_load(&g_pr.image_on);
  s->id_denied = (ULONG64)InterlockedCompareExchange64(&g_pr.id_denied, 0, 0);
  s->id_queries = (ULONG64)InterlockedCompareExchange64(&g_pr.id_queries, 0, 0);
  s->id_unknown = (ULONG64)InterlockedCompareExchange64(&g_pr.id_unknown, 0, 0);
}

static NTSTATUS NTAPI pr_dispatch_ioctl(PDEVICE_OBJECT dev, PIRP irp) {
  PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
  PVOID buf = irp->AssociatedIrp.SystemBuffer;
  ULONG in = sp->Parameters.DeviceIoControl.InputBufferLength;
  ULONG out = sp->Parameters.DeviceIoControl.OutputBufferLength;
  NTSTATUS st = STATUS_SUCCESS;
  irp->IoStatus.Information = 0;
  switch (sp->Parameters.DeviceIoControl.IoControlCode) {
  case IOCTL_PR_START:
    st = in < sizeof(struct pr_drv_start) ? STATUS_BUFFER_TOO_SMALL
                                          : pr_ctl_start(sp->FileObject, (const struct pr_drv_start *)buf);
    break;
  case IOCTL_PR_STOP:
    pr_ctl_stop(sp->FileObject);
    break;
  case IOCTL_PR_READ:
    st = pr_read_dispatch(irp, sp);
    if (st == STATUS_PENDING) return st; /* the queue owns the request now */
    break;
  case IOCTL_PR_STATS:
    if (out < sizeof(struct pr_drv_stats)) {
      st = STATUS_BUFFER_TOO_SMALL;
    } else {
      pr_stats((struct pr_drv_stats *)buf);
      irp->IoStatus.Information = sizeof(struct pr_drv_stats);
    }
    break;
  case IOCTL_PR_SNAPSHOT: {
    ULONG n = 0;
    st = pr_snapshot(&n);
    if (NT_SUCCESS(st) && out >= sizeof(ULONG)) {
      *(ULONG *)buf = n;
      irp->IoStatus.Information = sizeof(ULONG);
    }
    break;
  }
  case IOCTL_PR_SET_BLOCK:
    st = pr_rules_set(sp->FileObject, (const WCHAR *)buf, in);
    break;
  case IOCTL_PR_SET_RULES:
    st = pr_rules_set_in(sp->FileObject, buf, in);
    break;
  case IOCTL_PR_INJECT:
#ifdef PR_TEST_BUILD
    st = pr_inject(buf, in, out, &irp->IoStatus.Information);
#else
    st = STATUS_INVALID_DEVICE_REQUEST;
#endif
    break;
  case IOCTL_PR_TEST_PIN:
#ifdef PR_TEST_BUILD
    dev->DriverObject->DriverUnload = NULL;
#else
    UNREFERENCED_PARAMETER(dev);
    st = STATUS_INVALID_DEVICE_REQUEST;
#endif
    break;
  case IOCTL_PR_TEST_TIMEOUT:
#ifdef PR_TEST_BUILD
    if (in < sizeof(ULONG) || *(const ULONG *)buf == 0 || *(const ULONG *)buf > 3600000u) {
      st = STATUS_INVALID_PARAMETER;
    } else {
      InterlockedExchange(&g_pr.read_timeout_ms, (LONG) * (const ULONG *)buf);
      KeSetEvent(&g_pr.wake, 0, FALSE);
    }
#else
    st = STATUS_INVALID_DEVICE_REQUEST;
#endif
    break;
  default:
    st = STATUS_INVALID_DEVICE_REQUEST;
  }
  irp->IoStatus.Status = st;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return st;
}

static NTSTATUS NTAPI pr_dispatch_open_close(PDEVICE_OBJECT dev, PIRP irp) {
  PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
  UNREFERENCED_PARAMETER(dev);
  /* The last handle of a file closed: its session ends (a STOP it did not
   * send), its pending READs complete now. Windows sends CLEANUP then, and
   * CLOSE once no request of the file is left; Wine sends only CLOSE. */
  if (sp->MajorFunction == IRP_MJ_CLEANUP || sp->MajorFunction == IRP_MJ_CLOSE)
    pr_ctl_file_closed(sp->FileObject, sp->MajorFunction == IRP_MJ_CLEANUP);
  irp->IoStatus.Status = STATUS_SUCCESS;
  irp->IoStatus.Information = 0;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg) {
  UNICODE_STRING name;
  NTSTATUS st;
  UNREFERENCED_PARAMETER(reg);

  pr_ctl_init();
  KeInitializeSpinLock(&g_pr.lock);
  ExInitializeFastMutex(&g_pr.rules_mutex);
  pr_resolve();

  g_pr.ring_mem = ExAllocatePoolWithTag(g_pr.pool, PR_RING_BYTES, PR_TAG);
  g_pr.scratch = (PUCHAR)ExAllocatePoolWithTag(g_pr.pool, PR_SCRATCH_SLOTS * PR_SCRATCH_BYTES, PR_TAG);
  g_pr.rules = (struct pr_rules *)ExAllocatePoolWithTag(g_pr.pool, 2 * sizeof(struct pr_rules), PR_TAG);
  if (g_pr.ring_mem == NULL || g_pr.scratch == NULL || g_pr.rules == NULL) {
    pr_cleanup();
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  RtlZeroMemory(g_pr.rules, 2 * sizeof(struct pr_rules));
  if (pr_ring_init(&g_pr.ring, g_pr.ring_mem, PR_RING_BYTES, PR_LOST_DRIVER_QUEUE) != 0) {
    pr_cleanup();
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  g_pr.max_units = PR_DEFAULT_UNITS;
  g_pr.read_timeout_ms = PR_READ_TIMEOUT_MS;

  RtlInitUnicodeString(&name, PR_DEVICE_NAME);
  st = IoCreateDevice(drv, 0, &name, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE, &g_pr.dev);
  if (NT_SUCCESS(st)) st = pr_secure_device(g_pr.dev);
  if (NT_SUCCESS(st)) {
    RtlInitUnicodeString(&g_pr.link, PR_DOS_NAME);
    st = IoCreateSymbolicLink(&g_pr.link, &name);
    g_pr.link_made = NT_SUCCESS(st);
  }
  if (NT_SUCCESS(st)) st = pr_read_init();
  if (!NT_SUCCESS(st)) {
    pr_cleanup();
    return st;
  }
  drv->MajorFunction[IRP_MJ_CREATE] = pr_dispatch_open_close;
  drv->MajorFunction[IRP_MJ_CLOSE] = pr_dispatch_open_close;
  drv->MajorFunction[IRP_MJ_CLEANUP] = pr_dispatch_open_close;
  drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = pr_dispatch_ioctl;
  drv->DriverUnload = pr_unload;

  st = pr_register(); /* last: everything the callbacks use is ready */
  if (!NT_SUCCESS(st)) pr_cleanup();
  return st;
}
