/*
 * pr_sha256.h - SHA-256 (FIPS 180-4), portable C, streaming.
 *
 * Used by the Linux library's image hash worker (driver/linux/hasher.c);
 * plain C99 with no OS calls, so the Windows DLL can use it too. Tested
 * against the FIPS 180-4 example vectors by test_sha256.c.
 *
 *   struct pr_sha256 c;
 *   uint8_t d[32];
 *   pr_sha256_init(&c);
 *   pr_sha256_update(&c, "abc", 3);
 *   pr_sha256_final(&c, d);   // ba7816bf...
 */
#ifndef PR_SHA256_H
#define PR_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct pr_sha256 {
  uint32_t h[8];
  uint64_t total; /* bytes hashed so far */
  uint8_t buf[64];
  uint32_t used; /* bytes in buf */
};

void pr_sha256_init(struct pr_sha256 *c);
void pr_sha256_update(struct pr_sha256 *c, const void *data, size_t n);
void pr_sha256_final(struct pr_sha256 *c, uint8_t out[32]);

#endif /* PR_SHA256_H */
