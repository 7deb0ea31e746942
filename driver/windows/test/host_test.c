/*
 * host_test.c - host unit tests (AddressSanitizer + UBSan) of the portable C
 * that only the Windows side uses: the block-rule matcher (pr_match.c) and
 * the wire-to-ABI conversion of procrec.dll (pr_wire_convert.c), and
 * procrec.dll's option checks and block-rule conversion (pr_dll_core.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/pr_record.h"
#include "../dll/pr_dll_core.h"
#include "../dll/pr_wire_convert.h"
#include "../pr_match.h"
#include "../procrec_ioctl.h"

static int fails, checks;

#define CHECK(cond, what)                                                                                             \
  do {                                                                                                                \
    checks++;                                                                                                         \
    if (!(cond)) {                                                                                                    \
      fails++;                                                                                                        \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, what);                                                           \
    }                                                                                                                 \
  } while (0)

/* UTF-16 units of an ASCII string, in a heap buffer of exactly that size. */
static uint16_t *u16(const char *s, uint32_t *units) {
  size_t n = strlen(s);
  uint16_t *w = malloc(n * 2 + 1);
  for (size_t i = 0; i < n; i++) w[i] = (uint8_t)s[i];
  *units = (uint32_t)n;
  return w;
}

static int match(const char *pat, const char *name) {
  uint32_t pn, nn;
  uint16_t *p = u16(pat, &pn), *n = u16(name, &nn);
  int r = pr_match(p, pn, n, nn, NULL);
  free(p);
  free(n);
  return r;
}

static uint16_t latin1_upcase(uint16_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7) ? (uint16_t)(c - 0x20) : c;
}

/* pr_norm_path of an ASCII name, as ASCII ("<none>" when it does not fit). */
static const char *norm(const char *name, uint32_t cap) {
  static char text[512];
  uint16_t out[512];
  uint32_t n, k;
  uint16_t *w = u16(name, &n);
  uint16_t *exact = malloc((cap ? cap : 1) * 2); /* exactly cap units: ASan sees a write past it */
  k = pr_norm_path(w, n, exact, cap);
  memcpy(out, exact, k * 2);
  free(exact);
  free(w);
  if (k == 0 && n > 0) return "<none>";
  for (uint32_t i = 0; i < k; i++) text[i] = (char)out[i];
  text[k] = 0;
  return text;
}

static void norm_is(const char *name, const char *want) {
  const char *got = norm(name, 500);
  char what[600];
  snprintf(what, sizeof(what), "pr_norm_path(%s) is %s, want %s", name, got, want);
  CHECK(strcmp(got, want) == 0, what);
}

static void test_norm_path(void) {
  /* drive paths, every object-manager spelling */
  norm_is("C:\\tmp\\evil.exe", "C:\\tmp\\evil.exe");
  norm_is("\\??\\C:\\tmp\\evil.exe", "C:\\tmp\\evil.exe");
  norm_is("\\\\?\\C:\\tmp\\evil.exe", "C:\\tmp\\evil.exe");
  norm_is("\\\\.\\c:\\tmp\\evil.exe", "c:\\tmp\\evil.exe");
  norm_is("\\DosDevices\\C:\\tmp\\evil.exe", "C:\\tmp\\evil.exe");
  norm_is("\\GLOBAL??\\C:\\tmp\\evil.exe", "C:\\tmp\\evil.exe");
  norm_is("\\??\\GLOBALROOT\\??\\C:\\tmp\\evil.exe", "C:\\tmp\\evil.exe");
  /* separators, "." and ".." */
  norm_is("\\??\\C:/tmp//./x/../evil.exe", "C:\\tmp\\evil.exe");
  norm_is("C:\\..\\..\\tmp\\evil.exe", "C:\\tmp\\evil.exe");
  norm_is("C:\\tmp\\", "C:\\tmp");
  /* GLOBALROOT: the device path */
  norm_is("\\??\\GLOBALROOT\\Device\\HarddiskVolume2\\tmp\\evil.exe", "\\Device\\HarddiskVolume2\\tmp\\evil.exe");
  norm_is("\\\\?\\GLOBALROOT\\Device\\HarddiskVolume2\\tmp\\evil.exe", "\\Device\\HarddiskVolume2\\tmp\\evil.exe");
  norm_is("\\Device\\HarddiskVolume2\\..\\..\\tmp\\evil.exe", "\\Device\\HarddiskVolume2\\tmp\\evil.exe");
  /* UNC: one spelling */
  norm_is("\\\\srv\\share\\evil.exe", "\\\\srv\\share\\evil.exe");
  norm_is("\\??\\UNC\\srv\\share\\evil.exe", "\\\\srv\\share\\evil.exe");
  norm_is("\\\\?\\UNC\\srv\\share\\evil.exe", "\\\\srv\\share\\evil.exe");
  norm_is("\\\\.\\unc\\srv\\share\\evil.exe", "\\\\srv\\share\\evil.exe");
  norm_is("\\DosDevices\\UNC\\srv\\share\\evil.exe", "\\\\srv\\share\\evil.exe");
  norm_is("\\Device\\Mup\\srv\\share\\evil.exe", "\\\\srv\\share\\evil.exe");
  norm_is("\\??\\GLOBALROOT\\Device\\Mup\\srv\\share\\evil.exe", "\\\\srv\\share\\evil.exe");
  norm_is("//srv/share/x/../../../evil.exe", "\\\\srv\\share\\evil.exe");
  /* patterns keep their wildcards */
  norm_is("*\\evil.exe", "*\\evil.exe");
  norm_is("\\??\\C:\\tmp\\*", "C:\\tmp\\*");
  /* a name that does not fit is refused, never cut; the exact size fits */
  CHECK(strcmp(norm("\\??\\C:\\tmp\\evil.exe", 14), "<none>") == 0, "one unit short: refused");
  CHECK(strcmp(norm("\\??\\C:\\tmp\\evil.exe", 15), "C:\\tmp\\evil.exe") == 0, "the exact size fits");
  CHECK(strcmp(norm("\\??\\UNC\\s\\h", 1), "<none>") == 0, "UNC lead does not fit");
}

