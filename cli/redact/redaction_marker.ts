/**
 * The marker that replaces a redacted value: `[redacted:RULE:HMAC]`, with
 * the rule's name and the 64 hex digits of the value's HMAC-SHA-256.
 *
 * @module
 */

/** One marker found in a text. */
export interface Marker {
  rule: string;
  hmac: string;
}

/** How the header describes the marker. */
export const MARKER_FORMAT = "[redacted:RULE:HMAC-SHA-256 hex]";

const MARKER = /\[redacted:([A-Za-z0-9_.-]{1,64}):([0-9a-f]{64})\]/g;

/**
 * The marker for a value redacted by `rule` whose HMAC is `hmac`.
 *
 * @example
 * ```ts
 * import { findMarkers, formatMarker } from "./redaction_marker.ts";
 * const m = formatMarker("mysql", "ab".repeat(32));
 * if (findMarkers(`-p${m}`)[0].rule !== "mysql") throw new Error(m);
 * ```
 */
export function formatMarker(rule: string, hmac: string): string {
  return `[redacted:${rule}:${hmac}]`;
}

/** Whether `text` is exactly one marker. */
export function isMarker(text: string): boolean {
  return /^\[redacted:[A-Za-z0-9_.-]{1,64}:[0-9a-f]{64}\]$/.test(text);
}

/** Every marker in `text`, in order. */
export function findMarkers(text: string): Marker[] {
  if (!text.includes("[redacted:")) return [];
  return [...text.matchAll(MARKER)].map((m) => ({ rule: m[1], hmac: m[2] }));
}

/**
 * `text` cut around its markers: the odd items are the markers, the even
 * ones the text between them (a diff normalizes only those).
 *
 * @example
 * ```ts
 * import { splitAtMarkers } from "./redaction_marker.ts";
 * const m = `[redacted:a:${"0".repeat(64)}]`;
 * const parts = splitAtMarkers(`-p${m} x`);
 * if (parts.length !== 3 || parts[1] !== m) throw new Error(parts.join("|"));
 * ```
 */
export function splitAtMarkers(text: string): string[] {
  if (!text.includes("[redacted:")) return [text];
  return text.split(/(\[redacted:[A-Za-z0-9_.-]{1,64}:[0-9a-f]{64}\])/);
}
