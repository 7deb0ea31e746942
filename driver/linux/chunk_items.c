/*
 * chunk_items.c - see chunk_items.h.
 */
#include "chunk_items.h"

#include <stddef.h>
#include <string.h>

#include "../common/pr_sha256.h"

static void hash(const uint8_t *p, size_t n, uint8_t out[32]) {
  struct pr_sha256 c;
  pr_sha256_init(&c);
  pr_sha256_update(&c, p, n);
  pr_sha256_final(&c, out);
}

/* 0 when every span lies in order inside `len` bytes, else -1. */
static int32_t check_spans(int32_t len, const int32_t *spans, int32_t n) {
  if (n < 0 || len < 0) return -1;
  for (int32_t i = 0; i < n; i++) {
    const int32_t *s = spans + 4 * (size_t)i;
    int32_t start = s[0], end = s[1], body = s[2], digest = s[3];
    if (start < 0 || start > end || end > len || body < start || body > end || digest < 0 || digest > len - 16) {
      return -1;
    }
  }
  return 0;
}

/* Item i's hash and digest byte into out (see chunk_items.h). */
static void hash_item(const uint8_t *buf, const int32_t *spans, int32_t n, int32_t i, uint8_t *out) {
  const int32_t *s = spans + 4 * (size_t)i;
  uint8_t d[32];
  hash(buf + s[0], (size_t)(s[1] - s[0]), out + 32 * (size_t)i);
  hash(buf + s[2], (size_t)(s[1] - s[2]), d);
  out[32 * (size_t)n + (size_t)i] = memcmp(d, buf + s[3], 16) == 0;
}

PROCREC_API int32_t procrec_hash_chunk_items(const uint8_t *buf, int32_t len, const int32_t *spans, int32_t n,
                                             uint8_t *out) {
  if (check_spans(len, spans, n) != 0) return -1;
  for (int32_t i = 0; i < n; i++) hash_item(buf, spans, n, i, out);
  return 0;
}

PROCREC_API int32_t procrec_hash_chunk_items_claimed(const uint8_t *buf, int32_t len, const int32_t *spans, int32_t n,
                                                     uint8_t *out, int32_t *state) {
  if (check_spans(len, spans, n) != 0) return -1;
  for (int32_t i = 0; i < n; i++) {
    int32_t free_ = 0;
    if (!__atomic_compare_exchange_n(&state[i], &free_, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
    hash_item(buf, spans, n, i, out);
    __atomic_store_n(&state[i], 2, __ATOMIC_RELEASE);
  }
  return 0;
}
