/**
 * One line that says how a recording was redacted and, for a redacted copy,
 * what it was copied from, down the chain of redactions: what verify and the
 * report show. Pure.
 *
 * @module
 */
import type { RedactionInfo, RedactionSource } from "../log/schema.ts";

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
 * // redacted again as it was read (export --redact): both keys named
 * const again = describeRedaction({
 *   hmac: "HMAC-SHA-256", keyId: "fedcba9876543210", marker: "", rules: [],
 *   source: { path: "b.cbor", sha256: "", bytes: 0, complete: true,
 *     host: "h", bootId: "b", startUtcNs: 0n,
 *     redaction: { hmac: "HMAC-SHA-256", keyId: "0123456789abcdef", marker: "", rules: [] } },
 * });
 * if (!again.includes("redacted as read from b.cbor (not hashed)") ||
 *   !again.includes("b.cbor was itself redacted: rules  (HMAC-SHA-256, key 0123456789abcdef)")) {
 *   throw new Error(again);
 * }
 * ```
 */
export function describeRedaction(r: RedactionInfo): string {
  // each redaction of the chain, the latest first: a redacted copy
  // redacted again holds the markers of every key in it (verify named only
  // the last; found by review). The reader bounds the chain's depth
  // (cli/log/check_header_fields.ts); the bound here only guards a value
  // made by hand.
  const parts: string[] = [];
  let at: RedactionInfo | undefined = r;
  let of: string | undefined;
  for (let depth = 0; at !== undefined && depth < 64; depth++) {
    const line = oneRedaction(at);
    parts.push(of === undefined ? line : `${of} was itself ${line}`);
    const s: RedactionSource | undefined = at.source;
    of = typeof s?.path === "string" ? s.path : "its source";
    at = s?.redaction;
  }
  return parts.join("; ");
}

function oneRedaction(r: RedactionInfo): string {
  // the reader checks the field's shape (cli/log/check_header_fields.ts);
  // a value of another shape still shows as "?", never "undefined"
  const rules = Array.isArray(r.rules)
    ? r.rules.map((x) => text(x?.name)).join(", ")
    : "?";
  let line = `redacted: rules ${rules} (${text(r.hmac)}, key ${text(r.keyId)})`;
  const s = r.source;
  const notWhole = s?.complete === true
    ? ""
    : ", which was NOT complete and intact";
  if (s && typeof s.sha256Hmac === "string") {
    // (keyed: `procrec redact COPY --check-source FILE --redact-key KEY`)
    line += `; a redacted copy of ${text(s.path)} (keyed SHA-256 ${
      text(s.sha256Hmac)
    }${notWhole})`;
  } else if (s && s.sha256 === "") {
    // (`export --redact`, `report --redact` of a recording already
    // redacted: redacted as it was read, never hashed)
    line += `; redacted as read from ${text(s.path)} (not hashed${
      s.complete === true ? "" : "; it was NOT complete and intact"
    })`;
  } else if (s) {
    line +=
      `; a redacted copy of ${text(s.path)} (SHA-256 ${text(s.sha256)}, ${
        typeof s.bytes === "number" ? s.bytes : "?"
      } bytes` +
      (typeof s.finalHash === "string" ? `, final hash ${s.finalHash}` : "") +
      `${notWhole})`;
  }
  return line;
}

function text(v: unknown): string {
  return typeof v === "string" ? v : "?";
}
