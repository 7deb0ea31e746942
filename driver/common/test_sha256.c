/*
 * test_sha256.c - pr_sha256 against the FIPS 180-4 example vectors, fed
 * whole and in every split; built twice by the Makefile (with the SHA
 * extensions where the CPU has them, and plain C).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pr_sha256.h"
#include "test_check.h"

static void hex(const uint8_t d[32], char out[65]) {
  int i;
  for (i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static int digest_is(const void *msg, size_t n, size_t step, const char *want) {
  struct pr_sha256 c;
  uint8_t d[32];
  char got[65];
  size_t off;
  pr_sha256_init(&c);
  for (off = 0; off < n; off += step) pr_sha256_update(&c, (const uint8_t *)msg + off, n - off < step ? n - off : step);
  pr_sha256_final(&c, d);
  hex(d, got);
  if (strcmp(got, want) != 0) {
    fprintf(stderr, "sha256 of %zu bytes in steps of %zu: %s, expected %s\n", n, step, got, want);
    return 0;
  }
  return 1;
}

static int test_fips_vectors(void) {
  static const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  size_t step;
  CHECK(digest_is("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK(digest_is("abc", 3, 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  for (step = 1; step <= 56; step++)
    CHECK(digest_is(two, 56, step, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  return 0;
}

static int test_million_a(void) {
  size_t n = 1000000;
  char *m = malloc(n);
  int ok;
  CHECK(m != NULL);
  memset(m, 'a', n);
  ok = digest_is(m, n, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") &&
       digest_is(m, n, 4093, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  free(m);
  CHECK(ok);
  return 0;
}

/* Lengths around the padding boundary (55, 56, 63, 64, 65 bytes): whole and
 * byte by byte give the same digest. */
static int test_padding_edges(void) {
  uint8_t m[130];
  size_t n, i;
  for (i = 0; i < sizeof(m); i++) m[i] = (uint8_t)(i * 7 + 1);
  for (n = 50; n <= 130; n++) {
    struct pr_sha256 a, b;
    uint8_t da[32], db[32];
    pr_sha256_init(&a);
    pr_sha256_update(&a, m, n);
    pr_sha256_final(&a, da);
    pr_sha256_init(&b);
    for (i = 0; i < n; i++) pr_sha256_update(&b, m + i, 1);
    pr_sha256_final(&b, db);
    CHECK(memcmp(da, db, 32) == 0);
  }
  /* 64 bytes of 'a' (one whole block, then padding alone) */
  memset(m, 'a', 64);
  CHECK(digest_is(m, 64, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
  return 0;
}

int main(void) {
  t_run("sha256: FIPS 180-4 vectors, in every split", test_fips_vectors);
  t_run("sha256: one million 'a'", test_million_a);
  t_run("sha256: lengths around the padding boundary", test_padding_edges);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
