/*
 * mount_alias.c - see mount_alias.h.
 */
#include "mount_alias.h"

#include <stdlib.h>
#include <string.h>

/* The field at *s (up to a space or the end of the line at e), unescaped
 * into *o (mountinfo writes space, tab, newline and backslash as \ooo).
 * Returns its length; *s is left after it (on the space). */
static size_t field(const char **s, const char *e, char **o) {
  const char *p = *s;
  char *w = *o;
  while (p < e && *p != ' ') {
    if (p[0] == '\\' && e - p >= 4 && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
        p[3] <= '7') {
      *w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
      p += 4;
    } else {
      *w++ = *p++;
    }
  }
  *s = p;
  size_t n = (size_t)(w - *o);
  *w++ = 0;
  *o = w;
  return n;
}

/* A decimal number below 2^32 at *s, then `end`; *s left after `end`. */
static int number(const char **s, const char *e, char end, uint32_t *v) {
  const char *p = *s;
  uint64_t x = 0;
  if (p >= e || *p < '0' || *p > '9') return -1;
  for (; p < e && *p >= '0' && *p <= '9'; p++) {
    x = x * 10 + (uint64_t)(*p - '0');
    if (x > UINT32_MAX) return -1;
  }
  if (p >= e || *p != end) return -1;
  *v = (uint32_t)x;
  *s = p + 1;
  return 0;
}

/* One line [s, e) into *m, its strings at *o. 0, or -1 when it is not in
 * the format (then *o may hold a partial copy: the caller rewinds it). */
static int parse_line(const char *s, const char *e, struct pr_mount *m, char **o) {
  uint32_t parent;
  if (number(&s, e, ' ', &m->id) || number(&s, e, ' ', &parent) || number(&s, e, ':', &m->major) ||
      number(&s, e, ' ', &m->minor))
    return -1;
  m->root = *o;
  m->root_len = field(&s, e, o);
  if (m->root_len == 0 || s >= e) return -1;
  s++;
  m->point = *o;
  m->point_len = field(&s, e, o);
  if (m->point_len == 0 || m->point[0] != '/' || s >= e) return -1;
  /* the rest: options, optional tags, then the separator "-" on its own */
  for (const char *p = s; p + 2 < e; p++)
    if (p[0] == ' ' && p[1] == '-' && p[2] == ' ') return 0;
  return -1;
}

static int by_id(const void *a, const void *b) {
  const struct pr_mount *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

void pr_mount_table_free(struct pr_mount_table *t) {
  if (!t) return;
  free(t->m);
  free(t->text);
  memset(t, 0, sizeof(*t));
}

int pr_mountinfo_parse(struct pr_mount_table *t, const char *text, size_t len) {
  size_t lines = 1, need;
  const char *s = text, *end = text + len;
  char *o;
  t->n = 0;
  t->bad = 0;
  for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
  /* the two fields of a line, unescaped, are no longer than the line */
  need = len + 2 * lines;
  if (need > t->text_cap) {
    char *p = realloc(t->text, need);
    if (!p) return -1;
    t->text = p;
    t->text_cap = need;
  }
  if (lines > t->cap) {
    struct pr_mount *p = realloc(t->m, lines * sizeof(*p));
    if (!p) return -1;
    t->m = p;
    t->cap = lines;
  }
  o = t->text;
  while (s < end) {
    const char *e = memchr(s, '\n', (size_t)(end - s));
    char *mark = o;
    if (!e) e = end;
    if (e > s) {
      if (parse_line(s, e, &t->m[t->n], &o) == 0) t->n++;
      else {
        o = mark;
        t->bad++;
      }
    }
    s = e + 1;
  }
  qsort(t->m, t->n, sizeof(*t->m), by_id);
  return 0;
}

const struct pr_mount *pr_mount_find(const struct pr_mount_table *t, uint32_t id) {
  struct pr_mount key = {.id = id};
  if (t->n == 0) return NULL;
  return bsearch(&key, t->m, t->n, sizeof(*t->m), by_id);
}

/* When the directory `dir` (dlen bytes, starting with '/') is `path` or
 * one of its directories: the offset in path of the rest ("" or "/...").
 * Else -1. */
static long below(const char *dir, size_t dlen, const char *path, size_t len) {
  while (dlen > 1 && dir[dlen - 1] == '/') dlen--;
  if (dlen == 1) return path[0] == '/' ? (len == 1 ? 1 : 0) : -1;
  if (len < dlen || memcmp(dir, path, dlen) != 0) return -1;
  if (len == dlen) return (long)len;
  return path[dlen] == '/' ? (long)dlen : -1;
}

/* head + tail into out as one path ("/" + "/x" is "/x", "/a" + "" is "/a",
 * "/" + "" is "/"): its length, or -1 when it does not fit in cap. */
static long join(const char *head, size_t hlen, const char *tail, size_t tlen, char *out, size_t cap) {
  if (hlen == 1 && head[0] == '/' && tlen > 0) hlen = 0;
  if (hlen + tlen + 1 > cap) return -1;
  memcpy(out, head, hlen);
  memcpy(out + hlen, tail, tlen);
  out[hlen + tlen] = 0;
  return (long)(hlen + tlen);
}

long pr_mount_fs_path(const struct pr_mount *m, const char *base, size_t base_len, const char *path, size_t len,
                      char *out, size_t cap) {
  long at;
  if (len == 0 || path[0] != '/' || m->root_len == 0 || m->root[0] != '/') return -1;
  /* below the reading process's root first, then below the mount point */
  if (base_len > 0) {
    if (base[0] != '/' || (at = below(base, base_len, path, len)) < 0) return -1;
    path += at;
    len -= (size_t)at;
    if (len == 0) path = "/", len = 1;
  }
  if ((at = below(m->point, m->point_len, path, len)) < 0) return -1;
  return join(m->root, m->root_len, path + at, len - (size_t)at, out, cap);
}

size_t pr_mount_aliases(const struct pr_mount_table *t, uint32_t major, uint32_t minor, const char *fs_path,
                        size_t fs_len, struct pr_path_aliases *a) {
  size_t used = 0;
  a->n = 0;
  a->cut = 0;
  if (fs_len == 0 || fs_path[0] != '/') return 0;
  for (size_t i = 0; i < t->n; i++) {
    const struct pr_mount *m = &t->m[i];
    long at, n;
    int dup = 0;
    if (m->major != major || m->minor != minor || m->root[0] != '/') continue;
    if ((at = below(m->root, m->root_len, fs_path, fs_len)) < 0) continue;
    if (a->n == PR_ALIASES_MAX ||
        (n = join(m->point, m->point_len, fs_path + at, fs_len - (size_t)at, a->buf + used, sizeof(a->buf) - used)) <
            0) {
      a->cut = 1; /* this name and maybe others are left out */
      break;
    }
    for (size_t k = 0; k < a->n && !dup; k++)
      dup = a->len[k] == (size_t)n && memcmp(a->p[k], a->buf + used, (size_t)n) == 0;
    if (dup) continue; /* the same name twice: mounts stacked on one point */
    a->p[a->n] = a->buf + used;
    a->len[a->n++] = (size_t)n;
    used += (size_t)n + 1;
  }
  return a->n;
}
