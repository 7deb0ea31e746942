/*
 * exec_match.h - the exec rules' matching, pure (no I/O): a rule set checked
 * and compiled from a struct pr_rule_set (procrec_abi.h), and the decision
 * for one exec described by a struct pr_exec_subject. Unit-tested without
 * root by tests/test_exec_match.c; used by exec_rules.c (the enforcer).
 *
 * Decision: every rule whose matchers all match is a candidate; any deny
 * rule denies (the first one names the decision), else the first audit rule
 * audits. A matcher on a value the enforcer could not learn (the subject's
 * have_* is 0) does not match, with two exceptions, so that a deny rule
 * whose other matchers match fails closed: an argv matcher whose caller was
 * inside execve but whose arguments could not be read (argv_unread) counts
 * as matching (the decision then records argv as unread), and so does a
 * path matcher whose file's other paths could not be learned (below).
 *
 * Regular expressions are POSIX ERE compiled and run in the C locale (one
 * byte is one character whatever the host program's locale), as the
 * --dry-run side (cli/rules/match_argv_regex.ts) runs them on the bytes.
 *
 * A path matcher matches the path the exec went through or any other path
 * of the same file in the recorder's mount namespace (the subject's
 * aliases: a bind mount, the file system mounted elsewhere). When those
 * could not all be learned (aliases_unknown), a path matcher that matches
 * none of the known paths counts as matching, as argv_unread does: a deny
 * rule whose other matchers match fails closed.
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
  uint64_t size;     /* st_size */
  int have_file;
  uint8_t sha256[32]; /* the file's contents, when hashed (pr_exec_rules_hash_wanted) */
  int have_sha;
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
  int argv_unread; /* the caller is in execve but its arguments could not be read (have_argv 0) */
  /* the file's paths in the recorder's mount namespace, by every mount of
   * its file system (mount_alias.h); `image` may be one of them */
  const char *const *aliases;
  const size_t *alias_lens;
  size_t n_aliases;
  int aliases_unknown; /* image is known but its other paths could not all be learned */
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
 * when a rule matched, else 0. A file: rule matches the file itself (device
 * and inode) or, for entries with PR_RF_CONTENT, a file of the same size and
 * SHA-256 (s->have_sha). */
int pr_exec_decide(const struct pr_exec_rules *rs, const struct pr_exec_subject *s, uint32_t *rule,
                   uint32_t *action);

/* 1 when the contents of a file (dev, ino, size) must be hashed to decide:
 * a PR_RF_CONTENT entry has this size and is not this very file. Files of
 * any other size are never read. */
int pr_exec_rules_hash_wanted(const struct pr_exec_rules *rs, uint64_t dev, uint64_t ino, uint64_t size);

/* 1 when rule k has an argv matcher that counted as matching only because
 * s's arguments could not be read (s->argv_unread): the decision records
 * argv as unread (absent, with PR_F_ARGV_TRUNCATED). */
int pr_exec_argv_unread(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s);

/* regcomp(REG_EXTENDED | REG_NOSUB) in the C locale; regcomp's result. */
int pr_ere_compile(regex_t *re, const char *pattern);

/* 1 when the NUL-terminated s matches re (compiled by pr_ere_compile), run
 * in the C locale; else 0. */
int pr_ere_match(const regex_t *re, const char *s);

/* How rule k's path matcher matched s. */
enum pr_path_match {
  PR_PATH_NO = 0,         /* it did not (or rule k has no path matcher) */
  PR_PATH_IMAGE = 1,      /* the path the exec went through */
  PR_PATH_ALIAS = 2,      /* another path of the file (*alias: its index in s->aliases) */
  PR_PATH_UNRESOLVED = 3, /* none known, but the other paths could not all be learned: counts as a match */
};
enum pr_path_match pr_exec_path_match(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s,
                                      size_t *alias);

/* 1 when rule k's file matcher matched s by content only (a copy), not by
 * identity: the decision is recorded with PR_F_BY_CONTENT. */
int pr_exec_matched_by_content(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s);

#endif /* PR_EXEC_MATCH_H */
