/* pr_wire_convert.c - see pr_wire_convert.h. Portable C, no allocation. */
#include "pr_wire_convert.h"

#include <stddef.h>
#include <string.h>

#include "../../common/pr_record.h"

uint64_t pr_filetime_to_unix_ns(uint64_t ft) {
  if (ft < PR_FILETIME_UNIX_EPOCH) return 0;
  return (ft - PR_FILETIME_UNIX_EPOCH) * 100u;
}

static uint16_t unit_at(const uint8_t *p, uint32_t i) { return (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)); }

uint32_t pr_utf16_to_utf8(const uint8_t *in, uint32_t in_bytes, uint8_t *out, uint32_t cap, uint32_t *units_used) {
  uint32_t n = in_bytes / 2u, i = 0, o = 0;
  while (i < n) {
    uint32_t cp = unit_at(in, i), used = 1, len;
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < n) {
      uint32_t lo = unit_at(in, i + 1);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000u + ((cp - 0xD800u) << 10) + (lo - 0xDC00u);
        used = 2;
      }
    }
    /* an unpaired surrogate keeps its value (WTF-8: ED A0..BF xx): bytes
     * that are not UTF-8, which the recording then writes as U+FFFD and
     * flags (notUtf8), where U+FFFD written here would pass for a name
     * that had one */
    len = cp < 0x80 ? 1u : cp < 0x800 ? 2u : cp < 0x10000 ? 3u : 4u;
    if (len > cap - o) break;
    if (len == 1) {
      out[o] = (uint8_t)cp;
    } else if (len == 2) {
      out[o] = (uint8_t)(0xC0 | (cp >> 6));
      out[o + 1] = (uint8_t)(0x80 | (cp & 0x3F));
    } else if (len == 3) {
      out[o] = (uint8_t)(0xE0 | (cp >> 12));
      out[o + 1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
      out[o + 2] = (uint8_t)(0x80 | (cp & 0x3F));
    } else {
      out[o] = (uint8_t)(0xF0 | (cp >> 18));
      out[o + 1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
      out[o + 2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
      out[o + 3] = (uint8_t)(0x80 | (cp & 0x3F));
    }
    o += len;
    i += used;
  }
  if (units_used != NULL) *units_used = i;
  return o;
}

/* Fixed size of each kind whose layout this file knows, 0 for others. */
static uint32_t fixed_size(uint16_t kind) {
  switch (kind) {
  case PR_REC_PROCESS_CREATE: return sizeof(struct pr_rec_process_create);
  case PR_REC_EXEC: return sizeof(struct pr_rec_exec);
  case PR_REC_PROCESS_EXIT: return sizeof(struct pr_rec_process_exit);
  case PR_REC_THREAD_CREATE: return sizeof(struct pr_rec_thread_create);
  case PR_REC_THREAD_EXIT: return sizeof(struct pr_rec_thread_exit);
  case PR_REC_COMM: return sizeof(struct pr_rec_comm);
  case PR_REC_LOST: return sizeof(struct pr_rec_lost);
  case PR_REC_SNAPSHOT: return sizeof(struct pr_rec_snapshot);
  case PR_REC_IMAGE_LOAD: return sizeof(struct pr_rec_image_load);
  default: return 0;
  }
}

/* Offset of the struct pr_proc_info in kinds that have one, else 0. */
static uint32_t info_off(uint16_t kind) {
  switch (kind) {
  case PR_REC_PROCESS_CREATE: return offsetof(struct pr_rec_process_create, info);
  case PR_REC_EXEC: return offsetof(struct pr_rec_exec, info);
  case PR_REC_SNAPSHOT: return offsetof(struct pr_rec_snapshot, info);
  default: return 0;
  }
}

/* Offset of a start_ns field, else 0. */
static uint32_t start_off(uint16_t kind) {
  switch (kind) {
  case PR_REC_PROCESS_CREATE: return offsetof(struct pr_rec_process_create, start_ns);
  case PR_REC_EXEC: return offsetof(struct pr_rec_exec, start_ns);
  case PR_REC_PROCESS_EXIT: return offsetof(struct pr_rec_process_exit, start_ns);
  case PR_REC_THREAD_CREATE: return offsetof(struct pr_rec_thread_create, start_ns);
  case PR_REC_SNAPSHOT: return offsetof(struct pr_rec_snapshot, start_ns);
  default: return 0;
  }
}

struct conv {
  const uint8_t *in; /* the wire record */
  uint32_t size;     /* its size */
  struct pr_builder b;
  uint8_t *tmp;
  uint32_t tmp_cap;
  uint32_t max_string;
};

/* Converts the string whose struct pr_str sits at `off` in both records.
 * Returns -1 when malformed, else 1 when cut, 0 when whole; *full_len gets the
 * UTF-8 length (a lower bound when cut), *wire_units the units captured. */
static int conv_str(struct conv *c, uint32_t off, uint32_t *full_len, uint32_t *wire_units) {
  struct pr_str s;
  uint32_t used = 0, n;
  int cut;
  memcpy(&s, c->in + off, sizeof(s));
  if (full_len != NULL) *full_len = 0;
  if (wire_units != NULL) *wire_units = 0;
  if (s.len == 0) return 0;
  if ((s.len & 1u) != 0 || s.off > c->size || s.len > c->size - s.off) return -1;
  n = pr_utf16_to_utf8(c->in + s.off, s.len, c->tmp, c->tmp_cap, &used);
  if (used * 2u != s.len) return -1; /* tmp too small for this string */
  cut = pr_rb_add_str(&c->b, off, c->tmp, n, c->max_string);
  if (cut < 0) return -1;
  if (full_len != NULL) *full_len = n;
  if (wire_units != NULL) *wire_units = used;
  return cut;
}

int32_t pr_wire_convert(const uint8_t *in, uint32_t avail, uint8_t *out, uint32_t cap, uint8_t *tmp, uint32_t tmp_cap,
                        uint32_t max_string, uint32_t *wire_size) {
  struct pr_rec_header h;
  struct conv c;
  uint32_t fixed, ioff, soff;
  uint16_t flags;
  *wire_size = 0;
  if (avail < sizeof(h)) return -1;
  memcpy(&h, in, sizeof(h));
  if (h.size < sizeof(h) || (h.size & 7u) != 0 || h.size > avail) return -1;
  *wire_size = h.size;
  fixed = fixed_size(h.kind);
  if (fixed == 0) { /* unknown kind: copy, converting the header's times */
    if (h.size > cap) return 0;
    memcpy(out, in, h.size);
    h.utc_ns = pr_filetime_to_unix_ns(h.utc_ns);
    h.mono_ns *= 100u;
    memcpy(out, &h, sizeof(h));
    return (int32_t)h.size;
  }
  if (h.size < fixed) return -1;
  if (cap < fixed) return 0;

  c.in = in;
  c.size = h.size;
  c.tmp = tmp;
  c.tmp_cap = tmp_cap;
  c.max_string = max_string;
  pr_rb_init(&c.b, out, cap, h.kind, fixed);
  memcpy(out, in, fixed); /* fixed fields as they are; strings redone below */
  flags = h.flags;

  soff = start_off(h.kind);
  if (soff != 0) {
    uint64_t start, boot = h.utc_ns - h.mono_ns; /* FILETIME of boot, per this record */
    memcpy(&start, in + soff, sizeof(start));
    start = (start == 0 || h.utc_ns < h.mono_ns || start < boot) ? 0 : (start - boot) * 100u;
    memcpy(out + soff, &start, sizeof(start));
  }

  ioff = info_off(h.kind);
  if (ioff != 0) {
    struct pr_proc_info wi, oi;
    uint32_t argv_len = 0, argv_units = 0;
    int cut;
    memcpy(&wi, in + ioff, sizeof(wi));
    memset(out + ioff + offsetof(struct pr_proc_info, image), 0, 4 * sizeof(struct pr_str));
    memset(out + ioff + offsetof(struct pr_proc_info, cgroup), 0, sizeof(struct pr_str));
    memset(out + ioff + offsetof(struct pr_proc_info, user), 0, sizeof(struct pr_str));
    cut = conv_str(&c, ioff + offsetof(struct pr_proc_info, image), NULL, NULL);
    if (cut < 0) return c.b.overflow ? 0 : -1;
    if (cut) flags |= PR_F_IMAGE_TRUNCATED;
    cut = conv_str(&c, ioff + offsetof(struct pr_proc_info, argv), &argv_len, &argv_units);
    if (cut < 0) return c.b.overflow ? 0 : -1;
    if (cut) flags |= PR_F_ARGV_TRUNCATED;
    if (conv_str(&c, ioff + offsetof(struct pr_proc_info, comm), NULL, NULL) < 0) return c.b.overflow ? 0 : -1;
    if (conv_str(&c, ioff + offsetof(struct pr_proc_info, cwd), NULL, NULL) < 0) return c.b.overflow ? 0 : -1;
    /* the token user's SID, "S-1-5-21-..." */
    if (conv_str(&c, ioff + offsetof(struct pr_proc_info, user), NULL, NULL) < 0) return c.b.overflow ? 0 : -1;
    memcpy(&oi, c.b.buf + ioff, sizeof(oi));
    if ((flags & PR_F_ARGV_TRUNCATED) != 0) {
      uint32_t full_units = wi.argv_full_len / 2u;
      oi.argv_full_len = argv_len + (full_units > argv_units ? full_units - argv_units : 0u);
    } else {
      oi.argv_full_len = argv_len;
    }
    memcpy(c.b.buf + ioff, &oi, sizeof(oi));
  } else if (h.kind == PR_REC_IMAGE_LOAD) {
    struct pr_str z = {0, 0};
    int cut;
    memcpy(out + offsetof(struct pr_rec_image_load, image), &z, sizeof(z));
    cut = conv_str(&c, offsetof(struct pr_rec_image_load, image), NULL, NULL);
    if (cut < 0) return c.b.overflow ? 0 : -1;
    if (cut) flags |= PR_F_IMAGE_TRUNCATED;
  } else if (h.kind == PR_REC_COMM) {
    struct pr_str z = {0, 0};
    memcpy(out + offsetof(struct pr_rec_comm, comm), &z, sizeof(z));
    if (conv_str(&c, offsetof(struct pr_rec_comm, comm), NULL, NULL) < 0) return c.b.overflow ? 0 : -1;
  }

  h.flags = flags;
  h.utc_ns = pr_filetime_to_unix_ns(h.utc_ns);
  h.mono_ns *= 100u;
  memcpy(c.b.buf, &h, sizeof(h));
  {
    uint32_t size = pr_rb_finish(&c.b);
    return size == 0 ? 0 : (int32_t)size;
  }
}
