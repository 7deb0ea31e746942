/*
 * chunk_encoder.c - procrec_encode_cbor (chunk_encoder.h): C records to the
 * CBOR event arrays of a chunk body, byte for byte as the TypeScript path
 * (cli/native/decode_records.ts, cli/log/schema.ts encodeEventTo,
 * cli/log/event_body_encoder.ts) writes them. tests/chunk_encoder_test.ts
 * compares the two on every kind, edge values and random records.
 *
 * What the TypeScript path does, and so this file:
 *  - numbers are JavaScript numbers: integers in [0, 2^32) as CBOR unsigned,
 *    in [-2^32, 0) as CBOR negative, anything else (a time past 4.3 s, a
 *    64-bit inode) as a float64 of the value rounded to a double;
 *  - strings are decoded as TextDecoder("utf-8") does (each maximal invalid
 *    subpart becomes U+FFFD, a leading byte order mark is dropped), then
 *    encoded as UTF-8 with the shortest head;
 *  - absent fields are null, trailing nulls are left out;
 *  - a record whose fields are out of bounds becomes a lost event of reason
 *    "decode" (count 1); a record of an unknown kind is skipped.
 */
#include "chunk_encoder.h"

#include <string.h>

#include "../include/procrec_abi.h"

struct enc {
  uint8_t *p;
  uint8_t *end;
  int full; /* a write did not fit: the record is rolled back */
};

static void put(struct enc *e, uint8_t b) {
  if (e->p < e->end) *e->p++ = b;
  else e->full = 1;
}

/* A CBOR head: major type (shifted) and a 32-bit argument, shortest form. */
static void head(struct enc *e, uint8_t major, uint32_t n) {
  if (n < 24) put(e, (uint8_t)(major | n));
  else if (n < 0x100) {
    put(e, major | 24);
    put(e, (uint8_t)n);
  } else if (n < 0x10000) {
    put(e, major | 25);
    put(e, (uint8_t)(n >> 8));
    put(e, (uint8_t)n);
  } else {
    put(e, major | 26);
    put(e, (uint8_t)(n >> 24));
    put(e, (uint8_t)(n >> 16));
    put(e, (uint8_t)(n >> 8));
    put(e, (uint8_t)n);
  }
}

/* A JavaScript number as cbor-x (and event_body_encoder.ts) writes it. */
static void num(struct enc *e, double d) {
  if (d >= 0 && d < 4294967296.0 && d == (double)(uint32_t)d) {
    head(e, 0x00, (uint32_t)d);
    return;
  }
  if (d < 0 && d >= -4294967296.0 && d == (double)(int64_t)d) {
    uint32_t m = (uint32_t)(-1 - (int64_t)d);
    if (d >= -2147483648.0) head(e, 0x20, m);
    else {
      put(e, 0x3a);
      put(e, (uint8_t)(m >> 24));
      put(e, (uint8_t)(m >> 16));
      put(e, (uint8_t)(m >> 8));
      put(e, (uint8_t)m);
    }
    return;
  }
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  put(e, 0xfb);
  for (int i = 7; i >= 0; i--) put(e, (uint8_t)(bits >> (8 * i)));
}

static void u32v(struct enc *e, uint32_t v) { head(e, 0x00, v); }
static void boolv(struct enc *e, int v) { put(e, v ? 0xf5 : 0xf4); }
static void nullv(struct enc *e) { put(e, 0xf6); }

/* a - b as the JavaScript number Number(BigInt(a) - BigInt(b)) (rounded). */
static double diff_ns(uint64_t a, uint64_t b) {
  return a >= b ? (double)(a - b) : -(double)(b - a);
}

/*
 * Bytes as TextDecoder("utf-8") decodes them, re-encoded as UTF-8: each
 * maximal subpart of an invalid sequence becomes EF BF BD (the WHATWG
 * decoder). Writes to `dst` when not NULL; returns the output length and
 * sets bit 1 of `*replaced` when a replacement was made inside, bit 2 when
 * the bytes end inside a sequence (its one replacement at the end).
 */
