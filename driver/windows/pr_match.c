/* pr_match.c - see pr_match.h. */
#include "pr_match.h"

static uint16_t ascii_upcase(uint16_t c) { return (c >= 'a' && c <= 'z') ? (uint16_t)(c - ('a' - 'A')) : c; }

int pr_match(const uint16_t *pat, uint32_t pat_units, const uint16_t *name, uint32_t name_units,
             uint16_t (*upcase)(uint16_t)) {
  uint16_t (*fold)(uint16_t) = upcase != 0 ? upcase : ascii_upcase;
  uint32_t p = 0, n = 0;
  uint32_t star = UINT32_MAX; /* position after the last '*' seen */
  uint32_t mark = 0;          /* name position that '*' matched up to */
  while (n < name_units) {
    if (p < pat_units && pat[p] == '*') {
      star = ++p;
      mark = n;
    } else if (p < pat_units && (pat[p] == '?' || fold(pat[p]) == fold(name[n]))) {
      p++;
      n++;
    } else if (star != UINT32_MAX) {
      p = star; /* let the last '*' swallow one more unit */
      n = ++mark;
    } else {
      return 0;
    }
  }
  while (p < pat_units && pat[p] == '*') p++;
  return p == pat_units;
}

/* 1 when in[at..) starts with the ASCII text p (letters in any case). */
static int has_prefix(const uint16_t *in, uint32_t n, uint32_t at, const char *p) {
  for (uint32_t i = 0; p[i] != 0; i++) {
    uint16_t c;
    if (at + i >= n) return 0;
    c = in[at + i] == '/' ? '\\' : in[at + i];
    if (ascii_upcase(c) != ascii_upcase((uint16_t)(uint8_t)p[i])) return 0;
  }
  return 1;
}

static uint32_t cstrlen(const char *p) {
  uint32_t n = 0;
  while (p[n] != 0) n++;
  return n;
}

static int is_sep(uint16_t c) { return c == '\\' || c == '/'; }

uint32_t pr_norm_path(const uint16_t *in, uint32_t n, uint16_t *out, uint32_t cap) {
  /* object-manager prefixes of the whole namespace, then what each leads to */
  static const char *const dos[] = {"\\??\\", "\\\\?\\", "\\\\.\\", "\\DosDevices\\", "\\GLOBAL??\\"};
  uint32_t at = 0, o = 0;
  int unc = 0, changed = 1;
  if (n == 0) return 0;
  while (changed) {
    changed = 0;
    for (uint32_t k = 0; k < sizeof(dos) / sizeof(dos[0]); k++) {
      uint32_t len = cstrlen(dos[k]);
      if (!has_prefix(in, n, at, dos[k])) continue;
      if (has_prefix(in, n, at + len, "GLOBALROOT\\")) {
        at += len + 10; /* keep the '\' that starts the device path */
        changed = 1;
      } else if (has_prefix(in, n, at + len, "UNC\\")) {
        at += len + 4;
        unc = 1;
      } else if (at + len + 1 < n && in[at + len + 1] == ':') {
        at += len; /* a drive: "C:\..." */
        changed = 1;
      }
      break;
    }
    if (!unc && has_prefix(in, n, at, "\\Device\\Mup\\")) {
      at += 12;
      unc = 1;
    }
    if (unc) break;
  }
  if (!unc && at + 1 < n && is_sep(in[at]) && is_sep(in[at + 1])) unc = 1; /* "\\srv\share" as given */
  {
    uint32_t base = 0, nseg = 0, keep = 0;
    int lead = 0;
    if (unc) {
      if (cap < 2) return 0;
      out[o++] = '\\';
      out[o++] = '\\';
      base = 2;
      keep = 2; /* the server and the share */
    } else {
      lead = at < n && is_sep(in[at]);
      if (at + 1 < n && in[at + 1] == ':') keep = 1; /* the drive */
      else if (has_prefix(in, n, at, "\\Device\\")) keep = 2; /* the device */
    }
    while (at < n) {
      uint32_t s0, len;
      while (at < n && is_sep(in[at])) at++;
      if (at >= n) break;
      s0 = at;
      while (at < n && !is_sep(in[at])) at++;
      len = at - s0;
      if (len == 1 && in[s0] == '.') continue;
      if (len == 2 && in[s0] == '.' && in[s0 + 1] == '.') {
        if (nseg > keep) { /* the segment before it goes, with its separator */
          while (o > base && out[o - 1] != '\\') o--;
          if (o > base) o--;
          nseg--;
        }
        continue; /* never above the root */
      }
      if (nseg > 0 || lead) {
        if (o >= cap) return 0;
        out[o++] = '\\';
      }
      if (o + len > cap) return 0;
      for (uint32_t i = 0; i < len; i++) out[o++] = in[s0 + i];
      nseg++;
    }
  }
  return o;
}
