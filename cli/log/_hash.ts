import { createHash } from "node:crypto";
import { sha256SmallInto } from "./_sha256_small.ts";

/**
 * Up to this length plain JavaScript is faster than a native call, whose
 * fixed cost (a few microseconds) dominates small inputs (see
 * the small-chunk row of bench/RESULTS.md).
 */
const SMALL = 512;

/**
 * Where small hashes are written: a new typed array costs more than a small
 * hash in Deno (its memory is allocated outside the heap), a view of a slab
 * shared by 2,048 hashes does not.
 */
const SLAB = 32 * 2048;
let slab = new Uint8Array(SLAB);
let slabAt = 0;
/** The last {@link digestMatches} hash of a small input. */
const SCRATCH = new Uint8Array(32);

/** SHA-256 of `bytes`, synchronously. */
export function sha256(bytes: Uint8Array): Uint8Array {
  if (bytes.length > SMALL) {
    return new Uint8Array(createHash("sha256").update(bytes).digest());
  }
  if (slabAt === SLAB) {
    slab = new Uint8Array(SLAB);
    slabAt = 0;
  }
  const at = slabAt;
  slabAt += 32;
  sha256SmallInto(bytes, slab, at);
  return slab.subarray(at, at + 32);
}

/**
 * Whether `digest` is the first `digest.length` bytes (at most 32) of the
 * SHA-256 of `bytes` (a chunk's body digest), without keeping the hash.
 */
export function digestMatches(bytes: Uint8Array, digest: Uint8Array): boolean {
  if (digest.length > 32) return false;
  let hash = SCRATCH;
  if (bytes.length > SMALL) {
    hash = createHash("sha256").update(bytes).digest();
  } else sha256SmallInto(bytes, SCRATCH, 0);
  for (let i = 0; i < digest.length; i++) {
    if (hash[i] !== digest[i]) return false;
  }
  return true;
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