static uint32_t utf8_fix(const uint8_t *s, uint32_t n, uint8_t *dst, int *replaced) {
  uint32_t o = 0, i = 0, start = 0;
  uint32_t needed = 0, seen = 0;
  uint8_t lower = 0x80, upper = 0xbf;
  int inside = 0;
#define EMIT_FFFD()                                                                                \
  do {                                                                                             \
    if (dst) dst[o] = 0xef, dst[o + 1] = 0xbf, dst[o + 2] = 0xbd;                                  \
    o += 3;                                                                                        \
    inside = 1;                                                                                    \
  } while (0)
  while (i < n) {
    uint8_t b = s[i];
    if (needed == 0) {
      if (b < 0x80) {
        if (dst) dst[o] = b;
        o++;
      } else if (b >= 0xc2 && b <= 0xdf) {
        needed = 1, start = i;
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b == 0xe0) lower = 0xa0;
        if (b == 0xed) upper = 0x9f;
        needed = 2, start = i;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b == 0xf0) lower = 0x90;
        if (b == 0xf4) upper = 0x8f;
        needed = 3, start = i;
      } else EMIT_FFFD();
      i++;
      continue;
    }
    if (b < lower || b > upper) {
      needed = seen = 0, lower = 0x80, upper = 0xbf;
      EMIT_FFFD();
      continue; /* the byte is read again */
    }
    lower = 0x80, upper = 0xbf;
    i++;
    if (++seen == needed) {
      uint32_t len = i - start;
      if (dst) memcpy(dst + o, s + start, len);
      o += len;
      needed = seen = 0;
    }
  }
  *replaced = inside;
  if (needed) {
    if (dst) dst[o] = 0xef, dst[o + 1] = 0xbf, dst[o + 2] = 0xbd;
    o += 3;
    *replaced |= 2;
  }
#undef EMIT_FFFD
  return o;
}

/* A text string from raw bytes, every byte kept (a leading EF BB BF too: it
 * is evidence); bytes that are not UTF-8 become U+FFFD, as the TypeScript
 * decoder reads them. */
static void text_raw(struct enc *e, const uint8_t *s, uint32_t n) {
  int replaced = 0;
  uint32_t len = utf8_fix(s, n, NULL, &replaced);
  head(e, 0x60, len);
  if (e->full) return;
  if ((uint64_t)(e->end - e->p) < len) {
    e->full = 1;
    return;
  }
  if (!replaced) {
    if (n) memcpy(e->p, s, n); /* valid: the bytes themselves */
  } else utf8_fix(s, n, e->p, &replaced);
  e->p += len;
}

static void text_c(struct enc *e, const char *s) { text_raw(e, (const uint8_t *)s, (uint32_t)strlen(s)); }

/* ---- reading a record ---- */

struct rec {
  const uint8_t *b; /* the record */
  uint32_t size;
  int bad; /* a field is out of bounds: the record becomes a lost event "decode" */
};

static uint32_t rd32(const struct rec *r, uint32_t at) {
  uint32_t v;
  memcpy(&v, r->b + at, 4);
  return v;
}
static uint64_t rd64(const struct rec *r, uint32_t at) {
  uint64_t v;
  memcpy(&v, r->b + at, 8);
  return v;
}

/* A struct pr_str at `at`: 0 absent, 1 present (possibly empty); bad when out of bounds. */
struct str {
  const uint8_t *s;
  uint32_t n;
  int present;
};
static struct str rdstr(struct rec *r, uint32_t at) {
  struct str out = {0, 0, 0};
  uint32_t so = rd32(r, at), sl = rd32(r, at + 4);
  if (sl == 0) {
    out.present = so != 0;
    return out;
  }
  if (so < 40 || so > r->size || sl > r->size - so) {
    r->bad = 1;
    return out;
  }
  out.s = r->b + so, out.n = sl, out.present = 1;
  return out;
}

/* ---- the info array (INFO_LAYOUT of schema.ts) ---- */

enum slot_type { S_NULL = 0, S_NUM, S_U32, S_STR, S_TRUE, S_ARGV, S_FROM, S_NS, S_TEXT };
struct slot {
  enum slot_type type;
  double d;
  uint32_t u;
  struct str s;
  const char *c;
};
#define INFO_SLOTS 22

struct info {
  struct slot v[INFO_SLOTS];
  uint8_t prov[8];
  uint32_t argc;
  int present;
};

/* Added to a provenance code of `from` when the field's bytes are not UTF-8
 * (NOT_UTF8 of cli/log/schema.ts). */
#define FROM_NOT_UTF8 8
/* A comm this long may be cut (the kernel keeps TASK_COMM_LEN - 1 bytes). */
#define COMM_CUT 15

/* The bytes are not UTF-8: text_raw writes them with U+FFFD. Of a text cut
 * at capture (`cut`), a sequence its end cuts short does not count: the
 * bytes were UTF-8 up to the cut. */
