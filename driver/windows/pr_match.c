/* pr_match.c - see pr_match.h. */
#include "pr_match.h"

static uint16_t ascii_upcase(uint16_t c) { return (c >= 'a' && c <= 'z') ? (uint16_t)(c - ('a' - 'A')) : c; }

int pr_match(const uint16_t *pat, uint32_t pat_units, const uint16_t *name, uint32_t name_units,
             uint16_t (*upcase)(uint16_t)) {
  uint16_t (*fold)(uint16_t) = upcase != 0 ? upcase : ascii_upcase;
  uint32_t p = 0, n = 0;
  uint32_t star = UINT32_MAX; /* position after the last '*' seen */
  uint32_t mark = 0;          /* name position that '*' matched up to */
  while (n < name_units) {
    if (p < pat_units && pat[p] == '*') {
      star = ++p;
      mark = n;
    } else if (p < pat_units && (pat[p] == '?' || fold(pat[p]) == fold(name[n]))) {
      p++;
      n++;
    } else if (star != UINT32_MAX) {
      p = star; /* let the last '*' swallow one more unit */
      n = ++mark;
    } else {
      return 0;
    }
  }
  while (p < pat_units && pat[p] == '*') p++;
  return p == pat_units;
}
