/*
 * test_nl_units.c - the proc connector source's pure units, without root
 * and without the kernel: message decoding (nl_decode.c), per-CPU sequence
 * gaps (nl_seq.c), the raw queue and its loss accounting (nl_queue.c), and
 * the snapshot index both sources use (snapshot_index.c). Messages are
 * built here in the kernel's layout (linux/cn_proc.h, linux/connector.h).
 */
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <stdlib.h>
#include <string.h>

#include "../nl_decode.h"
#include "../nl_queue.h"
#include "../nl_seq.h"
#include "../snapshot_index.h"
#include "test_util.h"

/* ---- nl_seq ---- */

static int test_seq_gaps_per_cpu(void) {
  struct pr_nl_seq t = {0};
  uint32_t gap;
  CHECK(pr_nl_seq_check(&t, 0, 100, &gap) == PR_NL_SEQ_FIRST);
  CHECK(pr_nl_seq_check(&t, 1, 7, &gap) == PR_NL_SEQ_FIRST);
  CHECK(pr_nl_seq_check(&t, 0, 101, &gap) == PR_NL_SEQ_NEXT && gap == 0);
  CHECK(pr_nl_seq_check(&t, 0, 105, &gap) == PR_NL_SEQ_GAP && gap == 3);
  CHECK(pr_nl_seq_check(&t, 1, 8, &gap) == PR_NL_SEQ_NEXT); /* CPUs count apart */
  /* older than the last one seen (or the same again): ignored, newest kept */
  CHECK(pr_nl_seq_check(&t, 0, 104, &gap) == PR_NL_SEQ_OLD);
  CHECK(pr_nl_seq_check(&t, 0, 105, &gap) == PR_NL_SEQ_OLD);
  CHECK(pr_nl_seq_check(&t, 0, 106, &gap) == PR_NL_SEQ_NEXT);
  /* wrapping at 2^32 */
  CHECK(pr_nl_seq_check(&t, 2, 0xFFFFFFFEu, &gap) == PR_NL_SEQ_FIRST);
  CHECK(pr_nl_seq_check(&t, 2, 0xFFFFFFFFu, &gap) == PR_NL_SEQ_NEXT);
  CHECK(pr_nl_seq_check(&t, 2, 2, &gap) == PR_NL_SEQ_GAP && gap == 2);
  /* a CPU far beyond the first table grows it; an absurd one is refused */
  CHECK(pr_nl_seq_check(&t, 1000, 1, &gap) == PR_NL_SEQ_FIRST && t.n > 1000);
  CHECK(pr_nl_seq_check(&t, 1000, 3, &gap) == PR_NL_SEQ_GAP && gap == 1);
  CHECK(pr_nl_seq_check(&t, 0, 107, &gap) == PR_NL_SEQ_NEXT); /* kept across growth */
  CHECK(pr_nl_seq_check(&t, PR_NL_SEQ_MAX_CPU, 1, &gap) == PR_NL_SEQ_BAD_CPU);
  pr_nl_seq_free(&t);
  return 0;
}

/* ---- nl_queue ---- */

static struct pr_nl_ev ev_of(uint32_t what, uint32_t tag) {
  struct pr_nl_ev e;
  memset(&e, 0, sizeof(e));
  e.what = what;
  e.a = tag;
  e.ts = 1000u + tag;
  return e;
}

static int test_queue_counts_drops_at_their_place(void) {
  struct pr_nl_queue q;
  struct pr_nl_ev out[16], e;
  uint32_t n, i;
  CHECK(pr_nl_queue_init(&q, 4) == 0);
  for (i = 0; i < 4; i++) {
    e = ev_of(PROC_EVENT_FORK, i);
    CHECK(pr_nl_queue_push(&q, &e) == 1);
  }
  e = ev_of(PROC_EVENT_EXIT, 10);
  CHECK(pr_nl_queue_push(&q, &e) == 0);
  e = ev_of(PROC_EVENT_EXIT, 11);
  CHECK(pr_nl_queue_push(&q, &e) == 0);
  CHECK(pr_nl_queue_pop(&q, out, 1) == 1 && out[0].a == 0);
  /* one free entry: not enough for the lost entry and the event */
  e = ev_of(PROC_EVENT_EXIT, 12);
  CHECK(pr_nl_queue_push(&q, &e) == 0);
  CHECK(pr_nl_queue_pop(&q, out, 1) == 1 && out[0].a == 1);
  e = ev_of(PROC_EVENT_EXEC, 13);
  CHECK(pr_nl_queue_push(&q, &e) == 1);
  n = pr_nl_queue_pop(&q, out, 16);
  CHECK(n == 4);
  CHECK(out[0].a == 2 && out[1].a == 3);
  CHECK(out[2].what == PR_NL_LOST && out[2].a == PR_LOST_RING_FULL && out[2].count == 3 &&
        out[2].ts == 1010 && out[2].cpu == UINT32_MAX);
  CHECK(out[3].what == PROC_EVENT_EXEC && out[3].a == 13);
  CHECK(pr_nl_queue_take_drops(&q, &e) == 0);
  /* drops that no later push reports are taken at the end */
  for (i = 0; i < 6; i++) {
    e = ev_of(PROC_EVENT_FORK, 20 + i);
    pr_nl_queue_push(&q, &e);
  }
  CHECK(pr_nl_queue_pop(&q, out, 16) == 4);
  CHECK(pr_nl_queue_take_drops(&q, &e) == 1 && e.what == PR_NL_LOST && e.count == 2 && e.ts == 1024);
  CHECK(pr_nl_queue_take_drops(&q, &e) == 0);
  pr_nl_queue_free(&q);
  return 0;
}

