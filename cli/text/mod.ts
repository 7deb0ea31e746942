/**
 * Text from evidence made safe to print: {@link escapeText}; the one time
 * format: {@link isoFromNs}; colour for a terminal: {@link style}.
 *
 * @module
 */
export * from "./escape_text.ts";
export * from "./iso_from_ns.ts";
export * from "./style.ts";
