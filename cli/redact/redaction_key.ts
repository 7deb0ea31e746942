/**
 * The redaction key: 32 random bytes that key the HMAC-SHA-256 of every
 * redacted value. It is kept apart from the recordings (a file of mode
 * 0600): with it an examiner can test a guess; without it a marker says
 * only whether two redacted values were equal. Pure: the caller reads and
 * writes the file.
 *
 * The file is text: comment lines starting with `#`, and one line of 64
 * hex digits.
 *
 * @module
 */
import { toHex } from "../log/_hash.ts";
import { HmacSha256 } from "./_hmac_sha256.ts";

/** Bytes of a redaction key. */
export const REDACTION_KEY_BYTES = 32;

/**
 * A new random key, as the text of a key file.
 *
 * @example
 * ```ts
 * import { newRedactionKeyText, parseRedactionKey } from "./redaction_key.ts";
 * const key = parseRedactionKey(newRedactionKeyText(), "k");
 * if (key.length !== 32) throw new Error();
 * ```
 */
export function newRedactionKeyText(): string {
  const key = crypto.getRandomValues(new Uint8Array(REDACTION_KEY_BYTES));
  return "# procrec redaction key (HMAC-SHA-256): keep it secret, apart from the recordings\n" +
    toHex(key) + "\n";
}

/** Reads a key file's text; `name` (the file) is used in messages. */
export function parseRedactionKey(text: string, name: string): Uint8Array {
  const lines = text.split("\n").map((l) => l.trim()).filter((l) =>
    l !== "" && !l.startsWith("#")
  );
  const hex = lines[0] ?? "";
  if (lines.length !== 1 || !/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new SyntaxError(
      `Cannot read redaction key "${name}": expected one line of 64 hex digits (make a key with procrec keygen --redact -o FILE)`,
    );
  }
  const key = new Uint8Array(REDACTION_KEY_BYTES);
  for (let i = 0; i < key.length; i++) {
    key[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  // A key typed by hand (all zeros, one byte repeated, a short pattern) is
  // known to whoever guesses it, and its id in every redacted header gives
  // it away; with it, anyone can hash guesses of the secrets (found by
  // review). 32 random bytes have about 30 different values; fewer than
  // 16 happens to a random key with a chance far below 1e-20.
  if (new Set(key).size < MIN_DISTINCT_BYTES) {
    throw new SyntaxError(
      `Cannot use redaction key "${name}": its 32 bytes have only ${
        new Set(key).size
      } different values, not a random key (make one with procrec keygen --redact -o FILE)`,
    );
  }
  return key;
}

/** A key of fewer different byte values is refused (see parseRedactionKey). */
const MIN_DISTINCT_BYTES = 16;

/**
 * The hex HMAC-SHA-256 of a value's UTF-8 bytes under `key`.
 *
 * @example
 * ```ts
 * import { redactionHmac } from "./redaction_key.ts";
 * // RFC 4231 test case 2
 * const mac = redactionHmac(new TextEncoder().encode("Jefe"), "what do ya want for nothing?");
 * if (!mac.startsWith("5bdcc146bf60754e6a042426089575c7")) throw new Error(mac);
 * ```
 */
export function redactionHmac(key: Uint8Array, value: string): string {
  return new HmacSha256(key).hex(value);
}

/**
 * A short public name of a key (16 hex digits of an HMAC of a fixed text):
 * it says which key a recording was redacted with, and reveals nothing of it.
 */
export function redactionKeyId(key: Uint8Array): string {
  return redactionHmac(key, "procrec redaction key id").slice(0, 16);
}
