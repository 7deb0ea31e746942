/*
 * ere_match_helper.c - the enforcer's regex matching (exec_match.c
 * pr_ere_compile, pr_ere_match: POSIX ERE, C locale) for
 * tests/exec_rules_regex_test.ts, which checks that --dry-run matches the
 * same strings. Reads records from stdin: a u32 length and the expression,
 * a u32 length and the text (native byte order); writes one character per
 * record: '1' match, '0' no match, 'E' the expression does not compile.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../exec_match.h"

/* A u32 length and that many bytes, NUL-terminated; NULL at the end. */
static char *read_text(void) {
  uint32_t n;
  char *s;
  if (fread(&n, sizeof(n), 1, stdin) != 1) return NULL;
  s = malloc((size_t)n + 1);
  if (!s || fread(s, 1, n, stdin) != n) exit(2);
  s[n] = 0;
  return s;
}

int main(void) {
  char *re_text, *text;
  while ((re_text = read_text()) != NULL && (text = read_text()) != NULL) {
    regex_t re;
    if (pr_ere_compile(&re, re_text) != 0) {
      putchar('E');
    } else {
      putchar(pr_ere_match(&re, text) ? '1' : '0');
      regfree(&re);
    }
    free(re_text);
    free(text);
  }
  return 0;
}
