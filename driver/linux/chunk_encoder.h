/*
 * chunk_encoder.h - the records of procrec_abi.h as the CBOR event arrays of a
 * recording's chunk body (cli/log/SCHEMA.md, "Events"), exactly the bytes the
 * TypeScript path writes for them (cli/native/decode_records.ts, then
 * encodeEventTo of cli/log/schema.ts into cli/log/event_body_encoder.ts), so
 * that the recorder's Deno side only frames, hashes, writes and counts.
 *
 * Pure: no I/O, no state, no allocation; any thread may call it.
 */
#ifndef PR_CHUNK_ENCODER_H
#define PR_CHUNK_ENCODER_H

#include <stdint.h>

/* Slots of the `res` array of procrec_encode_cbor (uint64_t each). */
enum pr_enc_slot {
  PR_ENC_CONSUMED = 0, /* input bytes encoded (whole records) */
  PR_ENC_EVENTS = 1,   /* events written (= entries of `ends`) */
  PR_ENC_BYTES = 2,    /* output bytes written */
  PR_ENC_UNKNOWN = 3,  /* records of unknown kinds, skipped by their size */
  PR_ENC_INVALID = 4,  /* records with bad fields: each became a lost event, reason "decode" */
  PR_ENC_WATCH_EXIT = 5, /* 1 when a process_exit of `watch_pid` was encoded */
  PR_ENC_LOST_UNKNOWN = 6, /* lost events whose count is unknown */
  PR_ENC_KIND_COUNT = 8,   /* 16 slots: events per event code (SCHEMA.md: 1 process_create ... 13 image_hash) */
  PR_ENC_KIND_FIRST = 24,  /* 16 slots: index of the first event of each code, UINT64_MAX when none */
  PR_ENC_LOST_SUM = 40,    /* 8 slots: lost counts per enum pr_lost_reason (6: decode), as double bits
                              (summed as JavaScript does: exact while below 2^53) */
  PR_ENC_LOST_FIRST = 48,  /* 8 slots: index of the first lost event of each reason, UINT64_MAX when none */
  PR_ENC_SLOTS = 56,
};

/*
 * Encodes the whole records of `recs` (`len` bytes, as procrec_read fills a
 * buffer) into `out`: one CBOR array per event, one after another (a chunk
 * body is an array head followed by them), `ends[i]` the end offset in `out`
 * of event i. Times are `mono_ns - base_mono`, as decode_records.ts computes
 * them. Stops early, at a record boundary, when `out` (or `ends`) has no room
 * for the next record's worst case; `res[PR_ENC_CONSUMED]` says where; call
 * again with the rest. Exec decisions name their rule "#INDEX" (the
 * TypeScript path with no rule ids).
 *
 * `meta`, when not NULL, has room for 4 doubles per entry of `ends`: for
 * event i, its event code, pid, parent pid (process_create, else 0) and the
 * time that links an image hash to its exec (exec and snapshot: t;
 * image_hash: execT; process_create: the creator's pid; else 0), as
 * JavaScript numbers: what a subtree filter
 * (record --only-command) needs without decoding the event.
 *
 * Returns 0, or -1 when a record cannot be framed (size below the header,
 * not a multiple of 8, beyond the buffer): then nothing is encoded, as
 * decodeRecords throws for such a buffer before it returns any event.
 */
int32_t procrec_encode_cbor(const uint8_t *recs, uint32_t len, uint64_t base_mono, uint32_t watch_pid,
                            uint8_t *out, uint32_t cap, uint32_t *ends, uint32_t ends_cap, uint64_t *res,
                            double *meta);

#endif
