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
   * ring is empty. */
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

/* Writes the pending lost record (the caller checked the space). */
static void write_lost(struct pr_ring *r) {
  struct pr_rec_lost l;
  if (r->pending_lost == 0) return;
  memset(&l, 0, sizeof(l));
  l.h.kind = PR_REC_LOST;
  l.h.size = PR_LOST_SIZE;
  l.h.mono_ns = r->lost_mono_ns;
  l.h.utc_ns = r->lost_utc_ns;
  l.reason = r->lost_reason;
  l.cpu = UINT32_MAX;
  l.count = r->pending_lost;
  stamp_seq(r, write_at_head(r, &l, PR_LOST_SIZE));
  r->pending_lost = 0;
}


static void count_drop(struct pr_ring *r, uint64_t mono_ns, uint64_t utc_ns) {
  if (r->pending_lost == 0) {
    r->lost_mono_ns = mono_ns;
    r->lost_utc_ns = utc_ns;
  }
  r->pending_lost++;
  r->dropped++;
}

void pr_ring_note_drop(struct pr_ring *r, const void *rec) {
  struct pr_rec_header h;
  memcpy(&h, rec, sizeof(h));
  count_drop(r, h.mono_ns, h.utc_ns);
}

static int push_impl(struct pr_ring *r, const void *rec, uint32_t size, int count);

int pr_ring_push(struct pr_ring *r, const void *rec, uint32_t size) { return push_impl(r, rec, size, 1); }

int pr_ring_try_push(struct pr_ring *r, const void *rec, uint32_t size) { return push_impl(r, rec, size, 0); }

static int push_impl(struct pr_ring *r, const void *rec, uint32_t size, int count) {
  struct pr_rec_header h;
  uint32_t head;
  uint64_t need;
  if (r == NULL || rec == NULL || size < PR_MIN_RECORD || (size & 7u) != 0) return PR_RING_E_INVAL;
  memcpy(&h, rec, sizeof(h));
  if (h.size != size || h.kind == PR_RING_PAD_KIND) return PR_RING_E_INVAL;
  if (size > pr_ring_max_record(r)) return PR_RING_E_INVAL;

  if (r->used == 0) r->head = r->tail = 0; /* start over: no padding needed */
  head = r->head;
  need = 0;
  if (r->pending_lost > 0) need += place(r, &head, PR_LOST_SIZE);
  need += place(r, &head, size);
  if (need > (uint64_t)(r->cap - r->used)) {
    if (count) count_drop(r, h.mono_ns, h.utc_ns);
    return PR_RING_DROPPED;
  }

  write_lost(r);
  stamp_seq(r, write_at_head(r, rec, size));
  return PR_RING_OK;
}

int pr_ring_flush_lost(struct pr_ring *r) {
  uint32_t head;
  if (r == NULL || r->pending_lost == 0) return PR_RING_OK;
  if (r->used == 0) r->head = r->tail = 0;
  head = r->head;
  if (place(r, &head, PR_LOST_SIZE) > (uint64_t)(r->cap - r->used)) return PR_RING_DROPPED;
  write_lost(r);
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
