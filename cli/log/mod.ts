/**
 * Recordings: a CBOR sequence (RFC 8742) that starts with tag 55799 and a
 * header, then chunks of events linked by a SHA-256 chain, then, on a clean
 * close, a trailer. See `SCHEMA.md` for every field.
 *
 * Limitations: the reader resynchronizes on chunk markers after damage, so a
 * chunk whose marker bytes are themselves destroyed is skipped and counted.
 *
 * @module
 */
export * from "./schema.ts";
export * from "./recording_writer.ts";
export * from "./recording_reader.ts";
export * from "./segment_directory.ts";
export * from "./segment_set_reader.ts";
export * from "./analysis_chunks.ts";
export * from "./recording_end.ts";
