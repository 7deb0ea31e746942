/**
 * Text from evidence made safe to print: {@link escapeText}.
 *
 * @module
 */
export * from "./escape_text.ts";