static int not_utf8(struct str s, int cut) {
  int replaced = 0;
  if (s.present && s.n) utf8_fix(s.s, s.n, NULL, &replaced);
  return cut ? replaced & 1 : replaced;
}

static const char *const INTEGRITY_NAMES[] = {"Untrusted", "Low", "Medium", "High", "System", "Protected"};

/* readInfo of decode_records.ts: fills `in`, or marks the record bad. */
static void read_info(struct rec *r, uint32_t at, uint16_t flags, struct info *in, char *integ_buf) {
  memset(in, 0, sizeof *in);
  int any = 0;
  for (int i = 0; i < 8; i++) {
    uint8_t c = r->b[at + 8 + i];
    if (c > PR_PROV_DENIED) {
      r->bad = 1;
      return;
    }
    in->prov[i] = c;
    if (c) any = 1;
  }
#define USABLE(i) (in->prov[i] <= PR_PROV_PROC)
#define READ(i) (in->prov[i] == PR_PROV_KERNEL || in->prov[i] == PR_PROV_PROC)
  struct str image = rdstr(r, at + 24), argv = rdstr(r, at + 32), comm = rdstr(r, at + 40), cwd = rdstr(r, at + 48);
  if (r->bad) return;
  if (image.present && USABLE(0)) in->v[0] = (struct slot){.type = S_STR, .s = image}, any = 1;
  if (argv.present && USABLE(1)) {
    if (flags & PR_F_CMDLINE) in->v[8] = (struct slot){.type = S_STR, .s = argv};
    else in->v[1] = (struct slot){.type = S_ARGV, .s = argv}, in->argc = rd32(r, at + 20);
    any = 1;
  }
  if (comm.present && USABLE(2)) in->v[2] = (struct slot){.type = S_STR, .s = comm}, any = 1;
  if (cwd.present && USABLE(3)) in->v[3] = (struct slot){.type = S_STR, .s = cwd}, any = 1;
  if (READ(4)) {
    in->v[4] = (struct slot){.type = S_U32, .u = rd32(r, at)};
    in->v[5] = (struct slot){.type = S_U32, .u = rd32(r, at + 4)};
    in->v[10] = (struct slot){.type = S_U32, .u = rd32(r, at + 56)};
    in->v[11] = (struct slot){.type = S_U32, .u = rd32(r, at + 60)};
    if (rd32(r, at + 64) != PR_ID_UNSET) in->v[12] = (struct slot){.type = S_U32, .u = rd32(r, at + 64)};
    if (rd32(r, at + 68) != PR_ID_UNSET) in->v[13] = (struct slot){.type = S_U32, .u = rd32(r, at + 68)};
    uint32_t integrity = rd32(r, at + 76);
    if (integrity & PR_INTEGRITY_KNOWN) {
      uint32_t rid = integrity & 0xffff;
      const char *name = NULL;
      switch (rid) {
      case 0x0000: name = INTEGRITY_NAMES[0]; break;
      case 0x1000: name = INTEGRITY_NAMES[1]; break;
      case 0x2000: name = INTEGRITY_NAMES[2]; break;
      case 0x2100: name = "MediumPlus"; break;
      case 0x3000: name = INTEGRITY_NAMES[3]; break;
      case 0x4000: name = INTEGRITY_NAMES[4]; break;
      case 0x5000: name = INTEGRITY_NAMES[5]; break;
      default: {
        static const char hex[] = "0123456789abcdef";
        char tmp[8];
        int n = 0;
        do tmp[n++] = hex[rid & 0xf], rid >>= 4;
        while (rid);
        integ_buf[0] = '0', integ_buf[1] = 'x';
        for (int i = 0; i < n; i++) integ_buf[2 + i] = tmp[n - 1 - i];
        integ_buf[2 + n] = 0;
        name = integ_buf;
      }
      }
      in->v[21] = (struct slot){.type = S_TEXT, .c = name};
    }
    struct str user = rdstr(r, at + 136);
    if (r->bad) return;
    if (user.present) in->v[9] = (struct slot){.type = S_STR, .s = user};
  }
  uint32_t image_flags = rd32(r, at + 72);
  if (READ(5)) {
    in->v[14] = (struct slot){.type = S_NUM, .d = (double)rd64(r, at + 80)};
    in->v[15] = (struct slot){.type = S_NUM, .d = (double)rd64(r, at + 88)};
    if (image_flags & PR_I_FILELESS) in->v[16].type = S_TRUE;
    if (image_flags & PR_I_DELETED) in->v[17].type = S_TRUE;
    any = 1;
  }
  if (READ(7)) {
    uint64_t id = rd64(r, at + 96);
    if (id) in->v[18] = (struct slot){.type = S_NUM, .d = (double)id};
    struct str cg = rdstr(r, at + 128);
    if (r->bad) return;
    if (cg.present) in->v[19] = (struct slot){.type = S_STR, .s = cg};
    any = 1;
  }
  if (READ(6)) in->v[20].type = S_NS, any = 1;
  if (flags & PR_F_ARGV_TRUNCATED) in->v[7].type = S_TRUE;
  /* a text whose bytes are not UTF-8 (written with U+FFFD) says so in its
   * field's provenance code (format 7; readInfo of decode_records.ts) */
  {
    /* (cut at capture: an image or arguments past the limit, a cgroup path
     * past it, a comm at the kernel's 15 bytes) */
    int argv_cut = (flags & PR_F_ARGV_TRUNCATED) != 0;
    if (in->v[0].type == S_STR && not_utf8(in->v[0].s, (flags & PR_F_IMAGE_TRUNCATED) != 0))
      in->prov[0] |= FROM_NOT_UTF8;
    if ((in->v[1].type == S_ARGV && not_utf8(in->v[1].s, argv_cut)) ||
        (in->v[8].type == S_STR && not_utf8(in->v[8].s, argv_cut)))
      in->prov[1] |= FROM_NOT_UTF8;
    if (in->v[2].type == S_STR && not_utf8(in->v[2].s, in->v[2].s.n >= COMM_CUT)) in->prov[2] |= FROM_NOT_UTF8;
    if (in->v[3].type == S_STR && not_utf8(in->v[3].s, 0)) in->prov[3] |= FROM_NOT_UTF8;
    if (in->v[9].type == S_STR && not_utf8(in->v[9].s, 0)) in->prov[4] |= FROM_NOT_UTF8;
    if (in->v[19].type == S_STR && not_utf8(in->v[19].s, (image_flags & PR_I_CGROUP_TRUNCATED) != 0))
      in->prov[7] |= FROM_NOT_UTF8;
  }
  /* from: the provenance codes, null when all are 0, trailing zeros cut down to 5 */
  int nz = 0;
  for (int i = 0; i < 8; i++)
    if (in->prov[i]) nz = 1;
  if (nz) in->v[6].type = S_FROM;
  in->present = any;
#undef USABLE
#undef READ
}

