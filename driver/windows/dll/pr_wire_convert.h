/*
 * pr_wire_convert.h - procrec.sys wire records to procrec_abi.h records.
 *
 * Portable C without OS calls (procrec.dll and host unit tests). The driver
 * writes UTF-16LE strings and Windows times (procrec_ioctl.h); the ABI wants
 * UTF-8 and nanoseconds:
 *   - mono_ns   = interrupt time (100 ns since boot) * 100;
 *   - utc_ns    = (FILETIME - 1601..1970) * 100, 0 when before 1970;
 *   - start_ns  = the FILETIME create time moved onto the monotonic clock
 *                 with the record's own (utc, mono) pair, in ns; 0 stays 0;
 *   - strings   UTF-16LE -> UTF-8 (unpaired surrogates become U+FFFD), cut
 *                 to max_string bytes at a character boundary; a cut image or
 *                 argv sets PR_F_IMAGE_TRUNCATED / PR_F_ARGV_TRUNCATED;
 *   - argv_full_len: UTF-8 bytes of the whole command line; when the driver
 *                 or the DLL cut it, a lower bound (the UTF-8 of what was
 *                 captured plus one byte per UTF-16 unit left out);
 *   - pr_proc_info.user (the token user's SID as text) UTF-16 -> UTF-8 too.
 * Kinds this file does not know are copied with only their header times
 * converted (a reader skips them by size).
 */
#ifndef PR_WIRE_CONVERT_H
#define PR_WIRE_CONVERT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PR_FILETIME_UNIX_EPOCH 116444736000000000ull /* 100 ns units 1601..1970 */

/* Unix-epoch nanoseconds of a FILETIME (0 when before 1970). */
uint64_t pr_filetime_to_unix_ns(uint64_t ft);

/* Converts in_bytes of UTF-16LE (an odd last byte is ignored) to UTF-8 in
 * out; stops before a character that would not fit in cap. Returns bytes
 * written; *units_used (optional) gets the UTF-16 units consumed. */
uint32_t pr_utf16_to_utf8(const uint8_t *in, uint32_t in_bytes, uint8_t *out, uint32_t cap, uint32_t *units_used);

/* Converts the wire record at in (avail bytes readable) into out (cap bytes).
 * tmp is scratch for one converted string (tmp_cap >= 3/2 of the longest
 * wire string). Returns the ABI record's size (> 0); 0 when out is too small;
 * -1 when the wire record is malformed (its size is in *wire_size when
 * readable, else *wire_size is 0: the rest of the batch is unusable). */
int32_t pr_wire_convert(const uint8_t *in, uint32_t avail, uint8_t *out, uint32_t cap, uint8_t *tmp, uint32_t tmp_cap,
                        uint32_t max_string, uint32_t *wire_size);

#ifdef __cplusplus
}
#endif
#endif /* PR_WIRE_CONVERT_H */