static void test_match(void) {
  CHECK(match("*\\blocked.exe", "\\??\\C:\\evil\\blocked.exe"), "star prefix");
  CHECK(match("*\\BLOCKED.EXE", "\\??\\C:\\evil\\blocked.exe"), "ASCII case folded");
  CHECK(!match("*\\blocked.exe", "\\??\\C:\\evil\\blocked.exe2"), "anchored at the end");
  CHECK(!match("*\\blocked.exe", "\\??\\C:\\evil\\notblocked.exe"), "separator required");
  CHECK(match("C:\\t?mp\\*.exe", "C:\\temp\\a.exe"), "question mark");
  CHECK(!match("C:\\t?mp\\*.exe", "C:\\teemp\\a.exe"), "question mark is one unit");
  CHECK(match("*", ""), "star matches empty");
  CHECK(match("**a*b*", "xxaxxbxx"), "several stars");
  CHECK(!match("a*b*c", "abab"), "backtracking fails cleanly");
  CHECK(match("", ""), "empty matches empty");
  CHECK(!match("", "a"), "empty pattern matches nothing else");
  {
    uint16_t pat[] = {'*', 0x00E9}, name[] = {'x', 0x00C9};
    CHECK(!pr_match(pat, 2, name, 2, NULL), "non-ASCII is not case folded by default");
    CHECK(pr_match(pat, 2, name, 2, latin1_upcase), "non-ASCII folded by the upcase function given");
  }
}

static void test_utf16(void) {
  uint8_t in[] = {'a', 0, 0xFC, 0x00, 0x34, 0xD8, 0x1E, 0xDD, 0x00, 0xD8, 'b', 0};
  /* a, U+00FC, U+1D11E (pair), unpaired high surrogate, b */
  uint8_t out[32];
  uint32_t used = 0, n = pr_utf16_to_utf8(in, sizeof(in), out, sizeof(out), &used);
  static const uint8_t want[] = {'a', 0xC3, 0xBC, 0xF0, 0x9D, 0x84, 0x9E, 0xED, 0xA0, 0x80, 'b'};
  CHECK(n == sizeof(want) && memcmp(out, want, n) == 0 && used == 6,
        "UTF-16 to UTF-8 with a pair, and a lone half kept as its value (WTF-8)");
  n = pr_utf16_to_utf8(in, sizeof(in), out, 5, &used);
  CHECK(n == 3 && used == 2, "stops before a character that does not fit");
  n = pr_utf16_to_utf8(in, 3, out, sizeof(out), &used);
  CHECK(n == 1 && used == 1, "an odd last byte is ignored");
  CHECK(pr_filetime_to_unix_ns(PR_FILETIME_UNIX_EPOCH + 10) == 1000, "FILETIME to ns");
  CHECK(pr_filetime_to_unix_ns(5) == 0, "before 1970 is 0");
}

