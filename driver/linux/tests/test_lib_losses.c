/*
 * test_lib_losses.c - lib.c's loss accounting with a scripted source, no
 * root and no kernel subscription: the test plays the source (it calls
 * pr_lib_emit and pr_lib_emit_lost itself) and reads through the public
 * ABI, so the order of lost records in the stream is checked exactly.
 *
 * Built with lib.c, snapshot.c, procfs.c and driver/common; this file
 * defines pr_source_netlink and pr_source_ebpf (see source.h) as a source
 * whose threads are the test itself.
 */
#include <stdlib.h>
#include <string.h>

#include "../source.h"
#include "test_util.h"

#include "scripted_source.h"

/* Emits one 48-byte comm record of pid tag; returns pr_lib_emit's status. */
static int emit_comm(uint32_t tag) {
  struct pr_rec_comm c;
  memset(&c, 0, sizeof(c));
  c.h.kind = PR_REC_COMM;
  c.h.size = sizeof(c);
  c.h.pid = c.h.tid = tag;
  c.h.mono_ns = 1000u + tag;
  return pr_lib_emit(g_lib, &c, sizeof(c));
}

static void *open_started(void) {
  struct procrec_options o;
  void *h = NULL;
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = PR_SOURCE_NETLINK;
  o.flags = PR_OPT_NO_SNAPSHOT;
  o.ring_bytes = 64u << 10;
  o.max_string = 256;
  if (procrec_open(&o, &h) != PR_OK) return NULL;
  if (procrec_start(h) != PR_OK) {
    procrec_close(h);
    return NULL;
  }
  return h;
}

/* What the stream says after the last stored comm record: the lost records
 * in order (reason, count), at most 8. */
struct tail {
  uint32_t reason[8];
  uint64_t count[8];
  int n;
  uint32_t comms;
  int seq_ok;
};

static void read_tail(void *h, struct tail *t) {
  struct t_records r = {0};
  const struct pr_rec_header *rh;
  size_t off;
  uint64_t seq = 0;
  memset(t, 0, sizeof(*t));
  t->seq_ok = 1;
  while (t_read_some(h, &r, 0) > 0) {
  }
  for (off = 0; (rh = t_next(&r, &off)) != NULL;) {
    if (rh->seq != seq++) t->seq_ok = 0;
    if (rh->kind == PR_REC_COMM) {
      t->comms++;
      t->n = 0; /* only the losses after the last stored record */
    } else if (rh->kind == PR_REC_LOST && t->n < 8) {
      const struct pr_rec_lost *l = (const void *)rh;
      t->reason[t->n] = l->reason;
      t->count[t->n] = l->count;
      t->n++;
    }
  }
  free(r.buf);
}

/* The ring fills (one drop), the source then reports a sequence gap, then
 * three more records are dropped: the stream must say ring_full 1, seq_gap
 * 5, ring_full 3, in that order. Before the ring kept losses per reason,
 * lib.c held the gap aside and the ring wrote its ring_full count (all four
 * drops) in front of it when the gap went in. */
static int test_losses_keep_their_order_across_a_full_ring(void) {
  void *h = open_started();
  struct tail t;
  struct procrec_stats st;
  uint32_t tag = 0;
  int i;
  CHECK(h != NULL);
  while (emit_comm(tag++) == PR_OK) {
  }
  CHECK(pr_lib_emit_lost(g_lib, PR_LOST_SEQ_GAP, 1, 5, 0, 5000) != PR_E_INVAL);
  for (i = 0; i < 3; i++) CHECK(emit_comm(tag++) != PR_OK);
  read_tail(h, &t);
  CHECK(procrec_stats(h, &st) == PR_OK);
  procrec_close(h);
  printf("     %u records stored, then %d lost records:", t.comms, t.n);
  for (i = 0; i < t.n; i++) printf(" reason %u count %llu;", t.reason[i], (unsigned long long)t.count[i]);
  printf("\n");
  CHECK(t.seq_ok);
  CHECK(t.comms + 4 == tag);
  CHECK(t.n == 3);
  CHECK(t.reason[0] == PR_LOST_RING_FULL && t.count[0] == 1);
  CHECK(t.reason[1] == PR_LOST_SEQ_GAP && t.count[1] == 5);
  CHECK(t.reason[2] == PR_LOST_RING_FULL && t.count[2] == 3);
  CHECK(st.lost_ring == 4 && st.lost_seq_gap == 5 && st.lost_total == 9);
  return 0;
}

/* Many source losses while the ring is full: every count reaches the stream
 * under its own reason, none folded into ring_full, and nothing after the
 * ring drains goes in front of them. */
static int test_many_losses_while_full_keep_their_reasons(void) {
  void *h = open_started();
  struct t_records r = {0};
  const struct pr_rec_header *rh;
  struct procrec_stats st;
  uint64_t by_reason[8] = {0};
  uint32_t tag = 0;
  size_t off;
  int i;
  CHECK(h != NULL);
  while (emit_comm(tag++) == PR_OK) {
  }
  for (i = 0; i < 40; i++) {
    CHECK(pr_lib_emit_lost(g_lib, PR_LOST_SEQ_GAP, (uint32_t)i % 7, 2, 0, 5000) != PR_E_INVAL);
    CHECK(pr_lib_emit_lost(g_lib, PR_LOST_ENOBUFS, UINT32_MAX, 0, PR_F_COUNT_UNKNOWN, 5000) != PR_E_INVAL);
    CHECK(emit_comm(tag++) != PR_OK);
  }
  while (t_read_some(h, &r, 0) > 0) {
  }
  CHECK(emit_comm(tag++) == PR_OK); /* room again: stored after every loss */
  while (t_read_some(h, &r, 0) > 0) {
  }
  CHECK(procrec_stats(h, &st) == PR_OK);
  procrec_close(h);
  for (off = 0; (rh = t_next(&r, &off)) != NULL;)
    if (rh->kind == PR_REC_LOST) {
      const struct pr_rec_lost *l = (const void *)rh;
      CHECK(l->reason < 8);
      by_reason[l->reason] += l->count;
      CHECK(l->reason != PR_LOST_ENOBUFS || (l->h.flags & PR_F_COUNT_UNKNOWN));
    }
  CHECK(by_reason[PR_LOST_SEQ_GAP] == 80);
  CHECK(by_reason[PR_LOST_RING_FULL] == 41);
  CHECK(st.lost_seq_gap == 80 && st.lost_ring == 41 && st.lost_enobufs == 40);
  free(r.buf);
  return 0;
}

int main(void) {
  t_run("losses keep their order across a full ring: ring_full, then the source's gap, then ring_full",
        test_losses_keep_their_order_across_a_full_ring);
  t_run("many losses while the ring is full keep their own reasons and counts",
        test_many_losses_while_full_keep_their_reasons);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
