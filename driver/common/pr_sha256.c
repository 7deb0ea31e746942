/*
 * pr_sha256.c - SHA-256 as FIPS 180-4 section 6.2 describes it (see
 * pr_sha256.h). On x86-64 with the SHA extensions, the compression function
 * runs on them (chosen once at run time); elsewhere, or built with
 * -DPR_SHA256_NO_ACCEL, in plain C.
 */
#include "pr_sha256.h"

#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Compresses n whole 64-byte blocks into h. */
static void blocks_c(uint32_t h[8], const uint8_t *p, size_t n) {
  for (; n > 0; n--, p += 64) {
    uint32_t w[64], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    int t;
    for (t = 0; t < 16; t++) w[t] = be32(p + 4 * t);
    for (t = 16; t < 64; t++) {
      uint32_t s0 = ROR(w[t - 15], 7) ^ ROR(w[t - 15], 18) ^ (w[t - 15] >> 3);
      uint32_t s1 = ROR(w[t - 2], 17) ^ ROR(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    for (t = 0; t < 64; t++) {
      uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t];
      uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      k = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(PR_SHA256_NO_ACCEL)
#include <immintrin.h>

/* The same compression on the SHA extensions: the state is kept as the two
 * halves the sha256rnds2 instruction works on (A,B,E,F and C,D,G,H); each
 * group of four rounds adds K to four message words and runs two double
 * rounds; sha256msg1/msg2 extend the message schedule. */
__attribute__((target("sha,sse4.1"))) static void blocks_shani(uint32_t h[8], const uint8_t *p, size_t n) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m128i t = _mm_loadu_si128((const __m128i *)&h[0]);  /* D C B A */
  __m128i s1 = _mm_loadu_si128((const __m128i *)&h[4]); /* H G F E */
  __m128i s0;
  t = _mm_shuffle_epi32(t, 0xB1);   /* C D A B */
  s1 = _mm_shuffle_epi32(s1, 0x1B); /* E F G H */
  s0 = _mm_alignr_epi8(t, s1, 8);   /* A B E F */
  s1 = _mm_blend_epi16(s1, t, 0xF0); /* C D G H */
  for (; n > 0; n--, p += 64) {
    __m128i a0 = s0, c0 = s1, m[4], x;
    int i;
    for (i = 0; i < 4; i++) m[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), swap);
    /* unrolled: the m[] indices become registers (about 1.4x faster here) */
    _Pragma("GCC unroll 16") for (i = 0; i < 16; i++) {
      __m128i w = m[i & 3];
      x = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[4 * i]));
      s1 = _mm_sha256rnds2_epu32(s1, s0, x);
      x = _mm_shuffle_epi32(x, 0x0E);
      s0 = _mm_sha256rnds2_epu32(s0, s1, x);
      if (i < 12) {
        /* next schedule words W[4(i+4)..] from the last 16 */
        __m128i n4 = _mm_sha256msg1_epu32(m[i & 3], m[(i + 1) & 3]);
        n4 = _mm_add_epi32(n4, _mm_alignr_epi8(m[(i + 3) & 3], m[(i + 2) & 3], 4));
        m[i & 3] = _mm_sha256msg2_epu32(n4, m[(i + 3) & 3]);
      }
    }
    s0 = _mm_add_epi32(s0, a0);
    s1 = _mm_add_epi32(s1, c0);
  }
  t = _mm_shuffle_epi32(s0, 0x1B);    /* F E B A */
  s1 = _mm_shuffle_epi32(s1, 0xB1);   /* D C H G */
  s0 = _mm_blend_epi16(t, s1, 0xF0);  /* D C B A */
  s1 = _mm_alignr_epi8(s1, t, 8);     /* H G F E */
  _mm_storeu_si128((__m128i *)&h[0], s0);
  _mm_storeu_si128((__m128i *)&h[4], s1);
}

static void blocks(uint32_t h[8], const uint8_t *p, size_t n) {
  static int have = -1; /* races benignly: every thread computes the same */
  if (have < 0) {
    __builtin_cpu_init();
    have = __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") ? 1 : 0;
  }
  if (have) blocks_shani(h, p, n);
  else blocks_c(h, p, n);
}
#else
static void blocks(uint32_t h[8], const uint8_t *p, size_t n) { blocks_c(h, p, n); }
#endif

void pr_sha256_init(struct pr_sha256 *c) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->h, iv, sizeof(iv));
  c->total = 0;
  c->used = 0;
}

void pr_sha256_update(struct pr_sha256 *c, const void *data, size_t n) {
  const uint8_t *p = data;
  c->total += n;
  if (c->used > 0) {
    size_t k = 64 - c->used < n ? 64 - c->used : n;
    memcpy(c->buf + c->used, p, k);
    c->used += (uint32_t)k;
    p += k;
    n -= k;
    if (c->used < 64) return;
    blocks(c->h, c->buf, 1);
    c->used = 0;
  }
  if (n >= 64) {
    blocks(c->h, p, n / 64);
    p += n - n % 64;
    n %= 64;
  }
  memcpy(c->buf, p, n);
  c->used = (uint32_t)n;
}

void pr_sha256_final(struct pr_sha256 *c, uint8_t out[32]) {
  uint64_t bits = c->total * 8;
  int i;
  c->buf[c->used++] = 0x80;
  if (c->used > 56) {
    memset(c->buf + c->used, 0, 64 - c->used);
    blocks(c->h, c->buf, 1);
    c->used = 0;
  }
  memset(c->buf + c->used, 0, 56 - c->used);
  for (i = 0; i < 8; i++) c->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
  blocks(c->h, c->buf, 1);
  for (i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(c->h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
    out[4 * i + 3] = (uint8_t)c->h[i];
  }
}