/* A wire process-create record with UTF-16 image and command line. */
static uint32_t wire_create(uint8_t *buf, const char *image, const char *cmd, uint32_t full_units) {
  struct pr_builder b;
  struct pr_rec_process_create *r;
  uint32_t iu, cu;
  uint16_t *wi = u16(image, &iu), *wc = u16(cmd, &cu);
  pr_rb_init(&b, buf, 4096, PR_REC_PROCESS_CREATE, sizeof(*r));
  r = (struct pr_rec_process_create *)(void *)buf;
  r->h.mono_ns = 1000;                             /* 100 us since boot */
  r->h.utc_ns = PR_FILETIME_UNIX_EPOCH + 50000000; /* 5 s after 1970 */
  r->h.pid = 42;
  r->h.flags = PR_F_CMDLINE;
  r->parent_pid = 7;
  r->start_ns = PR_FILETIME_UNIX_EPOCH + 50000000 - 400; /* 40 us before the event */
  r->info.argv_full_len = full_units * 2;
  r->info.argc = 1;
  pr_rb_add_str(&b, offsetof(struct pr_rec_process_create, info.image), wi, iu * 2, 0);
  pr_rb_add_str(&b, offsetof(struct pr_rec_process_create, info.argv), wc, cu * 2, 0);
  free(wi);
  free(wc);
  return pr_rb_finish(&b);
}

static void test_convert(void) {
  uint8_t *wire = malloc(4096), *out = malloc(4096), tmp[1024];
  uint32_t ws = wire_create(wire, "\\??\\C:\\x.exe", "x.exe -a", 8), used = 0;
  int32_t n = pr_wire_convert(wire, ws, out, 4096, tmp, sizeof(tmp), 4096, &used);
  const struct pr_rec_process_create *r = (const void *)out;
  CHECK(n > 0 && (uint32_t)n == r->h.size && n % 8 == 0 && used == ws, "converts a process create");
  CHECK(r->h.mono_ns == 100000 && r->h.utc_ns == 5000000000ull, "times in ns");
  CHECK(r->start_ns == 60000, "start moved onto the monotonic clock");
  CHECK(r->info.image.len == 12 && memcmp(out + r->info.image.off, "\\??\\C:\\x.exe", 12) == 0, "image in UTF-8");
  CHECK(r->info.argv.len == 8 && memcmp(out + r->info.argv.off, "x.exe -a", 8) == 0, "command line in UTF-8");
  CHECK(r->info.argv_full_len == 8 && r->h.flags == PR_F_CMDLINE && r->parent_pid == 7, "fields kept");

  /* the DLL's limit cuts the command line: flag and a lower bound */
  ws = wire_create(wire, "\\x.exe", "0123456789", 25);
  n = pr_wire_convert(wire, ws, out, 4096, tmp, sizeof(tmp), 4, &used);
  CHECK(n > 0 && r->info.argv.len == 4 && (r->h.flags & PR_F_ARGV_TRUNCATED) && r->info.argv_full_len == 10 + 15,
        "cut at max_string, full length a lower bound");
  CHECK((r->h.flags & PR_F_IMAGE_TRUNCATED) && r->info.image.len == 4, "image cut too");

  /* out too small, malformed records, a record cut short in the batch */
  n = pr_wire_convert(wire, ws, out, 100, tmp, sizeof(tmp), 4096, &used);
  CHECK(n == 0, "0 when out is too small");
  n = pr_wire_convert(wire, ws - 8, out, 4096, tmp, sizeof(tmp), 4096, &used);
  CHECK(n == -1 && used == 0, "a record longer than the batch is malformed");
  {
    struct pr_rec_process_create *w = (void *)wire;
    w->info.argv.len = 4000;
    n = pr_wire_convert(wire, ws, out, 4096, tmp, sizeof(tmp), 4096, &used);
    CHECK(n == -1 && used == ws, "a string outside its record is malformed, the record skippable");
    w->info.argv.len = 3;
    n = pr_wire_convert(wire, ws, out, 4096, tmp, sizeof(tmp), 4096, &used);
    CHECK(n == -1, "an odd UTF-16 length is malformed");
  }
  {
    struct pr_rec_lost l;
    memset(&l, 0, sizeof(l));
    l.h.kind = PR_REC_LOST;
    l.h.size = sizeof(l);
    l.h.utc_ns = PR_FILETIME_UNIX_EPOCH + 1;
    l.h.mono_ns = 3;
    l.reason = PR_LOST_DRIVER_QUEUE;
    l.count = 17;
    n = pr_wire_convert((const uint8_t *)&l, sizeof(l), out, 4096, tmp, sizeof(tmp), 4096, &used);
    {
      const struct pr_rec_lost *o = (const void *)out;
      CHECK(n == (int32_t)sizeof(l) && o->count == 17 && o->reason == PR_LOST_DRIVER_QUEUE && o->h.mono_ns == 300 &&
                o->h.utc_ns == 100,
            "lost record keeps its count");
    }
  }
  {
    uint8_t unk[48];
    struct pr_rec_header h;
    memset(unk, 0xAB, sizeof(unk));
    memset(&h, 0, sizeof(h));
    h.kind = 200;
    h.size = sizeof(unk);
    h.mono_ns = 2;
    memcpy(unk, &h, sizeof(h));
    n = pr_wire_convert(unk, sizeof(unk), out, 4096, tmp, sizeof(tmp), 4096, &used);
    CHECK(n == (int32_t)sizeof(unk) && out[47] == 0xAB && ((struct pr_rec_header *)(void *)out)->mono_ns == 200,
          "unknown kinds pass through by size");
  }
  free(wire);
  free(out);
}

