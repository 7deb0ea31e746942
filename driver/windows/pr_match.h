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

/*
 * The one spelling of a Windows path that rules are matched against (names
 * and patterns alike), so that another spelling of the same path does not
 * bypass a rule:
 *   - '/' is '\'; repeated separators are one; "." segments go; ".." takes
 *     the segment before it away (never the root);
 *   - the object-manager prefixes of a drive path go: \??\C:\x, \\?\C:\x,
 *     \\.\C:\x, \DosDevices\C:\x, \GLOBAL??\C:\x are all C:\x;
 *   - GLOBALROOT goes: \??\GLOBALROOT\Device\X\y (also \\?\GLOBALROOT,
 *     \\.\GLOBALROOT) is \Device\X\y;
 *   - UNC forms are one: \??\UNC\srv\share\x, \\?\UNC\..., \\.\UNC\...,
 *     \DosDevices\UNC\..., \GLOBAL??\UNC\..., \Device\Mup\srv\share\x
 *     are all \\srv\share\x.
 * Letters keep their case (pr_match folds them). 8.3 short names, hard links
 * and junctions are not spellings: they need the file system (see README).
 * Writes at most cap units to out and returns how many, or 0 when they do
 * not fit (out may then hold anything); n == 0 gives 0.
 */
uint32_t pr_norm_path(const uint16_t *in, uint32_t n, uint16_t *out, uint32_t cap);

#ifdef __cplusplus
}
#endif
#endif /* PR_MATCH_H */
