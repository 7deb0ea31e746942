/*
 * pr_dll_names.c - the other names of a file a block rule names (issue 18
 * item 4), found when the rules are set, as the Linux rules resolve a file's
 * identity when they load.
 *
 * The driver matches the image name the kernel gives, in one spelling
 * (pr_norm_path); a file also has names no spelling rule can see: its 8.3
 * short name, its other hard links, its path without the junctions the rule
 * went through, its \Device\HarddiskVolumeN form. For each rule without
 * wildcards that names an existing file, procrec.dll adds those names as
 * rules too: the final path (GetFinalPathNameByHandleW: junctions and short
 * names resolved), its \Device form (VOLUME_NAME_NT), the short form of each
 * (GetShortPathNameW), and every hard link's name (FindFirstFileNameW).
 * Names are not enough: a link made after the rules were set, or a junction
 * that points at the file's folder, is not known then. So the file's
 * identity goes to the driver too (volume serial and file index from
 * GetFileInformationByHandle; volume serial and 128-bit id from FILE_ID_INFO
 * where the system has it), which compares it with the image file's of every
 * process created: any name of the file is denied.
 */
#include <windows.h>

#include <string.h>

#include "pr_dll_names.h"

struct out {
  uint16_t *w;
  uint32_t cap, units;
  int full;
};

/* Appends name (n units) and its NUL unless the list has it already. */
static void add(struct out *o, const WCHAR *name, uint32_t n) {
  uint32_t i = 0;
  if (n == 0) return;
  while (i < o->units) { /* already there (exact units)? */
    uint32_t s = i;
    while (i < o->units && o->w[i] != 0) i++;
    if (i - s == n && memcmp(&o->w[s], name, n * 2u) == 0) return;
    i++;
  }
  if (o->units + n + 1u > o->cap) {
    o->full = 1;
    return;
  }
  memcpy(&o->w[o->units], name, n * 2u);
  o->units += n;
  o->w[o->units++] = 0;
}

static void add_z(struct out *o, const WCHAR *name) { add(o, name, (uint32_t)wcslen(name)); }

/* The short (8.3) form of a DOS path, when it has one. */
static void add_short(struct out *o, const WCHAR *path) {
  WCHAR s[PR_NAMES_PATH];
  DWORD n = GetShortPathNameW(path, s, PR_NAMES_PATH);
  if (n > 0 && n < PR_NAMES_PATH) add(o, s, n);
}

/* A rule's text as a path CreateFileW opens (NULL: not a plain path). */
static int openable(const WCHAR *rule, WCHAR *out, size_t cap) {
  size_t n = wcslen(rule);
  if (wcschr(rule, L'*') != NULL || wcschr(rule + (wcsncmp(rule, L"\\??\\", 4) == 0 ? 4 : 0), L'?') != NULL) return 0;
  if (wcsncmp(rule, L"\\??\\", 4) == 0) {
    if (n + 1 > cap) return 0;
    wcscpy(out, L"\\\\?\\");
    wcscat(out, rule + 4);
  } else if (_wcsnicmp(rule, L"\\Device\\", 8) == 0) {
    if (n + 15 > cap) return 0;
    wcscpy(out, L"\\\\?\\GLOBALROOT");
    wcscat(out, rule);
  } else {
    if (n + 1 > cap) return 0;
    wcscpy(out, rule);
  }
  return 1;
}

/* FILE_ID_INFO (Windows 8; the build targets 7) */
struct pr_file_id_info {
  ULONGLONG VolumeSerialNumber;
  BYTE FileId[16];
};
#define PR_FILE_ID_INFO_CLASS 18 /* FileIdInfo */

/* The identities of an open file into ids[*n..cap): 0, or -1 when full. */
static int add_ids(HANDLE h, uint32_t rule, struct pr_file_id *ids, uint32_t cap, uint32_t *n) {
  BY_HANDLE_FILE_INFORMATION bi;
  struct pr_file_id_info fi;
  if (GetFileInformationByHandle(h, &bi)) {
    uint64_t index = (uint64_t)bi.nFileIndexHigh << 32 | bi.nFileIndexLow;
    if (*n >= cap) return -1;
    memset(&ids[*n], 0, sizeof(ids[*n]));
    ids[*n].kind = PR_ID_INDEX;
    ids[*n].rule = rule;
    ids[*n].volume = bi.dwVolumeSerialNumber;
    for (int i = 0; i < 8; i++) ids[*n].id[i] = (uint8_t)(index >> (8 * i));
    (*n)++;
  }
  if (GetFileInformationByHandleEx(h, (FILE_INFO_BY_HANDLE_CLASS)PR_FILE_ID_INFO_CLASS, &fi, sizeof(fi))) {
    if (*n >= cap) return -1;
    memset(&ids[*n], 0, sizeof(ids[*n]));
    ids[*n].kind = PR_ID_FILEID;
    ids[*n].rule = rule;
    ids[*n].volume = fi.VolumeSerialNumber;
    memcpy(ids[*n].id, fi.FileId, 16);
    (*n)++;
  }
  return 0;
}

