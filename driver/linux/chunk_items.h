/*
 * chunk_items.h - the two hashes a reader checks per chunk of a recording
 * (cli/log/SCHEMA.md, "Chunks"), for many chunks in one call: a reader of a
 * long idle recording (chunks of a few events) otherwise pays one foreign
 * call per 64-byte block (cli/log/_sha256_native.ts).
 *
 * Pure: no I/O, no state, no allocation; any thread may call it.
 */
#ifndef PR_CHUNK_ITEMS_H
#define PR_CHUNK_ITEMS_H

#include <stdint.h>

#include "../include/procrec_abi.h"

/*
 * For each of the `n` chunk items in `buf` (`len` bytes), `spans` holds 4
 * offsets in `buf`: item start, item end, body start (the body runs to the
 * item's end), digest start. Writes the SHA-256 of item i at out[32 * i]
 * and, at out[32 * n + i], 1 when the first 16 bytes of the SHA-256 of its
 * body equal the 16 bytes at its digest start, else 0 (`out` holds 33 * n
 * bytes). Returns 0, or -1 (having written nothing meaningful) when `n` is
 * negative or a span is out of order or outside `buf`.
 */
PROCREC_API int32_t procrec_hash_chunk_items(const uint8_t *buf, int32_t len, const int32_t *spans, int32_t n,
                                             uint8_t *out);

/*
 * What procrec_hash_chunk_items does, item by item on the calling thread
 * while another thread (the reader's) may take items itself: `state` holds
 * an int32 per item, 0 when neither side has it. Before an item this
 * function changes its state from 0 to 1 (atomically; an item whose state
 * is not 0 any more is skipped: the reader took it), writes its hash and
 * digest byte, then stores 2 (release): the reader reads them once it loads
 * 2 (acquire). Returns 0, or -1 (no state changed) for spans as
 * procrec_hash_chunk_items refuses them.
 */
PROCREC_API int32_t procrec_hash_chunk_items_claimed(const uint8_t *buf, int32_t len, const int32_t *spans, int32_t n,
                                                     uint8_t *out, int32_t *state);

#endif /* PR_CHUNK_ITEMS_H */
