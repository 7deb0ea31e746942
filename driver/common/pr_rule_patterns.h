/*
 * pr_rule_patterns.h - the exec rules (PR_CTL_EXEC_RULES, one rule language
 * for Linux and Windows) as the Windows driver's block patterns
 * (PR_CTL_BLOCK_RULES: image path globs, NUL-separated UTF-8). The driver
 * denies process creations by image path only, so a rule set translates
 * when every rule is a deny rule with a path glob and no other matcher;
 * anything else is refused, naming the rule and the field, never dropped.
 *
 * Header-only portable C (the DLL, host tests under ASan).
 */
#ifndef PR_RULE_PATTERNS_H
#define PR_RULE_PATTERNS_H

#include <stdio.h>
#include <string.h>

#include "../include/procrec_abi.h"

/* Writes the patterns of the rule set arg[0..len) into out (at most cap
 * bytes) and their length into *out_len. PR_OK; PR_E_INVAL or PR_E_ABI for
 * a malformed set; PR_E_NOSUP for a rule the driver cannot enforce; why
 * says which (n bytes, NUL-terminated). */
static inline int pr_rule_patterns(const uint8_t *arg, uint32_t len, char *out, uint32_t cap, uint32_t *out_len,
                                   char *why, size_t n) {
  static const struct {
    uint32_t bit;
    const char *field;
  } other[] = {{PR_RM_FILE, "file"},
               {PR_RM_UID, "user"},
               {PR_RM_PARENT, "parent"},
               {PR_RM_CGROUP, "container"},
               {PR_RM_ARGV, "argv"}};
  struct pr_rule_set set;
  uint32_t at = 0, k, i;
  *out_len = 0;
  if (arg == NULL || len < sizeof(set)) {
    snprintf(why, n, "exec rules: %u bytes, expected a struct pr_rule_set", len);
    return PR_E_INVAL;
  }
  memcpy(&set, arg, sizeof(set));
  if (set.size != sizeof(set)) {
    snprintf(why, n, "exec rules: pr_rule_set.size is %u, expected %u", set.size, (unsigned)sizeof(set));
    return PR_E_ABI;
  }
  if (set.rules > PR_RULES_MAX || set.files > PR_RULE_FILES_MAX ||
      (uint64_t)len != sizeof(set) + (uint64_t)set.rules * sizeof(struct pr_rule) +
                           (uint64_t)set.files * sizeof(struct pr_rule_file)) {
    snprintf(why, n, "exec rules: %u rules and %u files do not fill %u bytes", set.rules, set.files, len);
    return PR_E_INVAL;
  }
  for (k = 0; k < set.rules; k++) {
    struct pr_rule r;
    memcpy(&r, arg + sizeof(set) + (size_t)k * sizeof(r), sizeof(r));
    if (r.action != PR_RULE_DENY) {
      snprintf(why, n, "rule %u: field action: only deny rules are enforced by the Windows driver", k);
      return PR_E_NOSUP;
    }
    for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
      if (r.match & other[i].bit) {
        snprintf(why, n, "rule %u: field %s: the Windows driver matches the image path only", k, other[i].field);
        return PR_E_NOSUP;
      }
    if (!(r.match & PR_RM_PATH) || r.path_len == 0 || r.path_len >= PR_RULE_GLOB || r.path[r.path_len] != 0 ||
        memchr(r.path, 0, r.path_len) != NULL) {
      snprintf(why, n, "rule %u: field path: missing or malformed", k);
      return PR_E_INVAL;
    }
    if ((uint64_t)at + r.path_len + 1 > cap) {
      snprintf(why, n, "rule %u: field path: the patterns exceed the driver's %u bytes", k, cap);
      return PR_E_INVAL;
    }
    memcpy(out + at, r.path, r.path_len);
    at += r.path_len;
    out[at++] = 0;
  }
  *out_len = at;
  return PR_OK;
}

#endif /* PR_RULE_PATTERNS_H */
