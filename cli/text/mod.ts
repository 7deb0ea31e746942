/**
 * Text from evidence made safe to print: {@link escapeText}; the one time
 * format: {@link isoFromNs}.
 *
 * @module
 */
export * from "./escape_text.ts";
export * from "./iso_from_ns.ts";
