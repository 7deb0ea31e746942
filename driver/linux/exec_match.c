/*
 * exec_match.c - see exec_match.h.
 */
#include "exec_match.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pr_glob(const char *pat, size_t plen, const char *s, size_t slen) {
  size_t p = 0, i = 0, star = (size_t)-1, mark = 0;
  while (i < slen) {
    if (p < plen && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < plen && (pat[p] == '?' || pat[p] == s[i])) {
      p++;
      i++;
    } else if (star != (size_t)-1) {
      p = star + 1;
      i = ++mark;
    } else {
      return 0;
    }
  }
  while (p < plen && pat[p] == '*') p++;
  return p == plen;
}

static const char *const FIELD[] = {"path", "parent", "cgroup", "argv"};

/* A text field: its length below PR_RULE_GLOB, NUL-terminated there, no NUL
 * inside, not empty when its matcher is on. */
static int check_text(const char *t, uint16_t len, int on, uint32_t k, int field, char *err, size_t n) {
  if (len >= PR_RULE_GLOB || t[len] != 0 || memchr(t, 0, len) != NULL || (on && len == 0)) {
    snprintf(err, n, "rule %u: field %s is malformed (length %u, at most %u, not empty, no NUL)", k, FIELD[field],
             len, PR_RULE_GLOB - 1);
    return PR_E_INVAL;
  }
  return PR_OK;
}

int pr_ere_compile(regex_t *re, const char *pattern) {
  locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  locale_t old = c ? uselocale(c) : (locale_t)0;
  int e = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
  if (c) {
    uselocale(old);
    freelocale(c);
  }
  return e;
}

int pr_ere_match(const regex_t *re, const char *s) {
  locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  locale_t old = c ? uselocale(c) : (locale_t)0;
  int ok = regexec(re, s, 0, NULL, 0) == 0;
  if (c) {
    uselocale(old);
    freelocale(c);
  }
  return ok;
}

void pr_exec_rules_free(struct pr_exec_rules *rs) {
  if (!rs) return;
  for (uint32_t k = 0; k < PR_RULES_MAX; k++)
    if (rs->has_re[k]) {
      regfree(&rs->re[k]);
      rs->has_re[k] = 0;
    }
  rs->n = 0;
}

