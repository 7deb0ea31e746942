/* pr_dll_names.h - the other names of the files block rules name (see
 * pr_dll_names.c). Windows only. */
#ifndef PR_DLL_NAMES_H
#define PR_DLL_NAMES_H

#include <stdint.h>

#define PR_NAMES_PATH 1024u

struct pr_names_stats {
  uint32_t files;    /* rules that name an existing file */
  uint32_t links;    /* hard-link names found */
  uint32_t added;    /* names added to the rules */
  int no_links;      /* the hard links could not be listed (FindFirstFileNameW missing or failing) */
};

/* The NUL-terminated rules in[0..in_units) and, for each that names an
 * existing file without wildcards, its other names, into w (cap units,
 * NUL-terminated names back to back, no duplicates). Returns 0, or -1 when
 * they do not fit (w holds what fitted). */
int32_t pr_rule_names(const uint16_t *in, uint32_t in_units, uint16_t *w, uint32_t cap, uint32_t *units,
                      struct pr_names_stats *st);

#endif /* PR_DLL_NAMES_H */