/* Converts rules into a heap buffer of exactly cap units (ASan sees any
 * write past it). */
static int32_t rules(const char *arg, uint32_t len, uint32_t cap, uint16_t *copy, uint32_t *units) {
  uint16_t *w = malloc(cap * sizeof(uint16_t));
  char err[256] = "";
  int32_t rc = pr_rules_to_utf16((const uint8_t *)arg, len, w, cap, units, err, sizeof(err));
  if (rc == PR_OK && copy != NULL) memcpy(copy, w, *units * sizeof(uint16_t));
  CHECK(rc == PR_OK || strstr(err, "block rules: ") == err, "a rule error names the rules");
  free(w);
  return rc;
}

static void test_rules(void) {
  uint16_t got[16];
  uint32_t units = 99;
  char *big = malloc(5000);
  CHECK(rules("ab\0\0c", 6, 16, got, &units) == PR_OK, "two patterns and an empty one");
  CHECK(units == 5 && got[0] == 'a' && got[1] == 'b' && got[2] == 0 && got[3] == 'c' && got[4] == 0,
        "each pattern NUL-terminated, empty ones skipped");
  CHECK(rules("", 0, 16, got, &units) == PR_OK && units == 0, "no rules");
  CHECK(rules("\xc3\xbc\xf0\x9d\x84\x9e", 6, 16, got, &units) == PR_OK && units == 4 && got[0] == 0xFC &&
            got[1] == 0xD834 && got[2] == 0xDD1E && got[3] == 0,
        "UTF-8 to UTF-16 with a surrogate pair");
  CHECK(rules("\xc3", 1, 16, NULL, &units) == PR_E_INVAL, "a cut sequence is not UTF-8");
  CHECK(rules("\xc0\xaf", 2, 16, NULL, &units) == PR_E_INVAL, "an overlong form is not UTF-8");
  CHECK(rules("\xed\xa0\x80", 3, 16, NULL, &units) == PR_E_INVAL, "an encoded surrogate is not UTF-8");
  CHECK(rules("\xf4\x90\x80\x80", 4, 16, NULL, &units) == PR_E_INVAL, "above U+10FFFF is not UTF-8");
  CHECK(rules("\xc3\0", 2, 16, NULL, &units) == PR_E_INVAL, "a NUL inside a sequence");
  /* the driver's 2048 units exactly: 2047 units and their NUL fit ... */
  memset(big, 'x', 5000);
  CHECK(rules(big, 2047, 2048, NULL, &units) == PR_OK && units == 2048, "a list filling the buffer exactly");
  CHECK(rules(big, 2048, 2048, NULL, &units) == PR_E_INVAL, "one unit more does not fit");
  /* ... and a second pattern once the buffer is full is refused, never
   * written past its end (defect 4: the DLL wrote a NUL past w[2048]) */
  big[2047] = 0;
  CHECK(rules(big, 5000, 2048, NULL, &units) == PR_E_INVAL, "a pattern after a full list is refused");
  big[2046] = 0;
  CHECK(rules(big, 2049, 2048, NULL, &units) == PR_E_INVAL, "a pair that would need the last unit is refused");
  CHECK(rules("\xf0\x9d\x84\x9e", 4, 2, NULL, &units) == PR_E_INVAL, "a surrogate pair without room for its NUL");
  free(big);
}

