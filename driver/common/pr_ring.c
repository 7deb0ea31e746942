/*
 * pr_ring.c - see pr_ring.h. Portable C: no OS calls, no allocation.
 */
#include "pr_ring.h"

#include <string.h>

#define PR_LOST_SIZE ((uint32_t)sizeof(struct pr_rec_lost))
#define PR_MIN_RECORD ((uint32_t)sizeof(struct pr_rec_header))

int pr_ring_init(struct pr_ring *r, void *mem, uint32_t bytes, uint32_t lost_reason) {
  if (r == NULL || mem == NULL) return PR_RING_E_INVAL;
  memset(r, 0, sizeof(*r));
  bytes &= ~(uint32_t)7u;
  if (bytes < PR_LOST_SIZE + PR_MIN_RECORD) return PR_RING_E_INVAL;
  r->buf = (uint8_t *)mem;
  r->cap = bytes;
  r->lost_reason = lost_reason;
  return PR_RING_OK;
}

uint32_t pr_ring_max_record(const struct pr_ring *r) {
  /* A lost record may have to precede it; both start at offset 0 when the
   * ring is empty. (More pending lost records than one make such a record
   * wait: it is dropped and counted, and the consumer's pr_ring_flush_lost
   * writes them.) */
  return r->cap - PR_LOST_SIZE;
}

/* Bytes that storing a record of size at *head consumes (padding included),
 * and the head after it. size <= cap and *head < cap, but room + size can
 * exceed 2^32 for a ring near 4 GiB: the cost is computed in 64 bits. */
static uint64_t place(const struct pr_ring *r, uint32_t *head, uint32_t size) {
  uint32_t room = r->cap - *head;
  uint64_t cost;
  if (size <= room) {
    cost = size;
    *head += size;
  } else {
    cost = (uint64_t)room + size;
    *head = size;
  }
  if (*head == r->cap) *head = 0;
  return cost;
}

/* Writes size bytes at the head, padding the end of the buffer first when
 * they do not fit before it. The caller checked the space. */
static uint8_t *write_at_head(struct pr_ring *r, const void *src, uint32_t size) {
  uint32_t room = r->cap - r->head;
  uint8_t *dst;
  if (size > room) {
    /* room is a non-zero multiple of 8: the 8-byte marker fits. */
    uint16_t kind = PR_RING_PAD_KIND, flags = 0;
    memcpy(r->buf + r->head, &kind, 2);
    memcpy(r->buf + r->head + 2, &flags, 2);
    memcpy(r->buf + r->head + 4, &room, 4);
    r->used += room;
    r->head = 0;
  }
  dst = r->buf + r->head;
  memcpy(dst, src, size);
  r->used += size;
  r->head += size;
  if (r->head == r->cap) r->head = 0;
  return dst;
}

static void stamp_seq(struct pr_ring *r, uint8_t *dst) {
  uint64_t seq = r->next_seq++;
  memcpy(dst + offsetof(struct pr_rec_header, seq), &seq, sizeof(seq));
  r->pushed++;
}

/* Writes pending entry 0 as a lost record (the caller checked the space)
 * and removes it. */
static void write_first_lost(struct pr_ring *r) {
  struct pr_rec_lost l;
  const struct pr_ring_loss *e = &r->lost[0];
  memset(&l, 0, sizeof(l));
  l.h.kind = PR_REC_LOST;
  l.h.flags = e->flags;
  l.h.size = PR_LOST_SIZE;
  l.h.mono_ns = e->mono_ns;
  l.h.utc_ns = e->utc_ns;
  l.reason = e->reason;
  l.cpu = e->cpu;
  l.count = e->count;
  stamp_seq(r, write_at_head(r, &l, PR_LOST_SIZE));
  r->n_lost--;
  memmove(&r->lost[0], &r->lost[1], r->n_lost * sizeof(r->lost[0]));
}

/* Whether one lost record fits now. */
static int lost_fits(struct pr_ring *r) {
  uint32_t head;
  if (r->used == 0) r->head = r->tail = 0; /* start over: no padding needed */
  head = r->head;
  return place(r, &head, PR_LOST_SIZE) <= (uint64_t)(r->cap - r->used);
}

int pr_ring_flush_lost(struct pr_ring *r) {
  if (r == NULL) return PR_RING_OK;
  while (r->n_lost > 0 && lost_fits(r)) write_first_lost(r);
  return r->n_lost == 0 ? PR_RING_OK : PR_RING_DROPPED;
}

/* Frees a slot of the full pending list: folds the latest entry that has an
 * earlier one of the same reason into that one (nothing lies between
 * pending entries in the stream, so no count moves past a record). 0 when
 * every reason differs. */
static int fold_one(struct pr_ring *r) {
  uint32_t i, j;
  for (i = r->n_lost; i-- > 1;)
    for (j = i; j-- > 0;)
      if (r->lost[j].reason == r->lost[i].reason) {
        if (r->lost[j].cpu != r->lost[i].cpu) r->lost[j].cpu = UINT32_MAX;
        r->lost[j].count += r->lost[i].count;
        r->lost[j].flags |= r->lost[i].flags;
        r->n_lost--;
        memmove(&r->lost[i], &r->lost[i + 1], (r->n_lost - i) * sizeof(r->lost[0]));
        return 1;
      }
  return 0;
}

/* Adds a loss to the pending list: to the last entry when it is the same
 * reason, CPU and flags, else as a new entry (folding first when full). */
