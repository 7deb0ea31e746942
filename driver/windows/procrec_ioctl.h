/*
 * procrec_ioctl.h - the contract between procrec.sys and procrec.dll.
 *
 * Included by the driver (kernel mode), the DLL and the Windows test program.
 * Fixed-width fields only, little-endian, no pointers.
 *
 * Driver records ("wire records") have exactly the layout of the records in
 * driver/include/procrec_abi.h, with three differences that procrec.dll
 * removes when it converts them (pr_wire_convert.c):
 *   - strings are UTF-16LE, struct pr_str.len counts bytes (always even);
 *   - header.mono_ns is the interrupt time (100 ns units since boot) and
 *     header.utc_ns the system time (FILETIME: 100 ns units since 1601);
 *   - start_ns fields are FILETIME process/thread create times (0: unknown).
 * pr_proc_info.argv_full_len is the whole command line in UTF-16 bytes.
 * The sequence numbers are the driver ring's; lost records count records the
 * driver dropped (reason PR_LOST_DRIVER_QUEUE).
 */
#ifndef PROCREC_IOCTL_H
#define PROCREC_IOCTL_H

#include <stdint.h>

#include "../include/procrec_abi.h"

/* Names: the service, the device and its Win32 link. */
#define PR_SERVICE_NAME L"procrec"
#define PR_DEVICE_NAME L"\\Device\\procrec"
#define PR_DOS_NAME L"\\DosDevices\\procrec"
#define PR_WIN32_PATH L"\\\\.\\procrec"

#define PR_WIRE_VERSION 1u

#define PR_FILE_DEVICE 0x8327u
/* CTL_CODE(DeviceType, Function, Method, Access) spelled out so that the
 * header needs neither winioctl.h nor wdm.h. METHOD_BUFFERED = 0,
 * FILE_READ_ACCESS = 1, FILE_WRITE_ACCESS = 2. */
#define PR_CTL(fn, access) (((PR_FILE_DEVICE) << 16) | ((access) << 14) | ((fn) << 2) | 0u)

/* in: struct pr_drv_start. Starts recording (clears nothing: the ring keeps
 * records not yet read). */
#define IOCTL_PR_START PR_CTL(0x900, 3u)
/* Stops recording; records already in the ring can still be read. */
#define IOCTL_PR_STOP PR_CTL(0x901, 3u)
/* out: whole wire records. Completes at once when the ring holds records,
 * else stays pending until records arrive or PR_READ_TIMEOUT_MS passes
 * (then it completes with 0 bytes); cancellable. */
#define IOCTL_PR_READ PR_CTL(0x902, 1u)
/* out: struct pr_drv_stats. */
#define IOCTL_PR_STATS PR_CTL(0x903, 1u)
/* Pushes one PR_REC_SNAPSHOT record per running process into the ring.
 * out (optional): uint32_t number of snapshot records pushed. */
#define IOCTL_PR_SNAPSHOT PR_CTL(0x904, 3u)
/* in: block rules: UTF-16LE image path patterns, each terminated by a NUL
 * unit (at most PR_BLOCK_BYTES bytes; empty input clears the rules). The
 * rules belong to the handle that set them: removed when it closes; another
 * handle gets STATUS_SHARING_VIOLATION until then.
 * Pattern syntax: '*' any run, '?' one unit; case-insensitive for ASCII. */
#define IOCTL_PR_SET_BLOCK PR_CTL(0x905, 3u)
/* Test build only: in: struct pr_inject records (see below). */
#define IOCTL_PR_INJECT PR_CTL(0x906, 3u)
/* Test build only: in: uint32_t, the READ timeout in ms from now on (a test
 * sets it long to find a READ pending, short to see one time out). */
#define IOCTL_PR_TEST_TIMEOUT PR_CTL(0x907, 3u)
/* Test build only: the driver refuses to unload from now on (its unload
 * routine removed), so that a test sees a service that does not stop. */
#define IOCTL_PR_TEST_PIN PR_CTL(0x908, 3u)

/* in: struct pr_rules_in, then its `ids` struct pr_file_id, then its
 * patterns (text_bytes bytes, as IOCTL_PR_SET_BLOCK takes them). The block
 * rules with file identities: a creation whose image file has one of these
 * identities is denied whatever name it is created by (a hard link or a
 * junction made before or after the rules, an 8.3 name, a \Device form).
 * Owned like IOCTL_PR_SET_BLOCK's rules (one set: this replaces them). */
#define IOCTL_PR_SET_RULES PR_CTL(0x909, 3u)

#define PR_READ_TIMEOUT_MS 200u
#define PR_BLOCK_BYTES 4096u
#define PR_RULE_IDS 64u /* file identities in one rule set */

/* A file's identity, as procrec.dll reads it when rules are set and as the
 * driver reads it from the image of a process being created. */
#define PR_ID_INDEX 1u  /* volume: the 32-bit serial (FileFsVolumeInformation, GetFileInformationByHandle);
                         * id[0..8): the 64-bit file index (FileInternalInformation), little-endian */
#define PR_ID_FILEID 2u /* volume: FILE_ID_INFORMATION's 64-bit serial; id: its 128-bit FileId */
struct pr_file_id {
  uint32_t kind;   /* PR_ID_INDEX or PR_ID_FILEID */
  uint32_t rule;   /* the rule (pattern index) that named the file: for messages */
  uint64_t volume;
  uint8_t id[16];
};

