/*
 * pr_ring.h - a byte ring of whole, variable-size procrec records.
 *
 * Portable C with no OS calls: the same code runs in the Linux library, the
 * Windows kernel driver and the Windows DLL, and in host unit tests.
 *
 * The ring stores records that start with struct pr_rec_header (size a
 * multiple of 8). It never overwrites unread data: when a record does not fit,
 * the NEW record is dropped and counted. A record is never split: when it
 * does not fit before the end of the buffer, an 8-byte padding marker fills
 * the rest and the record starts at offset 0.
 *
 * Losses are kept per reason in the ring itself, in the order they happened:
 * its own drops (reason chosen by the ring's owner, e.g. PR_LOST_RING_FULL)
 * and the losses its owner reports (pr_ring_lost: a sequence gap, a socket
 * overflow...) become pending entries, and every pending entry goes into the
 * stream as a PR_REC_LOST record, in order, before the next stored record (or
 * at pr_ring_flush_lost when there is room). So a loss always shows at its
 * place in the stream, under its own reason: a count is never folded into
 * another reason's, and a later loss never precedes an earlier one. A loss
 * that follows a pending entry of the same reason, CPU and flags adds to it;
 * when all PR_RING_LOST_SLOTS entries are in use, the latest entry that has
 * an earlier one of the same reason is folded into it (CPU then UINT32_MAX):
 * no record lies between pending entries, so no count moves past a record.
 *
 * The ring assigns header.seq at push (+1 per record stored, lost records
 * included), so a reader sees contiguous sequence numbers. A lost record
 * carries the timestamps of the first loss it counts.
 *
 * No locking inside: callers serialise every call (a pthread mutex in the
 * Linux library, a spinlock in the driver).
 */
#ifndef PR_RING_H
#define PR_RING_H

#include <stddef.h>
#include <stdint.h>

#include "../include/procrec_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Internal kind of the padding marker that fills the end of the buffer. */
#define PR_RING_PAD_KIND 0u

/* Status of pr_ring_push. */
#define PR_RING_OK 0         /* stored */
#define PR_RING_DROPPED 1    /* ring full: dropped and counted (pending) */
#define PR_RING_E_INVAL (-1) /* malformed record or too big for this ring */

/* Pending lost entries a ring holds at most (more fold, see above). */
#define PR_RING_LOST_SLOTS 16u

/* One pending loss: the PR_REC_LOST record it becomes. */
struct pr_ring_loss {
  uint32_t reason;  /* enum pr_lost_reason */
  uint32_t cpu;     /* UINT32_MAX: not per-CPU, or several */
  uint64_t count;   /* events (0 with PR_F_COUNT_UNKNOWN) */
  uint64_t mono_ns; /* timestamps of the first loss counted */
  uint64_t utc_ns;
  uint16_t flags;   /* header flags: PR_F_COUNT_UNKNOWN */
  uint16_t reserved[3];
};

struct pr_ring {
  uint8_t *buf;          /* caller-provided memory */
  uint32_t cap;          /* usable bytes, a multiple of 8 */
  uint32_t head;         /* next write offset */
  uint32_t tail;         /* next read offset */
  uint32_t used;         /* bytes in use, padding included */
  uint32_t lost_reason;  /* enum pr_lost_reason of the ring's own drops */
  uint32_t n_lost;       /* pending entries in lost[] */
  uint64_t next_seq;     /* seq of the next stored record */
  struct pr_ring_loss lost[PR_RING_LOST_SLOTS]; /* pending, oldest first */
  uint64_t lost_by_reason[PR_LOST_REASON_MAX + 1]; /* events counted, all time */
  uint64_t pushed;       /* records stored (lost records included) */
  uint64_t dropped;      /* records dropped, all time */
  uint64_t popped;       /* records handed out by pop */
};

/* Sets up a ring over mem (bytes rounded down to a multiple of 8). Returns
 * 0, or PR_RING_E_INVAL when the memory is too small to hold one lost record
 * and a minimal record. lost_reason: e.g. PR_LOST_RING_FULL. */
int pr_ring_init(struct pr_ring *r, void *mem, uint32_t bytes, uint32_t lost_reason);

/* Copies rec (size bytes; header.size must equal size) into the ring and sets
 * its seq. Returns PR_RING_OK, PR_RING_DROPPED (counted, reported later), or
 * PR_RING_E_INVAL (malformed, or larger than the ring could ever hold; not
 * counted as a drop). */
int pr_ring_push(struct pr_ring *r, const void *rec, uint32_t size);

/* As pr_ring_push, but a record that does not fit is neither stored nor
 * counted (PR_RING_DROPPED): the caller keeps it and tries again later (the
 * Linux library does so with its own lost records, so that their counts are
 * never folded into a ring-full count). */
int pr_ring_try_push(struct pr_ring *r, const void *rec, uint32_t size);

/* Counts rec (a record header at least) as dropped for want of space, as a
 * failed pr_ring_push would, without trying to store it: for a caller that
 * must keep records behind others it still holds. */
void pr_ring_note_drop(struct pr_ring *r, const void *rec);

/* Reports count events lost for reason (enum pr_lost_reason, 1 to
 * PR_LOST_REASON_MAX) at this point of the stream: written at once as a
 * PR_REC_LOST record when nothing is pending and there is room, else kept
 * pending (see above). flags: header flags of the record (PR_F_COUNT_UNKNOWN
 * with count 0). Returns PR_RING_OK (written), PR_RING_DROPPED (pending: it
 * goes in before the next stored record) or PR_RING_E_INVAL (unknown
 * reason). */
int pr_ring_lost(struct pr_ring *r, uint32_t reason, uint32_t cpu, uint64_t count, uint16_t flags,
                 uint64_t mono_ns, uint64_t utc_ns);

/* Writes the pending lost records now, in order, as many as fit (normally
 * they go in just before the next stored record). A consumer calls it after
 * popping, so that losses at the end of a stream are reported too. Returns
 * PR_RING_OK (all written, or nothing pending) or PR_RING_DROPPED (some
 * still pending: no room yet). */
int pr_ring_flush_lost(struct pr_ring *r);

/* Events counted in the pending entries (not yet in the stream). */
uint64_t pr_ring_lost_pending(const struct pr_ring *r);

/* Largest record size pr_ring_push could ever accept in this ring. */
uint32_t pr_ring_max_record(const struct pr_ring *r);

/* Size of the next record a pop would return, 0 when the ring is empty. */
uint32_t pr_ring_peek_size(struct pr_ring *r);

/* Copies as many whole records as fit in cap bytes into out and removes
 * them. Returns the bytes copied (0 when empty, or when the next record is
 * larger than cap: see pr_ring_peek_size). */
uint32_t pr_ring_pop_batch(struct pr_ring *r, void *out, uint32_t cap);

/* Bytes in use (padding included). */
static inline uint32_t pr_ring_used(const struct pr_ring *r) { return r->used; }

#ifdef __cplusplus
}
#endif
#endif /* PR_RING_H */