typedef HANDLE(WINAPI *find_name_fn)(LPCWSTR, DWORD, LPDWORD, PWSTR);
typedef BOOL(WINAPI *next_name_fn)(HANDLE, LPDWORD, PWSTR);

int32_t pr_rule_names(const uint16_t *in, uint32_t in_units, uint16_t *w, uint32_t cap, uint32_t *units,
                      struct pr_file_id *ids, uint32_t ids_cap, struct pr_names_stats *st) {
  uint32_t rule = 0;
  int ids_full = 0;
  struct out o = {w, cap, 0, 0};
  WCHAR path[PR_NAMES_PATH], fin[PR_NAMES_PATH], link[PR_NAMES_PATH], full[PR_NAMES_PATH + 8];
  HMODULE k = GetModuleHandleW(L"kernel32.dll");
  find_name_fn find_first = k ? (find_name_fn)(void (*)(void))GetProcAddress(k, "FindFirstFileNameW") : NULL;
  next_name_fn find_next = k ? (next_name_fn)(void (*)(void))GetProcAddress(k, "FindNextFileNameW") : NULL;
  uint32_t i = 0;
  memset(st, 0, sizeof(*st));
  /* the rules as given first, then the names found */
  while (i < in_units) {
    uint32_t s = i;
    while (i < in_units && in[i] != 0) i++;
    add(&o, (const WCHAR *)&in[s], i - s);
    i++;
  }
  for (i = 0; i < in_units;) {
    uint32_t s = i, before = o.units;
    HANDLE h;
    DWORD n;
    while (i < in_units && in[i] != 0) i++;
    if (i - s == 0 || i - s >= PR_NAMES_PATH) {
      i++;
      rule++;
      continue;
    }
    memcpy(link, &in[s], (i - s) * 2u);
    link[i - s] = 0;
    i++;
    rule++;
    if (!openable(link, path, PR_NAMES_PATH)) continue;
    /* a file, not a folder: a rule naming a folder stays a name */
    h = CreateFileW(path, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                    OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) continue; /* no such file now: the rule stays a name */
    st->files++;
    if (add_ids(h, rule - 1, ids, ids_cap, &st->ids) != 0) ids_full = 1;
    n = GetFinalPathNameByHandleW(h, fin, PR_NAMES_PATH, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    if (n > 0 && n < PR_NAMES_PATH) {
      add(&o, fin, n);
      add_short(&o, fin);
      /* every hard link, named from the volume's root */
      if (find_first != NULL && find_next != NULL && n >= 6) {
        WCHAR root[8];
        DWORD len = PR_NAMES_PATH;
        HANDLE f = find_first(fin, 0, &len, link);
        /* fin is "\\?\C:\..." : its drive */
        memcpy(root, fin + 4, 2 * sizeof(WCHAR));
        root[2] = 0;
        if (f != INVALID_HANDLE_VALUE) {
          do {
            if (wcslen(link) + 3 < PR_NAMES_PATH + 8) {
              wcscpy(full, root);
              wcscat(full, link);
              add_z(&o, full);
              add_short(&o, full);
              st->links++;
            }
            len = PR_NAMES_PATH;
          } while (find_next(f, &len, link));
          FindClose(f);
        } else {
          st->no_links = 1;
        }
      } else {
        st->no_links = 1;
      }
    }
    n = GetFinalPathNameByHandleW(h, fin, PR_NAMES_PATH, FILE_NAME_NORMALIZED | VOLUME_NAME_NT);
    if (n > 0 && n < PR_NAMES_PATH) add(&o, fin, n);
    CloseHandle(h);
    {
      /* count the names this rule gained */
      uint32_t j = before, c = 0;
      while (j < o.units) {
        while (j < o.units && o.w[j] != 0) j++;
        j++;
        c++;
      }
      st->added += c;
    }
  }
  *units = o.units;
  return o.full ? -1 : ids_full ? -2 : 0;
}