static void add_pending(struct pr_ring *r, uint32_t reason, uint32_t cpu, uint64_t count, uint16_t flags,
                        uint64_t mono_ns, uint64_t utc_ns) {
  struct pr_ring_loss *last = r->n_lost > 0 ? &r->lost[r->n_lost - 1] : NULL;
  if (last != NULL && last->reason == reason && last->cpu == cpu && last->flags == flags) {
    last->count += count;
    return;
  }
  if (r->n_lost == PR_RING_LOST_SLOTS && !fold_one(r)) {
    /* every slot a different reason: cannot happen while the reasons are
     * fewer than the slots; joins the last, its reason kept (never silent) */
    last->count += count;
    last->cpu = UINT32_MAX;
    last->flags |= flags;
    return;
  }
  last = &r->lost[r->n_lost++];
  memset(last, 0, sizeof(*last));
  last->reason = reason;
  last->cpu = cpu;
  last->count = count;
  last->flags = flags;
  last->mono_ns = mono_ns;
  last->utc_ns = utc_ns;
}

static void count_drop(struct pr_ring *r, uint64_t mono_ns, uint64_t utc_ns) {
  add_pending(r, r->lost_reason, UINT32_MAX, 1, 0, mono_ns, utc_ns);
  if (r->lost_reason <= PR_LOST_REASON_MAX) r->lost_by_reason[r->lost_reason]++;
  r->dropped++;
}

void pr_ring_note_drop(struct pr_ring *r, const void *rec) {
  struct pr_rec_header h;
  memcpy(&h, rec, sizeof(h));
  count_drop(r, h.mono_ns, h.utc_ns);
}

int pr_ring_lost(struct pr_ring *r, uint32_t reason, uint32_t cpu, uint64_t count, uint16_t flags,
                 uint64_t mono_ns, uint64_t utc_ns) {
  if (r == NULL || reason == 0 || reason > PR_LOST_REASON_MAX) return PR_RING_E_INVAL;
  r->lost_by_reason[reason] += count;
  add_pending(r, reason, cpu, count, flags, mono_ns, utc_ns);
  return pr_ring_flush_lost(r);
}

uint64_t pr_ring_lost_pending(const struct pr_ring *r) {
  uint64_t n = 0;
  uint32_t i;
  for (i = 0; i < r->n_lost; i++) n += r->lost[i].count;
  return n;
}

static int push_impl(struct pr_ring *r, const void *rec, uint32_t size, int count);

int pr_ring_push(struct pr_ring *r, const void *rec, uint32_t size) { return push_impl(r, rec, size, 1); }

int pr_ring_try_push(struct pr_ring *r, const void *rec, uint32_t size) { return push_impl(r, rec, size, 0); }

static int push_impl(struct pr_ring *r, const void *rec, uint32_t size, int count) {
  struct pr_rec_header h;
  uint32_t head, i;
  uint64_t need;
  if (r == NULL || rec == NULL || size < PR_MIN_RECORD || (size & 7u) != 0) return PR_RING_E_INVAL;
  memcpy(&h, rec, sizeof(h));
  if (h.size != size || h.kind == PR_RING_PAD_KIND) return PR_RING_E_INVAL;
  if (size > pr_ring_max_record(r)) return PR_RING_E_INVAL;

  /* Room for the pending lost records and the record after them, or the
   * record is dropped: it never overtakes a loss, and under overload the
   * drops add up in one entry instead of a lost record per drop. */
  if (r->used == 0) r->head = r->tail = 0; /* start over: no padding needed */
  head = r->head;
  need = 0;
  for (i = 0; i < r->n_lost; i++) need += place(r, &head, PR_LOST_SIZE);
  need += place(r, &head, size);
  if (need > (uint64_t)(r->cap - r->used)) {
    if (count) count_drop(r, h.mono_ns, h.utc_ns);
    return PR_RING_DROPPED;
  }
  while (r->n_lost > 0) write_first_lost(r);
  stamp_seq(r, write_at_head(r, rec, size));
  return PR_RING_OK;
}

/* Skips a padding marker at the tail, if any. */
static void skip_pad(struct pr_ring *r) {
  if (r->used > 0) {
    uint16_t kind;
    uint32_t size;
    memcpy(&kind, r->buf + r->tail, 2);
    if (kind == PR_RING_PAD_KIND) {
      memcpy(&size, r->buf + r->tail + 4, 4);
      r->used -= size;
      r->tail = 0;
    }
  }
  if (r->used == 0) r->head = r->tail = 0;
}

uint32_t pr_ring_peek_size(struct pr_ring *r) {
  uint32_t size;
  skip_pad(r);
  if (r->used == 0) return 0;
  memcpy(&size, r->buf + r->tail + 4, 4);
  return size;
}

uint32_t pr_ring_pop_batch(struct pr_ring *r, void *out, uint32_t cap) {
  uint8_t *dst = (uint8_t *)out;
  uint32_t copied = 0;
  if (r == NULL || (out == NULL && cap > 0)) return 0;
  for (;;) {
    uint32_t size = pr_ring_peek_size(r);
    if (size == 0 || size > cap - copied) break;
    memcpy(dst + copied, r->buf + r->tail, size);
    copied += size;
    r->used -= size;
    r->tail += size;
    if (r->tail == r->cap) r->tail = 0;
    r->popped++;
  }
  skip_pad(r);
  return copied;
}
