/**
 * One line that says how a recording was redacted and, for a redacted copy,
 * what it was copied from: what verify and the report show. Pure.
 *
 * @module
 */
import type { RedactionInfo } from "../log/schema.ts";

/**
 * The header's `redaction` as one line of text.
 *
 * @example
 * ```ts
 * import { describeRedaction } from "./describe_redaction.ts";
 * const line = describeRedaction({
 *   hmac: "HMAC-SHA-256", keyId: "0123456789abcdef", marker: "",
 *   rules: [{ name: "pw", flag: ["-p"] }],
 *   source: { path: "a.cbor", sha256: "ab", bytes: 9, complete: true,
 *     host: "h", bootId: "b", startUtcNs: 0n },
 * });
 * if (!line.includes("rules pw") || !line.includes("a.cbor")) throw new Error(line);
 * ```
 */
export function describeRedaction(r: RedactionInfo): string {
  const rules = Array.isArray(r.rules)
    ? r.rules.map((x) => String(x?.name)).join(", ")
    : "?";
  let line = `redacted: rules ${rules} (${r.hmac}, key ${r.keyId})`;
  const s = r.source;
  if (s) {
    line +=
      `; a redacted copy of ${s.path} (SHA-256 ${s.sha256}, ${s.bytes} bytes` +
      (s.finalHash ? `, final hash ${s.finalHash}` : "") +
      (s.complete ? "" : ", which was NOT complete and intact") + ")";
  }
  return line;
}
