/*
 * exec_match.h - the exec rules' matching, pure (no I/O): a rule set checked
 * and compiled from a struct pr_rule_set (procrec_abi.h), and the decision
 * for one exec described by a struct pr_exec_subject. Unit-tested without
 * root by tests/test_exec_match.c; used by exec_rules.c (the enforcer).
 *
 * Decision: every rule whose matchers all match is a candidate; any deny
 * rule denies (the first one names the decision), else the first audit rule
 * audits. A matcher on a value the enforcer could not learn (the subject's
 * have_* is 0) does not match.
 */
#ifndef PR_EXEC_MATCH_H
#define PR_EXEC_MATCH_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#include "../include/procrec_abi.h"

struct pr_exec_rules {
  uint32_t n;
  struct pr_rule rules[PR_RULES_MAX];
  regex_t re[PR_RULES_MAX]; /* compiled for PR_RM_ARGV_REGEX */
  uint8_t has_re[PR_RULES_MAX];
  uint32_t nfiles;
  struct pr_rule_file files[PR_RULE_FILES_MAX];
  uint32_t exempt_pid;
};

/* What is known of one exec. Strings need not be NUL-terminated. */
struct pr_exec_subject {
  const char *image; /* the kernel's path of the file */
  size_t image_len;
  int have_image;
  uint64_t dev, ino; /* st_dev, st_ino of the file */
  int have_file;
  uint32_t uid, euid;
  int have_ids;
  const char *parent; /* the parent's executable path */
  size_t parent_len;
  int have_parent;
  const char *cgroup; /* cgroup v2 path */
  size_t cgroup_len;
  int have_cgroup;
  const char *cmdline; /* the new arguments joined by single spaces */
  size_t cmdline_len;
  int have_argv;
};

/* 1 when s[0..slen) matches the glob pat[0..plen) ('*' any run, '/'
 * included; '?' one byte; others themselves). Iterative, O(plen * slen). */
int pr_glob(const char *pat, size_t plen, const char *s, size_t slen);

/* Checks a whole PR_CTL_EXEC_RULES argument and compiles it into rs (which
 * the caller frees with pr_exec_rules_free). PR_OK, or PR_E_INVAL / PR_E_ABI
 * with a message in err naming the rule and the field. */
int pr_exec_rules_init(struct pr_exec_rules *rs, const uint8_t *arg, uint32_t len, char *err, size_t n);
void pr_exec_rules_free(struct pr_exec_rules *rs);

/* Decides: returns 1 with *rule (index) and *action (enum pr_rule_action)
 * when a rule matched, else 0. */
int pr_exec_decide(const struct pr_exec_rules *rs, const struct pr_exec_subject *s, uint32_t *rule,
                   uint32_t *action);

#endif /* PR_EXEC_MATCH_H */
