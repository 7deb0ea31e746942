/**
 * The Deno binding of procrec's native event sources: the FFI symbols
 * (`ffi.ts`), an open source (`event_source.ts`) and the decoder of its C
 * records into events (`decode_records.ts`). Needs `--allow-ffi`.
 *
 * Limitations: one read at a time per source; the library is loaded once per
 * process and path.
 *
 * @module
 */
export * from "./ffi.ts";
export * from "./event_source.ts";
export * from "./decode_records.ts";
