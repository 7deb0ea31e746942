/*
 * drv_fileid.c - the identity of the image file of a process being created,
 * for the block rules that name files (drv_rules.c): the volume serial and
 * the file's id, the same numbers procrec.dll read from the rule's file when
 * the rules were set. Every name of one file (another hard link, a path
 * through a junction, its 8.3 name, its \Device form) has one identity.
 *
 * The kernel gives the callback the image's file object (PS_CREATE_NOTIFY_INFO
 * FileObject, Windows 7 and later): a kernel handle to it is opened
 * (ObOpenObjectByPointer) and queried. Without one (the test build's
 * injection; Wine never calls the callbacks itself) the image is opened by
 * its name with ZwCreateFile, read-attributes only and sharing everything,
 * so that opening it never fails a creation nor stands in another's way.
 * The process-create callback runs at PASSIVE_LEVEL, as these calls need.
 * Only routines every Windows since 7 and Wine's ntoskrnl export are called
 * (FileIdInformation is an information class: a kernel without it answers
 * STATUS_INVALID_INFO_CLASS and that kind stays unknown).
 */
#include "drv.h"

#ifndef PR_HOST_TEST

#define PR_FILE_ID_INFORMATION 59 /* FileIdInformation (Windows 8) */
struct pr_file_id_information {
  ULONGLONG VolumeSerialNumber;
  UCHAR FileId[16];
};

BOOLEAN pr_image_identity(PFILE_OBJECT file, PCUNICODE_STRING name, ULONG kinds, struct pr_image_id *out) {
  HANDLE h = NULL;
  IO_STATUS_BLOCK io;
  NTSTATUS st;
  RtlZeroMemory(out, sizeof(*out));
  if (file != NULL) {
    st = ObOpenObjectByPointer(file, OBJ_KERNEL_HANDLE, NULL, 0, NULL, KernelMode, &h);
  } else {
    OBJECT_ATTRIBUTES oa;
    UNICODE_STRING u;
    if (name == NULL || name->Buffer == NULL || name->Length == 0) return FALSE;
    u = *name;
    InitializeObjectAttributes(&oa, &u, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    st = ZwCreateFile(&h, FILE_READ_ATTRIBUTES | SYNCHRONIZE, &oa, &io, NULL, 0,
                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN,
                      FILE_NON_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT, NULL, 0);
  }
  if (!NT_SUCCESS(st)) return FALSE;
  if (kinds & (1u << PR_ID_INDEX)) {
    FILE_INTERNAL_INFORMATION ii;
    union {
      FILE_FS_VOLUME_INFORMATION v;
      UCHAR room[sizeof(FILE_FS_VOLUME_INFORMATION) + 64 * sizeof(WCHAR)];
    } vol;
    NTSTATUS s1 = ZwQueryInformationFile(h, &io, &ii, sizeof(ii), FileInternalInformation);
    NTSTATUS s2 = ZwQueryVolumeInformationFile(h, &io, &vol, sizeof(vol), FileFsVolumeInformation);
    /* a long volume label overflows the buffer: the serial before it is there */
    if (NT_SUCCESS(s1) && (NT_SUCCESS(s2) || s2 == STATUS_BUFFER_OVERFLOW)) {
      out->index = (ULONG64)ii.IndexNumber.QuadPart;
      out->serial32 = vol.v.VolumeSerialNumber;
      out->have |= 1u << PR_ID_INDEX;
    }
  }
  if (kinds & (1u << PR_ID_FILEID)) {
    struct pr_file_id_information fi;
    st = ZwQueryInformationFile(h, &io, &fi, sizeof(fi), (FILE_INFORMATION_CLASS)PR_FILE_ID_INFORMATION);
    if (NT_SUCCESS(st)) {
      out->serial64 = fi.VolumeSerialNumber;
      RtlCopyMemory(out->fileid, fi.FileId, sizeof(out->fileid));
      out->have |= 1u << PR_ID_FILEID;
    }
  }
  ZwClose(h);
  return out->have != 0;
}

#endif /* PR_HOST_TEST */
