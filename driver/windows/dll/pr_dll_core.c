/* pr_dll_core.c - see pr_dll_core.h. Portable C, no allocation. */
#include "pr_dll_core.h"

#include <stdio.h>
#include <string.h>

int32_t pr_dll_options(const struct procrec_options *opts, struct pr_dll_opts *out, char *err, size_t err_cap) {
  struct procrec_options o;
  memset(&o, 0, sizeof(o));
  memset(out, 0, sizeof(*out));
  if (opts != NULL) {
    if (opts->size < offsetof(struct procrec_options, reserved) || opts->size > 4096u) {
      snprintf(err, err_cap, "procrec_open: options size %u is not the size of struct procrec_options (%u)",
               opts->size, (unsigned)sizeof(o));
      return PR_E_ABI;
    }
    memcpy(&o, opts, opts->size < sizeof(o) ? opts->size : sizeof(o));
  }
  if (o.source > PR_SOURCE_WINDOWS) {
    snprintf(err, err_cap, "procrec_open: unknown source %u", o.source);
    return PR_E_INVAL;
  }
  if (o.source != PR_SOURCE_AUTO && o.source != PR_SOURCE_WINDOWS) {
    snprintf(err, err_cap, "procrec_open: source %u is not available on Windows (only the procrec.sys driver)",
             o.source);
    return PR_E_NOSUP;
  }
  out->source = o.source;
  out->flags = o.flags;
  out->max_string = o.max_string != 0 ? o.max_string : PR_DLL_MAX_STRING_DEFAULT;
  if (out->max_string > PR_DLL_MAX_STRING_LIMIT) {
    snprintf(err, err_cap, "procrec_open: max_string %u is above the limit of %u bytes", out->max_string,
             PR_DLL_MAX_STRING_LIMIT);
    return PR_E_INVAL;
  }
  out->ring_bytes = o.ring_bytes != 0 ? o.ring_bytes : PR_DLL_RING_DEFAULT;
  if (out->ring_bytes < PR_DLL_RING_MIN) {
    snprintf(err, err_cap, "procrec_open: ring_bytes %u is too small (at least %u)", out->ring_bytes,
             PR_DLL_RING_MIN);
    return PR_E_INVAL;
  }
  return PR_OK;
}

/* Decodes one UTF-8 character at s[0..n); returns its length (0: invalid:
 * overlong, a surrogate, above U+10FFFF, or cut short). */
static uint32_t utf8_char(const uint8_t *s, uint32_t n, uint32_t *cp) {
  uint32_t len, c, min;
  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  if ((s[0] & 0xE0) == 0xC0) {
    len = 2, c = s[0] & 0x1Fu, min = 0x80;
  } else if ((s[0] & 0xF0) == 0xE0) {
    len = 3, c = s[0] & 0x0Fu, min = 0x800;
  } else if ((s[0] & 0xF8) == 0xF0) {
    len = 4, c = s[0] & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (len > n) return 0;
  for (uint32_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (s[i] & 0x3Fu);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return len;
}

int32_t pr_rules_to_utf16(const uint8_t *arg, uint32_t len, uint16_t *w, uint32_t cap, uint32_t *units, char *err,
                          size_t err_cap) {
  uint32_t u = 0, i = 0;
  *units = 0;
  if (arg == NULL && len > 0) {
    snprintf(err, err_cap, "block rules: %u bytes at NULL", len);
    return PR_E_INVAL;
  }
  while (i < len) {
    uint32_t start = i;
    while (i < len && arg[i] != 0) {
      uint32_t cp = 0, n = utf8_char(arg + i, len - i, &cp), need = cp >= 0x10000 ? 2u : 1u;
      if (n == 0) {
        snprintf(err, err_cap, "block rules: pattern at byte %u is not UTF-8 (byte %u)", start, i);
        return PR_E_INVAL;
      }
      /* the character and the pattern's NUL must both fit */
      if (cap < 1u || u + need > cap - 1u) {
        snprintf(err, err_cap, "block rules: longer than %u UTF-16 units (%u bytes) with their NULs", cap,
                 cap * 2u);
        return PR_E_INVAL;
      }
      if (need == 1) {
        w[u++] = (uint16_t)cp;
      } else {
        w[u++] = (uint16_t)(0xD800u + ((cp - 0x10000u) >> 10));
        w[u++] = (uint16_t)(0xDC00u + ((cp - 0x10000u) & 0x3FFu));
      }
      i += n;
    }
    if (i > start) w[u++] = 0; /* room kept above */
    i++;                       /* the separator */
  }
  *units = u;
  return PR_OK;
}

int32_t pr_copy_text(char *buf, uint32_t cap, const char *s) {
  size_t n = strlen(s);
  if (buf != NULL && cap > 0) {
    size_t k = n < cap ? n : cap - 1;
    memcpy(buf, s, k);
    buf[k] = 0;
  }
  return (int32_t)n;
}

/* ASCII case-insensitive prefix test of UTF-16 s against ASCII p. */
static int has_prefix(const uint16_t *s, const char *p) {
  for (; *p != 0; s++, p++) {
    uint16_t a = *s, b = (uint8_t)*p;
    if (a >= 'A' && a <= 'Z') a = (uint16_t)(a + 32);
    if (b >= 'A' && b <= 'Z') b = (uint16_t)(b + 32);
    if (a != b) return 0;
  }
  return 1;
}

/* Writes the absolute form of an SCM image path into out (cap units). */
static void absolute_path(const uint16_t *p, const uint16_t *root, uint16_t *out, uint32_t cap) {
  uint32_t o = 0;
  if (has_prefix(p, "\\??\\")) p += 4;
  if (has_prefix(p, "\\SystemRoot\\")) {
    p += 11; /* keep the backslash */
    while (*root != 0 && o + 1 < cap) out[o++] = *root++;
  } else if (has_prefix(p, "System32\\")) {
    while (*root != 0 && o + 1 < cap) out[o++] = *root++;
    if (o + 1 < cap) out[o++] = '\\';
  }
  while (*p != 0 && o + 1 < cap) out[o++] = *p++;
  out[o] = 0;
}

int pr_same_driver_path(const uint16_t *configured, const uint16_t *ours, const uint16_t *system_root) {
  uint16_t a[1024], b[1024];
  uint32_t i = 0;
  absolute_path(configured, system_root, a, 1024);
  absolute_path(ours, system_root, b, 1024);
  for (;; i++) {
    uint16_t x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = (uint16_t)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (uint16_t)(y + 32);
    if (x == '/') x = '\\';
    if (y == '/') y = '\\';
    if (x != y) return 0;
    if (x == 0) return 1;
  }
}
