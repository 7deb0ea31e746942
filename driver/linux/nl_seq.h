/*
 * nl_seq.h - the proc connector's per-CPU sequence numbers, checked for gaps.
 *
 * The kernel numbers every proc event per CPU (cn_msg.seq) before any
 * per-listener filter, and stamps the CPU in proc_event.cpu: a jump in a
 * CPU's numbers is that many events lost to this listener (its socket buffer
 * overflowed). A gap is only seen against an earlier message of the same CPU.
 * Pure C, no locking (the reader thread owns it); unit-tested without root
 * (tests/test_nl_units.c).
 */
#ifndef PR_NL_SEQ_H
#define PR_NL_SEQ_H

#include <stdint.h>

#define PR_NL_SEQ_MAX_CPU (1u << 20) /* a CPU number from this on is a decode error */

enum pr_nl_seq_result {
  PR_NL_SEQ_NEXT = 0,    /* the next number of a CPU already seen */
  PR_NL_SEQ_FIRST = 1,   /* the first message of this CPU: counting starts */
  PR_NL_SEQ_GAP = 2,     /* *gap events were lost on this CPU before it */
  PR_NL_SEQ_OLD = 3,     /* older than the last one seen (out of order): ignored */
  PR_NL_SEQ_BAD_CPU = 4, /* cpu >= PR_NL_SEQ_MAX_CPU: not counted */
  PR_NL_SEQ_NOMEM = 5,   /* could not grow the table: not counted */
};

struct pr_nl_seq {
  uint32_t *seq;  /* last number per CPU */
  uint8_t *seen;  /* a message of that CPU was seen */
  uint32_t n;     /* CPUs in the table */
};

/* Checks seq from cpu, remembers it, and says what it means (gap in *gap,
 * modulo 2^32; a jump backwards of 2^31 or more counts as out of order). */
enum pr_nl_seq_result pr_nl_seq_check(struct pr_nl_seq *t, uint32_t cpu, uint32_t seq, uint32_t *gap);

void pr_nl_seq_free(struct pr_nl_seq *t);

#endif /* PR_NL_SEQ_H */
