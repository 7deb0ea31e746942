/*
 * pr_record.c - see pr_record.h. Portable C: no OS calls, no allocation.
 */
#include "pr_record.h"

#include <string.h>

int pr_rb_init(struct pr_builder *b, void *buf, uint32_t cap, uint16_t kind, uint32_t fixed_size) {
  struct pr_rec_header h;
  memset(b, 0, sizeof(*b));
  if (buf == NULL || fixed_size < sizeof(h) || fixed_size > cap) {
    b->overflow = 1;
    return -1;
  }
  b->buf = (uint8_t *)buf;
  b->cap = cap;
  b->len = fixed_size;
  memset(buf, 0, fixed_size);
  memset(&h, 0, sizeof(h));
  h.kind = kind;
  memcpy(buf, &h, sizeof(h));
  return 0;
}

uint32_t pr_utf8_cut(const uint8_t *s, uint32_t len, uint32_t limit) {
  uint32_t i, k = 0, need;
  uint8_t c;
  if (len <= limit) return len;
  /* Walk back over up to 3 continuation bytes to the last lead byte. */
  i = limit;
  while (i > 0 && k < 3 && (s[i - 1] & 0xC0u) == 0x80u) {
    i--;
    k++;
  }
  if (i == 0) return limit;
  c = s[i - 1];
  if (c < 0xC0u) return limit; /* ASCII (or not UTF-8): a clean end */
  need = c >= 0xF0u ? 4u : c >= 0xE0u ? 3u : 2u;
  return (k + 1 >= need) ? limit : i - 1;
}

int pr_rb_add_str(struct pr_builder *b, uint32_t field_off, const void *s, uint32_t len, uint32_t limit) {
  struct pr_str str = {0, 0};
  uint32_t keep = len;
  int truncated = 0;
  if (b->overflow) return -1;
  if (field_off > b->len || b->len - field_off < sizeof(str)) {
    b->overflow = 1;
    return -1;
  }
  if (s == NULL) keep = len = 0;
  if (limit != 0 && keep > limit) {
    keep = pr_utf8_cut((const uint8_t *)s, len, limit);
    truncated = 1;
  }
  if (keep > b->cap - b->len) {
    b->overflow = 1;
    return -1;
  }
  if (keep > 0) {
    str.off = b->len;
    str.len = keep;
    memcpy(b->buf + b->len, s, keep);
    b->len += keep;
  }
  memcpy(b->buf + field_off, &str, sizeof(str));
  return truncated;
}

uint32_t pr_rb_finish(struct pr_builder *b) {
  uint32_t pad;
  struct pr_rec_header h;
  if (b->overflow) return 0;
  pad = (8u - (b->len & 7u)) & 7u;
  if (pad > b->cap - b->len) {
    b->overflow = 1;
    return 0;
  }
  memset(b->buf + b->len, 0, pad);
  b->len += pad;
  memcpy(&h, b->buf, sizeof(h));
  h.size = b->len;
  memcpy(b->buf, &h, sizeof(h));
  return b->len;
}

uint32_t pr_argv_count(const uint8_t *s, uint32_t len) {
  uint32_t i, n = 0;
  for (i = 0; i < len; i++)
    if (s[i] == 0) n++;
  if (len > 0 && s[len - 1] != 0) n++;
  return n;
}
