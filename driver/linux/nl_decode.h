/*
 * nl_decode.h - one proc connector message (struct cn_msg carrying a struct
 * proc_event) into a queue event. Pure C: unit-tested without root on
 * messages built by the test (tests/test_nl_units.c).
 */
#ifndef PR_NL_DECODE_H
#define PR_NL_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "nl_queue.h"

struct cn_msg;

enum pr_nl_msg {
  PR_NL_MSG_IGNORE = 0,     /* not a proc connector message: not counted */
  PR_NL_MSG_BAD = 1,        /* too short or inconsistent: a decode loss */
  PR_NL_MSG_UNNUMBERED = 2, /* an ack with no CPU (older kernels): counted, no sequence */
  PR_NL_MSG_NUMBERED = 3,   /* sequence-checked, nothing to record (ack, uid, gid, sid, ptrace, coredump) */
  PR_NL_MSG_EVENT = 4,      /* sequence-checked, *ev to queue (fork, exec, exit, comm) */
};

/* Decodes the message at cn (avail bytes, the netlink payload). Except for
 * IGNORE and BAD, sets ev->cpu, ev->ts and *seq (the per-CPU number); for
 * EVENT, the rest of *ev (see struct pr_nl_ev). */
enum pr_nl_msg pr_nl_decode(const struct cn_msg *cn, size_t avail, struct pr_nl_ev *ev, uint32_t *seq);

#endif /* PR_NL_DECODE_H */
