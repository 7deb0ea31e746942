/*
 * test_util.h - small helpers shared by the driver/linux C tests: checks that
 * report and count (../../common/test_check.h), and a collector that reads
 * records from a handle.
 */
#ifndef PR_TEST_UTIL_H
#define PR_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../common/test_check.h"
#include "../../include/procrec_abi.h"

static inline uint64_t t_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* All records read so far, concatenated. */
struct t_records {
  uint8_t *buf;
  size_t len, cap;
};

static inline int t_read_some(void *h, struct t_records *r, uint32_t timeout_ms) {
  static uint8_t tmp[1 << 20];
  int32_t n = procrec_read(h, tmp, sizeof(tmp), timeout_ms);
  if (n <= 0) return n;
  if (r->len + (size_t)n > r->cap) {
    size_t c = r->cap ? r->cap * 2 : (1u << 20);
    while (c < r->len + (size_t)n) c *= 2;
    r->buf = realloc(r->buf, c);
    if (r->buf == NULL) abort();
    r->cap = c;
  }
  memcpy(r->buf + r->len, tmp, (size_t)n);
  r->len += (size_t)n;
  return n;
}

/* Iterates records: for (off = 0; (h = t_next(r, &off)) != NULL;) */
static inline const struct pr_rec_header *t_next(const struct t_records *r, size_t *off) {
  const struct pr_rec_header *h;
  if (*off + sizeof(*h) > r->len) return NULL;
  h = (const struct pr_rec_header *)(const void *)(r->buf + *off);
  if (h->size < sizeof(*h) || *off + h->size > r->len) return NULL;
  *off += h->size;
  return h;
}

/* A string field of a record as a NUL-terminated copy (static buffer). */
static inline const char *t_str(const struct pr_rec_header *h, struct pr_str s) {
  static char out[4][8192];
  static int k;
  char *o = out[k++ & 3];
  uint32_t n = s.len < sizeof(out[0]) - 1 ? s.len : (uint32_t)sizeof(out[0]) - 1;
  if (s.off + s.len > h->size) return "<out of record>";
  memcpy(o, (const uint8_t *)h + s.off, n);
  o[n] = 0;
  return o;
}

#endif /* PR_TEST_UTIL_H */
