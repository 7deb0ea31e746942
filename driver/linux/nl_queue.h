/*
 * nl_queue.h - the proc connector source's queue between its reader and its
 * enricher (netlink.c): raw kernel events in arrival order, bounded, and
 * never dropping one silently.
 *
 * Pure C, no locking and no OS calls (the caller holds its mutex), so it is
 * unit-tested without root (tests/test_nl_units.c). When the queue is full
 * a new event is dropped and counted; the next push that has room for two
 * entries first appends a lost entry (PR_LOST_RING_FULL, the count, the time
 * of the first drop), so the loss shows at its place. Drops that no later
 * push reports are taken with pr_nl_queue_take_drops at the end.
 */
#ifndef PR_NL_QUEUE_H
#define PR_NL_QUEUE_H

#include <stdint.h>

#define PR_NL_LOST 0xFFFFFFFFu /* pr_nl_ev.what of a lost entry */

/* One event as the reader decoded it (fields by PROC_EVENT_* kind):
 *   FORK: a parent tid, b parent pid, c child tid, d child pid
 *   EXEC: a tid, b pid       EXIT: a tid, b pid, code, sig
 *   COMM: a tid, b pid, comm
 *   PR_NL_LOST: a reason (enum pr_lost_reason), cpu, count, flags */
struct pr_nl_ev {
  uint32_t what; /* PROC_EVENT_* or PR_NL_LOST */
  uint32_t cpu;
  uint64_t ts; /* kernel monotonic ns */
  uint32_t a, b, c, d;
  uint32_t code, sig;
  uint64_t count;
  uint16_t flags;
  char comm[16];
};

struct pr_nl_queue {
  struct pr_nl_ev *ev; /* cap entries */
  uint32_t cap;
  uint32_t head, len;
  uint64_t drops;   /* dropped since the last lost entry */
  uint64_t drop_ts; /* time of the first of them */
};

/* Allocates cap entries (cap >= 2). Returns 0, or -1 without memory. */
int pr_nl_queue_init(struct pr_nl_queue *q, uint32_t cap);
void pr_nl_queue_free(struct pr_nl_queue *q);

/* Appends ev (a lost entry for earlier drops first). Returns 1 when stored,
 * 0 when the queue was full (ev dropped and counted). */
int pr_nl_queue_push(struct pr_nl_queue *q, const struct pr_nl_ev *ev);

/* Moves up to max entries, oldest first, into out. Returns how many. */
uint32_t pr_nl_queue_pop(struct pr_nl_queue *q, struct pr_nl_ev *out, uint32_t max);

/* When drops are pending (no push reported them yet), writes their lost
 * entry into out, clears them and returns 1; else 0. */
int pr_nl_queue_take_drops(struct pr_nl_queue *q, struct pr_nl_ev *out);

#endif /* PR_NL_QUEUE_H */
