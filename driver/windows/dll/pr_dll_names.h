/* pr_dll_names.h - the other names of the files block rules name (see
 * pr_dll_names.c). Windows only. */
#ifndef PR_DLL_NAMES_H
#define PR_DLL_NAMES_H

#include <stdint.h>

#include "../procrec_ioctl.h"

#define PR_NAMES_PATH 1024u

struct pr_names_stats {
  uint32_t files;    /* rules that name an existing file */
  uint32_t links;    /* hard-link names found */
  uint32_t added;    /* names added to the rules */
  int no_links;      /* the hard links could not be listed (FindFirstFileNameW missing or failing) */
  uint32_t ids;      /* file identities read (struct pr_file_id) */
};

/* The NUL-terminated rules in[0..in_units) and, for each that names an
 * existing file without wildcards, its other names, into w (cap units,
 * NUL-terminated names back to back, no duplicates), and the file's
 * identities into ids (ids_cap; st->ids of them: PR_ID_INDEX always,
 * PR_ID_FILEID where the system has FILE_ID_INFO). Returns 0, or -1 when
 * the names do not fit (w holds what fitted), -2 when the identities do not. */
int32_t pr_rule_names(const uint16_t *in, uint32_t in_units, uint16_t *w, uint32_t cap, uint32_t *units,
                      struct pr_file_id *ids, uint32_t ids_cap, struct pr_names_stats *st);

#endif /* PR_DLL_NAMES_H */
