/**
 * Whether two recordings' markers can be compared: only markers made with
 * the same key are equal for equal secrets. Pure.
 *
 * @module
 */
import type { RedactionInfo } from "../log/schema.ts";

/**
 * A note when a diff of recordings redacted as `a` and `b` would show equal
 * secrets as different (another key, or one recording not redacted);
 * undefined when their markers compare.
 *
 * @example
 * ```ts
 * import { redactionMismatch } from "./redaction_mismatch.ts";
 * const r = { hmac: "HMAC-SHA-256", keyId: "k1", marker: "", rules: [] };
 * if (redactionMismatch(r, r) !== undefined) throw new Error();
 * if (!redactionMismatch(r, { ...r, keyId: "k2" })?.includes("k2")) throw new Error();
 * if (!redactionMismatch(r, undefined)?.includes("not redacted")) throw new Error();
 * ```
 */
export function redactionMismatch(
  a: RedactionInfo | undefined,
  b: RedactionInfo | undefined,
): string | undefined {
  if (!a && !b) return undefined;
  if (!a || !b) {
    return `only ${a ? "the first" : "the second"} recording is redacted (${
      (a ?? b)!.keyId
    }); the other is not redacted, so its secrets differ from every marker`;
  }
  if (a.keyId !== b.keyId) {
    return `the recordings were redacted with different keys (${a.keyId}, ${b.keyId}): equal secrets show as different markers`;
  }
  return undefined;
}
