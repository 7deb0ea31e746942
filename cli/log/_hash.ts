import { createHash } from "node:crypto";
import { sha256Small } from "./_sha256_small.ts";

/**
 * Up to this length plain JavaScript is faster than a native call, whose
 * fixed cost (a few microseconds) dominates small inputs (see
 * the small-chunk row of bench/RESULTS.md).
 */
const SMALL = 512;

/** SHA-256 of `bytes`, synchronously. */
export function sha256(bytes: Uint8Array): Uint8Array {
  if (bytes.length <= SMALL) return sha256Small(bytes);
  return new Uint8Array(createHash("sha256").update(bytes).digest());
}

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Whether two byte arrays are equal. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