static void test_options(void) {
  struct procrec_options o;
  struct pr_dll_opts d;
  char err[256];
  CHECK(pr_dll_options(NULL, &d, err, sizeof(err)) == PR_OK && d.ring_bytes == PR_DLL_RING_DEFAULT &&
            d.max_string == PR_DLL_MAX_STRING_DEFAULT && d.source == PR_SOURCE_AUTO,
        "no options: defaults");
  memset(&o, 0, sizeof(o));
  o.size = sizeof(o);
  o.source = PR_SOURCE_WINDOWS;
  o.flags = PR_OPT_IMAGE_LOAD;
  o.max_string = 300;
  o.ring_bytes = PR_DLL_RING_MIN;
  CHECK(pr_dll_options(&o, &d, err, sizeof(err)) == PR_OK && d.max_string == 300 && d.ring_bytes == PR_DLL_RING_MIN &&
            d.flags == PR_OPT_IMAGE_LOAD,
        "options kept");
  o.size = (uint32_t)offsetof(struct procrec_options, reserved);
  CHECK(pr_dll_options(&o, &d, err, sizeof(err)) == PR_OK, "a size up to reserved is accepted (older callers)");
  o.size = 8;
  CHECK(pr_dll_options(&o, &d, err, sizeof(err)) == PR_E_ABI && strstr(err, "options size 8") != NULL, "size too small");
  o.size = 5000;
  CHECK(pr_dll_options(&o, &d, err, sizeof(err)) == PR_E_ABI, "size too large");
  o.size = sizeof(o);
  o.source = 9;
  CHECK(pr_dll_options(&o, &d, err, sizeof(err)) == PR_E_INVAL && strstr(err, "unknown source 9") != NULL,
        "unknown source");
  o.source = PR_SOURCE_EBPF;
  CHECK(pr_dll_options(&o, &d, err, sizeof(err)) == PR_E_NOSUP && strstr(err, "not available on Windows") != NULL,
        "a Linux source");
  o.source = PR_SOURCE_AUTO;
  o.max_string = PR_DLL_MAX_STRING_LIMIT + 1;
  CHECK(pr_dll_options(&o, &d, err, sizeof(err)) == PR_E_INVAL && strstr(err, "max_string 8193") != NULL,
        "max_string above the limit is refused, not clamped");
  o.max_string = 0;
  o.ring_bytes = PR_DLL_RING_MIN - 8;
  CHECK(pr_dll_options(&o, &d, err, sizeof(err)) == PR_E_INVAL && strstr(err, "ring_bytes") != NULL,
        "a ring too small is refused, not enlarged");
}

/* UTF-16 of an ASCII string (static buffers, one per argument slot). */
static const uint16_t *w(int slot, const char *s) {
  static uint16_t buf[3][256];
  size_t i = 0;
  for (; s[i] != 0 && i < 255; i++) buf[slot][i] = (uint8_t)s[i];
  buf[slot][i] = 0;
  return buf[slot];
}

static void test_driver_path(void) {
  const char *ours = "C:\\Windows\\System32\\drivers\\procrec.sys";
  CHECK(pr_same_driver_path(w(0, "\\??\\C:\\Windows\\System32\\drivers\\procrec.sys"), w(1, ours), w(2, "C:\\Windows")),
        "\\??\\ prefix");
  CHECK(pr_same_driver_path(w(0, "\\SystemRoot\\system32\\DRIVERS\\procrec.sys"), w(1, ours), w(2, "C:\\Windows")),
        "\\SystemRoot\\ and case");
  CHECK(pr_same_driver_path(w(0, "System32\\drivers\\procrec.sys"), w(1, ours), w(2, "C:\\Windows")),
        "relative to SystemRoot");
  CHECK(!pr_same_driver_path(w(0, "\\??\\C:\\Users\\me\\procrec.sys"), w(1, ours), w(2, "C:\\Windows")),
        "another file");
  CHECK(!pr_same_driver_path(w(0, "\\??\\C:\\Windows\\System32\\drivers\\procrec.sys2"), w(1, ours),
                             w(2, "C:\\Windows")),
        "a longer name");
}

static void test_copy_text(void) {
  char buf[4] = {'x', 'x', 'x', 'x'};
  CHECK(pr_copy_text(buf, sizeof(buf), "hello") == 5 && strcmp(buf, "hel") == 0, "cut, NUL-terminated, full length");
  CHECK(pr_copy_text(NULL, 0, "hello") == 5, "the length without a buffer");
  CHECK(pr_copy_text(buf, 1, "hello") == 5 && buf[0] == 0, "one byte: just the NUL");
}

int main(void) {
  test_rules();
  test_options();
  test_copy_text();
  test_driver_path();
  test_match();
  test_norm_path();
  test_utf16();
  test_convert();
  printf("%s: %d checks, %d failures\n", fails ? "FAILED" : "passed", checks, fails);
  return fails ? 1 : 0;
}
