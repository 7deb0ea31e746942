/*
 * pr_match.h - image path patterns of procrec.sys's block rules.
 *
 * Portable C (driver, host tests): UTF-16 code units, '*' matches any run of
 * units (also none), '?' exactly one; letters match regardless of case (by
 * the upcase function given: Unicode in the driver, ASCII by default).
 * Iterative, no recursion and no allocation: safe in a notify callback.
 */
#ifndef PR_MATCH_H
#define PR_MATCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when name[0..name_units) matches pat[0..pat_units), else 0. Units
 * compare equal when upcase() maps them to the same unit (the driver passes
 * the kernel's RtlUpcaseUnicodeChar: the file systems' case-insensitive
 * comparison of Unicode names); NULL: ASCII letters only. */
int pr_match(const uint16_t *pat, uint32_t pat_units, const uint16_t *name, uint32_t name_units,
             uint16_t (*upcase)(uint16_t));

#ifdef __cplusplus
}
#endif
#endif /* PR_MATCH_H */
