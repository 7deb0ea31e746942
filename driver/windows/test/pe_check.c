/*
 * pe_check.c - checks the PE files of procrec.sys and procrec.dll (host C).
 *
 *   pe_check driver procrec.sys WINE_NTOSKRNL.EXE [WINE_HAL.DLL]
 *     subsystem native; FORCE_INTEGRITY set in DllCharacteristics (the
 *     /INTEGRITYCHECK bit PsSetCreateProcessNotifyRoutineEx requires); imports
 *     only from ntoskrnl.exe and HAL.dll, by name, and only functions that
 *     Wine's ntoskrnl.exe (hal.dll) exports as real code, not as the stubs that
 *     abort when called; the notify registrations imported; the newer routines
 *     not imported (they must be resolved with MmGetSystemRoutineAddress).
 *   pe_check dll procrec.dll procrec_abi.h
 *     the DLL exports exactly the PROCREC_API functions of the header.
 * Prints one line per check; exit status 0 when all pass, 1 otherwise.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pe {
  const char *path;
  uint8_t *d;
  size_t n;
  uint32_t pe;      /* offset of "PE\0\0" */
  uint32_t opt;     /* optional header */
  uint16_t nsec;
  uint32_t sec;     /* section table */
};

static int fails;

static void report(int ok, const char *fmt, const char *a, const char *b) {
  printf("%s ", ok ? "ok  " : "FAIL");
  printf(fmt, a, b);
  printf("\n");
  if (!ok) fails++;
}

static uint16_t u16(const struct pe *p, size_t o) { return o + 2 <= p->n ? (uint16_t)(p->d[o] | p->d[o + 1] << 8) : 0; }
static uint32_t u32(const struct pe *p, size_t o) {
  return o + 4 <= p->n ? (uint32_t)p->d[o] | (uint32_t)p->d[o + 1] << 8 | (uint32_t)p->d[o + 2] << 16 |
                             (uint32_t)p->d[o + 3] << 24
                       : 0;
}