/* ---- nl_decode ---- */

/* A proc connector message as the kernel sends it (the netlink payload):
 * struct cn_msg, then the struct proc_event at offset 20 (unaligned). */
static uint64_t mbuf[64];
static struct cn_msg *const cn = (struct cn_msg *)(void *)mbuf;
static struct proc_event pe;

static void event(uint32_t what, uint32_t cpu, uint64_t ts) {
  memset(&pe, 0, sizeof(pe));
  pe.what = what;
  pe.cpu = cpu;
  pe.timestamp_ns = ts;
}

/* Writes pe into the message with seq; returns the payload size. */
static size_t msg(uint32_t seq) {
  memset(mbuf, 0, sizeof(mbuf));
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->seq = seq;
  cn->len = sizeof(pe);
  memcpy(cn->data, &pe, sizeof(pe));
  return sizeof(*cn) + sizeof(pe);
}

static int test_decode_messages(void) {
  struct pr_nl_ev e;
  uint32_t seq;
  size_t n;

  event(PROC_EVENT_FORK, 1, 5000);
  pe.event_data.fork.parent_pid = 10;
  pe.event_data.fork.parent_tgid = 11;
  pe.event_data.fork.child_pid = 12;
  pe.event_data.fork.child_tgid = 13;
  n = msg(41);
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_EVENT);
  CHECK(seq == 41 && e.what == PROC_EVENT_FORK && e.cpu == 1 && e.ts == 5000);
  CHECK(e.a == 10 && e.b == 11 && e.c == 12 && e.d == 13);

  event(PROC_EVENT_EXIT, 0, 6000);
  pe.event_data.exit.process_pid = 20;
  pe.event_data.exit.process_tgid = 21;
  pe.event_data.exit.exit_code = 0x0300;
  pe.event_data.exit.exit_signal = 17;
  n = msg(42);
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_EVENT);
  CHECK(e.a == 20 && e.b == 21 && e.code == 0x0300 && e.sig == 17);

  event(PROC_EVENT_COMM, 0, 7000);
  pe.event_data.comm.process_pid = 30;
  pe.event_data.comm.process_tgid = 31;
  memcpy(pe.event_data.comm.comm, "procrec-sync", 13);
  n = msg(43);
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_EVENT);
  CHECK(e.a == 30 && e.b == 31 && strcmp(e.comm, "procrec-sync") == 0);

  event(PROC_EVENT_EXEC, 0, 8000);
  pe.event_data.exec.process_pid = 40;
  pe.event_data.exec.process_tgid = 41;
  n = msg(44);
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_EVENT && e.a == 40 && e.b == 41);

  /* numbered, nothing recorded: a uid change, an ack with a CPU */
  event(PROC_EVENT_UID, 0, 9000);
  n = msg(45);
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_NUMBERED && seq == 45 && e.cpu == 0);
  event(PROC_EVENT_NONE, 1, 9000);
  n = msg(46);
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_NUMBERED && e.cpu == 1);
  /* an ack with no CPU (older kernels): not numbered */
  event(PROC_EVENT_NONE, UINT32_MAX, 9000);
  n = msg(1);
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_UNNUMBERED);

  /* not the proc connector: ignored */
  event(PROC_EVENT_FORK, 0, 1);
  n = msg(47);
  cn->id.idx = CN_IDX_PROC + 1;
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_IGNORE);
  n = msg(47);
  CHECK(pr_nl_decode(cn, sizeof(*cn) - 1, &e, &seq) == PR_NL_MSG_IGNORE);
  /* inconsistent lengths: a decode loss */
  cn->len = (uint16_t)(sizeof(pe) + 1);
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_BAD);
  cn->len = 4; /* shorter than the event header */
  CHECK(pr_nl_decode(cn, n, &e, &seq) == PR_NL_MSG_BAD);
  return 0;
}

