/*
 * test_exec_match.c - the exec rules' pure matching (exec_match.c): globs,
 * the checks of a rule set (each error names the rule and the field) and
 * the decision (a deny beats an audit, unknown values never match). No root.
 */
#include <string.h>

#include "../../common/test_check.h"
#include "../exec_match.h"

static int glob(const char *p, const char *s) { return pr_glob(p, strlen(p), s, strlen(s)); }

static int globs_match_as_documented(void) {
  CHECK(glob("/usr/bin/*", "/usr/bin/curl"));
  CHECK(glob("/usr/bin/*", "/usr/bin/sub/curl")); /* '*' crosses '/' */
  CHECK(glob("*/ech?", "/usr/bin/echo"));
  CHECK(!glob("*/ech?", "/usr/bin/ech"));
  CHECK(glob("*", ""));
  CHECK(glob("a*b*c", "aXXbYYbZc"));
  CHECK(!glob("a*b*c", "aXXbYYbZ"));
  CHECK(!glob("/usr/bin/curl", "/usr/bin/CURL")); /* case-sensitive */
  CHECK(glob("**x", "abcx"));
  CHECK(!glob("", "a"));
  return 0;
}

struct set1 {
  struct pr_rule_set set;
  struct pr_rule r[2];
  struct pr_rule_file f[1];
};

static void text(char *dst, uint16_t *len, const char *s) {
  strcpy(dst, s);
  *len = (uint16_t)strlen(s);
}

static void base(struct set1 *a) {
  memset(a, 0, sizeof(*a));
  a->set.size = sizeof(a->set);
  a->set.rules = 2;
  a->set.files = 1;
  a->r[0].action = PR_RULE_AUDIT;
  a->r[0].match = PR_RM_PATH | PR_RM_ARGV | PR_RM_ARGV_REGEX;
  text(a->r[0].path, &a->r[0].path_len, "/usr/bin/*");
  text(a->r[0].argv, &a->r[0].argv_len, "-o +[a-z]+\\.sh");
  a->r[1].action = PR_RULE_DENY;
  a->r[1].match = PR_RM_FILE | PR_RM_UID;
  a->r[1].uid = 1000;
  a->f[0].dev = 7;
  a->f[0].ino = 42;
  a->f[0].rule = 1;
}

static int rule_sets_are_checked_whole(void) {
  struct set1 a;
  struct pr_exec_rules rs;
  char err[256];
  base(&a);
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a), err, sizeof(err)) == PR_OK);
  pr_exec_rules_free(&rs);
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a) - 1, err, sizeof(err)) == PR_E_INVAL);
  base(&a);
  a.r[1].action = 9;
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a), err, sizeof(err)) == PR_E_INVAL);
  CHECK(strstr(err, "rule 1: field action") != NULL);
  base(&a);
  strcpy(a.r[0].argv, "(unclosed");
  a.r[0].argv_len = 9;
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a), err, sizeof(err)) == PR_E_INVAL);
  CHECK(strstr(err, "rule 0: field argv") != NULL);
  base(&a);
  a.r[0].path_len = 3; /* not where the NUL is */
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a), err, sizeof(err)) == PR_E_INVAL);
  CHECK(strstr(err, "rule 0: field path") != NULL);
  base(&a);
  a.f[0].rule = 0; /* rule 1 has a file matcher and no file */
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a), err, sizeof(err)) == PR_E_INVAL);
  CHECK(strstr(err, "rule 1: field file") != NULL);
  return 0;
}

