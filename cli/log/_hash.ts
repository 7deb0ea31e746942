import { createHash } from "node:crypto";
import { sha256SmallInto } from "./_sha256_small.ts";
import { sha256NativeInto } from "./_sha256_native.ts";

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

/**
 * SHA-256 of `bytes` (from `start` to `end`), synchronously. `native`: a
 * small input is hashed by the system's library (`_sha256_native.ts`, the
 * CPU's SHA instructions, about 3 times faster than the JavaScript rounds on
 * a chunk of an idle recording) where it is to be had; the same hash. Its
 * first use loads the library (a few milliseconds): for readers of many
 * small items.
 *
 * @example
 * ```ts
 * import { sha256, toHex } from "./_hash.ts";
 * const abc = new TextEncoder().encode("xabcx");
 * if (toHex(sha256(abc, 1, 4)) !== toHex(sha256(abc.subarray(1, 4)))) throw new Error();
 * ```
 */
export function sha256(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
  native = false,
): Uint8Array {
  if (end - start > SMALL) {
    return new Uint8Array(
      createHash("sha256").update(bytes.subarray(start, end)).digest(),
    );
  }
  if (slabAt === SLAB) {
    slab = new Uint8Array(SLAB);
    slabAt = 0;
  }
  const at = slabAt;
  slabAt += 32;
  if (!native || !sha256NativeInto(bytes, start, end, slab, at)) {
    sha256SmallInto(bytes, slab, at, start, end);
  }
  return new Uint8Array(slab.buffer, at, 32);
}

/**
 * SHA-256 of `bytes` from `start` to `end` written into `out` at `at`
 * (`native`: as {@link sha256} takes it).
 *
 * @example
 * ```ts
 * import { sha256, sha256Into, toHex } from "./_hash.ts";
 * const b = new Uint8Array(2000).fill(1);
 * const out = new Uint8Array(64);
 * sha256Into(b, 1, 1999, out, 32);
 * if (toHex(out.subarray(32)) !== toHex(sha256(b.subarray(1, 1999)))) throw new Error();
 * ```
 */
export function sha256Into(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
  native = false,
): void {
  if (end - start > SMALL) {
    out.set(
      createHash("sha256").update(bytes.subarray(start, end)).digest(),
      at,
    );
  } else if (!native || !sha256NativeInto(bytes, start, end, out, at)) {
    sha256SmallInto(bytes, out, at, start, end);
  }
}

/**
 * A copy of the 32 bytes of `from` at `at` (a hash computed elsewhere), in
 * the slab {@link sha256} writes into (no new array per hash).
 *
 * @example
 * ```ts
 * import { keepHash } from "./_hash.ts";
 * const h = keepHash(new Uint8Array(40).fill(3), 8);
 * if (h.length !== 32 || h[31] !== 3) throw new Error();
 * ```
 */
export function keepHash(from: Uint8Array, at: number): Uint8Array {
  if (slabAt === SLAB) {
    slab = new Uint8Array(SLAB);
    slabAt = 0;
  }
  const to = slabAt;
  slabAt += 32;
  for (let i = 0; i < 32; i++) slab[to + i] = from[at + i];
  return new Uint8Array(slab.buffer, to, 32);
}

/**
 * Whether `digest` is the first `digest.length` bytes (at most 32) of the
 * SHA-256 of `bytes` (a chunk's body digest), without keeping the hash.
 */
export function digestMatches(bytes: Uint8Array, digest: Uint8Array): boolean {
  return digestMatchesAt(bytes, 0, bytes.length, digest, 0, digest.length);
}

/**
 * {@link digestMatches} of `bytes` from `start` to `end` and the digest
 * `digestLength` bytes long at `digestStart` in `digestBytes`: no views.
 * `native` as for {@link sha256}.
 *
 * @example
 * ```ts
 * import { digestMatchesAt, sha256 } from "./_hash.ts";
 * const b = new Uint8Array(64).fill(7);
 * b.set(sha256(b, 0, 10).subarray(0, 16), 40);
 * if (!digestMatchesAt(b, 0, 10, b, 40, 16)) throw new Error();
 * if (digestMatchesAt(b, 0, 11, b, 40, 16)) throw new Error();
 * ```
 */
export function digestMatchesAt(
  bytes: Uint8Array,
  start: number,
  end: number,
  digestBytes: Uint8Array,
  digestStart: number,
  digestLength: number,
  native = false,
): boolean {
  if (digestLength > 32) return false;
  let hash = SCRATCH;
  if (end - start > SMALL) {
    hash = createHash("sha256").update(bytes.subarray(start, end)).digest();
  } else if (!native || !sha256NativeInto(bytes, start, end, SCRATCH, 0)) {
    sha256SmallInto(bytes, SCRATCH, 0, start, end);
  }
  for (let i = 0; i < digestLength; i++) {
    if (hash[i] !== digestBytes[digestStart + i]) return false;
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
