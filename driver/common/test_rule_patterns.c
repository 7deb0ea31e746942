/*
 * test_rule_patterns.c - pr_rule_patterns.h: deny path rules become the
 * Windows driver's patterns; audit rules and other matchers are refused,
 * naming the rule and the field.
 */
#include <string.h>

#include "pr_rule_patterns.h"
#include "test_check.h"

struct set2 {
  struct pr_rule_set set;
  struct pr_rule r[2];
};

static void make(struct set2 *a) {
  memset(a, 0, sizeof(*a));
  a->set.size = sizeof(a->set);
  a->set.rules = 2;
  for (int k = 0; k < 2; k++) {
    a->r[k].action = PR_RULE_DENY;
    a->r[k].match = PR_RM_PATH;
  }
  strcpy(a->r[0].path, "C:\\Tools\\*.exe");
  a->r[0].path_len = (uint16_t)strlen(a->r[0].path);
  strcpy(a->r[1].path, "*\\nc?.exe");
  a->r[1].path_len = (uint16_t)strlen(a->r[1].path);
}

static int deny_path_rules_become_patterns(void) {
  struct set2 a;
  char out[256], why[200];
  uint32_t n = 99;
  make(&a);
  CHECK(pr_rule_patterns((const uint8_t *)&a, sizeof(a), out, sizeof(out), &n, why, sizeof(why)) == PR_OK);
  CHECK(n == sizeof("C:\\Tools\\*.exe") + sizeof("*\\nc?.exe"));
  CHECK(memcmp(out, "C:\\Tools\\*.exe\0*\\nc?.exe\0", n) == 0);
  a.set.rules = 0; /* none: clears */
  CHECK(pr_rule_patterns((const uint8_t *)&a, sizeof(a.set), out, sizeof(out), &n, why, sizeof(why)) == PR_OK);
  CHECK(n == 0);
  return 0;
}

static int what_the_driver_cannot_enforce_is_refused(void) {
  struct set2 a;
  char out[256], why[200];
  uint32_t n;
  make(&a);
  a.r[1].action = PR_RULE_AUDIT;
  CHECK(pr_rule_patterns((const uint8_t *)&a, sizeof(a), out, sizeof(out), &n, why, sizeof(why)) == PR_E_NOSUP);
  CHECK(strstr(why, "rule 1: field action") != NULL);
  make(&a);
  a.r[0].match |= PR_RM_ARGV;
  CHECK(pr_rule_patterns((const uint8_t *)&a, sizeof(a), out, sizeof(out), &n, why, sizeof(why)) == PR_E_NOSUP);
  CHECK(strstr(why, "rule 0: field argv") != NULL);
  make(&a);
  CHECK(pr_rule_patterns((const uint8_t *)&a, sizeof(a) - 8, out, sizeof(out), &n, why, sizeof(why)) ==
        PR_E_INVAL);
  make(&a);
  CHECK(pr_rule_patterns((const uint8_t *)&a, sizeof(a), out, 20, &n, why, sizeof(why)) == PR_E_INVAL);
  CHECK(strstr(why, "rule 1: field path") != NULL);
  return 0;
}

int main(void) {
  t_run("deny path rules become the driver's patterns", deny_path_rules_become_patterns);
  t_run("what the driver cannot enforce is refused, naming rule and field", what_the_driver_cannot_enforce_is_refused);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
