/*
 * pr_record.h - building procrec records with strings.
 *
 * Portable C with no OS calls (Linux library, Windows driver and DLL).
 * A builder writes into caller memory: the caller fills the fixed part of
 * the record (a struct from procrec_abi.h at the start of the buffer), then
 * appends strings after it; each append fills a struct pr_str inside the
 * fixed part. Strings are taken by length, never by a terminating NUL, and
 * truncated to a limit (at a UTF-8 character boundary) with a report that
 * they were. pr_rb_finish pads the record to a multiple of 8 and writes
 * header.size.
 */
#ifndef PR_RECORD_H
#define PR_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "../include/procrec_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pr_builder {
  uint8_t *buf;     /* record memory, 8-byte aligned */
  uint32_t cap;     /* bytes available */
  uint32_t len;     /* bytes written so far */
  int overflow;     /* a string did not fit in cap: the record is unusable */
};

/* Starts a record of the given kind whose fixed part is fixed_size bytes
 * (sizeof the struct): zeroes the fixed part and sets header.kind. Returns 0,
 * or -1 when cap cannot hold the fixed part. */
int pr_rb_init(struct pr_builder *b, void *buf, uint32_t cap, uint16_t kind, uint32_t fixed_size);

/* The record's header (for setting pid, tid, times, flags). */
static inline struct pr_rec_header *pr_rb_header(struct pr_builder *b) {
  return (struct pr_rec_header *)(void *)b->buf;
}

/* Appends len bytes of s, truncated to limit bytes (0: no limit), and points
 * the struct pr_str at byte offset field_off of the record at them. Returns 1
 * when the string was truncated, 0 when whole, -1 when it did not fit in the
 * builder (b->overflow is set). len 0 leaves the field absent {0, 0}. */
int pr_rb_add_str(struct pr_builder *b, uint32_t field_off, const void *s, uint32_t len, uint32_t limit);

/* Length of the longest prefix of s[0..len) not longer than limit that does
 * not end inside a UTF-8 multi-byte sequence. */
uint32_t pr_utf8_cut(const uint8_t *s, uint32_t len, uint32_t limit);

/* Pads to a multiple of 8 (zero bytes), sets header.size, returns the size;
 * 0 when the builder overflowed. */
uint32_t pr_rb_finish(struct pr_builder *b);

/* Number of NUL-separated arguments in an argv block of len bytes: a final
 * argument without a trailing NUL counts too. */
uint32_t pr_argv_count(const uint8_t *s, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif /* PR_RECORD_H */