/* The decoded string is not "" (a TypeScript truth test). */
static int nonempty(struct str s) { return s.present && s.n > 0; }

/* splitArgv of decode_records.ts (`pop`: drop a trailing empty part as it does). */
static void argv_array(struct enc *e, struct str s, uint32_t argc, int pop) {
  const uint8_t *p = s.s;
  uint32_t n = s.n;
  if (n == 0) {
    /* "" → [""] when argc > 0 (decode_records), always [""] for an exec decision's split */
    if (!pop || argc > 0) {
      head(e, 0x80, 1);
      head(e, 0x60, 0);
    } else head(e, 0x80, 0);
    return;
  }
  uint32_t parts = 1;
  for (uint32_t i = 0; i < n; i++)
    if (p[i] == 0) parts++;
  uint32_t keep = parts;
  if (pop && parts > 1 && p[n - 1] == 0 && (argc == 0 || parts == argc + 1)) keep--;
  head(e, 0x80, keep);
  uint32_t from = 0, k = 0;
  for (uint32_t i = 0; i <= n && k < keep; i++) {
    if (i == n || p[i] == 0) {
      text_raw(e, p + from, i - from);
      from = i + 1;
      k++;
    }
  }
}

static void write_slot(struct enc *e, const struct rec *r, uint32_t at, const struct info *in, int i) {
  const struct slot *s = &in->v[i];
  switch (s->type) {
  case S_NULL: nullv(e); break;
  case S_NUM: num(e, s->d); break;
  case S_U32: u32v(e, s->u); break;
  case S_STR: text_raw(e, s->s.s, s->s.n); break;
  case S_TEXT: text_c(e, s->c); break;
  case S_TRUE: boolv(e, 1); break;
  case S_ARGV: argv_array(e, s->s, in->argc, 1); break;
  case S_FROM: {
    int n = 8;
    while (n > 5 && in->prov[n - 1] == 0) n--;
    head(e, 0x80, (uint32_t)n);
    for (int j = 0; j < n; j++) u32v(e, in->prov[j]);
    break;
  }
  case S_NS:
    head(e, 0x80, 5);
    for (int j = 0; j < 5; j++) u32v(e, rd32(r, at + 104 + 4 * (uint32_t)j));
    break;
  }
}