static void load(struct pe *p, const char *path) {
  FILE *f = fopen(path, "rb");
  long len;
  memset(p, 0, sizeof(*p));
  p->path = path;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
    fprintf(stderr, "pe_check: cannot read %s\n", path);
    exit(2);
  }
  p->n = (size_t)len;
  p->d = malloc(p->n);
  if (p->d == NULL || fread(p->d, 1, p->n, f) != p->n) {
    fprintf(stderr, "pe_check: cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  p->pe = u32(p, 0x3c);
  if (p->n < 0x40 || memcmp(p->d, "MZ", 2) != 0 || p->pe + 24 > p->n || memcmp(p->d + p->pe, "PE\0\0", 4) != 0 ||
      u16(p, p->pe + 24) != 0x20b) {
    fprintf(stderr, "pe_check: %s is not a PE32+ file\n", path);
    exit(2);
  }
  p->nsec = u16(p, p->pe + 6);
  p->opt = p->pe + 24;
  p->sec = p->opt + u16(p, p->pe + 20);
}

/* File offset of an RVA, 0 when outside every section. */
static size_t off(const struct pe *p, uint32_t rva) {
  for (uint16_t i = 0; i < p->nsec; i++) {
    size_t s = p->sec + 40u * i;
    uint32_t vsize = u32(p, s + 8), va = u32(p, s + 12), rsize = u32(p, s + 16), raw = u32(p, s + 20);
    uint32_t size = vsize > rsize ? vsize : rsize;
    if (rva >= va && rva < va + size) return (size_t)(rva - va) + raw;
  }
  return 0;
}

static const char *str_at(const struct pe *p, uint32_t rva) {
  size_t o = off(p, rva);
  if (o == 0 || memchr(p->d + o, 0, p->n - o) == NULL) return "";
  return (const char *)p->d + o;
}

static uint32_t dir_rva(const struct pe *p, int i) { return u32(p, p->opt + 112 + 8u * (uint32_t)i); }

/* Calls fn(name, rva_of_code, ctx) for each named export. */
static void each_export(const struct pe *p, void (*fn)(const char *, uint32_t, void *), void *ctx) {
  uint32_t e = dir_rva(p, 0);
  size_t eo = off(p, e);
  uint32_t nnames, funcs, names, ords;
  if (e == 0 || eo == 0) return;
  nnames = u32(p, eo + 24);
  funcs = u32(p, eo + 28);
  names = u32(p, eo + 32);
  ords = u32(p, eo + 36);
  for (uint32_t i = 0; i < nnames; i++) {
    const char *name = str_at(p, u32(p, off(p, names) + 4u * i));
    uint16_t ord = u16(p, off(p, ords) + 2u * i);
    fn(name, u32(p, off(p, funcs) + 4u * ord), ctx);
  }
}

/* Calls fn(dll, name, ctx) for each import (name NULL for one by ordinal). */
static void each_import(const struct pe *p, void (*fn)(const char *, const char *, void *), void *ctx) {
  uint32_t imp = dir_rva(p, 1);
  size_t io = off(p, imp);
  if (imp == 0 || io == 0) return;
  for (;; io += 20) {
    uint32_t lookup = u32(p, io), name_rva = u32(p, io + 12), first = u32(p, io + 16);
    const char *dll;
    size_t t;
    if (name_rva == 0) break;
    dll = str_at(p, name_rva);
    t = off(p, lookup != 0 ? lookup : first);
    for (; t != 0 && t + 8 <= p->n; t += 8) {
      uint32_t lo = u32(p, t), hi = u32(p, t + 4);
      if (lo == 0 && hi == 0) break;
      fn(dll, (hi & 0x80000000u) ? NULL : str_at(p, lo + 2), ctx);
    }
  }
}

/* ---- driver ---- */

struct exports {
  const struct pe *pe;
  char **names;
  int *stub;
  int n;
};

/* Wine's unimplemented exports are thunks: sub rsp,0x28; lea rcx,[dll];
 * lea rdx,[name]; call __wine_spec_unimplemented_stub. */
static int is_wine_stub(const struct pe *p, uint32_t rva) {
  size_t o = off(p, rva);
  static const uint8_t a[] = {0x48, 0x83, 0xec, 0x28, 0x48, 0x8d, 0x0d};
  static const uint8_t b[] = {0x48, 0x8d, 0x15};
  return o != 0 && o + 24 <= p->n && memcmp(p->d + o, a, sizeof(a)) == 0 && memcmp(p->d + o + 11, b, sizeof(b)) == 0 &&
         p->d[o + 18] == 0xe8;
}

static void collect_export(const char *name, uint32_t rva, void *ctx) {
  struct exports *x = ctx;
  x->names = realloc(x->names, sizeof(char *) * (size_t)(x->n + 1));
  x->stub = realloc(x->stub, sizeof(int) * (size_t)(x->n + 1));
  x->names[x->n] = strdup(name);
  x->stub[x->n] = x->pe != NULL && rva != 0 && is_wine_stub(x->pe, rva);
  x->n++;
}

static int find(const struct exports *x, const char *name) {
  for (int i = 0; i < x->n; i++)
    if (strcmp(x->names[i], name) == 0) return i;
  return -1;
}

struct drv_ctx {
  struct exports ntos, hal;
  struct exports imported; /* names imported, for the required/forbidden checks */
  int bad;
};

static void check_import(const char *dll, const char *name, void *vctx) {
  struct drv_ctx *c = vctx;
  const struct exports *from = NULL;
  int i;
  if (strcasecmp(dll, "ntoskrnl.exe") == 0) from = &c->ntos;
  if (strcasecmp(dll, "hal.dll") == 0) from = c->hal.n > 0 ? &c->hal : NULL;
  if (from == NULL && strcasecmp(dll, "hal.dll") != 0) {
    report(0, "import from %s (only ntoskrnl.exe and HAL.dll allowed)%s", dll, "");
    c->bad++;
    return;
  }
  if (name == NULL) {
    report(0, "import by ordinal from %s%s", dll, "");
    c->bad++;
    return;
  }
  collect_export(name, 0, &c->imported);
  if (from == NULL) return; /* HAL.dll without a Wine hal.dll to compare */
  i = find(from, name);
  if (i < 0) {
    report(0, "%s imports %s, which Wine does not export", dll, name);
    c->bad++;
  } else if (from->stub[i]) {
    report(0, "%s imports %s, a stub in Wine that aborts when called", dll, name);
    c->bad++;
  }
}

static int check_driver(const char *sys, const char *ntos_path, const char *hal_path) {
  struct pe p, ntos, hal;
  struct drv_ctx c;
  uint16_t subsystem, chars;
  static const char *required[] = {"PsSetCreateProcessNotifyRoutineEx", "PsSetCreateThreadNotifyRoutine",
                                   "PsSetLoadImageNotifyRoutine", "PsRemoveCreateThreadNotifyRoutine",
                                   "PsRemoveLoadImageNotifyRoutine", "MmGetSystemRoutineAddress"};
  static const char *resolved[] = {"PsSetCreateProcessNotifyRoutineEx2", "PsSetCreateThreadNotifyRoutineEx",
                                   "KeQuerySystemTimePrecise"};
  char count[32];
  memset(&c, 0, sizeof(c));
  load(&p, sys);
  load(&ntos, ntos_path);
  c.ntos.pe = &ntos;
  each_export(&ntos, collect_export, &c.ntos);
  if (hal_path != NULL) {
    load(&hal, hal_path);
    c.hal.pe = &hal;
    each_export(&hal, collect_export, &c.hal);
  }
  c.imported.pe = &p;
  printf("%s:\n", sys);
  subsystem = u16(&p, p.opt + 68);
  chars = u16(&p, p.opt + 70);
  report(subsystem == 1, "subsystem native (1)%s%s", "", "");
  report((chars & 0x0080u) != 0, "FORCE_INTEGRITY set in DllCharacteristics%s%s", "", "");
  {
    /* x64 unwind data: crash dumps and the kernel's exception dispatch need it */
    uint32_t exc_size = u32(&p, p.opt + 112 + 8u * 3u + 4u);
    int pdata = 0;
    for (uint16_t i = 0; i < p.nsec; i++)
      if (memcmp(p.d + p.sec + 40u * i, ".pdata\0", 7) == 0 && u32(&p, p.sec + 40u * i + 8u) > 0) pdata = 1;
    snprintf(count, sizeof(count), "%u", exc_size);
    report(pdata && exc_size >= 12, "unwind data kept: a .pdata section, exception directory of %s bytes%s", count, "");
  }
  each_import(&p, check_import, &c);
  snprintf(count, sizeof(count), "%d", c.imported.n);
  report(c.bad == 0 && c.imported.n > 0, "%s imports, all from ntoskrnl.exe/HAL.dll and implemented by Wine%s", count,
         "");
  for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
    report(find(&c.imported, required[i]) >= 0, "imports %s%s", required[i], "");
  for (size_t i = 0; i < sizeof(resolved) / sizeof(resolved[0]); i++)
    report(find(&c.imported, resolved[i]) < 0, "does not import %s (resolved at run time)%s", resolved[i], "");
  return fails;
}

/* ---- dll ---- */

static void collect_name(const char *name, uint32_t rva, void *ctx) {
  (void)rva;
  collect_export(name, 0, ctx);
}

static int check_dll(const char *dll, const char *header) {
  struct pe p;
  struct exports exp, want;
  FILE *f = fopen(header, "r");
  char line[512];
  memset(&exp, 0, sizeof(exp));
  memset(&want, 0, sizeof(want));
  if (f == NULL) {
    fprintf(stderr, "pe_check: cannot read %s\n", header);
    exit(2);
  }
  while (fgets(line, sizeof(line), f) != NULL) { /* PROCREC_API <type> [*]name( */
    char *s = strstr(line, "PROCREC_API "), *paren, *start;
    if (s != line || (paren = strchr(s, '(')) == NULL) continue;
    start = paren;
    while (start > s && (isalnum((unsigned char)start[-1]) || start[-1] == '_')) start--;
    *paren = 0;
    collect_export(start, 0, &want);
  }
  fclose(f);
  load(&p, dll);
  each_export(&p, collect_name, &exp);
  printf("%s:\n", dll);
  for (int i = 0; i < want.n; i++) report(find(&exp, want.names[i]) >= 0, "exports %s%s", want.names[i], "");
  for (int i = 0; i < exp.n; i++)
    report(find(&want, exp.names[i]) >= 0, "export %s is a function of %s", exp.names[i], header);
  {
    char a[32], b[32];
    snprintf(a, sizeof(a), "%d", exp.n);
    snprintf(b, sizeof(b), "%d", want.n);
    report(exp.n == want.n && want.n > 0, "%s exports, %s ABI functions", a, b);
  }
  return fails;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "driver") == 0) return check_driver(argv[2], argv[3], argc > 4 ? argv[4] : NULL) ? 1 : 0;
  if (argc == 4 && strcmp(argv[1], "dll") == 0) return check_dll(argv[2], argv[3]) ? 1 : 0;
  fprintf(stderr, "usage: pe_check driver FILE.sys WINE_NTOSKRNL [WINE_HAL] | pe_check dll FILE.dll HEADER\n");
  return 2;
}