static int a_deny_beats_an_audit_and_unknown_values_never_match(void) {
  struct set1 a;
  struct pr_exec_rules rs;
  struct pr_exec_subject s;
  char err[256];
  uint32_t rule = 99, action = 99;
  base(&a);
  a.r[0].match |= PR_RM_FILE;
  a.set.files = 1;
  a.f[0].rule = 1;
  a.r[0].match &= ~PR_RM_FILE;
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a), err, sizeof(err)) == PR_OK);
  memset(&s, 0, sizeof(s));
  s.image = "/usr/bin/sh";
  s.image_len = 11;
  s.have_image = 1;
  s.cmdline = "sh -o run.sh";
  s.cmdline_len = strlen(s.cmdline);
  s.have_argv = 1;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 0 && action == PR_RULE_AUDIT);
  s.dev = 7;
  s.ino = 42;
  s.have_file = 1;
  s.uid = 5;
  s.euid = 1000; /* the effective uid counts too */
  s.have_ids = 1;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 1 && action == PR_RULE_DENY);
  s.ino = 43;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 0);
  s.have_argv = 0; /* no arguments to read (a kernel-started exec): the argv matcher does not match */
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0);
  s.argv_unread = 1; /* in execve, arguments unreadable: it counts as matching, and says so */
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 0 && pr_exec_argv_unread(&rs, 0, &s) == 1);
  s.image = "/opt/sh"; /* ... only when the rule's other matchers match */
  s.image_len = 7;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0 && pr_exec_argv_unread(&rs, 0, &s) == 0);
  pr_exec_rules_free(&rs);
  return 0;
}

/* A path rule on the files of /opt/bin: an exec through a bind mount
 * (/srv/x/evil) is matched by the file's other path; when those paths could
 * not be learned the path matcher counts as matching (a deny fails closed),
 * but only where the rule's other matchers match. */
static int a_path_rule_matches_every_path_of_the_file(void) {
  struct set1 a;
  struct pr_exec_rules rs;
  struct pr_exec_subject s;
  char err[256];
  const char *names[] = {"/srv/x/evil", "/opt/bin/evil"};
  const size_t lens[] = {11, 13};
  size_t which = 99;
  uint32_t rule = 99, action = 99;
  base(&a);
  a.r[0].action = PR_RULE_DENY;
  a.r[0].match = PR_RM_PATH;
  text(a.r[0].path, &a.r[0].path_len, "/opt/bin/*");
  a.r[1].action = PR_RULE_AUDIT;
  a.r[1].match = PR_RM_PATH | PR_RM_UID;
  a.r[1].uid = 1000;
  text(a.r[1].path, &a.r[1].path_len, "/usr/*");
  a.set.files = 0;
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a) - sizeof(a.f), err, sizeof(err)) == PR_OK);
  memset(&s, 0, sizeof(s));
  s.image = "/srv/x/evil";
  s.image_len = 11;
  s.have_image = 1;
  s.uid = s.euid = 0;
  s.have_ids = 1;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0); /* the path of the exec alone */
  s.aliases = names;
  s.alias_lens = lens;
  s.n_aliases = 1; /* the bind mount's own name only */
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0);
  s.n_aliases = 2;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 0 && action == PR_RULE_DENY);
  CHECK(pr_exec_path_match(&rs, 0, &s, &which) == PR_PATH_ALIAS && which == 1);
  s.image = "/opt/bin/evil"; /* the exec went through the rule's path itself */
  s.image_len = 13;
  CHECK(pr_exec_path_match(&rs, 0, &s, &which) == PR_PATH_IMAGE);
  s.image = "/srv/x/good";
  s.image_len = 11;
  names[1] = "/opt/bin/good";
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 0); /* any alias, not one named evil */
  s.n_aliases = 0;
  s.aliases_unknown = 1; /* its other paths could not be learned: fail closed */
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 0 && action == PR_RULE_DENY);
  CHECK(pr_exec_path_match(&rs, 0, &s, NULL) == PR_PATH_UNRESOLVED);
  CHECK(pr_exec_path_match(&rs, 1, &s, NULL) == PR_PATH_UNRESOLVED);
  CHECK(pr_exec_path_match(&rs, 2, &s, NULL) == PR_PATH_NO); /* no such rule */
  s.have_image = 0; /* no path at all: unknown, does not match */
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0);
  s.have_image = 1;
  rs.rules[0].action = PR_RULE_AUDIT; /* the audit with a uid that does not match is not taken */
  rs.rules[0].match |= PR_RM_UID;
  rs.rules[0].uid = 7;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0);
  s.uid = 1000; /* ... with one that does, the first audit rule */
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 1 && action == PR_RULE_AUDIT);
  pr_exec_rules_free(&rs);
  return 0;
}