int pr_exec_rules_init(struct pr_exec_rules *rs, const uint8_t *arg, uint32_t len, char *err, size_t n) {
  struct pr_rule_set set;
  const uint32_t known = PR_RM_PATH | PR_RM_FILE | PR_RM_UID | PR_RM_PARENT | PR_RM_CGROUP | PR_RM_ARGV |
                         PR_RM_ARGV_REGEX;
  memset(rs, 0, sizeof(*rs));
  if (arg == NULL || len < sizeof(set)) {
    snprintf(err, n, "exec rules: %u bytes, expected a struct pr_rule_set", len);
    return PR_E_INVAL;
  }
  memcpy(&set, arg, sizeof(set));
  if (set.size != sizeof(set)) {
    snprintf(err, n, "exec rules: pr_rule_set.size is %u, expected %zu", set.size, sizeof(set));
    return PR_E_ABI;
  }
  if (set.rules == 0 || set.rules > PR_RULES_MAX || set.files > PR_RULE_FILES_MAX ||
      (uint64_t)len != sizeof(set) + (uint64_t)set.rules * sizeof(struct pr_rule) +
                           (uint64_t)set.files * sizeof(struct pr_rule_file)) {
    snprintf(err, n, "exec rules: %u rules (1 to %u) and %u files (at most %u) do not fill %u bytes", set.rules,
             PR_RULES_MAX, set.files, PR_RULE_FILES_MAX, len);
    return PR_E_INVAL;
  }
  memcpy(rs->rules, arg + sizeof(set), (size_t)set.rules * sizeof(struct pr_rule));
  memcpy(rs->files, arg + sizeof(set) + (size_t)set.rules * sizeof(struct pr_rule),
         (size_t)set.files * sizeof(struct pr_rule_file));
  rs->nfiles = set.files;
  rs->exempt_pid = set.exempt_pid;
  for (uint32_t k = 0; k < set.rules; k++) {
    struct pr_rule *r = &rs->rules[k];
    int has_file = 0;
    if (r->action != PR_RULE_DENY && r->action != PR_RULE_AUDIT) {
      snprintf(err, n, "rule %u: field action is %u, expected %u (deny) or %u (audit)", k, r->action, PR_RULE_DENY,
               PR_RULE_AUDIT);
      goto bad;
    }
    if (r->match == 0 || (r->match & ~known) ||
        ((r->match & PR_RM_ARGV_REGEX) && !(r->match & PR_RM_ARGV))) {
      snprintf(err, n, "rule %u: field match is 0x%x: no matcher, or an unknown one", k, r->match);
      goto bad;
    }
    if (check_text(r->path, r->path_len, (r->match & PR_RM_PATH) != 0, k, 0, err, n) ||
        check_text(r->parent, r->parent_len, (r->match & PR_RM_PARENT) != 0, k, 1, err, n) ||
        check_text(r->cgroup, r->cgroup_len, (r->match & PR_RM_CGROUP) != 0, k, 2, err, n) ||
        check_text(r->argv, r->argv_len, (r->match & PR_RM_ARGV) != 0, k, 3, err, n))
      goto bad;
    for (uint32_t f = 0; f < rs->nfiles; f++) has_file |= rs->files[f].rule == k;
    if ((r->match & PR_RM_FILE) && !has_file) {
      snprintf(err, n, "rule %u: field file is on but no file identity names the rule", k);
      goto bad;
    }
    if (r->match & PR_RM_ARGV_REGEX) {
      int e = pr_ere_compile(&rs->re[k], r->argv);
      if (e != 0) {
        char msg[128];
        regerror(e, &rs->re[k], msg, sizeof(msg));
        snprintf(err, n, "rule %u: field argv is not a POSIX extended regular expression: %s", k, msg);
        goto bad;
      }
      rs->has_re[k] = 1;
    }
    rs->n = k + 1;
  }
  for (uint32_t f = 0; f < rs->nfiles; f++) {
    if (rs->files[f].rule >= set.rules) {
      snprintf(err, n, "exec rules: file identity %u names rule %u of %u", f, rs->files[f].rule, set.rules);
      goto bad;
    }
    if (rs->files[f].flags & ~PR_RF_CONTENT) {
      snprintf(err, n, "exec rules: file identity %u: field flags is 0x%x, expected 0 or 0x%x", f,
               rs->files[f].flags, PR_RF_CONTENT);
      goto bad;
    }
  }
  rs->n = set.rules;
  return PR_OK;
bad:
  pr_exec_rules_free(rs);
  return PR_E_INVAL;
}

/* 1: rule k names this very file (device and inode); 2: a copy of one of
 * its files (same size and SHA-256); 0: neither. */
static int file_named(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s) {
  int copy = 0;
  if (!s->have_file) return 0;
  for (uint32_t f = 0; f < rs->nfiles; f++) {
    const struct pr_rule_file *e = &rs->files[f];
    if (e->rule != k) continue;
    if (e->dev == s->dev && e->ino == s->ino) return 1;
    if (s->have_sha && (e->flags & PR_RF_CONTENT) && e->size == s->size && memcmp(e->sha256, s->sha256, 32) == 0)
      copy = 1;
  }
  return copy ? 2 : 0;
}

int pr_exec_rules_hash_wanted(const struct pr_exec_rules *rs, uint64_t dev, uint64_t ino, uint64_t size) {
  for (uint32_t f = 0; f < rs->nfiles; f++) {
    const struct pr_rule_file *e = &rs->files[f];
    if ((e->flags & PR_RF_CONTENT) && e->size == size && !(e->dev == dev && e->ino == ino)) return 1;
  }
  return 0;
}