static void write_info(struct enc *e, const struct rec *r, uint32_t at, const struct info *in) {
  int n = INFO_SLOTS;
  while (n > 0 && in->v[n - 1].type == S_NULL) n--;
  head(e, 0x80, (uint32_t)n);
  for (int i = 0; i < n; i++) write_slot(e, r, at, in, i);
}

/* ---- events ---- */

static const char *const LOST_NAMES[] = {"decode", "enobufs", "seq_gap", "ring_full", "bpf_reserve", "driver_queue", "decode"};
static const char *const HASH_STATUS_NAMES[] = {NULL, "ok", "changed", "gone", "error", "skipped"};
static const char *const HASH_WHY[] = {NULL, "other-file", "ctime-after-exec", "changed-while-read",
                                       "no-identity", "no-path", "path-missing"};

static const char *errno_name(uint32_t err) {
  switch (err) {
  case 1: return "EPERM";
  case 2: return "ENOENT";
  case 5: return "EIO";
  case 12: return "ENOMEM";
  case 13: return "EACCES";
  case 20: return "ENOTDIR";
  case 21: return "EISDIR";
  case 40: return "ELOOP";
  case 125: return "ECANCELED";
  }
  return NULL;
}

static uint32_t fixed_bytes(uint16_t kind) {
  switch (kind) {
  case PR_REC_PROCESS_CREATE: return 216;
  case PR_REC_EXEC: return 192;
  case PR_REC_PROCESS_EXIT: return 56;
  case PR_REC_THREAD_CREATE: return 56;
  case PR_REC_THREAD_EXIT: return 48;
  case PR_REC_COMM: return 48;
  case PR_REC_LOST: return 56;
  case PR_REC_SNAPSHOT: return 200;
  case PR_REC_IMAGE_LOAD: return 64;
  case PR_REC_EXEC_DECISION: return 120;
  case PR_REC_HASH: return 144;
  }
  return 0;
}

/* The fields common to every event: its array head, code, t, pid, tid. */
static void common(struct enc *e, uint32_t n, uint32_t code, double t, uint32_t pid, uint32_t tid) {
  head(e, 0x80, n);
  u32v(e, code);
  num(e, t);
  u32v(e, pid);
  u32v(e, tid);
}

/* A decimal number into buf (NUL-terminated); returns buf. */
static const char *decimal(char *buf, const char *prefix, uint32_t v) {
  char tmp[12];
  int n = 0;
  do tmp[n++] = (char)('0' + v % 10), v /= 10;
  while (v);
  size_t p = strlen(prefix);
  memcpy(buf, prefix, p);
  for (int i = 0; i < n; i++) buf[p + (size_t)i] = tmp[n - 1 - i];
  buf[p + (size_t)n] = 0;
  return buf;
}

struct counts {
  uint64_t *res;
  uint32_t events;
};

/* Encodes one record (known kind, size >= its fixed size); returns its event
 * code, 0 when the record was bad (nothing written: the caller writes the
 * lost event). `lost_reason`/`lost_count`/`lost_unknown` describe a lost event. */