/* ---- snapshot_index ---- */

static int test_snapshot_index(void) {
  struct pr_snapshot_entry e[3] = {{.pid = 300, .read_ns = 3000}, {.pid = 100, .read_ns = 1000},
                                   {.pid = 200, .read_ns = 2000}};
  struct pr_snap_index x;
  CHECK(pr_snap_index_init(&x, e, 3) == 0);
  CHECK(pr_snap_index_covers(&x, 100, 900));   /* created before the read */
  CHECK(pr_snap_index_covers(&x, 100, 1000));
  CHECK(!pr_snap_index_covers(&x, 100, 1001)); /* after the read: a new process */
  CHECK(!pr_snap_index_covers(&x, 150, 10));   /* not in the snapshot */
  CHECK(pr_snap_index_covers(&x, 300, 2999));
  pr_snap_index_retire(&x, 300);
  CHECK(!pr_snap_index_covers(&x, 300, 2999)); /* retired: a reused pid */
  CHECK(pr_snap_index_covers(&x, 200, 1));
  pr_snap_index_retire(&x, 12345); /* unknown: nothing */
  pr_snap_index_free(&x);
  CHECK(pr_snap_index_init(&x, NULL, 0) == 0 && !pr_snap_index_covers(&x, 100, 0));
  pr_snap_index_free(&x);
  return 0;
}

/* The pid reused while the snapshot was taken (a churn of short-lived
 * children): the snapshot read pid 500 at 1.2 s, its process started in the
 * tick of 1.15 s (/proc rounds down to 10 ms here). */
static int test_snapshot_index_matches_the_start(void) {
  const uint64_t ms = 1000000, snap = 1150 * ms, read = 1200 * ms;
  struct pr_snapshot_entry e[2] = {{.pid = 500, .read_ns = read, .start_ns = snap},
                                   {.pid = 600, .read_ns = read, .start_ns = snap}};
  struct pr_snap_index x;
  CHECK(pr_snap_index_init(&x, e, 2) == 0);
  x.tick_ns = 10 * ms;
  /* earlier children under the pid, created after the subscription and
   * gone before the read: new processes, not the snapshot's */
  CHECK(!pr_snap_index_covers(&x, 500, 1100 * ms));
  CHECK(!pr_snap_index_covers(&x, 500, snap - 2 * ms));
  /* the snapshot's own process: in its tick (and the slack of a start read
   * two ways), by the read */
  CHECK(pr_snap_index_covers(&x, 500, snap));
  CHECK(pr_snap_index_covers(&x, 500, snap + 9 * ms));
  CHECK(pr_snap_index_covers(&x, 500, snap - ms / 2));
  CHECK(pr_snap_index_covers(&x, 500, snap + 10 * ms + ms / 2));
  CHECK(!pr_snap_index_covers(&x, 500, snap + 12 * ms)); /* a later tick */
  /* its first create (or exit) retires the pid: a later create is another process */
  pr_snap_index_retire(&x, 500);
  CHECK(!pr_snap_index_covers(&x, 500, snap + ms));
  CHECK(pr_snap_index_covers(&x, 600, snap + ms)); /* the others stay */
  CHECK(!pr_snap_index_covers(&x, 600, read + 1)); /* after the read */
  pr_snap_index_free(&x);

  /* the proc connector source leaves out of the snapshot what started after
   * it began (t0): surely so only when even the rounded-down start is later */
  CHECK(pr_snap_started_after(snap, snap - 2 * ms));
  CHECK(!pr_snap_started_after(snap, snap));
  CHECK(!pr_snap_started_after(snap, snap - ms / 2)); /* within the slack */
  CHECK(pr_snap_same_start(snap, snap + 5 * ms, 10 * ms) && !pr_snap_same_start(snap, snap - 5 * ms, 10 * ms));
  return 0;
}

int main(void) {
  t_run("nl_seq counts gaps per CPU, modulo 2^32, ignoring older numbers", test_seq_gaps_per_cpu);
  t_run("nl_queue drops when full and reports the count at its place, or at the end",
        test_queue_counts_drops_at_their_place);
  t_run("nl_decode turns proc connector messages into events and says which are numbered", test_decode_messages);
  t_run("the snapshot index covers a create up to the snapshot's read of the pid, until retired",
        test_snapshot_index);
  t_run("the snapshot index covers a create only when it started in the snapshot's start tick",
        test_snapshot_index_matches_the_start);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