int pr_exec_matched_by_content(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s) {
  return k < rs->n && (rs->rules[k].match & PR_RM_FILE) && file_named(rs, k, s) == 2;
}

/* 1: rule k's argv matcher matches; 0: it does not; -1: it cannot be
 * evaluated (the arguments could not be read, or no memory for the regex's
 * copy of them), which counts as a match (fail closed). Arguments unknown
 * because there are none to read (not an exec system call: a kernel-started
 * helper) do not match. */
static int argv_matches(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s) {
  const struct pr_rule *r = &rs->rules[k];
  if (!s->have_argv) return s->argv_unread ? -1 : 0;
  if (r->match & PR_RM_ARGV_REGEX) {
    char *z = malloc(s->cmdline_len + 1);
    int ok;
    if (!z) return -1;
    memcpy(z, s->cmdline, s->cmdline_len);
    z[s->cmdline_len] = 0;
    ok = pr_ere_match(&rs->re[k], z);
    free(z);
    return ok;
  }
  return memmem(s->cmdline, s->cmdline_len, r->argv, r->argv_len) != NULL;
}

/* 1 when rule k's matchers other than argv all match (below). */
static int other_matchers_match(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s);

int pr_exec_argv_unread(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s) {
  return k < rs->n && (rs->rules[k].match & PR_RM_ARGV) && other_matchers_match(rs, k, s) &&
         argv_matches(rs, k, s) < 0;
}

enum pr_path_match pr_exec_path_match(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s,
                                      size_t *alias) {
  const struct pr_rule *r;
  if (k >= rs->n || !((r = &rs->rules[k])->match & PR_RM_PATH) || !s->have_image) return PR_PATH_NO;
  if (pr_glob(r->path, r->path_len, s->image, s->image_len)) return PR_PATH_IMAGE;
  for (size_t i = 0; i < s->n_aliases; i++)
    if (pr_glob(r->path, r->path_len, s->aliases[i], s->alias_lens[i])) {
      if (alias) *alias = i;
      return PR_PATH_ALIAS;
    }
  return s->aliases_unknown ? PR_PATH_UNRESOLVED : PR_PATH_NO;
}

static int other_matchers_match(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s) {
  const struct pr_rule *r = &rs->rules[k];
  uint32_t m = r->match;
  if ((m & PR_RM_FILE) && !file_named(rs, k, s)) return 0;
  if ((m & PR_RM_UID) && !(s->have_ids && (s->uid == r->uid || s->euid == r->uid))) return 0;
  if ((m & PR_RM_PATH) && pr_exec_path_match(rs, k, s, NULL) == PR_PATH_NO) return 0;
  if ((m & PR_RM_PARENT) && !(s->have_parent && pr_glob(r->parent, r->parent_len, s->parent, s->parent_len)))
    return 0;
  if ((m & PR_RM_CGROUP) && !(s->have_cgroup && pr_glob(r->cgroup, r->cgroup_len, s->cgroup, s->cgroup_len)))
    return 0;
  return 1;
}

static int rule_matches(const struct pr_exec_rules *rs, uint32_t k, const struct pr_exec_subject *s) {
  if (!other_matchers_match(rs, k, s)) return 0;
  return !(rs->rules[k].match & PR_RM_ARGV) || argv_matches(rs, k, s) != 0;
}

int pr_exec_decide(const struct pr_exec_rules *rs, const struct pr_exec_subject *s, uint32_t *rule,
                   uint32_t *action) {
  int audit = -1;
  for (uint32_t k = 0; k < rs->n; k++) {
    if (!rule_matches(rs, k, s)) continue;
    if (rs->rules[k].action == PR_RULE_DENY) {
      *rule = k;
      *action = PR_RULE_DENY;
      return 1;
    }
    if (audit < 0) audit = (int)k;
  }
  if (audit < 0) return 0;
  *rule = (uint32_t)audit;
  *action = PR_RULE_AUDIT;
  return 1;
}
