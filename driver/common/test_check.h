/*
 * test_check.h - the check and runner shared by the C unit tests
 * (driver/common/test_ring.c, driver/linux/tests): CHECK reports the failed
 * condition and fails the test; t_run runs one test and counts it.
 */
#ifndef PR_TEST_CHECK_H
#define PR_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_passed, t_failed;

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, __func__, #cond); \
      return 1;                                                                            \
    }                                                                                      \
  } while (0)

static inline void t_run(const char *name, int (*fn)(void)) {
  const char *only = getenv("T_ONLY"); /* run only the tests whose name contains it */
  if (only != NULL && strstr(name, only) == NULL) {
    printf("skip %s (not in T_ONLY)\n", name);
    return;
  }
  if (fn() == 0) {
    t_passed++;
    printf("ok   %s\n", name);
  } else {
    t_failed++;
    printf("FAIL %s\n", name);
  }
  fflush(stdout);
}

#endif /* PR_TEST_CHECK_H */
