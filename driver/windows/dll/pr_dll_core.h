/*
 * pr_dll_core.h - the parts of procrec.dll that need no Windows call: option
 * checks, the block-rule conversion, copying text out. Portable C, so that
 * the host unit tests (test/host_test.c, ASan + UBSan) run them; procrec.dll
 * calls exactly these.
 *
 * The checks follow the contract of driver/include/procrec_abi.h, which
 * driver/linux/lib.c follows too.
 */
#ifndef PR_DLL_CORE_H
#define PR_DLL_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "../../include/procrec_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PR_DLL_RING_DEFAULT (16u << 20)  /* procrec_options.ring_bytes 0 */
#define PR_DLL_RING_MIN (1u << 20)       /* 4 driver READs of 256 KiB */
#define PR_DLL_MAX_STRING_DEFAULT 4096u  /* procrec_options.max_string 0 */
#define PR_DLL_MAX_STRING_LIMIT 8192u    /* the driver keeps at most 8192 UTF-16 units */

/* The options procrec.dll uses, after the checks. */
struct pr_dll_opts {
  uint32_t source; /* PR_SOURCE_AUTO or PR_SOURCE_WINDOWS */
  uint32_t flags;  /* PR_OPT_* */
  uint32_t ring_bytes;
  uint32_t max_string;
};

/* Checks opts (NULL: all defaults) as procrec_open must: a size smaller than
 * struct procrec_options up to `reserved`, or above 4096: PR_E_ABI; an
 * unknown source, a max_string above PR_DLL_MAX_STRING_LIMIT or a ring_bytes
 * below PR_DLL_RING_MIN: PR_E_INVAL; a Linux source: PR_E_NOSUP. On failure
 * err (err_cap bytes) says why, naming the field and the limit. */
int32_t pr_dll_options(const struct procrec_options *opts, struct pr_dll_opts *out, char *err, size_t err_cap);

/* Converts block rules (UTF-8 patterns separated by NULs, empty ones
 * skipped) to the driver's list: UTF-16 patterns each followed by a NUL
 * unit, in w (cap units). Never writes past w[cap - 1]. Returns PR_OK with
 * *units set, or PR_E_INVAL (not UTF-8, or the list does not fit: err
 * says which). */
int32_t pr_rules_to_utf16(const uint8_t *arg, uint32_t len, uint16_t *w, uint32_t cap, uint32_t *units, char *err,
                          size_t err_cap);

/* 1 when the SCM's image path of an existing service (configured: as
 * QueryServiceConfig returns it: "\??\C:\...", "\SystemRoot\...",
 * "System32\drivers\..." or absolute) names the same file as ours (an
 * absolute path), system_root being %SystemRoot% ("C:\Windows"); ASCII
 * letters compare regardless of case, '/' as '\'. Paths longer than 1023
 * units compare by their first 1023. */
int pr_same_driver_path(const uint16_t *configured, const uint16_t *ours, const uint16_t *system_root);

/* Copies s into buf (cap bytes, NUL-terminated, cut to fit; nothing when buf
 * is NULL or cap 0). Returns strlen(s): the size procrec_last_error and
 * procrec_source report. */
int32_t pr_copy_text(char *buf, uint32_t cap, const char *s);

#ifdef __cplusplus
}
#endif
#endif /* PR_DLL_CORE_H */