static int regexes_run_on_bytes_in_the_c_locale(void) {
  regex_t re;
  CHECK(pr_ere_compile(&re, "^a.b$") == 0);
  CHECK(pr_ere_match(&re, "a\nb")); /* '.' matches a newline */
  CHECK(pr_ere_match(&re, "a\xff" "b")); /* and any byte */
  CHECK(!pr_ere_match(&re, "a\xc3\xa9" "b")); /* one byte, not one character */
  regfree(&re);
  return 0;
}

static int a_file_rule_matches_a_copy_by_size_and_sha256(void) {
  struct set1 a;
  struct pr_exec_rules rs;
  struct pr_exec_subject s;
  char err[256];
  uint32_t rule = 99, action = 99;
  base(&a);
  a.r[1].match = PR_RM_FILE;
  a.f[0].flags = PR_RF_CONTENT;
  a.f[0].size = 1000;
  memset(a.f[0].sha256, 0xab, 32);
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a), err, sizeof(err)) == PR_OK);
  /* only a file of the rule file's size, and not the rule file itself, is hashed */
  CHECK(pr_exec_rules_hash_wanted(&rs, 7, 43, 1000) == 1);
  CHECK(pr_exec_rules_hash_wanted(&rs, 7, 43, 1001) == 0);
  CHECK(pr_exec_rules_hash_wanted(&rs, 7, 42, 1000) == 0);
  memset(&s, 0, sizeof(s));
  s.dev = 9;
  s.ino = 5;
  s.size = 1000;
  s.have_file = 1;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0); /* not hashed: not a copy */
  memset(s.sha256, 0xab, 32);
  s.have_sha = 1;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 1 && action == PR_RULE_DENY);
  CHECK(pr_exec_matched_by_content(&rs, 1, &s) == 1);
  s.sha256[31] = 0; /* other contents */
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0);
  memset(s.sha256, 0xab, 32);
  s.size = 999; /* another size with the same hash cannot be */
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0);
  s.dev = 7; /* the file itself: by identity, not by content */
  s.ino = 42;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 1 && rule == 1 && pr_exec_matched_by_content(&rs, 1, &s) == 0);
  pr_exec_rules_free(&rs);
  a.f[0].flags = 0; /* without PR_RF_CONTENT a copy is another file */
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a), err, sizeof(err)) == PR_OK);
  CHECK(pr_exec_rules_hash_wanted(&rs, 7, 43, 1000) == 0);
  s.dev = 9;
  CHECK(pr_exec_decide(&rs, &s, &rule, &action) == 0);
  pr_exec_rules_free(&rs);
  a.f[0].flags = 4;
  CHECK(pr_exec_rules_init(&rs, (const uint8_t *)&a, sizeof(a), err, sizeof(err)) == PR_E_INVAL);
  CHECK(strstr(err, "field flags") != NULL);
  return 0;
}

int main(void) {
  t_run("globs match as documented", globs_match_as_documented);
  t_run("a file rule matches a copy by size and SHA-256", a_file_rule_matches_a_copy_by_size_and_sha256);
  t_run("rule sets are checked whole", rule_sets_are_checked_whole);
  t_run("a deny beats an audit; unknown values never match", a_deny_beats_an_audit_and_unknown_values_never_match);
  t_run("regexes run on bytes in the C locale", regexes_run_on_bytes_in_the_c_locale);
  t_run("a path rule matches every path of the file", a_path_rule_matches_every_path_of_the_file);
  printf("%d passed, %d failed\n", t_passed, t_failed);
  return t_failed ? 1 : 0;
}