static uint32_t encode_one(struct enc *e, struct rec *r, uint16_t kind, double t, uint64_t base, uint32_t *lost_reason,
                           double *lost_count, int *lost_unknown) {
  uint16_t flags = (uint16_t)(r->b[2] | (r->b[3] << 8));
  uint32_t pid = rd32(r, 32), tid = rd32(r, 36);
  struct info in;
  char integ[16];
  char buf[40];
  switch (kind) {
  case PR_REC_THREAD_CREATE: {
    uint32_t cp = rd32(r, 40), ct = rd32(r, 44);
    int remote = cp != pid;
    common(e, remote ? 7 : 6, 4, t, pid, tid);
    u32v(e, cp);
    u32v(e, ct);
    if (remote) boolv(e, (flags & PR_F_REMOTE) != 0);
    return 4;
  }
  case PR_REC_THREAD_EXIT: {
    int exiting = (flags & PR_F_PROCESS_EXITING) != 0;
    common(e, exiting ? 6 : 5, 5, t, pid, tid);
    u32v(e, rd32(r, 40));
    if (exiting) boolv(e, 1);
    return 5;
  }
  case PR_REC_PROCESS_CREATE: {
    read_info(r, 72, flags, &in, integ);
    if (r->bad) return 0;
    uint64_t s = rd64(r, 56);
    int denied = (flags & PR_F_DENIED) != 0;
    common(e, denied ? 11 : in.present ? 10 : 9, 1, t, pid, tid);
    u32v(e, rd32(r, 40));
    u32v(e, rd32(r, 44));
    u32v(e, rd32(r, 48));
    u32v(e, rd32(r, 52));
    num(e, s == 0 ? t : diff_ns(s, base));
    if (in.present) write_info(e, r, 72, &in);
    else if (denied) nullv(e);
    if (denied) boolv(e, 1);
    return 1;
  }
  case PR_REC_EXEC:
    read_info(r, 48, flags, &in, integ);
    if (r->bad) return 0;
    common(e, 5, 2, t, pid, tid);
    if (in.present) write_info(e, r, 48, &in);
    else head(e, 0x80, 0); /* { from: {} } */
    return 2;
  case PR_REC_PROCESS_EXIT: {
    int inferred = (flags & PR_F_EXIT_INFERRED) != 0; /* inferred (format 9) */
    common(e, inferred ? 8 : 5, 3, t, pid, tid);
    u32v(e, rd32(r, 40));
    if (inferred) {
      nullv(e); /* guid */
      nullv(e); /* statusUnknown */
      boolv(e, 1);
    }
    return 3;
  }
  case PR_REC_COMM: {
    struct str c = rdstr(r, 40);
    if (r->bad) return 0;
    int bad = not_utf8(c, c.n >= COMM_CUT); /* notUtf8 (format 7) */
    common(e, bad ? 6 : 5, 6, t, pid, tid);
    text_raw(e, c.s, c.n);
    if (bad) boolv(e, 1);
    return 6;
  }
  case PR_REC_LOST: {
    uint32_t code = rd32(r, 40), cpu = rd32(r, 44);
    int unknown = (flags & PR_F_COUNT_UNKNOWN) != 0;
    double count = (double)rd64(r, 48);
    int with_cpu = cpu != 0xffffffffu;
    uint32_t reason = code >= 1 && code <= PR_LOST_DECODE ? code : PR_LOST_DECODE;
    common(e, with_cpu ? 8 : unknown ? 7 : 6, 7, t, pid, tid);
    text_c(e, LOST_NAMES[reason]);
    num(e, count);
    if (unknown) boolv(e, 1);
    else if (with_cpu) nullv(e);
    if (with_cpu) u32v(e, cpu);
    *lost_reason = reason, *lost_count = count, *lost_unknown = unknown;
    return 7;
  }
  case PR_REC_SNAPSHOT: {
    read_info(r, 56, flags, &in, integ);
    if (r->bad) return 0;
    uint64_t s = rd64(r, 48);
    common(e, in.present ? 7 : 6, 8, t, pid, tid);
    u32v(e, rd32(r, 40));
    num(e, s == 0 ? t : diff_ns(s, base));
    if (in.present) write_info(e, r, 56, &in);
    return 8;
  }
  case PR_REC_IMAGE_LOAD: {
    struct str img = rdstr(r, 56);
    if (r->bad) return 0;
    int bad = not_utf8(img, 0); /* notUtf8 (format 8) */
    common(e, bad ? 8 : 7, 9, t, pid, tid);
    text_raw(e, img.s, img.n);
    num(e, (double)rd64(r, 40));
    num(e, (double)rd64(r, 48));
    if (bad) boolv(e, 1);
    return 9;
  }
  case PR_REC_EXEC_DECISION: {
    uint32_t index = rd32(r, 40), action = rd32(r, 44);
    if (action != PR_RULE_DENY && action != PR_RULE_AUDIT) {
      r->bad = 1;
      return 0;
    }
    struct str argv = rdstr(r, 96), parent = rdstr(r, 104), cgroup = rdstr(r, 112), image = rdstr(r, 88);
    if (r->bad) return 0;
    uint64_t dev = rd64(r, 64), ino = rd64(r, 72);
    int truncated = (flags & PR_F_ARGV_TRUNCATED) != 0;
    int exempt = action == PR_RULE_AUDIT && (flags & PR_F_EXEMPT) != 0;
    int by_content = (flags & PR_F_BY_CONTENT) != 0;
    /* "" is falsy: no parentImage, no cgroup (a BOM alone is kept, as the
     * TypeScript path keeps it) */
    int has_parent = nonempty(parent), has_cgroup = nonempty(cgroup);
    int has_file = dev || ino;
    /* the texts whose bytes are not UTF-8 (format 8; DECISION_TEXT_FIELDS of
     * schema.ts, in order): a sequence that the arguments' cut at the limit
     * cuts short does not count */
    const char *bad[4];
    uint32_t nbad = 0;
    if (not_utf8(image, 0)) bad[nbad++] = "image";
    if (argv.present && not_utf8(argv, truncated)) bad[nbad++] = "argv";
    if (has_parent && not_utf8(parent, 0)) bad[nbad++] = "parentImage";
    if (has_cgroup && not_utf8(cgroup, 0)) bad[nbad++] = "cgroup";
    /* DECISION_LAYOUT: rule image ppid uid euid argv argvTruncated parentImage dev ino cgroup, then
     * exec_denied: [byContent [notUtf8]]; exec_audited: [exempt [byContent [notUtf8]]] */
    uint32_t n = nbad ? (action == PR_RULE_DENY ? 17 : 18)
               : by_content ? (action == PR_RULE_DENY ? 16 : 17)
               : exempt ? 16 : has_cgroup ? 15 : has_file ? 14 : has_parent ? 12 : truncated ? 11
               : argv.present ? 10 : 9;
    common(e, n, action == PR_RULE_DENY ? 11 : 12, t, pid, tid);
    text_c(e, decimal(buf, "#", index));
    text_raw(e, image.s, image.n);
    u32v(e, rd32(r, 48));
    u32v(e, rd32(r, 52));
    u32v(e, rd32(r, 56));
    if (n > 9) {
      if (argv.present) argv_array(e, argv, 0, 0);
      else nullv(e);
    }
    if (n > 10) {
      if (truncated) boolv(e, 1);
      else nullv(e);
    }
    if (n > 11) {
      if (has_parent) text_raw(e, parent.s, parent.n);
      else nullv(e);
    }
    if (n > 12) {
      if (has_file) num(e, (double)dev), num(e, (double)ino);
      else nullv(e), nullv(e);
    }
    if (n > 14) {
      if (has_cgroup) text_raw(e, cgroup.s, cgroup.n);
      else nullv(e);
    }
    if (n > 15) { /* exec_denied: byContent; exec_audited: exempt */
      if (action == PR_RULE_DENY ? by_content : exempt) boolv(e, 1);
      else nullv(e);
    }
    if (n > 16) {
      if (action == PR_RULE_DENY) { /* exec_denied: notUtf8 */
        head(e, 0x80, nbad);
        for (uint32_t i = 0; i < nbad; i++) text_c(e, bad[i]);
      } else if (by_content) boolv(e, 1); /* exec_audited: byContent */
      else nullv(e);
    }
    if (n > 17) { /* exec_audited: notUtf8 */
      head(e, 0x80, nbad);
      for (uint32_t i = 0; i < nbad; i++) text_c(e, bad[i]);
    }
    return action == PR_RULE_DENY ? 11 : 12;
  }
  case PR_REC_HASH: {
    uint32_t code = rd32(r, 56);
    if (code < PR_HASH_OK || code > PR_HASH_SKIPPED) {
      r->bad = 1;
      return 0;
    }
    uint32_t hflags = rd32(r, 60), err = rd32(r, 64);
    uint64_t exec_ns = rd64(r, 48), ino = rd64(r, 80);
    const char *reason = NULL;
    if (code == PR_HASH_CHANGED || code == PR_HASH_GONE) reason = err >= 1 && err <= 6 ? HASH_WHY[err] : NULL;
    else if (code == PR_HASH_SKIPPED) reason = err == 125 ? "stopped" : err == 27 ? "too-large" : "queue-full";
    else if (code == PR_HASH_ERROR) {
      reason = errno_name(err);
      if (!reason) reason = decimal(buf, "errno ", err);
    }
    const char *via = hflags & PR_H_VIA_EXE ? "exe" : hflags & PR_H_VIA_PATH ? "path" : NULL;
    int cached = (hflags & PR_H_CACHED) != 0;
    int ok = code == PR_HASH_OK;
    /* execT status sha256 cached via reason size */
    uint32_t n = ino ? 11 : reason ? 10 : via ? 9 : cached ? 8 : ok ? 7 : 6;
    common(e, n, 13, t, pid, tid);
    num(e, diff_ns(exec_ns, base));
    text_c(e, HASH_STATUS_NAMES[code]);
    if (n > 6) {
      if (ok) {
        static const char hex[] = "0123456789abcdef";
        char h[65];
        for (int i = 0; i < 32; i++) h[2 * i] = hex[r->b[112 + i] >> 4], h[2 * i + 1] = hex[r->b[112 + i] & 0xf];
        h[64] = 0;
        text_c(e, h);
      } else nullv(e);
    }
    if (n > 7) {
      if (cached) boolv(e, 1);
      else nullv(e);
    }
    if (n > 8) {
      if (via) text_c(e, via);
      else nullv(e);
    }
    if (n > 9) {
      if (reason) text_c(e, reason);
      else nullv(e);
    }
    if (n > 10) num(e, (double)rd64(r, 88));
    return 13;
  }
  }
  r->bad = 1;
  return 0;
}