struct pr_rules_in {
  uint32_t version;    /* PR_WIRE_VERSION */
  uint32_t ids;        /* struct pr_file_id following, at most PR_RULE_IDS */
  uint32_t text_bytes; /* pattern bytes after the ids, at most PR_BLOCK_BYTES */
  uint32_t reserved;
};

struct pr_drv_start {
  uint32_t version;    /* PR_WIRE_VERSION */
  uint32_t flags;      /* PR_OPT_IMAGE_LOAD */
  uint32_t max_string; /* per-string limit in UTF-16 units; 0: 4096 */
  uint32_t reserved;
};

struct pr_drv_stats {
  uint32_t version;       /* PR_WIRE_VERSION */
  uint32_t running;       /* 1 between START and STOP */
  uint64_t records;       /* records stored in the ring (lost included) */
  uint64_t dropped;       /* records dropped because the ring was full */
  uint64_t scratch_drops; /* records dropped: no free build slot */
  uint64_t read_bytes;    /* bytes handed to READ requests */
  uint64_t ring_used;
  uint64_t ring_size;
  uint64_t denied;        /* creations denied by block rules */
  uint64_t cancelled;     /* pending READ requests cancelled (or their handle closed) */
  uint64_t served;        /* pending READ requests completed with records */
  uint64_t timed_out;     /* pending READ requests completed empty (timeout) */
  uint64_t cleanups;      /* IRP_MJ_CLEANUP requests (last handle of a file closed) */
  uint32_t features;      /* PR_FEAT_* resolved at load */
  uint32_t test_build;    /* 1: IOCTL_PR_INJECT is available */
  uint64_t closes;        /* IRP_MJ_CLOSE requests (a file object released) */
  uint32_t image_on;      /* 1 while a started handle wants image loads */
  uint32_t reserved;
  char build[24];         /* PR_BUILD_ID of the driver, NUL-terminated */
  uint64_t id_denied;     /* creations denied by file identity (no pattern matched the name) */
  uint64_t id_queries;    /* image identities read (rules with identities set) */
  uint64_t id_unknown;    /* image identities that could not be read (the name alone decided) */
};

/* The build of the driver and DLL sources (the Makefile sets a hash of them;
 * "-test" for the test builds): procrec.dll refuses a running driver of
 * another build. */
#ifndef PR_BUILD_ID
#define PR_BUILD_ID "dev"
#endif

/* Routines found at run time (MmGetSystemRoutineAddress). */
#define PR_FEAT_PROCESS_EX2 0x1u   /* PsSetCreateProcessNotifyRoutineEx2 */
#define PR_FEAT_THREAD_EX 0x2u     /* PsSetCreateThreadNotifyRoutineEx */
#define PR_FEAT_PRECISE_TIME 0x4u  /* KeQuerySystemTimePrecise */
#define PR_FEAT_PROCESS_EX 0x8u    /* the Ex process routine is registered */
#define PR_FEAT_POOL_NX 0x10u      /* nonpaged memory is NonPagedPoolNx (not executable) */

/*
 * Injection (test build): a buffer of struct pr_inject items, each followed
 * by its UTF-16LE strings (image then command line), each item padded to a
 * multiple of 8 bytes. The driver builds the same structures the kernel
 * passes to its callbacks and calls its own callbacks with them.
 */
enum pr_inject_op {
  PR_INJ_PROCESS_CREATE = 1, /* pid, ppid, creator pid/tid, image, cmdline, token */
  PR_INJ_PROCESS_EXIT = 2,   /* pid, status */
  PR_INJ_THREAD_CREATE = 3,  /* pid, tid (creator: the current thread) */
  PR_INJ_THREAD_EXIT = 4,    /* pid, tid, status, exiting */
  PR_INJ_IMAGE_LOAD = 5,     /* pid, image, base, size */
};

struct pr_inject {
  uint32_t op;          /* enum pr_inject_op */
  uint32_t size;        /* this item with its strings, multiple of 8 */
  uint32_t pid;
  uint32_t tid;
  uint32_t ppid;
  uint32_t creator_pid;
  uint32_t creator_tid;
  uint32_t status;      /* exit status */
  uint32_t exiting;     /* thread exit: its process is exiting */
  uint32_t image_bytes; /* UTF-16LE bytes following the item */
  uint32_t cmd_bytes;   /* UTF-16LE bytes following the image */
  uint32_t reserved;
  uint64_t create_time; /* FILETIME; 0: the driver uses the current time */
  uint64_t base;        /* image load */
  uint64_t image_size;
  /* process create: the token pr_token_of would read (token 1), the binary
   * SID (sid_bytes, at most 68) following the command line */
  uint32_t token;
  uint32_t session_id;
  uint32_t integrity_rid; /* 0x2000 medium, 0x3000 high ...; 0: unknown */
  uint32_t sid_bytes;
};

/* Out of IOCTL_PR_INJECT: what the callbacks decided. */
struct pr_inject_result {
  uint32_t items;  /* items processed */
  uint32_t denied; /* creations the callback denied */
};

#endif /* PROCREC_IOCTL_H */
