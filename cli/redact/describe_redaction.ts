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
 *   source: { path: "a.cbor", sha256Hmac: "ab", complete: true,
 *     host: "h", bootId: "b", startUtcNs: 0n },
 * });
 * if (!line.includes("rules pw") || !line.includes("a.cbor")) throw new Error(line);
 * ```
 */
export function describeRedaction(r: RedactionInfo): string {
  // the reader checks the field's shape (cli/log/check_header_fields.ts);
  // a value of another shape still shows as "?", never "undefined"
  const rules = Array.isArray(r.rules)
    ? r.rules.map((x) => text(x?.name)).join(", ")
    : "?";
  let line = `redacted: rules ${rules} (${text(r.hmac)}, key ${text(r.keyId)})`;
  const s = r.source;
  if (s && typeof s.sha256Hmac === "string") {
    // (keyed: `procrec redact COPY --check-source FILE --redact-key KEY`)
    line +=
      `; a redacted copy of ${text(s.path)} (keyed SHA-256 ${
        text(s.sha256Hmac)
      }` +
      (s.complete === true ? "" : ", which was NOT complete and intact") + ")";
  } else if (s) {
    line +=
      `; a redacted copy of ${text(s.path)} (SHA-256 ${text(s.sha256)}, ${
        typeof s.bytes === "number" ? s.bytes : "?"
      } bytes` +
      (typeof s.finalHash === "string" ? `, final hash ${s.finalHash}` : "") +
      (s.complete === true ? "" : ", which was NOT complete and intact") + ")";
  }
  return line;
}

function text(v: unknown): string {
  return typeof v === "string" ? v : "?";
}