PROCREC_API int32_t procrec_encode_cbor(const uint8_t *recs, uint32_t len, uint64_t base_mono, uint32_t watch_pid,
                                           uint8_t *out, uint32_t cap, uint32_t *ends, uint32_t ends_cap,
                                           uint64_t *res, double *meta) {
  memset(res, 0, PR_ENC_SLOTS * sizeof *res);
  for (int i = 0; i < 16; i++) res[PR_ENC_KIND_FIRST + i] = UINT64_MAX;
  for (int i = 0; i < 8; i++) res[PR_ENC_LOST_FIRST + i] = UINT64_MAX;
  double lost_sum[8] = {0};
  /* framing first, as decodeRecords throws before it returns any event */
  for (uint32_t off = 0; off < len;) {
    if (len - off < 40) return -1;
    uint32_t size;
    memcpy(&size, recs + off + 4, 4);
    if (size < 40 || size % 8 != 0 || size > len - off) return -1;
    off += size;
  }
  struct enc e = {out, out + cap, 0};
  uint32_t off = 0, events = 0;
  while (off < len) {
    struct rec r;
    uint16_t kind;
    memcpy(&kind, recs + off, 2);
    memcpy(&r.size, recs + off + 4, 4);
    r.b = recs + off;
    r.bad = 0;
    uint32_t fixed = fixed_bytes(kind);
    if (fixed == 0) {
      res[PR_ENC_UNKNOWN]++;
      off += r.size;
      continue;
    }
    if (events == ends_cap) break;
    uint64_t mono = rd64(&r, 16);
    double t = diff_ns(mono, base_mono);
    uint8_t *mark = e.p;
    uint32_t lost_reason = 0;
    double lost_count = 0;
    int lost_unknown = 0;
    uint32_t code = 0;
    if (r.size < fixed) r.bad = 1;
    else code = encode_one(&e, &r, kind, t, base_mono, &lost_reason, &lost_count, &lost_unknown);
    if (r.bad) {
      e.p = mark;
      res[PR_ENC_INVALID]++;
      common(&e, 6, 7, t, 0, 0);
      text_c(&e, "decode");
      u32v(&e, 1);
      code = 7, lost_reason = PR_LOST_DECODE, lost_count = 1, lost_unknown = 0;
    }
    if (e.full) {
      e.p = mark;
      break;
    }
    if (code == 3 && watch_pid != 0 && rd32(&r, 32) == watch_pid) res[PR_ENC_WATCH_EXIT] = 1;
    if (code == 7) {
      lost_sum[lost_reason] += lost_count;
      if (res[PR_ENC_LOST_FIRST + lost_reason] == UINT64_MAX) res[PR_ENC_LOST_FIRST + lost_reason] = events;
      if (lost_unknown) res[PR_ENC_LOST_UNKNOWN]++;
    }
    if (meta) {
      double *m = meta + 4 * (size_t)events;
      m[0] = code, m[1] = r.bad ? 0 : rd32(&r, 32), m[2] = 0, m[3] = 0;
      if (code == 1 && !r.bad) m[2] = rd32(&r, 40), m[3] = rd32(&r, 48); /* parent, creator */
      else if (code == 2 || code == 8) m[3] = t;
      else if (code == 13) m[3] = diff_ns(rd64(&r, 48), base_mono);
    }
    res[PR_ENC_KIND_COUNT + code]++;
    if (res[PR_ENC_KIND_FIRST + code] == UINT64_MAX) res[PR_ENC_KIND_FIRST + code] = events;
    ends[events++] = (uint32_t)(e.p - out);
    off += r.size;
  }
  for (int i = 0; i < 8; i++) memcpy(&res[PR_ENC_LOST_SUM + i], &lost_sum[i], sizeof(double));
  res[PR_ENC_CONSUMED] = off;
  res[PR_ENC_EVENTS] = events;
  res[PR_ENC_BYTES] = (uint64_t)(e.p - out);
  return 0;
}
