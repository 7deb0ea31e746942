/*
 * sha256_speed.c - the SHA-256 of driver/common/pr_sha256.c over 256 MiB in
 * memory, in CPU time (this thread's), as the hash worker runs it: with the
 * CPU's SHA extensions when it has them, and built with -DPR_SHA256_NO_ACCEL
 * in plain C. Built and run by bench/ebpf_sources.ts; prints one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../driver/common/pr_sha256.h"

int main(void) {
  size_t n = (size_t)256 << 20, i;
  unsigned char *b = malloc(n), d[32];
  struct pr_sha256 c;
  struct timespec a, z;
  double s;
  if (b == NULL) return 1;
  for (i = 0; i < n; i++) b[i] = (unsigned char)(i * 7);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
  pr_sha256_init(&c);
  pr_sha256_update(&c, b, n);
  pr_sha256_final(&c, d);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &z);
  s = (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) / 1e9;
  printf("%.0f MB/s (%zu MiB in %.3f s of CPU; digest starts %02x%02x)\n", (double)n / 1e6 / s, n >> 20, s, d[0], d[1]);
  free(b);
  return 0;
}
