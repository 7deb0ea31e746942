/*
 * nl_seq.c - see nl_seq.h.
 */
#include "nl_seq.h"

#include <stdlib.h>
#include <string.h>

enum pr_nl_seq_result pr_nl_seq_check(struct pr_nl_seq *t, uint32_t cpu, uint32_t seq, uint32_t *gap) {
  *gap = 0;
  if (cpu >= t->n) {
    uint32_t n = t->n ? t->n : 64;
    uint32_t *ns;
    uint8_t *nb;
    if (cpu >= PR_NL_SEQ_MAX_CPU) return PR_NL_SEQ_BAD_CPU;
    while (n <= cpu) n *= 2;
    ns = realloc(t->seq, n * sizeof(*ns));
    if (ns == NULL) return PR_NL_SEQ_NOMEM;
    t->seq = ns;
    nb = realloc(t->seen, n);
    if (nb == NULL) return PR_NL_SEQ_NOMEM;
    t->seen = nb;
    memset(t->seen + t->n, 0, n - t->n);
    t->n = n;
  }
  if (!t->seen[cpu]) {
    t->seen[cpu] = 1;
    t->seq[cpu] = seq;
    return PR_NL_SEQ_FIRST;
  }
  {
    uint32_t g = seq - t->seq[cpu] - 1u; /* modulo 2^32 */
    if (g != 0 && g >= 0x80000000u) return PR_NL_SEQ_OLD; /* keep the newest */
    t->seq[cpu] = seq;
    if (g == 0) return PR_NL_SEQ_NEXT;
    *gap = g;
    return PR_NL_SEQ_GAP;
  }
}

void pr_nl_seq_free(struct pr_nl_seq *t) {
  free(t->seq);
  free(t->seen);
  memset(t, 0, sizeof(*t));
}
