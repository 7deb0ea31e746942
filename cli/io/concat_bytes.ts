/**
 * Byte arrays joined into one. Pure.
 *
 * @module
 */

/**
 * `parts` (byte arrays, or lists of byte values) one after the other, in a
 * new array.
 *
 * @example
 * ```ts
 * import { concatBytes } from "./concat_bytes.ts";
 * const b = concatBytes([new Uint8Array([1, 2]), [], [3]]);
 * if (b.join() !== "1,2,3") throw new Error(b.join());
 * ```
 */
export function concatBytes(parts: readonly ArrayLike<number>[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
