/*
 * nl_queue.c - see nl_queue.h.
 */
#include "nl_queue.h"

#include <stdlib.h>
#include <string.h>

#include "../include/procrec_abi.h"

int pr_nl_queue_init(struct pr_nl_queue *q, uint32_t cap) {
  memset(q, 0, sizeof(*q));
  if (cap < 2) return -1;
  q->ev = malloc(sizeof(*q->ev) * cap);
  if (q->ev == NULL) return -1;
  q->cap = cap;
  return 0;
}

void pr_nl_queue_free(struct pr_nl_queue *q) {
  free(q->ev);
  q->ev = NULL;
}

static void lost_entry(struct pr_nl_queue *q, struct pr_nl_ev *l) {
  memset(l, 0, sizeof(*l));
  l->what = PR_NL_LOST;
  l->a = PR_LOST_RING_FULL;
  l->cpu = UINT32_MAX;
  l->count = q->drops;
  l->ts = q->drop_ts;
  q->drops = 0;
}

int pr_nl_queue_push(struct pr_nl_queue *q, const struct pr_nl_ev *ev) {
  if (q->len + (q->drops > 0 ? 2u : 1u) > q->cap) {
    if (q->drops == 0) q->drop_ts = ev->ts;
    q->drops++;
    return 0;
  }
  if (q->drops > 0) lost_entry(q, &q->ev[(q->head + q->len++) % q->cap]);
  q->ev[(q->head + q->len++) % q->cap] = *ev;
  return 1;
}

uint32_t pr_nl_queue_pop(struct pr_nl_queue *q, struct pr_nl_ev *out, uint32_t max) {
  uint32_t n = 0;
  while (n < max && q->len > 0) {
    out[n++] = q->ev[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
  }
  return n;
}

int pr_nl_queue_take_drops(struct pr_nl_queue *q, struct pr_nl_ev *out) {
  if (q->drops == 0) return 0;
  lost_entry(q, out);
  return 1;
}
