/*
 * test_chunk_items.c - procrec_hash_chunk_items (chunk_items.c), pure, no
 * root, under ASan and UBSan: the item hashes and the digest checks of
 * several chunks in one call, and spans outside the buffer refused.
 */
#include <string.h>

#include "../../common/pr_sha256.h"
#include "../../common/test_check.h"
#include "../chunk_items.h"

static void sha(const uint8_t *p, size_t n, uint8_t out[32]) {
  struct pr_sha256 c;
  pr_sha256_init(&c);
  pr_sha256_update(&c, p, n);
  pr_sha256_final(&c, out);
}

/* Two "items" in one buffer: bytes 0..99 (body 40..99, digest at 20) and
 * 100..229 (body 150..229, digest at 120, then altered). */
static int test_two_items(void) {
  uint8_t buf[230];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 7 + 3);
  uint8_t d[32];
  sha(buf + 40, 60, d);
  memcpy(buf + 20, d, 16);
  sha(buf + 150, 80, d);
  memcpy(buf + 120, d, 16);
  buf[121] ^= 1; /* the second digest no longer matches */
  const int32_t spans[8] = {0, 100, 40, 20, 100, 230, 150, 120};
  uint8_t out[66];
  memset(out, 0xee, sizeof out);
  CHECK(procrec_hash_chunk_items(buf, (int32_t)sizeof buf, spans, 2, out) == 0);
  uint8_t want[32];
  sha(buf, 100, want);
  CHECK(memcmp(out, want, 32) == 0);
  sha(buf + 100, 130, want);
  CHECK(memcmp(out + 32, want, 32) == 0);
  CHECK(out[64] == 1);
  CHECK(out[65] == 0);
  /* "abc": the FIPS 180-4 example */
  const uint8_t abc[19] = {'a', 'b', 'c'};
  const int32_t one[4] = {0, 3, 3, 3};
  CHECK(procrec_hash_chunk_items(abc, 19, one, 1, out) == 0);
  CHECK(out[0] == 0xba && out[1] == 0x78 && out[31] == 0xad);
  return 0;
}

static int test_bad_spans_refused(void) {
  uint8_t buf[64] = {0};
  uint8_t out[33 * 2];
  const int32_t past_end[4] = {0, 65, 10, 0};
  const int32_t digest_past_end[4] = {0, 64, 10, 49};
  const int32_t body_before_item[4] = {10, 20, 5, 0};
  const int32_t reversed[4] = {20, 10, 15, 0};
  const int32_t negative[4] = {-1, 10, 5, 0};
  const int32_t good_then_bad[8] = {0, 10, 5, 20, 0, 10, 11, 20};
  CHECK(procrec_hash_chunk_items(buf, 64, past_end, 1, out) == -1);
  CHECK(procrec_hash_chunk_items(buf, 64, digest_past_end, 1, out) == -1);
  CHECK(procrec_hash_chunk_items(buf, 64, body_before_item, 1, out) == -1);
  CHECK(procrec_hash_chunk_items(buf, 64, reversed, 1, out) == -1);
  CHECK(procrec_hash_chunk_items(buf, 64, negative, 1, out) == -1);
  CHECK(procrec_hash_chunk_items(buf, 64, good_then_bad, 2, out) == -1);
  CHECK(procrec_hash_chunk_items(buf, 64, past_end, -1, out) == -1);
  CHECK(procrec_hash_chunk_items(buf, 64, past_end, 0, out) == 0);
  return 0;
}

/* The claimed variant: the items the other side took are skipped (their
 * state and bytes untouched), the others hashed as the plain call hashes
 * them and marked done; bad spans change no state. */
static int test_claimed_items(void) {
  uint8_t buf[230];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)(i * 5 + 1);
  const int32_t spans[12] = {0, 100, 40, 20, 100, 230, 150, 120, 0, 60, 30, 10};
  uint8_t want[99], out[99];
  CHECK(procrec_hash_chunk_items(buf, (int32_t)sizeof buf, spans, 3, want) == 0);
  memset(out, 0xee, sizeof out);
  int32_t state[3] = {0, 3, 0}; /* the reader took item 1 */
  CHECK(procrec_hash_chunk_items_claimed(buf, (int32_t)sizeof buf, spans, 3, out, state) == 0);
  CHECK(state[0] == 2 && state[1] == 3 && state[2] == 2);
  CHECK(memcmp(out, want, 32) == 0);
  CHECK(memcmp(out + 64, want + 64, 32) == 0);
  CHECK(out[96] == want[96] && out[98] == want[98]);
  for (int i = 32; i < 64; i++) CHECK(out[i] == 0xee);
  CHECK(out[97] == 0xee);
  int32_t untouched[1] = {0};
  const int32_t past_end[4] = {0, 231, 10, 0};
  CHECK(procrec_hash_chunk_items_claimed(buf, (int32_t)sizeof buf, past_end, 1, out, untouched) == -1);
  CHECK(untouched[0] == 0);
  return 0;
}

int main(void) {
  t_run("procrec_hash_chunk_items hashes several items and checks their digests in one call", test_two_items);
  t_run("procrec_hash_chunk_items refuses spans outside the buffer or out of order", test_bad_spans_refused);
  t_run("procrec_hash_chunk_items_claimed skips the items the reader took and marks the others done", test_claimed_items);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
